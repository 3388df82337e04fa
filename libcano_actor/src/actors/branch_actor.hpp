// The branch actor: runs one non-blocking branch of a split on CAF's scheduler, away from its
// join actor, so that expensive (CPU-bound) branches of one split use every scheduler thread.
// The join actor spawns one per branch it fans out (join_actor.cpp decides which), starts it
// with a message sent through the scheduler (which wakes an idle thread), and gets the branch's
// outcome back as a message; the branch actor then quits. It hosts the branch's retries and
// their timers. A branch whose join has already decided, whose split deadline (join timeout
// or run deadline) has passed, or whose run is cancelled, is never started.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "../blocking_pool.hpp"
#include "run_context.hpp"

namespace cano::detail {

/// What a join actor shares with its branch actors.
struct split_control {
  /// Set once the join has decided (or was stopped): no branch starts any more.
  std::atomic<bool> stopped{false};
  /// No branch starts at or after this (the earlier of the join timeout and the run deadline).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  /// True while a branch may still start.
  bool may_start() const {
    if (stopped.load(std::memory_order_acquire)) {
      return false;
    }
    return deadline == std::chrono::steady_clock::time_point::max() || std::chrono::steady_clock::now() < deadline;
  }
};

/// Spawns (lazily: it runs once `start_branch_actor` kicks it) the branch actor of branch
/// `index`, reporting to `join` as (branch_done_atom, index, work_outcome_ptr, cost in ns).
caf::actor spawn_branch_actor(caf::event_based_actor* join, std::shared_ptr<const run_context> ctx,
                              std::shared_ptr<const state_entry> entry, std::uint32_t index, std::string label,
                              std::shared_ptr<blocking_pool> pool, std::shared_ptr<const split_control> control);

/// Starts a spawned branch actor through the scheduler: it lands on the next scheduler thread
/// in turn, waking it if it sleeps, instead of queueing behind the join on the current one.
void start_branch_actor(const caf::actor& branch);

} // namespace cano::detail
