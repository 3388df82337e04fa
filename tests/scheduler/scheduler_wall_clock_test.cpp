// The scheduler on CAF's real scheduler, with blocking bodies on the engine's pool: the every
// loop's gaps against the wall clock (never early, bounded late), stop while a blocking run is
// in flight, cancel of a blocking body (cooperative: a saga step in flight finishes first), and
// scheduled runs being ordinary runs (observers,
// checkpoint rows and run headers). Bounds are generous; nothing asserts speed.
#include <atomic>
#include <future>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cancel/cancel_support.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/recording_observer.hpp"
#include "cano/scheduler.hpp"
#include "scheduler/scheduler_support.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

/// Polls `pred` until it holds or `bound` passes (the scheduler updates statuses on its own actor).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds bound = 60s) {
  auto until = steady::now() + bound;
  while (!pred()) {
    if (steady::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

struct span {
  steady::time_point start;
  steady::time_point end;
};

} // namespace

BOOST_AUTO_TEST_SUITE(scheduler_wall_clock_test)

BOOST_AUTO_TEST_CASE(every_gaps_are_never_shorter_than_the_interval_and_stay_bounded) {
  test_system ts;
  std::mutex m;
  std::vector<span> runs;
  counter done;
  auto body = [&]() -> cano::expected<State> {
    span s{steady::now(), {}};
    std::this_thread::sleep_for(20ms); // a blocking body: it runs on the pool
    s.end = steady::now();
    {
      std::lock_guard<std::mutex> g(m);
      runs.push_back(s);
    }
    done.arrive();
    return State::Complete;
  };
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Sleep", body, cano::TaskConfig::minimal())
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("tick", wf, State::Start, 50ms)) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST_REQUIRE(done.wait_for_at_least(8));
  BOOST_TEST(text(running->stop()) == "ok");
  std::lock_guard<std::mutex> g(m);
  for (std::size_t k = 1; k < runs.size(); ++k) {
    auto after_previous_end = runs[k].start - runs[k - 1].end;
    auto between_starts = runs[k].start - runs[k - 1].start;
    auto run_time = runs[k - 1].end - runs[k - 1].start;
    BOOST_TEST((after_previous_end >= 50ms), "run " << k << " started early");
    BOOST_TEST((between_starts <= 50ms + run_time + 2s), "run " << k << " started late");
  }
}

BOOST_AUTO_TEST_CASE(stop_waits_for_a_blocking_run_and_refuses_triggers_meanwhile) {
  test_system ts;
  gate release;
  counter entered;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Hold",
                             [&]() -> cano::expected<State> {
                               entered.arrive();
                               release.wait();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("slow_task", wf, State::Start)) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(text(running->trigger("slow_task")) == "ok");
  BOOST_TEST_REQUIRE(entered.wait_for_at_least(1));
  auto stopping = std::async(std::launch::async, [&] { return running->stop(); });
  BOOST_TEST_REQUIRE(eventually([&] {
    return text(running->trigger("slow_task")) ==
           "Workflow error: Scheduler not running — call start() before trigger()";
  }));
  BOOST_TEST(!running->wait_for(0ms).has_value()); // the body still holds: stop is waiting
  release.open();
  BOOST_TEST_REQUIRE((stopping.wait_for(60s) == std::future_status::ready));
  BOOST_TEST(text(stopping.get()) == "ok");
  BOOST_TEST(running->status("slow_task")->status == cano::FlowStatus::completed());
}

BOOST_AUTO_TEST_CASE(stop_returns_promptly_during_a_one_hour_interval) {
  test_system ts;
  counter ran;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Once",
                             [&]() -> cano::expected<State> {
                               ran.arrive();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every_hours("long", wf, State::Start, 1)) == "ok");
  BOOST_TEST(text(s.cron("daily", wf, State::Start, "0 0 0 * * *")) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST_REQUIRE(ran.wait_for_at_least(1));
  BOOST_TEST_REQUIRE(eventually([&] { return !running->has_running_flows(); }));
  running->request_stop();
  auto done = running->wait_for(10s);
  BOOST_TEST_REQUIRE(done.has_value());
  BOOST_TEST(text(*done) == "ok");
}

BOOST_AUTO_TEST_CASE(a_cron_flow_fires_every_second_in_real_time) {
  test_system ts;
  counter ran;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Tick",
                             [&]() -> cano::expected<State> {
                               ran.arrive();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.cron("second", wf, State::Start, "* * * * * *")) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(ran.wait_for_at_least(2));
  BOOST_TEST(text(running->stop()) == "ok");
}

BOOST_AUTO_TEST_CASE(cancel_flow_abandons_a_blocking_body_and_the_flow_goes_idle) {
  test_system ts;
  gate release;
  counter entered;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Hold",
                             [&]() -> cano::expected<State> {
                               entered.arrive();
                               release.wait();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("held", wf, State::Start)) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(text(running->trigger("held")) == "ok");
  BOOST_TEST_REQUIRE(entered.wait_for_at_least(1));
  BOOST_TEST(text(running->cancel_flow("held")) == "ok");
  BOOST_TEST(eventually([&] { return running->status("held")->status == cano::FlowStatus::idle(); }));
  BOOST_TEST(running->status("held")->failure_streak == 0u);
  release.open(); // the abandoned body returns; its result is ignored
  BOOST_TEST(text(running->stop()) == "ok");
}

BOOST_AUTO_TEST_CASE(cancel_flow_lets_a_saga_step_in_flight_finish_then_undoes_it) {
  test_system ts;
  auto j = std::make_shared<journal>();
  auto entered = std::make_shared<counter>();
  // A blocking saga step that goes on until it sees the cancel (cancel_flow is asynchronous), then
  // finishes normally: the engine waits for it instead of dropping it.
  struct reserve : cano::CompensatableTask<State, std::string> {
    std::shared_ptr<journal> j;
    std::shared_ptr<counter> entered;
    std::string name() const override { return "reserve"; }
    cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
    cano::expected<std::pair<cano::TaskResult<State>, std::string>> run(cano::task_context& ctx) override {
      entered->arrive();
      auto until = steady::now() + 60s;
      while (!ctx.is_cancelled() && steady::now() < until) {
        std::this_thread::sleep_for(1ms);
      }
      j->add(ctx.is_cancelled() ? "run:reserve (saw the cancel)" : "run:reserve");
      return std::make_pair(cano::TaskResult<State>(State::Process), std::string("slot-7"));
    }
    cano::expected<void> compensate(cano::task_context&, std::string slot) override {
      j->add("rollback:" + slot);
      return {};
    }
  };
  auto step = std::make_shared<reserve>();
  step->j = j;
  step->entered = entered;
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, step)
              .register_task(State::Process, "Ship", [] { return State::Complete; })
              .add_exit_state(State::Complete)
              .with_observer(log);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("saga", wf, State::Start)) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(text(running->trigger("saga")) == "ok");
  BOOST_TEST_REQUIRE(entered->wait_for_at_least(1));
  BOOST_TEST(text(running->cancel_flow("saga")) == "ok");
  BOOST_TEST(eventually([&] { return running->status("saga")->status == cano::FlowStatus::idle(); }));
  // It finished, its entry was pushed, and the rollback undid it; Ship never started.
  BOOST_TEST(j->entries() == std::vector<std::string>({"run:reserve (saw the cancel)", "rollback:slot-7"}),
             boost::test_tools::per_element());
  BOOST_TEST(log->contains("task_success:reserve"));
  BOOST_TEST(log->count("cancelled:") == 1u);
  BOOST_TEST(!log->contains("task_start:Ship"));
  BOOST_TEST(running->status("saga")->failure_streak == 0u);
  BOOST_TEST(text(running->stop()) == "ok");
}

BOOST_AUTO_TEST_CASE(scheduled_runs_are_ordinary_runs_with_observers_and_checkpoints) {
  test_system ts;
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto observer = std::make_shared<cano::RecordingObserver>();
  auto wf =
    cano::Workflow<State>{}
      .register_task(
        State::Start, "First", [] { return State::Process; }, cano::TaskConfig::minimal().with_blocking(false))
      .register_task(
        State::Process, "Second", [] { return State::Complete; }, cano::TaskConfig::minimal().with_blocking(false))
      .add_exit_state(State::Complete)
      .with_name("nightly")
      .with_workflow_id("nightly-run")
      .with_checkpoint_store(store)
      .with_observer(observer);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("nightly", wf, State::Start)) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(text(running->trigger("nightly")) == "ok");
  BOOST_TEST_REQUIRE(eventually([&] { return running->status("nightly")->status == cano::FlowStatus::completed(); }));
  BOOST_TEST(observer->events_with("state_enter:") ==
               std::vector<std::string>({"state_enter:Start", "state_enter:Process", "state_enter:Complete"}),
             boost::test_tools::per_element());
  BOOST_TEST(store->audit_states("nightly-run").size() == 3u); // one entry row per state
  BOOST_TEST(store->rows("nightly-run").empty());              // a finished run clears its log
  auto header = store->run_header("nightly-run");
  BOOST_TEST_REQUIRE((header.has_value() && header->has_value()));
  BOOST_TEST((*header)->definition == "nightly");
  BOOST_TEST(((*header)->status == cano::RunStatus::completed));
  // The next scheduled run of the same id starts afresh, as in cano (its log was cleared).
  BOOST_TEST(text(running->trigger("nightly")) == "ok");
  BOOST_TEST_REQUIRE(
    eventually([&] { return running->status("nightly")->run_count == 2u && !running->has_running_flows(); }));
  BOOST_TEST(running->status("nightly")->status == cano::FlowStatus::completed());
  BOOST_TEST(store->audit_states("nightly-run").size() == 6u);
  BOOST_TEST(text(running->stop()) == "ok");
}

BOOST_AUTO_TEST_SUITE_END()
