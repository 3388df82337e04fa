// The scheduler's flow table, shared by its actor and every RunningScheduler copy. One mutex
// guards it: a trigger's checks and its reservation (cano's reserve_flow under a write lock), the
// stop flag, and the outcomes the actor applies. Status reads need no actor round trip, so they
// work from any thread and under virtual time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cano/runtime.hpp"
#include "cano/scheduler.hpp"

namespace caf {
class actor_clock;
} // namespace caf

namespace cano::detail {

enum class reservation { reserved, already_running, tripped };

struct flow_slot {
  FlowInfo info;
  BackoffPolicy policy;
  bool cancel_requested = false; // cancel_flow hit the run in flight
};

struct flow_board {
  using time_point = std::chrono::system_clock::time_point;

  flow_board(std::vector<flow_slot> slots, caf::actor_clock& clock, time_point utc_origin);

  /// The actor clock plus the UTC offset fixed at start.
  time_point utc_now() const;

  // Everything below is guarded by `mutex`.
  std::mutex mutex;
  std::vector<flow_slot> flows; // registration order
  std::unordered_map<std::string, std::size_t> index;
  bool accepting = true; // false once a stop was requested (or the last handle went)
  std::size_t runs_in_flight = 0;
  bool teardown_pending = false;        // the actor handed the teardown to the pool and left
  std::optional<expected<void>> result; // set once the scheduler has stopped
  std::condition_variable stopped;

  std::optional<std::size_t> find(const std::string& id) const;
  /// cano's reserve_flow: Running and Tripped refuse; otherwise Running, last_run, run_count.
  reservation reserve(std::size_t i, time_point now);
  /// cano's apply_outcome (+ 0.15's: a cancelled run — category `cancelled`, or any outcome but a
  /// failed undo after cancel_flow — returns the flow to Idle).
  void apply_outcome(std::size_t i, const std::optional<error>& failure, time_point now);
  /// cano's Reset command.
  void reset(std::size_t i);
  /// Publishes the stop result once and wakes waiters.
  void publish(expected<void> r);

private:
  caf::actor_clock& clock_;
  std::chrono::system_clock::duration offset_;
};

/// Scheduler errors with cano's texts.
error not_running(const char* call);
error unknown_flow(const std::string& id);

} // namespace cano::detail
