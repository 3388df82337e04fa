// cano-demo: runs orders through the order saga on a cano::runtime inside a CAF actor system,
// printing each order's state trail, observer events and side effects; then "crashes" in the
// middle of one order and resumes it from its checkpoint log in a fresh runtime.
#include <future>
#include <iostream>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "order_workflow.hpp"

namespace {

std::mutex out_mutex;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard(out_mutex);
  std::cout << line << std::endl;
}

/// Prints every observer event.
class printing_observer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override { say("    [observer] enter  " + s); }
  void on_task_start(const std::string& t) override { say("    [observer] start  " + t); }
  void on_task_success(const std::string& t) override { say("    [observer] ok     " + t); }
  void on_task_failure(const std::string& t, const cano::error& e) override {
    say("    [observer] failed " + t + ": " + e.to_string());
  }
  void on_retry(const std::string& t, std::uint32_t attempt) override {
    say("    [observer] retry  " + t + " after failed attempt " + std::to_string(attempt));
  }
  void on_resume(const std::string& id, std::uint64_t seq) override {
    say("    [observer] resume " + id + " after row " + std::to_string(seq));
  }
};

/// Records the trail of states one run went through.
class trail_observer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override {
    std::lock_guard<std::mutex> guard(mutex_);
    trail_ += (trail_.empty() ? "" : " -> ") + s;
  }
  std::string take() {
    std::lock_guard<std::mutex> guard(mutex_);
    auto out = std::move(trail_);
    trail_.clear();
    return out;
  }

private:
  std::mutex mutex_;
  std::string trail_;
};

const char* kind_name(cano::RowKind k) {
  switch (k) {
    case cano::RowKind::state_entry: return "entry";
    case cano::RowKind::compensation_completion: return "saga-output";
    case cano::RowKind::step_cursor: return "cursor";
  }
  return "?";
}

void print_rows(const std::string& title, const std::vector<cano::CheckpointRow>& rows) {
  say("  " + title + ":");
  for (const auto& r : rows) {
    std::string blob = r.output_blob ? " " + std::string(r.output_blob->begin(), r.output_blob->end()) : "";
    say("    #" + std::to_string(r.sequence) + " " + r.state + " " + kind_name(r.kind) +
        (r.task_id.empty() ? "" : " task=" + r.task_id) + blob);
  }
}

} // namespace

int main() {
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto trail = std::make_shared<trail_observer>();
  auto crash_gate = std::make_shared<std::promise<void>>();
  auto crash_reached = std::make_shared<std::promise<void>>();
  auto crashed = crash_gate->get_future().share();
  auto make_workflow = [&](bool hold_crashing_order) {
    return demo::order_workflow(
             /*flaky_failures=*/2, [](const std::string& what) { say("    [effect]   " + what); },
             [hold_crashing_order, crashed, crash_reached](const std::string& order) {
               if (hold_crashing_order && order == "order-1005") {
                 crash_reached->set_value();
                 crashed.wait(); // this process "dies" here
               }
             })
      .with_observer(std::make_shared<printing_observer>())
      .with_observer(trail)
      .with_checkpoint_store(store);
  };

  struct order {
    std::string id;
    nlohmann::json input;
    const char* expect;
  };
  std::vector<order> orders{
    {"order-1001", {{"sku", "KB-42"}, {"amount", 59.90}, {"address", "1 Main St"}}, "completes"},
    {"order-1002", {{"sku", "TV-88"}, {"amount", 2499.00}, {"address", "2 Oak Ave"}}, "is routed to review"},
    {"order-1003", {{"sku", "??"}}, "fails validation"},
    {"order-1004", {{"sku", "MS-7"}, {"amount", 19.50}}, "has no address: rolled back"},
  };
  int unexpected = 0;
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    cano::runtime rt{sys};
    auto wf = make_workflow(false);
    for (const auto& o : orders) {
      say("== " + o.id + " " + o.input.dump() + " (" + o.expect + ")");
      auto end = rt.run(wf, demo::Order::Validate, {o.id, o.input});
      say("  trail: " + trail->take());
      say(end ? "  result: " + demo::to_string(*end) : "  result: error: " + end.error_value().to_string());
      bool ok = end.has_value();
      if (ok != (o.id == "order-1001" || o.id == "order-1002")) {
        ++unexpected;
      }
      say("");
    }
  }

  say("== order-1005: the process dies while shipping, a new one resumes it from the log");
  std::vector<cano::CheckpointRow> before;
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    cano::runtime rt{sys};
    caf::scoped_actor self{sys};
    rt.start(make_workflow(true), demo::Order::Validate,
             {"order-1005", {{"sku", "KB-42"}, {"amount", 42.0}, {"address", "5 Elm Rd"}}},
             caf::actor_cast<caf::actor>(self));
    crash_reached->get_future().wait();
    say("  trail before the crash: " + trail->take());
    rt.shutdown(std::chrono::milliseconds(10)); // the "crash": the run is dropped, its log stays
    before = store->rows("order-1005");
    print_rows("rows before the crash", before);
    crash_gate->set_value();
  }
  {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    cano::runtime rt{sys};
    auto resumed = rt.resume_all(std::vector<cano::Workflow<demo::Order>>{make_workflow(false)});
    say("  trail after the resume: " + trail->take());
    for (auto& [id, end] : resumed) {
      say("  resumed " + id + ": " + (end ? demo::to_string(*end) : "error: " + end.error_value().to_string()));
      if (!end) {
        ++unexpected;
      }
    }
    if (resumed.size() != 1) {
      ++unexpected;
    }
    auto all = store->audit_rows("order-1005");
    print_rows("rows appended by the resume", {all.begin() + static_cast<std::ptrdiff_t>(before.size()), all.end()});
  }
  say(unexpected == 0 ? "cano-demo: every order ended as expected" : "cano-demo: some orders did not end as expected");
  return unexpected == 0 ? 0 : 1;
}
