// White-box (the cluster's flow rules, stores/postgres/src/cluster/flow_schedule.hpp): when a
// flow leader fires a tick, which missed cron fire time it fires or skips, and what a run's
// outcome does to the flow — cano's scheduler rules (spec §1.20) on a durable row, at fixed
// instants. The multi-process behaviour is in tests/e2e/cluster_flows_test.cpp.
#include <boost/test/unit_test.hpp>

#include "cano/cluster_flow.hpp"
#include "cluster/flow_schedule.hpp"

using namespace std::chrono_literals;
using cano::detail::flow_row;
using cano::detail::flow_time;
using cano::detail::tick_decision;
using kind = cano::FlowStatus::kind;

namespace {

/// 2025-01-06 (a Monday) at h:m:s.ms UTC.
flow_time at(int h, int m, int s, int ms = 0) {
  return flow_time(std::chrono::seconds(1736121600 + h * 3600 + m * 60 + s) + std::chrono::milliseconds(ms));
}

cano::detail::flow_plan plan(cano::cluster_flow f) {
  f.definition = "orders";
  auto p = cano::detail::flow_plan::of(std::move(f));
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().to_string()));
  return *p;
}

cano::detail::flow_plan every(std::chrono::milliseconds interval, cano::BackoffPolicy b = {}) {
  cano::cluster_flow f;
  f.id = "sweep";
  f.trigger = cano::flow_trigger::every;
  f.interval = interval;
  f.backoff = b;
  return plan(f);
}

cano::detail::flow_plan cron(const std::string& expr, cano::BackoffPolicy b = {}) {
  cano::cluster_flow f;
  f.id = "report";
  f.trigger = cano::flow_trigger::cron;
  f.cron = expr;
  f.backoff = b;
  return plan(f);
}

/// No jitter: the delays are the formula's.
cano::BackoffPolicy exact(std::chrono::milliseconds initial, std::optional<std::uint32_t> trip = std::nullopt) {
  return cano::BackoffPolicy{initial, 2.0, 60s, 0.0, trip};
}

flow_row idle_row(std::optional<flow_time> next_tick) {
  flow_row r;
  r.flow_id = "f";
  r.next_tick = next_tick;
  return r;
}

/// The row after a run its schedule fired, ending at `end` with `failure`.
flow_row after_run(const cano::detail::flow_plan& p, flow_row r, flow_time end,
                   const std::optional<cano::error>& failure = std::nullopt) {
  r.status = kind::running;
  r.fired_by = cano::detail::fired_by_schedule;
  r.next_tick.reset();
  cano::detail::apply_outcome(p, r, failure, end);
  return r;
}

const auto grace = 6000ms;

} // namespace

BOOST_AUTO_TEST_SUITE(flow_schedule_test)

BOOST_AUTO_TEST_CASE(run_ids_are_the_flow_and_its_tick_in_utc_to_the_millisecond) {
  BOOST_TEST(cano::flow_run_id("sweep", at(9, 0, 0, 250)) == "sweep@2025-01-06T09:00:00.250Z");
  BOOST_TEST(cano::flow_run_id("report", at(23, 59, 59)) == "report@2025-01-06T23:59:59.000Z");
  // Below the millisecond is not part of the tick.
  BOOST_TEST(cano::flow_run_id("x", at(0, 0, 1) + 999us) == "x@2025-01-06T00:00:01.000Z");
}

BOOST_AUTO_TEST_CASE(bad_flows_are_refused_with_cano_texts_where_cano_has_them) {
  cano::cluster_flow f;
  f.id = "sweep";
  f.definition = "orders";
  f.trigger = cano::flow_trigger::every;
  f.interval = -1000ms;
  auto negative = cano::check_flow(f);
  BOOST_REQUIRE(!negative);
  BOOST_TEST(negative.error().message() == "Flow 'sweep' has a negative interval (-1000000000ns)");
  f.interval = 0ms;
  auto zero = cano::check_flow(f);
  BOOST_REQUIRE(!zero);
  BOOST_TEST(zero.error().message().find("needs a positive interval") != std::string::npos);
  f.trigger = cano::flow_trigger::cron;
  f.cron = "0 0 25 * * *";
  auto bad_cron = cano::check_flow(f);
  BOOST_REQUIRE(!bad_cron);
  BOOST_TEST(bad_cron.error().code() == cano::errc::configuration);
  BOOST_TEST(bad_cron.error().message().find("Invalid cron expression:") != std::string::npos);
  f.cron = "0 0 2 * * *";
  f.id = "";
  BOOST_TEST(!cano::check_flow(f));
  f.id = "two words";
  BOOST_TEST(!cano::check_flow(f));
  f.id = "ok";
  f.definition = "";
  BOOST_TEST(!cano::check_flow(f));
  f.definition = "orders";
  BOOST_TEST(cano::check_flow(f).has_value());
}

BOOST_AUTO_TEST_CASE(an_every_flow_fires_at_once_then_its_interval_after_each_run_ends) {
  auto p = every(30s);
  auto first = cano::detail::first_tick(p, at(9, 0, 0, 123));
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST((*first == at(9, 0, 0, 123))); // cano: every-flows run at once at start
  auto d = cano::detail::decide_tick(p, idle_row(first), at(9, 0, 0, 123), grace);
  BOOST_TEST((d.what == tick_decision::action::fire && d.at == at(9, 0, 0, 123)));
  // The run ends 2.5 s later: the next tick is 30 s after its end (a delay after completion).
  auto r = after_run(p, idle_row(first), at(9, 0, 2, 623));
  BOOST_TEST((r.status == kind::completed));
  BOOST_TEST((r.next_tick == at(9, 0, 32, 623)));
  auto wait = cano::detail::decide_tick(p, r, at(9, 0, 10), grace);
  BOOST_TEST((wait.what == tick_decision::action::wait && wait.at == at(9, 0, 32, 623)));
  // A new leader an hour late fires that tick, late, once: its id is the tick's, not the hour's.
  auto late = cano::detail::decide_tick(p, r, at(10, 0, 33), grace);
  BOOST_TEST((late.what == tick_decision::action::fire && late.at == at(9, 0, 32, 623)));
}

BOOST_AUTO_TEST_CASE(a_failing_every_flow_waits_the_longer_of_interval_and_backoff_then_trips) {
  auto p = every(1s, exact(4s, 3u));
  auto err = cano::error::task_execution("supplier offline");
  auto r = after_run(p, idle_row(at(9, 0, 0)), at(9, 0, 0, 100), err);
  BOOST_TEST((r.status == kind::backoff));
  BOOST_TEST(r.streak == 1u);
  BOOST_TEST((r.next_eligible == at(9, 0, 4, 100))); // initial 4 s
  BOOST_TEST((r.next_tick == at(9, 0, 4, 100)));     // max(1 s, window)
  BOOST_TEST(r.last_error == err.to_string());
  r = after_run(p, r, at(9, 0, 5), err);
  BOOST_TEST((r.next_tick == at(9, 0, 13))); // 4 s × 2
  r = after_run(p, r, at(9, 0, 14), err);
  BOOST_TEST((r.status == kind::tripped));
  BOOST_TEST(r.streak == 3u);
  BOOST_TEST(!r.next_eligible.has_value());
  BOOST_TEST((cano::detail::decide_tick(p, r, at(12, 0, 0), grace).at == flow_time::max())); // no tick
  // A success clears streak and window; the next tick is the interval's again.
  cano::detail::reset(r);
  BOOST_TEST((r.status == kind::idle));
  r = after_run(p, r, at(9, 1, 0));
  BOOST_TEST((r.status == kind::completed && r.streak == 0u && !r.next_eligible));
  BOOST_TEST((r.next_tick == at(9, 1, 1)));
}

BOOST_AUTO_TEST_CASE(a_cancelled_run_leaves_the_flow_idle_with_its_streak_and_window) {
  auto p = every(1s, exact(4s, 2u));
  auto err = cano::error::task_execution("supplier offline");
  auto r = after_run(p, idle_row(at(9, 0, 0)), at(9, 0, 0, 100), err);
  BOOST_REQUIRE((r.status == kind::backoff && r.streak == 1u));
  // cano 0.15: a run cancelled (cluster_client::cancel, cano runs cancel) is no failure of the flow —
  // not a second one in the streak (which would trip it), and not a success that clears it.
  r = after_run(p, r, at(9, 0, 5), cano::error::cancelled());
  BOOST_TEST((r.status == kind::idle));
  BOOST_TEST(r.streak == 1u);
  BOOST_TEST((r.next_eligible == at(9, 0, 4, 100)));
  BOOST_TEST(r.last_error == err.to_string());
  BOOST_TEST((r.next_tick == at(9, 0, 6))); // the schedule goes on: the interval after its end
  // A failed undo after a cancel is a failure like any other.
  r = after_run(p, r, at(9, 0, 7), cano::error::compensation_failed({cano::error::cancelled(), err}));
  BOOST_TEST((r.status == kind::tripped));
  BOOST_TEST(r.streak == 2u);
}

BOOST_AUTO_TEST_CASE(a_triggered_run_takes_the_every_tick_it_overlaps_and_leaves_the_schedule_alone) {
  auto p = every(10s);
  auto r = idle_row(at(9, 0, 10));
  // Triggered at 9:00:12, before the leader fired 9:00:10 (late): cano's loop finds it running.
  r.status = kind::running;
  r.fired_by = cano::detail::fired_by_trigger;
  r.last_tick = at(9, 0, 12);
  auto skipped = cano::detail::tick_while_running(p, r, at(9, 0, 12, 50));
  BOOST_TEST((skipped == at(9, 0, 22, 50)));
  // Its outcome does not move the schedule.
  r.next_tick = skipped;
  cano::detail::apply_outcome(p, r, std::nullopt, at(9, 0, 13));
  BOOST_TEST((r.next_tick == at(9, 0, 22, 50)));
  // Ended before the leader looked: the tick it took is not fired as well.
  auto q = idle_row(at(9, 0, 10));
  q.last_tick = at(9, 0, 12);
  auto d = cano::detail::decide_tick(p, q, at(9, 0, 13), grace);
  BOOST_TEST((d.what == tick_decision::action::reschedule && d.at == at(9, 0, 23)));
}

BOOST_AUTO_TEST_CASE(a_cron_flow_fires_its_fire_times_and_late_ones_within_the_grace) {
  auto p = cron("*/2 * * * * *");
  auto first = cano::detail::first_tick(p, at(9, 0, 0, 500));
  BOOST_TEST((first == at(9, 0, 2))); // cano: a cron flow waits for its first fire time
  auto r = idle_row(first);
  auto d = cano::detail::decide_tick(p, r, at(9, 0, 1), grace);
  BOOST_TEST((d.what == tick_decision::action::wait && d.at == at(9, 0, 2)));
  d = cano::detail::decide_tick(p, r, at(9, 0, 2, 40), grace);
  BOOST_TEST((d.what == tick_decision::action::fire && d.at == at(9, 0, 2)));
  // A takeover 3.5 s late: of 9:00:02 and 9:00:04 only the latest fires (no catching up).
  d = cano::detail::decide_tick(p, r, at(9, 0, 5, 500), grace);
  BOOST_TEST((d.what == tick_decision::action::fire && d.at == at(9, 0, 4)));
  // After the run (ending 9:00:04.300) the next fire time after its end.
  auto done = after_run(p, r, at(9, 0, 4, 300));
  BOOST_TEST((done.next_tick == at(9, 0, 6)));
  // Fire times during a run are skipped (cano's loop awaits its run).
  done = after_run(p, r, at(9, 0, 9, 100));
  BOOST_TEST((done.next_tick == at(9, 0, 10)));
}

BOOST_AUTO_TEST_CASE(a_cron_fire_time_older_than_the_grace_is_skipped) {
  auto p = cron("0 * * * * *"); // every minute
  auto r = idle_row(at(9, 1, 0));
  r.last_tick = at(9, 0, 0);
  auto d = cano::detail::decide_tick(p, r, at(9, 1, 10), grace); // 10 s old, grace 6 s
  BOOST_TEST((d.what == tick_decision::action::reschedule && d.at == at(9, 2, 0)));
  BOOST_TEST(d.why.find("misfire grace") != std::string::npos);
  d = cano::detail::decide_tick(p, r, at(9, 1, 5), grace); // 5 s old: fires, late
  BOOST_TEST((d.what == tick_decision::action::fire && d.at == at(9, 1, 0)));
  // A whole day down: nothing from then fires; the next fire time is waited for.
  d = cano::detail::decide_tick(p, r, at(23, 30, 30), grace);
  BOOST_TEST((d.what == tick_decision::action::reschedule && d.at == at(23, 31, 0)));
}

BOOST_AUTO_TEST_CASE(a_cron_fire_time_inside_the_backoff_window_is_skipped) {
  auto p = cron("* * * * * *", exact(3s));
  auto r = after_run(p, idle_row(at(9, 0, 0)), at(9, 0, 0, 200), cano::error::task_execution("down"));
  BOOST_TEST((r.status == kind::backoff));
  BOOST_TEST((r.next_eligible == at(9, 0, 3, 200)));
  BOOST_TEST((r.next_tick == at(9, 0, 4))); // the first fire time not inside the window
  // A window that began after the tick was set (a triggered run failed): the tick is skipped.
  auto q = idle_row(at(9, 0, 1));
  q.next_eligible = at(9, 0, 3, 200);
  q.status = kind::backoff;
  auto d = cano::detail::decide_tick(p, q, at(9, 0, 1, 10), grace);
  BOOST_TEST((d.what == tick_decision::action::reschedule && d.at == at(9, 0, 2)));
  BOOST_TEST(d.why == "inside the backoff window");
}

BOOST_AUTO_TEST_CASE(a_manual_flow_has_no_ticks) {
  cano::cluster_flow f;
  f.id = "rebuild";
  auto p = plan(f);
  BOOST_TEST(!cano::detail::first_tick(p, at(9, 0, 0)).has_value());
  auto r = idle_row(std::nullopt);
  BOOST_TEST((cano::detail::decide_tick(p, r, at(9, 0, 0), grace).at == flow_time::max()));
  // Its runs are triggered: an outcome leaves no tick.
  r.status = kind::running;
  r.fired_by = cano::detail::fired_by_trigger;
  cano::detail::apply_outcome(p, r, std::nullopt, at(9, 0, 1));
  BOOST_TEST(!r.next_tick.has_value());
  BOOST_TEST((r.status == kind::completed));
}

BOOST_AUTO_TEST_SUITE_END()
