// The scheduler's flows in virtual time (CAF's test coordinator): cano's every / cron / manual
// semantics, backoff with the formula's exact delays, trips, resets, trigger errors, stop and
// cancel_flow (spec §5.13 scenarios 173-191, §4.12). Every delay is checked to the millisecond:
// the scheduler reads only its actor clock, and the test moves that clock.
#include <boost/test/unit_test.hpp>

#include "cano/scheduler.hpp"
#include "scheduler/scheduler_support.hpp"
#include "support/virtual_time.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A virtual actor system plus the actor-clock instant the test started at.
struct fixture {
  virtual_system vs;
  caf::actor_clock::time_point zero = vs.sys->clock().now();

  std::vector<long> times(call_log& log) { return log.ms_since(zero); }

  cano::RunningScheduler start(cano::Scheduler<State>& s, utc_time origin = utc_origin()) {
    s.with_utc_origin(origin);
    auto r = s.start(*vs.rt);
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
    vs.run();
    return *r;
  }

  void stop(const cano::RunningScheduler& r) {
    r.request_stop();
    vs.run();
    auto done = r.wait_for(10s);
    BOOST_TEST_REQUIRE(done.has_value());
    BOOST_TEST(text(*done) == "ok");
  }

  cano::FlowInfo info(const cano::RunningScheduler& r, const std::string& id) {
    auto i = r.status(id);
    BOOST_TEST_REQUIRE(i.has_value());
    return *i;
  }
};

std::vector<long> ms(std::initializer_list<long> xs) { return {xs.begin(), xs.end()}; }

const std::string flaky_error = "Task execution error: flaky";

} // namespace

BOOST_FIXTURE_TEST_SUITE(scheduler_flows_test, fixture)

// --- manual flows and triggers ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_manual_flow_starts_idle_and_counts_triggered_runs) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("test_task", ok_workflow(*vs.sys, log), State::Start)) == "ok");
  auto running = start(s);
  auto before = info(running, "test_task");
  BOOST_TEST(before.id == "test_task");
  BOOST_TEST(before.status == cano::FlowStatus::idle());
  BOOST_TEST(before.run_count == 0u);
  BOOST_TEST(!before.last_run.has_value());
  BOOST_TEST(before.failure_streak == 0u);
  BOOST_TEST(!before.next_eligible.has_value());
  vs.advance(10s);
  BOOST_TEST(log->count() == 0u); // a manual flow never runs by itself

  auto other = running; // copies share the scheduler
  BOOST_TEST(text(other.trigger("test_task")) == "ok");
  vs.run();
  auto after = info(running, "test_task");
  BOOST_TEST(after.run_count == 1u);
  BOOST_TEST(after.status == cano::FlowStatus::completed());
  BOOST_TEST((after.last_run == std::optional<utc_time>(utc_origin(10s))));
  BOOST_TEST(!running.status("nonexistent").has_value());
  BOOST_TEST(text(running.trigger("missing")) == "Workflow error: No workflow registered with id 'missing'");
  stop(running);
}

BOOST_AUTO_TEST_CASE(list_returns_every_flow_in_registration_order) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  for (const char* id : {"task3", "task1", "task2"}) {
    BOOST_TEST(text(s.manual(id, ok_workflow(*vs.sys, log), State::Start)) == "ok");
  }
  auto running = start(s);
  auto flows = running.list();
  BOOST_TEST_REQUIRE(flows.size() == 3u);
  BOOST_TEST(flows[0].id == "task3");
  BOOST_TEST(flows[1].id == "task1");
  BOOST_TEST(flows[2].id == "task2");
  stop(running);
}

BOOST_AUTO_TEST_CASE(an_overlapping_trigger_is_refused) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("slow", slow_workflow(*vs.sys, log, 300ms), State::Start)) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("slow")) == "ok");
  BOOST_TEST(text(running.trigger("slow")) == "Workflow error: Flow 'slow' is already running");
  vs.run();
  BOOST_TEST(running.has_running_flows());
  BOOST_TEST(text(running.trigger("slow")) == "Workflow error: Flow 'slow' is already running");
  BOOST_TEST(info(running, "slow").run_count == 1u);
  vs.advance(300ms);
  BOOST_TEST(!running.has_running_flows());
  BOOST_TEST(info(running, "slow").status == cano::FlowStatus::completed());
  BOOST_TEST(info(running, "slow").run_count == 1u);
  stop(running);
}

BOOST_AUTO_TEST_CASE(sequential_triggers_all_run_and_leave_nothing_in_flight) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("manual_task", ok_workflow(*vs.sys, log), State::Start)) == "ok");
  auto running = start(s);
  for (int i = 0; i < 20; ++i) {
    BOOST_TEST(text(running.trigger("manual_task")) == "ok");
    vs.advance(30ms);
  }
  BOOST_TEST(info(running, "manual_task").run_count == 20u);
  BOOST_TEST(log->count() == 20u);
  BOOST_TEST(running.runs_in_flight() == 0u);
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_tripped_manual_flow_refuses_triggers_until_reset) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("m", flaky_workflow(*vs.sys, log), State::Start)) == "ok");
  BOOST_TEST(text(s.set_backoff("m", no_jitter(10ms, 1.0, 10ms, 2u))) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("m")) == "ok");
  vs.run();
  BOOST_TEST(info(running, "m").status == cano::FlowStatus::backoff(utc_origin(10ms), 1, flaky_error));
  BOOST_TEST(text(running.trigger("m")) == "ok");
  vs.run();
  BOOST_TEST(info(running, "m").status == cano::FlowStatus::tripped(2, flaky_error));
  BOOST_TEST(text(running.trigger("m")) == "Workflow error: Flow 'm' is tripped — call reset_flow before triggering");
  BOOST_TEST(text(running.reset_flow("m")) == "ok");
  BOOST_TEST(text(running.trigger("m")) == "ok");
  vs.run();
  auto after = info(running, "m");
  BOOST_TEST(after.failure_streak == 1u);
  BOOST_TEST(after.run_count == 3u);
  stop(running);
}

BOOST_AUTO_TEST_CASE(unknown_flows_are_refused_by_reset_and_cancel) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("known", ok_workflow(*vs.sys, log), State::Start)) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.reset_flow("missing")) == "Workflow error: No workflow registered with id 'missing'");
  BOOST_TEST(text(running.cancel_flow("nope")) == "Workflow error: No workflow registered with id 'nope'");
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_manual_trigger_bypasses_the_backoff_window) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("flow", flaky_workflow(*vs.sys, log, 2), State::Start)) == "ok");
  BOOST_TEST(text(s.set_backoff("flow", no_jitter(60s, 1.0, 60s))) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("flow")) == "ok");
  vs.run();
  auto parked = info(running, "flow");
  BOOST_TEST(parked.status == cano::FlowStatus::backoff(utc_origin(60s), 1, flaky_error));
  BOOST_TEST(parked.run_count == 1u);
  vs.advance(1s);
  BOOST_TEST(text(running.trigger("flow")) == "ok"); // inside the window: accepted
  vs.run();
  auto done = info(running, "flow");
  BOOST_TEST(done.status == cano::FlowStatus::completed());
  BOOST_TEST(done.run_count == 2u);
  BOOST_TEST(done.failure_streak == 0u);
  BOOST_TEST(!done.next_eligible.has_value());
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_reset_starts_a_fresh_streak) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("flow", flaky_workflow(*vs.sys, log), State::Start)) == "ok");
  BOOST_TEST(text(s.set_backoff("flow", no_jitter(20ms, 1.0, 20ms))) == "ok");
  auto running = start(s);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(text(running.trigger("flow")) == "ok");
    vs.run();
  }
  BOOST_TEST(info(running, "flow").failure_streak == 3u);
  BOOST_TEST(text(running.reset_flow("flow")) == "ok");
  auto reset = info(running, "flow");
  BOOST_TEST(reset.failure_streak == 0u);
  BOOST_TEST(reset.status == cano::FlowStatus::idle());
  BOOST_TEST(!reset.next_eligible.has_value());
  BOOST_TEST(text(running.trigger("flow")) == "ok");
  vs.run();
  BOOST_TEST(info(running, "flow").failure_streak == 1u);
  stop(running);
}

// --- every flows ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_runs_at_start_then_interval_after_each_run_ends) {
  // The gap between runs is interval + run time, exactly: the interval is a delay after completion.
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("flow", slow_workflow(*vs.sys, log, 30ms), State::Start, 100ms)) == "ok");
  auto running = start(s);
  vs.advance(1s);
  BOOST_TEST(times(*log) == ms({0, 130, 260, 390, 520, 650, 780, 910}), boost::test_tools::per_element());
  // A triggered run between two loop runs leaves the loop's rhythm alone; a trigger while a
  // run is in flight is refused.
  vs.advance(5ms); // 1005: the run of 910 ended at 940, the loop's next is due at 1040
  BOOST_TEST(text(running.trigger("flow")) == "ok");
  vs.advance(5ms); // the triggered run started at 1005 and lasts until 1035
  BOOST_TEST(text(running.trigger("flow")) == "Workflow error: Flow 'flow' is already running");
  vs.advance(200ms);
  BOOST_TEST(times(*log) == ms({0, 130, 260, 390, 520, 650, 780, 910, 1005, 1040, 1170}),
             boost::test_tools::per_element());
  stop(running);
}

BOOST_AUTO_TEST_CASE(backoff_stretches_the_interval_by_the_formula) {
  // {150 ms, ×2, 600 ms}: waits max(50, 150), max(50, 300), max(50, 600), then the cap.
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("flaky", flaky_workflow(*vs.sys, log), State::Start, 50ms)) == "ok");
  BOOST_TEST(text(s.set_backoff("flaky", no_jitter(150ms, 2.0, 600ms))) == "ok");
  auto running = start(s);
  vs.advance(1300ms);
  BOOST_TEST(times(*log) == ms({0, 150, 450, 1050}), boost::test_tools::per_element());
  auto i = info(running, "flaky");
  BOOST_TEST(i.run_count == 4u);
  BOOST_TEST(i.status == cano::FlowStatus::backoff(utc_origin(1650ms), 4, flaky_error));
  BOOST_TEST((i.next_eligible == std::optional<utc_time>(utc_origin(1650ms))));
  BOOST_TEST((i.last_run == std::optional<utc_time>(utc_origin(1050ms))));
  vs.advance(700ms);
  BOOST_TEST(times(*log) == ms({0, 150, 450, 1050, 1650}), boost::test_tools::per_element());
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_flow_trips_at_its_streak_limit_and_stops_dispatching) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("trippy", flaky_workflow(*vs.sys, log), State::Start, 40ms)) == "ok");
  BOOST_TEST(text(s.set_backoff("trippy", no_jitter(20ms, 1.0, 40ms, 3u))) == "ok");
  auto running = start(s);
  vs.advance(500ms);
  auto i = info(running, "trippy");
  BOOST_TEST(i.status == cano::FlowStatus::tripped(3, flaky_error));
  BOOST_TEST(i.run_count == 3u);
  BOOST_TEST(!i.next_eligible.has_value());
  BOOST_TEST(times(*log) == ms({0, 40, 80}), boost::test_tools::per_element());
  vs.advance(300ms);
  BOOST_TEST(info(running, "trippy").run_count == 3u);
  stop(running);
}

BOOST_AUTO_TEST_CASE(reset_clears_a_trip_and_the_loop_dispatches_again) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("reset_me", flaky_workflow(*vs.sys, log, 5), State::Start, 40ms)) == "ok");
  BOOST_TEST(text(s.set_backoff("reset_me", no_jitter(20ms, 1.0, 20ms, 2u))) == "ok");
  auto running = start(s);
  vs.advance(300ms);
  BOOST_TEST(info(running, "reset_me").status == cano::FlowStatus::tripped(2, flaky_error));
  BOOST_TEST(info(running, "reset_me").run_count == 2u);
  BOOST_TEST(text(running.reset_flow("reset_me")) == "ok");
  auto cleared = info(running, "reset_me");
  BOOST_TEST(cleared.failure_streak == 0u);
  BOOST_TEST(!cleared.next_eligible.has_value());
  BOOST_TEST(cleared.status == cano::FlowStatus::idle());
  // The loop kept ticking every 40 ms while tripped: runs at 320 and 360 trip it again.
  vs.advance(90ms);
  BOOST_TEST(info(running, "reset_me").status == cano::FlowStatus::tripped(2, flaky_error));
  BOOST_TEST(text(running.reset_flow("reset_me")) == "ok");
  vs.advance(20ms); // the fifth call succeeds
  auto done = info(running, "reset_me");
  BOOST_TEST(done.status == cano::FlowStatus::completed());
  BOOST_TEST(done.failure_streak == 0u);
  BOOST_TEST(!done.next_eligible.has_value());
  BOOST_TEST(done.run_count == 5u);
  BOOST_TEST(times(*log) == ms({0, 40, 320, 360, 400}), boost::test_tools::per_element());
  stop(running);
}

BOOST_AUTO_TEST_CASE(trip_reset_trip_in_one_session) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("flow", flaky_workflow(*vs.sys, log), State::Start, 20ms)) == "ok");
  BOOST_TEST(text(s.set_backoff("flow", no_jitter(20ms, 1.0, 20ms, 2u))) == "ok");
  auto running = start(s);
  vs.advance(100ms);
  auto first = info(running, "flow");
  BOOST_TEST(first.status == cano::FlowStatus::tripped(2, flaky_error));
  BOOST_TEST(text(running.reset_flow("flow")) == "ok");
  BOOST_TEST(info(running, "flow").failure_streak == 0u);
  vs.advance(100ms);
  auto second = info(running, "flow");
  BOOST_TEST(second.status == cano::FlowStatus::tripped(2, flaky_error));
  BOOST_TEST(second.run_count == first.run_count + 2);
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_flow_that_recovers_clears_its_streak) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("recover", flaky_workflow(*vs.sys, log, 3), State::Start, 30ms)) == "ok");
  BOOST_TEST(text(s.set_backoff("recover", no_jitter(30ms, 1.0, 30ms))) == "ok");
  auto running = start(s);
  vs.advance(400ms);
  auto i = info(running, "recover");
  BOOST_TEST(i.status == cano::FlowStatus::completed());
  BOOST_TEST(i.failure_streak == 0u);
  BOOST_TEST(i.run_count == 14u); // 0, 30, …, 390
  stop(running);
}

BOOST_AUTO_TEST_CASE(the_default_policy_parks_a_failing_flow_in_backoff) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("defaulted", flaky_workflow(*vs.sys, log), State::Start, 40ms)) == "ok");
  auto running = start(s);
  auto i = info(running, "defaulted");
  BOOST_TEST(i.status.state() == cano::FlowStatus::kind::backoff);
  BOOST_TEST(i.failure_streak == 1u);
  BOOST_TEST_REQUIRE(i.next_eligible.has_value());
  // 1 s ± 10 % jitter.
  BOOST_TEST((*i.next_eligible >= utc_origin(900ms)));
  BOOST_TEST((*i.next_eligible <= utc_origin(1100ms)));
  vs.advance(890ms);
  BOOST_TEST(log->count() == 1u);
  vs.advance(300ms);
  BOOST_TEST(log->count() == 2u);
  stop(running);
}

BOOST_AUTO_TEST_CASE(stop_does_not_wait_for_an_interval_a_cron_fire_time_or_a_backoff) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every_hours("long", ok_workflow(*vs.sys, log), State::Start, 1)) == "ok");
  BOOST_TEST(text(s.cron("daily", ok_workflow(*vs.sys, log), State::Start, "0 0 0 * * *")) == "ok");
  BOOST_TEST(text(s.every("long_backoff", flaky_workflow(*vs.sys, std::make_shared<call_log>()), State::Start, 20ms)) ==
             "ok");
  BOOST_TEST(text(s.set_backoff("long_backoff", no_jitter(60s, 1.0, 60s))) == "ok");
  auto running = start(s, utc_origin(1h));
  vs.advance(150ms);
  BOOST_TEST(info(running, "long_backoff").status.state() == cano::FlowStatus::kind::backoff);
  BOOST_TEST(log->count() == 1u); // the hourly flow ran at start; the daily one waits for midnight
  stop(running);
  BOOST_TEST((vs.sys->clock().now() - zero == std::chrono::milliseconds(150)));
}

BOOST_AUTO_TEST_CASE(dropping_every_handle_without_stop_freezes_the_flows) {
  auto log = std::make_shared<call_log>();
  std::optional<cano::RunningScheduler> running;
  {
    cano::Scheduler<State> s;
    BOOST_TEST(text(s.every("ticker", ok_workflow(*vs.sys, log), State::Start, 20ms)) == "ok");
    running = start(s);
  }
  vs.advance(120ms);
  BOOST_TEST(log->count() == 7u); // 0, 20, …, 120
  running.reset();
  vs.run();
  vs.advance(1s);
  BOOST_TEST(log->count() == 7u);
}

// --- cron flows -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_cron_flow_waits_for_its_first_fire_time) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.cron("five", ok_workflow(*vs.sys, log), State::Start, "0 */5 * * * *")) == "ok");
  auto running = start(s, utc_origin(3min + 17s));
  BOOST_TEST(log->count() == 0u);
  vs.advance(102s); // 00:04:59
  BOOST_TEST(log->count() == 0u);
  vs.advance(1s);
  BOOST_TEST(log->count() == 1u);
  BOOST_TEST((info(running, "five").last_run == std::optional<utc_time>(utc_origin(5min))));
  vs.advance(10min);
  BOOST_TEST(log->count() == 3u); // 00:10, 00:15
  BOOST_TEST((info(running, "five").last_run == std::optional<utc_time>(utc_origin(15min))));
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_cron_flow_never_catches_up_fire_times_missed_while_it_ran) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.cron("every_second", slow_workflow(*vs.sys, log, 2500ms), State::Start, "* * * * * *")) == "ok");
  auto running = start(s);
  vs.advance(8s);
  BOOST_TEST(times(*log) == ms({1000, 4000, 7000}), boost::test_tools::per_element());
  running.request_stop();
  vs.advance(1500ms); // the run of 7 s ends at 9.5 s; no run starts after the stop
  BOOST_TEST_REQUIRE(running.wait_for(10s).has_value());
  BOOST_TEST(log->count() == 3u);
}

BOOST_AUTO_TEST_CASE(cron_fire_times_inside_the_backoff_window_are_skipped) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.cron("flow", flaky_workflow(*vs.sys, log), State::Start, "* * * * * *")) == "ok");
  BOOST_TEST(text(s.set_backoff("flow", no_jitter(60s, 1.0, 60s))) == "ok");
  auto running = start(s, utc_origin(250ms));
  vs.advance(750ms); // 00:00:01
  auto parked = info(running, "flow");
  BOOST_TEST(parked.run_count == 1u);
  BOOST_TEST(parked.status == cano::FlowStatus::backoff(utc_origin(61s), 1, flaky_error));
  vs.advance(3200ms);
  BOOST_TEST(info(running, "flow").run_count == 1u);
  BOOST_TEST(info(running, "flow").status.state() == cano::FlowStatus::kind::backoff);
  vs.advance(56800ms); // 00:01:01, the window's end: that fire time runs
  BOOST_TEST(info(running, "flow").run_count == 2u);
  BOOST_TEST((info(running, "flow").last_run == std::optional<utc_time>(utc_origin(61s))));
  stop(running);
}

// --- stop ---------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(after_stop_every_command_reports_not_running) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("manual_task", ok_workflow(*vs.sys, log), State::Start)) == "ok");
  auto running = start(s);
  stop(running);
  BOOST_TEST(text(running.stop()) == "ok"); // idempotent: the first result again
  BOOST_TEST(text(running.trigger("manual_task")) ==
             "Workflow error: Scheduler not running — call start() before trigger()");
  BOOST_TEST(text(running.reset_flow("manual_task")) ==
             "Workflow error: Scheduler not running — call start() before reset_flow()");
  BOOST_TEST(text(running.cancel_flow("manual_task")) ==
             "Workflow error: Scheduler not running — call start() before cancel_flow()");
  BOOST_TEST(info(running, "manual_task").run_count == 0u); // status stays readable
}

BOOST_AUTO_TEST_CASE(stop_lets_the_run_in_flight_finish_and_refuses_new_triggers_meanwhile) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("slow_task", slow_workflow(*vs.sys, log, 400ms), State::Start)) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("slow_task")) == "ok");
  vs.run();
  BOOST_TEST(running.has_running_flows());
  running.request_stop();
  vs.advance(50ms);
  BOOST_TEST(!running.wait_for(0ms).has_value()); // still draining
  BOOST_TEST(text(running.trigger("slow_task")) ==
             "Workflow error: Scheduler not running — call start() before trigger()");
  vs.advance(350ms);
  auto done = running.wait_for(10s);
  BOOST_TEST_REQUIRE(done.has_value());
  BOOST_TEST(text(*done) == "ok");
  BOOST_TEST(info(running, "slow_task").status == cano::FlowStatus::completed());
}

BOOST_AUTO_TEST_CASE(stop_cancels_runs_still_in_flight_after_its_bound) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("stuck", slow_workflow(*vs.sys, log, 1h), State::Start)) == "ok");
  s.with_stop_bound(100ms);
  auto running = start(s);
  BOOST_TEST(text(running.trigger("stuck")) == "ok");
  vs.run();
  running.request_stop();
  vs.advance(99ms);
  BOOST_TEST(!running.wait_for(0ms).has_value());
  vs.advance(1ms);
  auto done = running.wait_for(10s);
  BOOST_TEST_REQUIRE(done.has_value());
  BOOST_TEST(text(*done) == "Workflow error: Timeout waiting for workflows to complete");
  vs.run(); // the cancelled run ends
  BOOST_TEST(vs.rt->runs_in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(runs_refused_by_a_runtime_that_shut_down_are_failures_and_stop_still_works) {
  auto log = std::make_shared<call_log>();
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("flow", ok_workflow(*vs.sys, log), State::Start, 100ms)) == "ok");
  BOOST_TEST(text(s.set_backoff("flow", no_jitter(10ms, 1.0, 10ms))) == "ok");
  auto running = start(s);
  BOOST_TEST(log->count() == 1u);
  BOOST_TEST(vs.rt->shutdown(0ms)); // nothing in flight
  vs.advance(100ms);
  auto i = info(running, "flow");
  BOOST_TEST(log->count() == 1u);
  BOOST_TEST(i.run_count == 2u);
  BOOST_TEST(i.status == cano::FlowStatus::backoff(
                           utc_origin(110ms), 1, "Workflow error: runtime is shutting down: no new runs are admitted"));
  stop(running); // the runtime's pool is gone: the teardown runs on the scheduler's own thread
}

// --- cancel_flow (cano 0.15, §4.12) ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(cancel_flow_ends_the_run_in_flight_and_returns_the_flow_to_idle) {
  auto log = std::make_shared<call_log>();
  auto slow = std::make_shared<slow_poll>(*vs.sys, log, 300ms);
  auto wf = cano::Workflow<State>{}.register_task(State::Start, slow).add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("slow", wf, State::Start)) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.cancel_flow("slow")) == "ok"); // idle: nothing to cancel
  BOOST_TEST(text(running.trigger("slow")) == "ok");
  vs.run();
  BOOST_TEST(running.has_running_flows());
  BOOST_TEST(text(running.cancel_flow("slow")) == "ok");
  vs.run();
  auto i = info(running, "slow");
  BOOST_TEST(i.status == cano::FlowStatus::idle());
  BOOST_TEST(i.run_count == 1u);
  BOOST_TEST(i.failure_streak == 0u);
  BOOST_TEST(!i.next_eligible.has_value());
  BOOST_TEST(vs.rt->runs_in_flight() == 0u);
  slow->forget();
  BOOST_TEST(text(running.trigger("slow")) == "ok");
  vs.advance(300ms);
  BOOST_TEST(info(running, "slow").status == cano::FlowStatus::completed());
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_run_cancelled_from_outside_the_scheduler_returns_the_flow_to_idle) {
  // runtime::cancel (or a durable request, `cano runs cancel`) rather than cancel_flow: the run
  // ends with category cancelled, which is no failure of the flow (cano 0.15's apply_outcome).
  auto log = std::make_shared<call_log>();
  auto wf = slow_workflow(*vs.sys, log, 1h).with_workflow_id("nightly-1");
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("nightly", wf, State::Start)) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("nightly")) == "ok");
  vs.run();
  BOOST_TEST(running.has_running_flows());
  BOOST_TEST(text(vs.rt->cancel("nightly-1")) == "ok");
  vs.run();
  auto i = info(running, "nightly");
  BOOST_TEST(i.status == cano::FlowStatus::idle());
  BOOST_TEST(i.failure_streak == 0u);
  BOOST_TEST(!i.next_eligible.has_value());
  BOOST_TEST(vs.rt->runs_in_flight() == 0u);
  stop(running);
}

BOOST_AUTO_TEST_CASE(a_cancel_keeps_the_streak_and_the_backoff_window) {
  // Start fails on its first call, then goes on to a slow Process state.
  auto calls = std::make_shared<int>(0);
  auto log = std::make_shared<call_log>();
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "FailOnce",
                [calls]() -> cano::expected<State> {
                  if (++*calls == 1) {
                    return cano::error::task_execution("first call fails");
                  }
                  return State::Process;
                },
                cano::TaskConfig::minimal().with_blocking(false))
              .register_task(State::Process, std::make_shared<slow_poll>(*vs.sys, log, 300ms))
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("flow", wf, State::Start)) == "ok");
  BOOST_TEST(text(s.set_backoff("flow", no_jitter(60s, 1.0, 60s))) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("flow")) == "ok");
  vs.run();
  auto failed = info(running, "flow");
  BOOST_TEST(failed.failure_streak == 1u);
  BOOST_TEST(text(running.trigger("flow")) == "ok");
  vs.run();
  BOOST_TEST(log->count() == 1u); // in the slow state
  BOOST_TEST(text(running.cancel_flow("flow")) == "ok");
  vs.run();
  auto i = info(running, "flow");
  BOOST_TEST(i.status == cano::FlowStatus::idle());
  BOOST_TEST(i.failure_streak == 1u);
  BOOST_TEST((i.next_eligible == failed.next_eligible));
  BOOST_TEST(i.run_count == 2u);
  stop(running);
}

namespace {
/// A saga step that records its effect and its undo.
class reserve_step : public cano::CompensatableTask<State, int> {
public:
  explicit reserve_step(std::shared_ptr<std::vector<std::string>> journal) : journal_(std::move(journal)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(false); }
  std::string name() const override { return "reserve"; }
  cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
    journal_->push_back("reserve");
    return std::make_pair(cano::TaskResult<State>(State::Process), 7);
  }
  cano::expected<void> compensate(cano::task_context&, int slot) override {
    journal_->push_back("release " + std::to_string(slot));
    return {};
  }

private:
  std::shared_ptr<std::vector<std::string>> journal_;
};
} // namespace

BOOST_AUTO_TEST_CASE(a_cancelled_run_undoes_its_saga_steps) {
  auto journal = std::make_shared<std::vector<std::string>>();
  auto log = std::make_shared<call_log>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<reserve_step>(journal))
              .register_task(State::Process, std::make_shared<slow_poll>(*vs.sys, log, 1h))
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("saga", wf, State::Start)) == "ok");
  auto running = start(s);
  BOOST_TEST(text(running.trigger("saga")) == "ok");
  vs.run();
  BOOST_TEST(*journal == std::vector<std::string>({"reserve"}), boost::test_tools::per_element());
  BOOST_TEST(text(running.cancel_flow("saga")) == "ok");
  vs.run();
  BOOST_TEST(*journal == std::vector<std::string>({"reserve", "release 7"}), boost::test_tools::per_element());
  BOOST_TEST(info(running, "saga").status == cano::FlowStatus::idle());
  stop(running);
}

BOOST_AUTO_TEST_SUITE_END()
