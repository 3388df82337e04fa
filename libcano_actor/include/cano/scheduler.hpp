// Scheduler — cano's in-process scheduler (spec §1.20, §4.12): workflows that run every interval,
// on a cron expression or when triggered, each with a backoff policy that delays, and finally
// trips, a flow that keeps failing. It runs as one actor in the runtime's actor system.
//
//   cano::Scheduler<Job> s;
//   s.every_seconds("sync", sync_wf, Job::Fetch, 30);        // at start, then 30 s after each run
//   s.cron("report", report_wf, Job::Build, "0 0 9 * * MON-FRI"); // 09:00:00 UTC, weekdays
//   s.manual("rebuild", rebuild_wf, Job::Start);             // only when triggered
//   s.set_backoff("sync", cano::BackoffPolicy::with_trip(5));
//   cano::expected<cano::RunningScheduler> running = s.start(rt); // validates, sets up resources
//   running->trigger("rebuild");                             // expected<void>
//   std::optional<cano::FlowInfo> info = running->status("sync");
//   running->stop(); // runs in flight finish, resources are torn down
//
// As in cano:
// - an `every` flow runs at once at start, then `max(interval, backoff left)` after each run
//   ends (a delay after completion, so its runs never overlap); a `cron` flow waits for its first
//   fire time, skips fire times inside its backoff window and never catches up missed ones; a
//   `manual` flow runs only on `trigger`, which bypasses a backoff window but not a trip.
// - after a failure the flow's streak grows; `BackoffPolicy::is_tripped(streak)` trips it (no
//   more runs until `reset_flow`), otherwise it waits `compute_delay(streak)`; a success clears it.
// - `start` validates every flow's workflow and initial state (the first error, nothing set up),
//   then sets each flow's resources up in registration order (on a failure, the flows already set
//   up are torn down in reverse and the error returned). A scheduled run does no validation, no
//   resource setup or teardown and ignores `Workflow::with_timeout`. `stop` lets runs in flight
//   finish (bounded, 30 s by default), then tears the resources down in reverse order.
//
// Resources and ARCHITECTURE D5: the scheduler holds one lease (Resources::acquire/release) per
// flow from `start` to `stop`. Runs of the same workflow started elsewhere (rt.run) meanwhile
// share the resources and never tear them down under the scheduler; two flows sharing one
// workflow set it up once, where cano would set it up twice.
//
// Time: the scheduler reads its actor clock plus a UTC offset fixed at start (`with_utc_origin`
// fixes the UTC instant of the start), so under CAF's virtual time (`scheduler.policy=testing`)
// every delay and cron fire time follows the test's clock. Its timers are actor messages.
//
// Threads: `start`, `stop`, `wait` and `wait_for` block and must not be called from an actor;
// every other call returns at once. Stop the scheduler before the runtime and actor system end.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "cano/cron.hpp"
#include "cano/error.hpp"
#include "cano/runtime.hpp"
#include "cano/workflow.hpp"

namespace cano {

/// How the scheduler delays the next run of a flow that just failed, and when it gives up
/// (cano's scheduler::BackoffPolicy). Defaults: 1 s initial delay, ×2 per further failure, at
/// most 300 s, ±10 % jitter, never trips.
struct BackoffPolicy {
  /// Delay after the first failure of a streak.
  std::chrono::nanoseconds initial = std::chrono::seconds(1);
  /// Factor per further consecutive failure: initial × multiplier^(streak − 1).
  double multiplier = 2.0;
  /// Cap on the delay, applied before and after jitter.
  std::chrono::nanoseconds max_delay = std::chrono::seconds(300);
  /// Clamped to [0, 1]; the delay is multiplied by 1 + jitter × U[−1, 1]. 0 is deterministic.
  double jitter = 0.1;
  /// Trip (stop dispatching until reset_flow) once the streak reaches this; none: never.
  std::optional<std::uint32_t> streak_limit;

  /// The default policy, tripping after `n` consecutive failures (0 trips on the first).
  static BackoffPolicy with_trip(std::uint32_t n);

  /// The delay after `streak` consecutive failures (0 counts as 1), in whole nanoseconds:
  /// min(initial_s × multiplier^(streak−1), max_delay_s) × jitter factor, floored at 0 and capped
  /// at max_delay. NaN operands act as cano's f64::min/max do (they are ignored). Jitter draws
  /// from a per-thread random generator.
  std::chrono::nanoseconds compute_delay(std::uint32_t streak) const;
  /// The same with the jitter draw given (`draw` in [−1, 1]), for deterministic callers.
  std::chrono::nanoseconds compute_delay(std::uint32_t streak, double draw) const;
  /// True when `streak` has reached the streak limit.
  bool is_tripped(std::uint32_t streak) const noexcept { return streak_limit.has_value() && streak >= *streak_limit; }
};

/// A flow's status (cano's scheduler::Status): Idle, Running, Completed, Backoff{until, streak,
/// last_error} or Tripped{streak, last_error}; `last_error` is the failed run's Display text.
class FlowStatus {
public:
  using time_point = std::chrono::system_clock::time_point;
  enum class kind { idle, running, completed, backoff, tripped };

  static FlowStatus idle() { return FlowStatus(kind::idle, {}, 0, {}); }
  static FlowStatus running() { return FlowStatus(kind::running, {}, 0, {}); }
  static FlowStatus completed() { return FlowStatus(kind::completed, {}, 0, {}); }
  static FlowStatus backoff(time_point until, std::uint32_t streak, std::string last_error) {
    return FlowStatus(kind::backoff, until, streak, std::move(last_error));
  }
  static FlowStatus tripped(std::uint32_t streak, std::string last_error) {
    return FlowStatus(kind::tripped, {}, streak, std::move(last_error));
  }

  kind state() const noexcept { return kind_; }
  /// Backoff only: when the window ends (UTC, as the scheduler's clock reads it).
  time_point until() const noexcept { return until_; }
  /// Backoff and Tripped: the failure streak; 0 otherwise.
  std::uint32_t streak() const noexcept { return streak_; }
  /// Backoff and Tripped: the last failure's Display text; empty otherwise.
  const std::string& last_error() const noexcept { return last_error_; }

  friend bool operator==(const FlowStatus& a, const FlowStatus& b) {
    return a.kind_ == b.kind_ && a.until_ == b.until_ && a.streak_ == b.streak_ && a.last_error_ == b.last_error_;
  }
  friend bool operator!=(const FlowStatus& a, const FlowStatus& b) { return !(a == b); }
  /// Like cano's Debug: `Idle`, or
  /// `Backoff { until: 2025-01-06T09:00:00.100Z, streak: 1, last_error: "…" }`.
  friend std::ostream& operator<<(std::ostream& os, const FlowStatus& s);
  /// The variant's name: Idle, Running, Completed, Backoff, Tripped.
  friend std::ostream& operator<<(std::ostream& os, kind k);

private:
  FlowStatus(kind k, time_point until, std::uint32_t streak, std::string last_error)
    : kind_(k),
      until_(until),
      streak_(streak),
      last_error_(std::move(last_error)) {}
  kind kind_;
  time_point until_;
  std::uint32_t streak_;
  std::string last_error_;
};

/// A snapshot of one flow (cano's FlowInfo). Times are UTC as the scheduler's clock reads them.
struct FlowInfo {
  std::string id;
  FlowStatus status = FlowStatus::idle();
  std::uint64_t run_count = 0;                                        // runs dispatched
  std::optional<std::chrono::system_clock::time_point> last_run;      // when the last one started
  std::uint32_t failure_streak = 0;                                   // failures since a success
  std::optional<std::chrono::system_clock::time_point> next_eligible; // end of the backoff window
};

class RunningScheduler;

namespace detail {
struct scheduler_handle;

/// One registered flow with its type erased (see Scheduler::start).
struct scheduled_flow {
  enum class trigger { every, cron, manual };
  std::string id;
  trigger kind = trigger::manual;
  std::chrono::nanoseconds interval{0};
  std::optional<CronSchedule> cron;
  BackoffPolicy policy;
  std::shared_ptr<const definition> def;
  state_code initial = 0;
};

struct scheduler_settings {
  std::optional<std::chrono::system_clock::time_point> utc_origin;
  std::chrono::milliseconds stop_bound{30000};
};

expected<RunningScheduler> start_scheduler(runtime& rt, std::vector<scheduled_flow> flows, scheduler_settings settings);
expected<void> check_interval(const std::string& id, std::chrono::nanoseconds interval);
std::chrono::nanoseconds saturating_seconds(std::uint64_t count, std::uint64_t seconds_per_unit);
} // namespace detail

/// The live scheduler returned by Scheduler::start (cano's RunningScheduler). Copies share it;
/// when the last copy goes without `stop`, the scheduler actor is stopped at once (no teardown,
/// as in cano; runs in flight finish on their own).
class RunningScheduler {
public:
  /// Runs flow `id` now. Errors (Workflow): "Scheduler not running — call start() before
  /// trigger()", "No workflow registered with id '<id>'", "Flow '<id>' is already running",
  /// "Flow '<id>' is tripped — call reset_flow before triggering". Bypasses a backoff window.
  expected<void> trigger(const std::string& id) const;
  /// Clears the streak and backoff window; the status becomes Idle unless the flow is running.
  /// Errors: "Scheduler not running — call start() before reset_flow()", unknown id as trigger.
  expected<void> reset_flow(const std::string& id) const;
  /// Cancels the flow's run in flight (cano 0.15, §4.12); a no-op when it has none. The run is
  /// cancelled cooperatively (§4.3, cano/cancellation.hpp: the task in flight is dropped unless it
  /// is a saga step, which finishes first), its saga steps are undone and it ends with category
  /// `cancelled`; the flow returns to Idle with its streak and window untouched (a failed undo
  /// counts as a failure). Errors: "Scheduler not running — call start() before cancel_flow()",
  /// unknown id.
  expected<void> cancel_flow(const std::string& id) const;

  /// The flow's snapshot, or nothing for an unknown id.
  std::optional<FlowInfo> status(const std::string& id) const;
  /// Every flow, in registration order.
  std::vector<FlowInfo> list() const;
  /// True when some flow's status is Running.
  bool has_running_flows() const;
  /// Runs started by the scheduler whose result it has not received yet.
  std::size_t runs_in_flight() const;

  /// Stops dispatching and asks the scheduler actor to drain; returns at once. Afterwards
  /// trigger, reset_flow and cancel_flow fail with "Scheduler not running …". Idempotent.
  void request_stop() const;
  /// Waits until the scheduler has stopped: Ok, or Workflow("Timeout waiting for workflows to
  /// complete") when runs were still in flight after the stop bound (they were then cancelled,
  /// and resources were torn down once their rollbacks ended, or one more bound passed), or
  /// Workflow("Scheduler driver task terminated unexpectedly without publishing a result").
  expected<void> wait() const;
  /// wait() for at most `bound`; nothing when the scheduler has not stopped by then.
  std::optional<expected<void>> wait_for(std::chrono::milliseconds bound) const;
  /// request_stop() then wait(); a second call returns the first result.
  expected<void> stop() const;

private:
  friend expected<RunningScheduler> detail::start_scheduler(runtime&, std::vector<detail::scheduled_flow>,
                                                            detail::scheduler_settings);
  explicit RunningScheduler(std::shared_ptr<detail::scheduler_handle> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::scheduler_handle> core_;
};

/// Registers flows, then starts them on a runtime (cano's Scheduler builder). Every flow of one
/// scheduler has the same state type; use one scheduler per state type.
template <class S>
class Scheduler {
public:
  using time_point = std::chrono::system_clock::time_point;

  /// A flow that runs at start and then `interval` after each run ends. Errors (Configuration):
  /// "Flow '<id>' already exists"; a negative interval.
  expected<void> every(const std::string& id, Workflow<S> wf, S initial, std::chrono::nanoseconds interval) {
    if (auto ok = detail::check_interval(id, interval); !ok) {
      return ok;
    }
    return add(id, std::move(wf), initial, detail::scheduled_flow::trigger::every, interval, std::nullopt);
  }
  expected<void> every_seconds(const std::string& id, Workflow<S> wf, S initial, std::uint64_t seconds) {
    return every(id, std::move(wf), initial, detail::saturating_seconds(seconds, 1));
  }
  expected<void> every_minutes(const std::string& id, Workflow<S> wf, S initial, std::uint64_t minutes) {
    return every(id, std::move(wf), initial, detail::saturating_seconds(minutes, 60));
  }
  expected<void> every_hours(const std::string& id, Workflow<S> wf, S initial, std::uint64_t hours) {
    return every(id, std::move(wf), initial, detail::saturating_seconds(hours, 3600));
  }
  /// A flow that runs at the fire times of `expression` (see cano/cron.hpp), in UTC. Errors
  /// (Configuration): "Invalid cron expression: …", "Flow '<id>' already exists".
  expected<void> cron(const std::string& id, Workflow<S> wf, S initial, const std::string& expression) {
    auto parsed = CronSchedule::parse(expression);
    if (!parsed) {
      return parsed.error();
    }
    return add(id, std::move(wf), initial, detail::scheduled_flow::trigger::cron, {}, std::move(*parsed));
  }
  /// A flow that runs only when triggered.
  expected<void> manual(const std::string& id, Workflow<S> wf, S initial) {
    return add(id, std::move(wf), initial, detail::scheduled_flow::trigger::manual, {}, std::nullopt);
  }
  /// Replaces flow `id`'s policy (every flow starts with BackoffPolicy{}). Error
  /// (Configuration): "Flow '<id>' not found — cannot set backoff".
  expected<void> set_backoff(const std::string& id, BackoffPolicy policy) {
    for (auto& f : flows_) {
      if (f.id == id) {
        f.policy = std::move(policy);
        return {};
      }
    }
    return error::configuration("Flow '" + id + "' not found — cannot set backoff");
  }

  std::size_t len() const noexcept { return flows_.size(); }
  bool is_empty() const noexcept { return flows_.empty(); }
  bool contains(const std::string& id) const {
    for (const auto& f : flows_) {
      if (f.id == id) {
        return true;
      }
    }
    return false;
  }

  /// The UTC instant the scheduler's clock reads at start (default: the system clock then).
  Scheduler& with_utc_origin(time_point origin) {
    settings_.utc_origin = origin;
    return *this;
  }
  /// How long stop waits for runs in flight before cancelling them (default 30 s, cano's); the
  /// cancelled runs then get as long again to undo their saga steps before the resources go.
  Scheduler& with_stop_bound(std::chrono::milliseconds bound) {
    settings_.stop_bound = bound;
    return *this;
  }

  /// Validates every flow, sets resources up in order and spawns the scheduler actor in `rt`'s
  /// actor system. Takes the flows: the builder is empty afterwards. Blocks during setup. Stop
  /// the scheduler before the runtime: runs started after the runtime's shutdown fail (and back
  /// off) with the runtime's "shutting down" error.
  expected<RunningScheduler> start(runtime& rt) {
    std::vector<detail::scheduled_flow> erased;
    for (auto& f : flows_) {
      detail::scheduled_flow e;
      e.id = f.id;
      e.kind = f.kind;
      e.interval = f.interval;
      e.cron = f.cron;
      e.policy = f.policy;
      e.def = detail::workflow_access::definition_of(f.wf);
      e.initial = detail::encode_state(f.initial);
      erased.push_back(std::move(e));
    }
    flows_.clear();
    return detail::start_scheduler(rt, std::move(erased), settings_);
  }

private:
  struct flow {
    std::string id;
    Workflow<S> wf;
    S initial;
    detail::scheduled_flow::trigger kind;
    std::chrono::nanoseconds interval;
    std::optional<CronSchedule> cron;
    BackoffPolicy policy;
  };

  expected<void> add(const std::string& id, Workflow<S> wf, S initial, detail::scheduled_flow::trigger kind,
                     std::chrono::nanoseconds interval, std::optional<CronSchedule> cron) {
    if (contains(id)) {
      return error::configuration("Flow '" + id + "' already exists");
    }
    flows_.push_back(flow{id, std::move(wf), initial, kind, interval, std::move(cron), BackoffPolicy{}});
    return {};
  }

  std::vector<flow> flows_;
  detail::scheduler_settings settings_;
};

} // namespace cano
