// A total timeout and a bounded rollback (cano 0.15, spec §4.2, scenario 213): with_total_timeout
// drops the task in flight (on_task_failure, each branch of a split), fires on_workflow_timeout
// and rolls back, ending with error::workflow_timeout(elapsed, limit); a saga step in flight is
// never dropped; every rollback of such a workflow has a budget (with_compensation_timeout, else
// min(total / 2, 30 s)) past which compensates are cut short and the entries left become
// orphaned_compensation errors that keep their task id and output. Timers run on virtual time
// (CAF's test coordinator) where the bodies allow; blocking bodies wait on gates.
#include <chrono>
#include <future>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/event_based_actor.hpp>

#include "cancel/cancel_support.hpp"
#include "cano/actor_api.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/poll_task.hpp"
#include "cano/scheduler.hpp"
#include "cano/workflow.hpp"
#include "scheduler/scheduler_support.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"
#include "support/virtual_time.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

cano::TaskConfig inline_cfg() { return cano::TaskConfig::minimal().with_blocking(false); }

/// Where a run started under virtual time reports: set once it ended.
struct result_slot {
  std::mutex mutex;
  std::optional<cano::run_result> result;
  bool ready() {
    std::lock_guard<std::mutex> g(mutex);
    return result.has_value();
  }
  cano::expected<State> get() {
    std::lock_guard<std::mutex> g(mutex);
    BOOST_REQUIRE(result.has_value());
    return result->get<State>();
  }
};

/// Starts `wf` on the virtual system; its result lands in the returned slot (after vs.run()).
std::shared_ptr<result_slot> start(virtual_system& vs, const cano::Workflow<State>& wf, State initial,
                                   std::string id = "") {
  auto slot = std::make_shared<result_slot>();
  auto collector = vs.sys->spawn([slot](caf::event_based_actor* self) -> caf::behavior {
    return {[slot, self](cano::run_result& r) {
      std::lock_guard<std::mutex> g(slot->mutex);
      slot->result = std::move(r);
      self->quit();
    }};
  });
  vs.rt->start(wf, initial, {std::move(id), nullptr}, collector);
  vs.run();
  return slot;
}

/// Runs the virtual system until `pred` holds: messages from the pool's real threads arrive on
/// their own time. Bounded.
template <class Pred>
bool run_until(virtual_system& vs, Pred pred) {
  auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    vs.run();
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

/// Waits for its first poll, then `pending` for ever (only a timeout ends it).
struct endless_poll : cano::PollTask<State> {
  std::string name_;
  explicit endless_poll(std::string n) : name_(std::move(n)) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return inline_cfg(); }
  cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
    return cano::PollOutcome<State>::pending(3600 * 1000);
  }
};

/// A saga step whose compensate blocks on `release` (on the pool), journaling its calls.
class stuck_undo : public cano::CompensatableTask<State, std::string> {
public:
  stuck_undo(std::string name, State next, std::shared_ptr<journal> j)
    : name_(std::move(name)),
      next_(next),
      j_(std::move(j)) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); } // blocking: on the pool
  cano::expected<std::pair<cano::TaskResult<State>, std::string>> run(cano::task_context&) override {
    j_->add("run:" + name_);
    return std::make_pair(cano::TaskResult<State>(next_), name_ + "-output");
  }
  cano::expected<void> compensate(cano::task_context&, std::string) override {
    j_->add("undo-begins:" + name_);
    undoing->arrive();
    release->wait_for(60s);
    j_->add("undo-ends:" + name_);
    return {};
  }
  std::shared_ptr<counter> undoing = std::make_shared<counter>();
  std::shared_ptr<gate> release = std::make_shared<gate>();

private:
  std::string name_;
  State next_;
  std::shared_ptr<journal> j_;
};

std::shared_ptr<cano::Task<State>> failing(std::string name) {
  return cano::make_task<State>(
    std::move(name), []() -> cano::expected<State> { return cano::error::task_execution("boom"); }, inline_cfg());
}

} // namespace

BOOST_AUTO_TEST_SUITE(total_timeout_test)

BOOST_AUTO_TEST_CASE(a_total_timeout_drops_the_task_in_flight_at_its_limit) { // scenario 213
  virtual_system vs;
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, std::make_shared<endless_poll>("Wait"))
              .add_exit_state(State::Complete)
              .with_total_timeout(10ms)
              .with_observer(log);
  auto slot = start(vs, wf, State::Start);
  vs.advance(9ms);
  BOOST_TEST(!slot->ready());
  vs.advance(1ms);
  BOOST_REQUIRE(slot->ready());
  auto r = slot->get();
  BOOST_REQUIRE(!r.has_value());
  const auto& e = r.error();
  BOOST_TEST(e.category() == std::string("workflow_timeout"));
  BOOST_TEST(e.message() == "workflow total timeout exceeded");
  BOOST_TEST(e.to_string() == "Workflow total timeout exceeded: elapsed=10ms limit=10ms");
  BOOST_TEST((e.elapsed() == 10ms));
  BOOST_TEST((e.limit() == 10ms));
  BOOST_TEST(log->events() == std::vector<std::string>({"state_enter:Start", "task_start:Wait",
                                                        "task_failure:Wait:workflow_timeout", "workflow_timeout:10"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(log->timeouts_elapsed().size() == 1u);
  BOOST_TEST((log->timeouts_elapsed()[0] == 10ms));
}

BOOST_AUTO_TEST_CASE(a_run_that_ends_in_time_is_untouched_by_its_total_timeout) {
  virtual_system vs;
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "Quick", [] { return State::Complete; }, inline_cfg())
              .add_exit_state(State::Complete)
              .with_total_timeout(10ms)
              .with_observer(log);
  auto slot = start(vs, wf, State::Start);
  BOOST_REQUIRE(slot->ready());
  BOOST_TEST((slot->get().value() == State::Complete));
  vs.advance(1h); // its timer went with the run: nothing fires later
  BOOST_TEST(log->count("workflow_timeout:") == 0u);
}

BOOST_AUTO_TEST_CASE(the_saga_is_undone_after_a_total_timeout) {
  virtual_system vs;
  auto j = std::make_shared<journal>();
  auto wf =
    cano::Workflow<State>{}
      .register_with_compensation(State::Start, std::make_shared<journaled_step>("reserve", State::Process, j, false))
      .register_task(State::Process, std::make_shared<endless_poll>("Wait"))
      .add_exit_state(State::Complete)
      .with_total_timeout(100ms);
  auto slot = start(vs, wf, State::Start);
  vs.advance(100ms);
  BOOST_REQUIRE(slot->ready());
  auto r = slot->get();
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().to_string() == "Workflow total timeout exceeded: elapsed=100ms limit=100ms");
  BOOST_TEST(j->entries() == std::vector<std::string>({"run:reserve", "rollback:reserve"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_total_timeout_drops_every_branch_of_a_split) {
  virtual_system vs;
  auto log = std::make_shared<event_log>();
  auto entered = std::make_shared<counter>();
  std::vector<std::shared_ptr<cano::Task<State>>> branches;
  for (int i = 0; i < 3; ++i) {
    branches.push_back(cano::make_task<State>("Fetch", [entered](cano::task_context& ctx) {
      entered->arrive();
      wait_until_abandoned(ctx);
      return State::Join;
    }));
  }
  auto wf = cano::Workflow<State>{}
              .register_split(State::Split, branches, cano::JoinConfig<State>(cano::JoinStrategy::all(), State::Join))
              .register_task(
                State::Join, "Join", [] { return State::Complete; }, inline_cfg())
              .add_exit_state(State::Complete)
              .with_total_timeout(50ms)
              .with_observer(log);
  auto slot = start(vs, wf, State::Split);
  BOOST_REQUIRE(entered->wait_for_at_least(3));
  vs.advance(50ms);
  BOOST_REQUIRE(slot->ready());
  BOOST_TEST(slot->get().error().category() == std::string("workflow_timeout"));
  for (int i = 0; i < 3; ++i) {
    auto failure = "task_failure:Fetch[" + std::to_string(i) + "]:workflow_timeout";
    BOOST_TEST(log->index_of(failure) >= 0, failure);
    BOOST_TEST(log->index_of(failure) < log->index_of("workflow_timeout:50"));
  }
  BOOST_TEST(!log->contains("state_enter:Join"));
}

BOOST_AUTO_TEST_CASE(a_saga_step_in_flight_is_not_dropped_by_the_total_timeout) {
  virtual_system vs;
  auto j = std::make_shared<journal>();
  auto reserve = std::make_shared<journaled_step>("reserve", State::Process, j);
  reserve->entered = std::make_shared<counter>();
  reserve->hold = std::make_shared<gate>();
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .register_task(
                State::Process, "Ship", [] { return State::Complete; }, inline_cfg())
              .add_exit_state(State::Complete)
              .with_total_timeout(100ms)
              .with_observer(log);
  auto slot = start(vs, wf, State::Start);
  BOOST_REQUIRE(reserve->entered->wait_for_at_least(1));
  vs.advance(100ms); // the budget is spent while the saga step runs: it goes on
  BOOST_TEST(!slot->ready());
  BOOST_TEST(!log->contains("task_failure:reserve:workflow_timeout"));
  reserve->hold->open();
  BOOST_REQUIRE(run_until(vs, [&] { return slot->ready(); }));
  // It finished and its entry was pushed; the next state's dispatch failed; the step was undone.
  BOOST_TEST(slot->get().error().category() == std::string("workflow_timeout"));
  BOOST_TEST(j->entries() == std::vector<std::string>({"run:reserve", "rollback:reserve"}),
             boost::test_tools::per_element());
  BOOST_TEST(log->contains("task_success:reserve"));
  BOOST_TEST(log->contains("state_enter:Process")); // entered, then its dispatch failed
  BOOST_TEST(!log->contains("task_start:Ship"));
}

BOOST_AUTO_TEST_CASE(a_saga_step_that_outlives_the_budget_still_completes_into_an_exit_state) {
  virtual_system vs;
  auto j = std::make_shared<journal>();
  auto reserve = std::make_shared<journaled_step>("reserve", State::Complete, j);
  reserve->entered = std::make_shared<counter>();
  reserve->hold = std::make_shared<gate>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .add_exit_state(State::Complete)
              .with_total_timeout(100ms);
  auto slot = start(vs, wf, State::Start);
  BOOST_REQUIRE(reserve->entered->wait_for_at_least(1));
  vs.advance(100ms);
  reserve->hold->open();
  BOOST_REQUIRE(run_until(vs, [&] { return slot->ready(); }));
  BOOST_TEST((slot->get().value() == State::Complete)); // an exit state is not dispatched
  BOOST_TEST(j->count("rollback:reserve") == 0u);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(past_the_compensation_deadline_entries_are_orphaned_with_their_output, Kind,
                              test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto j = std::make_shared<journal>();
  auto charge = std::make_shared<stuck_undo>("charge", State::Mid, j);
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<stuck_undo>("reserve", State::Process, j))
              .register_with_compensation(State::Process, charge)
              .register_task(State::Mid, failing("Ship"))
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_total_timeout(std::chrono::minutes(10))
              .with_compensation_timeout(200ms);
  auto f = std::async(std::launch::async, [&] { return ts.rt->run(wf, State::Start, {"orphans", nullptr}); });
  BOOST_REQUIRE(charge->undoing->wait_for_at_least(1));
  // charge's compensate never returns before the deadline: it is cut short there, and reserve,
  // not begun by then, is not undone at all.
  BOOST_REQUIRE(f.wait_for(60s) == std::future_status::ready);
  auto r = f.get();
  charge->release->open();
  BOOST_REQUIRE(!r.has_value());
  const auto& e = r.error();
  BOOST_TEST(e.category() == std::string("compensation_failed"));
  BOOST_REQUIRE(e.nested().size() == 4u);
  BOOST_TEST(e.nested()[0].to_string() == "Task execution error: boom");
  BOOST_TEST(e.nested()[1].to_string() == "Timeout error: compensate for \"charge\" exceeded compensation deadline");
  BOOST_TEST(e.nested()[2].category() == std::string("orphaned_compensation"));
  BOOST_TEST(e.nested()[2].task_id() == "reserve");
  BOOST_TEST(cano::from_blob(e.nested()[2].output_blob()) == nlohmann::json("reserve-output"));
  BOOST_TEST(e.nested()[2].to_string() ==
             "No compensator registered for task \"reserve\" — output_blob (16 bytes) was kept for manual recovery");
  BOOST_TEST(e.nested()[3].to_string() == "Timeout error: compensation deadline elapsed; 1 entries left unprocessed");
  BOOST_TEST(j->count("undo-begins:reserve") == 0u);
  // The header keeps all of it, the orphan's output included; the log stays for manual recovery.
  auto h = store->header("orphans");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_REQUIRE(h->failure.has_value());
  BOOST_TEST((*h->failure == e));
  BOOST_TEST(!store->rows("orphans").empty());
}

BOOST_AUTO_TEST_CASE(the_default_compensation_budget_is_half_the_total_timeout) {
  virtual_system vs;
  auto j = std::make_shared<journal>();
  auto reserve = std::make_shared<stuck_undo>("reserve", State::Process, j);
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .register_task(State::Process, failing("Ship"))
              .add_exit_state(State::Complete)
              .with_total_timeout(200ms);
  auto slot = start(vs, wf, State::Start);
  BOOST_REQUIRE(run_until(vs, [&] { return reserve->undoing->value() >= 1; })); // on the pool
  vs.advance(99ms);
  BOOST_TEST(!slot->ready());
  vs.advance(1ms); // 100 ms = 200 ms / 2 after the rollback began
  BOOST_REQUIRE(slot->ready());
  auto r = slot->get();
  BOOST_REQUIRE(!r.has_value());
  const auto& e = r.error();
  BOOST_REQUIRE(e.nested().size() == 2u);
  BOOST_TEST(e.nested()[1].to_string() == "Timeout error: compensate for \"reserve\" exceeded compensation deadline");
  reserve->release->open();
}

BOOST_AUTO_TEST_CASE(the_default_compensation_budget_stops_at_thirty_seconds) {
  virtual_system vs;
  auto j = std::make_shared<journal>();
  auto reserve = std::make_shared<stuck_undo>("reserve", State::Process, j);
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .register_task(State::Process, failing("Ship"))
              .add_exit_state(State::Complete)
              .with_total_timeout(std::chrono::minutes(10));
  auto slot = start(vs, wf, State::Start);
  BOOST_REQUIRE(run_until(vs, [&] { return reserve->undoing->value() >= 1; })); // on the pool
  vs.advance(30s - 1ms);
  BOOST_TEST(!slot->ready());
  vs.advance(1ms);
  BOOST_REQUIRE(slot->ready());
  BOOST_TEST(slot->get().error().category() == std::string("compensation_failed"));
  reserve->release->open();
}

BOOST_AUTO_TEST_CASE(a_compensation_timeout_without_a_total_timeout_bounds_nothing) {
  virtual_system vs;
  auto j = std::make_shared<journal>();
  auto reserve = std::make_shared<stuck_undo>("reserve", State::Process, j);
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .register_task(State::Process, failing("Ship"))
              .add_exit_state(State::Complete)
              .with_compensation_timeout(10ms);
  auto slot = start(vs, wf, State::Start);
  BOOST_REQUIRE(run_until(vs, [&] { return reserve->undoing->value() >= 1; })); // on the pool
  vs.advance(1h);
  BOOST_TEST(!slot->ready()); // as in cano: the budget applies to workflows with a total timeout
  reserve->release->open();
  BOOST_REQUIRE(run_until(vs, [&] { return slot->ready(); }));
  BOOST_TEST(slot->get().error().to_string() == "Task execution error: boom"); // a clean rollback
}

BOOST_AUTO_TEST_CASE(a_resumed_run_counts_its_total_timeout_from_the_resume) {
  test_system ts;
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Start", [] { return State::Process; })
              .register_task(State::Process, "Slow",
                             [](cano::task_context& ctx) {
                               wait_until_abandoned(ctx);
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_total_timeout(40ms)
              .with_observer(log);
  BOOST_REQUIRE(store->append("resume-budget", cano::CheckpointRow(0, "Process", "Slow")).has_value());
  auto r = ts.rt->resume(wf, "resume-budget");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("workflow_timeout"));
  BOOST_TEST(log->count("workflow_timeout:40") == 1u);
  BOOST_REQUIRE(log->timeouts_elapsed().size() == 1u);
  BOOST_TEST((log->timeouts_elapsed()[0] >= 40ms));
}

BOOST_AUTO_TEST_CASE(scheduled_runs_honour_the_total_timeout) {
  virtual_system vs;
  auto calls = std::make_shared<call_log>();
  auto wf = slow_workflow(*vs.sys, calls, 1h).with_total_timeout(100ms);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("slow", wf, State::Start)) == "ok");
  auto running = s.start(*vs.rt);
  BOOST_REQUIRE(running.has_value());
  BOOST_TEST(text(running->trigger("slow")) == "ok");
  vs.run();
  vs.advance(100ms);
  auto info = running->status("slow");
  BOOST_REQUIRE(info.has_value());
  BOOST_TEST(info->failure_streak == 1u);
  BOOST_TEST(info->status.last_error() == "Workflow total timeout exceeded: elapsed=100ms limit=100ms");
  BOOST_TEST(vs.rt->runs_in_flight() == 0u);
  running->request_stop(); // under virtual time the scheduler stops inside run()
  vs.run();
  auto stopped = running->wait_for(10s);
  BOOST_REQUIRE(stopped.has_value());
  BOOST_TEST(text(*stopped) == "ok");
}

BOOST_AUTO_TEST_CASE(budgets_of_ten_years_or_more_never_fire_and_negative_ones_are_refused) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Nap",
                             [] {
                               std::this_thread::sleep_for(30ms); // a timer firing at once would win
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_total_timeout(std::chrono::milliseconds::max())
              .with_compensation_timeout(std::chrono::milliseconds::max());
  BOOST_TEST((ts.rt->run(wf, State::Start).value() == State::Complete));
  BOOST_CHECK_EXCEPTION(wf.with_total_timeout(-1ms), std::invalid_argument, [](const std::invalid_argument& e) {
    return std::string(e.what()) == "with_total_timeout: the duration must not be negative (got -1ms)";
  });
  BOOST_CHECK_EXCEPTION(wf.with_compensation_timeout(-5ms), std::invalid_argument, [](const std::invalid_argument& e) {
    return std::string(e.what()) == "with_compensation_timeout: the duration must not be negative (got -5ms)";
  });
}

BOOST_AUTO_TEST_SUITE_END()
