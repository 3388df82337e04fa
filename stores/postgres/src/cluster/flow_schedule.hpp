// flow_schedule — the rules a flow leader follows (cano/cluster_flow.hpp), as pure functions of
// the flow's durable row and the server's time: when a tick is due, which fire time a cron flow
// fires or skips, and what a run's outcome does to the flow (cano's apply_outcome, spec §1.20,
// plus the next tick). No database here: flow_table reads and writes the rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cano/cluster_flow.hpp"
#include "cano/cron.hpp"

namespace cano::detail {

using flow_time = std::chrono::system_clock::time_point;

/// A flow as its leader declared it, with its cron expression parsed.
struct flow_plan {
  cluster_flow flow;
  std::optional<CronSchedule> cron;

  /// check_flow, then the expression parsed.
  static expected<flow_plan> of(cluster_flow flow);
  /// "every 30s", "cron 0 0 2 * * *", "manual".
  std::string schedule_text() const;
};

/// Who fired a flow's current run: its schedule or a trigger (cano's loop vs trigger paths).
inline constexpr const char* fired_by_schedule = "schedule";
inline constexpr const char* fired_by_trigger = "trigger";

/// A flow's row of cano_flows, as a leader works with it (times to the millisecond).
struct flow_row {
  std::string flow_id;
  std::string leader;
  std::uint64_t fence = 0;
  FlowStatus::kind status = FlowStatus::kind::idle;
  std::uint32_t streak = 0;
  std::string last_error;
  std::optional<flow_time> next_eligible;
  std::uint64_t run_count = 0;
  std::optional<flow_time> last_run;
  std::optional<flow_time> last_tick;
  std::string current_run; // the last fire's run id
  std::string fired_by;    // of the current run: fired_by_schedule, fired_by_trigger, or ""
  std::optional<flow_time> next_tick;
  std::string kind;     // every | cron | manual, as its leader wrote it
  std::string schedule; // schedule_text() of its leader
};

/// The first tick of a flow first scheduled at `now` (or whose schedule changed): every: now
/// (cano runs every-flows at once at start); cron: its next fire time; manual: none.
std::optional<flow_time> first_tick(const flow_plan& plan, flow_time now);

/// What the leader does with a flow that is not running, at server time `now`.
struct tick_decision {
  enum class action { wait, fire, reschedule };
  action what = action::wait;
  /// wait: until then (time_point::max: nothing to wait for); fire: the tick; reschedule: the
  /// flow's new next tick.
  flow_time at{};
  /// reschedule: why a fire time was skipped.
  std::string why;
};
/// every: fire next_tick once due (late if need be; a backoff window is in next_tick already).
/// cron: of the fire times from next_tick to now, the latest fires if it is at most `grace` old
/// and not inside the backoff window; otherwise the flow moves to its next fire time after now.
/// Tripped and manual flows wait for nothing.
tick_decision decide_tick(const flow_plan& plan, const flow_row& row, flow_time now, std::chrono::milliseconds grace);

/// A flow whose triggered run is in flight still follows its schedule: a tick due now is
/// skipped (cano: not dispatchable) and the next one set — every: max(interval, backoff left)
/// from now; cron: the next fire time. Nothing when no tick is due.
std::optional<flow_time> tick_while_running(const flow_plan& plan, const flow_row& row, flow_time now);

/// cano's apply_outcome on `row` at `now` (a success clears the streak and window; a failure
/// backs off by backoff.compute_delay(streak) or trips; a cancelled run — category `cancelled`,
/// cano 0.15 — leaves the flow Idle with its streak and window), and, for a run its schedule fired, the
/// next tick — every: max(now + interval, end of the window); cron: the first fire time after
/// now that is not inside the window.
void apply_outcome(const flow_plan& plan, flow_row& row, const std::optional<error>& failure, flow_time now);

/// cano's Reset: streak 0, no window, Idle unless running.
void reset(flow_row& row);

/// `t` floored to the millisecond (the precision of ticks and run ids).
flow_time to_millis(flow_time t);

} // namespace cano::detail
