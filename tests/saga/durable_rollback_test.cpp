// ARCHITECTURE D7 on every store: a rollback is durable before its first undo, records each undo
// as it completes, ends with one atomic write (clear + final header), and a resumed run that was
// compensating continues its drain — it never enters a forward state again. Crashes in real
// processes are in tests/e2e/rollback_crash_test.cpp; these tests seed the state a crash leaves.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cano/saga.hpp"
#include "cano/workflow.hpp"
#include "support/headers.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

constexpr cano::duration bound = std::chrono::seconds(60);

/// What each step did, in order: "run A", "undo A 7", ...
class ledger {
public:
  void add(std::string line) {
    std::lock_guard<std::mutex> guard(mutex_);
    lines_.push_back(std::move(line));
  }
  std::string str() const {
    std::lock_guard<std::mutex> guard(mutex_);
    std::string out;
    for (const auto& l : lines_) {
      out += (out.empty() ? "" : ", ") + l;
    }
    return out;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

/// A saga step: its forward run yields `value` (or fails), its undo logs and may fail; `probe`
/// runs inside the undo (to look at the store at that moment).
class step : public cano::CompensatableTask<State, std::uint32_t> {
public:
  step(std::string name, std::uint32_t value, State next, std::shared_ptr<ledger> log, bool fail_forward = false,
       bool fail_undo = false)
    : name_(std::move(name)),
      value_(value),
      next_(next),
      log_(std::move(log)),
      fail_forward_(fail_forward),
      fail_undo_(fail_undo) {}
  std::function<void()> probe;

  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return name_; }
  cano::expected<std::pair<cano::TaskResult<State>, std::uint32_t>> run(cano::task_context&) override {
    log_->add("run " + name_);
    if (fail_forward_) {
      return cano::error::task_execution(name_ + " forward failed");
    }
    return std::make_pair(cano::TaskResult<State>(next_), value_);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t output) override {
    if (probe) {
      probe();
    }
    log_->add("undo " + name_ + " " + std::to_string(output));
    if (fail_undo_) {
      return cano::error::generic(name_ + " undo failed");
    }
    return {};
  }

private:
  std::string name_;
  std::uint32_t value_;
  State next_;
  std::shared_ptr<ledger> log_;
  bool fail_forward_;
  bool fail_undo_;
};

std::vector<std::uint8_t> blob(std::uint32_t v) { return cano::to_blob(nlohmann::json(v)); }

void seed(cano::CheckpointStore& store, const std::string& id, const cano::CheckpointRow& row) {
  if (!store.append(id, row)) {
    throw std::runtime_error("seeding failed");
  }
}

/// The log and header a process leaves when it dies during a drain: A and B completed, C failed
/// forward, the rollback recorded with `undone` entries undone and `errors` so far.
void seed_crashed_drain(audited_store& store, const std::string& id, std::size_t undone,
                        std::vector<cano::error> errors) {
  seed(store, id, cano::CheckpointRow(0, "Start", "A"));
  seed(store, id, cano::CheckpointRow(1, "Start", "A").with_output(blob(101)));
  seed(store, id, cano::CheckpointRow(2, "Process", "B"));
  seed(store, id, cano::CheckpointRow(3, "Process", "B").with_output(blob(202)));
  seed(store, id, cano::CheckpointRow(4, "Split", "C"));
  auto h = make_header(id, "saga", 0, {{"order", 7}}, cano::RunStatus::compensating);
  h.attempts = 1;
  h.failure = errors.front();
  h.rollback = cano::RollbackRecord{{{"A", blob(101), 1}, {"B", blob(202), 3}}, undone, std::move(errors)};
  if (!store.put_run_header(h)) {
    throw std::runtime_error("seeding the header failed");
  }
}

struct saga_workflow {
  std::shared_ptr<ledger> log = std::make_shared<ledger>();
  std::shared_ptr<step> a, b, c;
  cano::Workflow<State> wf;
  saga_workflow(std::shared_ptr<cano::CheckpointStore> store, bool fail_b_undo = false) {
    a = std::make_shared<step>("A", 101, State::Process, log);
    b = std::make_shared<step>("B", 202, State::Split, log, false, fail_b_undo);
    c = std::make_shared<step>("C", 303, State::Complete, log, true);
    wf = cano::Workflow<State>::bare()
           .with_name("saga")
           .register_with_compensation(State::Start, a)
           .register_with_compensation(State::Process, b)
           .register_with_compensation(State::Split, c)
           .add_exit_state(State::Complete)
           .with_checkpoint_store(std::move(store))
           .with_timeout(bound);
  }
};

#define FOR_EVERY_STORE(name)                                                                                          \
  BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))                                  \
  BOOST_AUTO_TEST_CASE_TEMPLATE(name, Kind, test::store_kinds)

} // namespace

BOOST_AUTO_TEST_SUITE(durable_rollback_test)

FOR_EVERY_STORE(the_rollback_is_durable_before_the_first_undo_and_after_each_one) {
  test_system ts;
  auto store = Kind::make();
  saga_workflow s(store);
  std::optional<cano::RunHeader> at_first_undo, at_second_undo;
  s.b->probe = [&] { at_first_undo = store->header("d7-1"); };
  s.a->probe = [&] { at_second_undo = store->header("d7-1"); };
  auto r = ts.rt->run(s.wf, State::Start, {"d7-1", {{"order", 1}}});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message() == "C forward failed");
  BOOST_TEST(s.log->str() == "run A, run B, run C, undo B 202, undo A 101");
  // Before the first undo: compensating, with the whole stack and nothing undone.
  BOOST_REQUIRE(at_first_undo.has_value());
  BOOST_TEST(to_string(at_first_undo->status) == std::string("compensating"));
  BOOST_REQUIRE(at_first_undo->rollback.has_value());
  BOOST_TEST(at_first_undo->rollback->stack.size() == 2u);
  BOOST_TEST(at_first_undo->rollback->undone == 0u);
  BOOST_REQUIRE(at_first_undo->failure.has_value());
  BOOST_TEST(at_first_undo->failure->message() == "C forward failed");
  // Before the second: B's undo is recorded.
  BOOST_REQUIRE(at_second_undo.has_value());
  BOOST_TEST(at_second_undo->rollback->undone == 1u);
  // The end: rolled back, the original error kept, no log; the clear and the final header
  // went to the store as one write.
  auto end = store->header("d7-1");
  BOOST_REQUIRE(end.has_value());
  BOOST_TEST(to_string(end->status) == std::string("rolled_back"));
  BOOST_REQUIRE(end->failure.has_value());
  BOOST_TEST(end->failure->category() == std::string("task_execution"));
  BOOST_TEST(end->rollback->undone == 2u);
  BOOST_TEST(store->rows("d7-1").empty());
  int final_writes = 0;
  for (const auto& w : store->writes()) {
    if (w.workflow_id == "d7-1" && w.clear_run) {
      ++final_writes;
      BOOST_REQUIRE(w.header.has_value());
      BOOST_TEST(to_string(w.header->status) == std::string("rolled_back"));
    }
  }
  BOOST_TEST(final_writes == 1);
}

FOR_EVERY_STORE(a_resumed_compensating_run_continues_its_drain_and_never_goes_forward) {
  test_system ts;
  auto store = Kind::make();
  seed_crashed_drain(*store, "d7-2", 1, {cano::error::task_execution("C forward failed")});
  saga_workflow s(store);
  auto r = ts.rt->resume(s.wf, "d7-2");
  BOOST_REQUIRE(!r.has_value());
  // The original error, as recorded; only A (B's undo is recorded) is undone; nothing forward.
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "C forward failed");
  BOOST_TEST(s.log->str() == "undo A 101");
  auto end = store->header("d7-2");
  BOOST_REQUIRE(end.has_value());
  BOOST_TEST(to_string(end->status) == std::string("rolled_back"));
  BOOST_TEST(end->attempts == 2u);
  BOOST_TEST(store->rows("d7-2").empty());
  BOOST_TEST(end->input == (nlohmann::json{{"order", 7}}));
}

FOR_EVERY_STORE(a_resumed_drain_keeps_the_undo_failures_recorded_before_the_crash) {
  test_system ts;
  auto store = Kind::make();
  seed_crashed_drain(*store, "d7-3", 1,
                     {cano::error::task_execution("C forward failed"), cano::error::generic("B undo failed")});
  saga_workflow s(store);
  auto r = ts.rt->resume(s.wf, "d7-3");
  BOOST_REQUIRE(!r.has_value());
  BOOST_REQUIRE(r.error().code() == cano::errc::compensation_failed);
  const auto& errors = r.error().nested();
  BOOST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(errors[0].message() == "C forward failed");
  BOOST_TEST(errors[1].message() == "B undo failed");
  BOOST_TEST(s.log->str() == "undo A 101");
  // Dirty: final, the log kept for manual recovery, never resumed forward.
  auto end = store->header("d7-3");
  BOOST_REQUIRE(end.has_value());
  BOOST_TEST(to_string(end->status) == std::string("rolled_back"));
  BOOST_REQUIRE(end->failure.has_value());
  BOOST_TEST(end->failure->category() == std::string("compensation_failed"));
  BOOST_TEST(store->rows("d7-3").size() == 5u);
  BOOST_TEST(ts.rt->resume_all(std::vector<cano::Workflow<State>>{s.wf}).empty());
  auto again = ts.rt->resume(s.wf, "d7-3");
  BOOST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().message().find("was rolled back") != std::string::npos);
  BOOST_TEST(s.log->str() == "undo A 101");
}

FOR_EVERY_STORE(resume_all_continues_every_compensating_run) {
  test_system ts;
  auto store = Kind::make();
  seed_crashed_drain(*store, "d7-4a", 0, {cano::error::task_execution("C forward failed")});
  seed_crashed_drain(*store, "d7-4b", 2, {cano::error::task_execution("C forward failed")});
  saga_workflow s(store);
  auto results = ts.rt->resume_all(std::vector<cano::Workflow<State>>{s.wf});
  BOOST_REQUIRE(results.size() == 2u);
  for (const auto& [id, r] : results) {
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message() == "C forward failed");
    BOOST_TEST(to_string(store->header(id)->status) == std::string("rolled_back"));
  }
  // d7-4a undoes both, d7-4b nothing more (both were recorded): each entry exactly once.
  auto log = s.log->str();
  BOOST_TEST(log.find("undo B 202") != std::string::npos);
  BOOST_TEST(log.find("undo A 101") != std::string::npos);
  BOOST_TEST(log.size() == std::string("undo B 202, undo A 101").size());
  BOOST_TEST(log.find("run") == std::string::npos);
}

FOR_EVERY_STORE(an_unfinished_header_without_rows_is_closed_instead_of_failing_forever) {
  test_system ts;
  auto store = Kind::make();
  // What an older version left when it died between clearing a log and writing the header.
  BOOST_REQUIRE(store->put_run_header(make_header("d7-5", "saga", 0, nullptr, cano::RunStatus::running)));
  saga_workflow s(store);
  auto results = ts.rt->resume_all(std::vector<cano::Workflow<State>>{s.wf});
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results[0].first == "d7-5");
  BOOST_REQUIRE(!results[0].second.has_value());
  BOOST_TEST(results[0].second.error().message().find("no checkpoint rows") != std::string::npos);
  auto closed = store->header("d7-5");
  BOOST_REQUIRE(closed.has_value());
  BOOST_TEST(to_string(closed->status) == std::string("failed"));
  BOOST_REQUIRE(closed->failure.has_value());
  BOOST_TEST(ts.rt->resume_all(std::vector<cano::Workflow<State>>{s.wf}).empty());
  BOOST_TEST(s.log->str().empty());
}

BOOST_AUTO_TEST_SUITE_END()
