// cano-demo: the order saga on an embedded SQLite checkpoint file.
//
// Part 1 runs four orders in this process (one completes, one is routed to review, one fails
// validation, one is rolled back), printing state trails, observer events and side effects.
// Part 2 starts a worker process for a fifth order, SIGKILLs it while it ships, prints the rows
// its log kept, and resumes the order in a new worker process, printing the rows it appends.
//
//   cano-demo                                  the whole demo (a temp dir holds the SQLite file)
//   cano-demo worker <db> <order> <fresh|resume>   one order in this process (part 2's worker)
//   cano-demo --help | --version                prints and exits, running nothing
//   CANO_DEMO_DB=PATH cano-demo                 the same, keeping the checkpoint file at PATH
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <stdlib.h>

#include "cano/sqlite_checkpoint_store.hpp"
#include "child_process.hpp"
#include "cli.hpp"
#include "order_workflow.hpp"
#include "scheduled_flows.hpp"

namespace {

std::mutex out_mutex;

void say(const std::string& line) {
  std::lock_guard<std::mutex> guard(out_mutex);
  std::cout << line << std::endl;
}

/// Prints every observer event; in a worker, also each checkpoint row as it is appended.
class printing_observer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      state_ = s;
      trail_ += (trail_.empty() ? "" : " -> ") + s;
    }
    say("    [observer] enter  " + s);
  }
  void on_task_start(const std::string& t) override { say("    [observer] start  " + t); }
  void on_task_success(const std::string& t) override { say("    [observer] ok     " + t); }
  void on_task_failure(const std::string& t, const cano::error& e) override {
    say("    [observer] failed " + t + ": " + e.to_string());
  }
  void on_retry(const std::string& t, std::uint32_t attempt) override {
    say("    [observer] retry  " + t + " after failed attempt " + std::to_string(attempt));
  }
  void on_checkpoint(const std::string&, std::uint64_t seq) override {
    std::lock_guard<std::mutex> guard(mutex_);
    say("    [row]      #" + std::to_string(seq) + " " + state_);
  }
  void on_resume(const std::string& id, std::uint64_t seq) override {
    say("    [observer] resume " + id + " after row #" + std::to_string(seq));
  }
  std::string take_trail() {
    std::lock_guard<std::mutex> guard(mutex_);
    auto out = std::move(trail_);
    trail_.clear();
    return out;
  }

private:
  std::mutex mutex_;
  std::string state_;
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

cano::Workflow<demo::Order> make_workflow(std::shared_ptr<cano::CheckpointStore> store,
                                          std::shared_ptr<printing_observer> obs, bool hang_while_shipping) {
  return demo::order_workflow(
           /*flaky_failures=*/2, [](const std::string& what) { say("    [effect]   " + what); },
           [hang_while_shipping](const std::string& order) {
             if (hang_while_shipping) {
               say("SHIPPING " + order); // the marker the parent waits for before the kill
               std::this_thread::sleep_for(std::chrono::hours(1));
             }
           })
    .with_observer(std::move(obs))
    .with_checkpoint_store(std::move(store));
}

std::shared_ptr<cano::SqliteCheckpointStore> open_store(const std::string& path) {
  auto store = cano::SqliteCheckpointStore::open(path);
  if (!store) {
    std::cerr << "cano-demo: " << store.error() << "\n";
    std::exit(2);
  }
  // Finished orders keep their rows a week in the store's history (`cano runs show` prints them).
  (*store)->with_history_retention(std::chrono::hours(24 * 7));
  return *store;
}

/// One order in this process: a fresh run that hangs while shipping, or a resume.
int worker(const std::string& db, const std::string& order, const std::string& mode) {
  auto obs = std::make_shared<printing_observer>();
  auto wf = make_workflow(open_store(db), obs, mode == "fresh");
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto end = mode == "resume" ? rt.resume(wf, order)
                              : rt.run(wf, demo::Order::Validate,
                                       {order, {{"sku", "KB-42"}, {"amount", 42.0}, {"address", "5 Elm Rd"}}});
  say(end ? "RESULT " + demo::to_string(*end) : "RESULT error: " + end.error().to_string());
  return end ? 0 : 1;
}

int in_process_orders(const std::string& db) {
  auto obs = std::make_shared<printing_observer>();
  auto wf = make_workflow(open_store(db), obs, false);
  struct order {
    std::string id;
    nlohmann::json input;
    const char* expect;
    bool should_succeed;
  };
  std::vector<order> orders{
    {"order-1001", {{"sku", "KB-42"}, {"amount", 59.90}, {"address", "1 Main St"}}, "completes", true},
    {"order-1002", {{"sku", "TV-88"}, {"amount", 2499.00}, {"address", "2 Oak Ave"}}, "is routed to review", true},
    {"order-1003", {{"sku", "??"}}, "fails validation", false},
    {"order-1004", {{"sku", "MS-7"}, {"amount", 19.50}}, "has no address: rolled back", false},
  };
  int unexpected = 0;
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  for (const auto& o : orders) {
    say("== " + o.id + " " + o.input.dump() + " (" + o.expect + ")");
    auto end = rt.run(wf, demo::Order::Validate, {o.id, o.input});
    say("  trail: " + obs->take_trail());
    say(end ? "  result: " + demo::to_string(*end) : "  result: error: " + end.error().to_string());
    unexpected += end.has_value() == o.should_succeed ? 0 : 1;
    say("");
  }
  return unexpected;
}

/// Runs a worker process to its end, echoing its output; returns whether it succeeded.
bool run_worker(const std::string& self, const std::string& db, const std::string& mode) {
  cano_apps::child_process child({self, "worker", db, "order-1005", mode});
  while (auto line = child.read_line(std::chrono::seconds(60))) {
    say("  | " + *line);
  }
  int status = child.wait_exit();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"cano-demo: an order saga made durable by an embedded SQLite checkpoint file. Four orders "
               "run in this process; a fifth runs in a worker process that is SIGKILLed while shipping "
               "and resumed by a new one. Then scheduled stock-feed flows run for a few ticks."};
  cano_apps::add_version_and_exit_codes(app, "cano-demo",
                                        {{0, "every order ended as expected"},
                                         {1, "an order or a scheduled flow did not end as expected"},
                                         {2, "bad arguments, or the checkpoint file could not be opened"}});
  std::string worker_db, worker_order, worker_mode;
  auto* worker_cmd = app.add_subcommand("worker", "internal: one order in this process (the demo's worker)");
  worker_cmd->group("");
  worker_cmd->add_option("db", worker_db, "SQLite checkpoint file")->required();
  worker_cmd->add_option("order", worker_order, "order id")->required();
  worker_cmd->add_option("mode", worker_mode, "fresh or resume")->required()->check(CLI::IsMember({"fresh", "resume"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cano_apps::exit_after_parse(app, e);
  }
  std::string self = "/proc/self/exe";
  if (*worker_cmd) {
    return worker(worker_db, worker_order, worker_mode);
  }
  char tmpl[] = "/tmp/cano-demo.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string db = dir + "/orders.db";
  // CANO_DEMO_DB=PATH keeps the checkpoint file there, for `cano --store sqlite:PATH runs list`.
  if (const char* keep = std::getenv("CANO_DEMO_DB"); keep != nullptr && *keep != '\0') {
    db = keep;
  }
  say("cano-demo: checkpoints in " + db);
  say("");
  int unexpected = in_process_orders(db);

  say("== order-1005: a worker process is killed while shipping; a new one resumes the order");
  std::vector<cano::CheckpointRow> before;
  {
    cano_apps::child_process child({self, "worker", db, "order-1005", "fresh"});
    auto marker = child.read_until(
      [](const std::string& l) {
        say("  | " + l);
        return l == "SHIPPING order-1005";
      },
      std::chrono::seconds(60));
    if (!marker) {
      say("cano-demo: the worker never reached shipping");
      return 1;
    }
    child.sigkill();
    child.wait_exit();
    say("  ** worker SIGKILLed while shipping");
    before = *open_store(db)->load_run("order-1005");
    say("  rows the log kept:");
    for (const auto& r : before) {
      std::string blob = r.output_blob ? " " + std::string(r.output_blob->begin(), r.output_blob->end()) : "";
      say("    #" + std::to_string(r.sequence) + " " + r.state + " " + kind_name(r.kind) +
          (r.task_id.empty() ? "" : " task=" + r.task_id) + blob);
    }
  }
  say("  resuming in a new worker process (its [row] lines are the rows it appends):");
  if (!run_worker(self, db, "resume")) {
    ++unexpected;
  }
  auto left = open_store(db)->load_run("order-1005");
  say("  rows left after the resume: " + std::to_string(left ? left->size() : 0) + " (a finished run clears its log)");
  unexpected += demo::scheduled_flows();
  std::system(("rm -rf '" + dir + "'").c_str());
  say(unexpected == 0 ? "cano-demo: every order ended as expected" : "cano-demo: some orders did not end as expected");
  return unexpected == 0 ? 0 : 1;
}
