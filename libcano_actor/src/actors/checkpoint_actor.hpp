// The checkpoint actor (ARCHITECTURE D6): the writer to one blocking store, or to one lane of it
// when the store runs several batches at once (CheckpointStore::batch_lanes: one actor per lane,
// every write of one run to the same lane, picked by its workflow id, so a run's writes reach the
// store in the order it sent them). It runs detached; while one append_batch is in flight its
// mailbox fills, and the next batch takes everything waiting (up to 4,096 writes) — group
// commit with no added wait. Each writer is
// answered with the outcome of its own write (a CAF response), so one run's conflict never
// fails another's. The queue of pending writes is bounded: past it, writes fail at once.
//
// Writers send requests: if the actor dies, CAF answers what waited in its mailbox with an
// error and the actor answers the batch it held before it goes; writers treat both as "store
// unavailable" (the run is interrupted, resumable), and the next write spawns a new actor.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "../latency_histogram.hpp"
#include "cano/checkpoint.hpp"
#include "cano/metrics_sink.hpp"

namespace caf {
class actor_system;
}

namespace cano::detail {

/// Writers reach a checkpoint actor through its channel, which also counts pending writes.
class checkpoint_channel : public std::enable_shared_from_this<checkpoint_channel> {
public:
  /// `metrics`: where each batch is reported (null: nowhere).
  checkpoint_channel(caf::actor_system& sys, std::shared_ptr<CheckpointStore> store, std::size_t bound,
                     std::shared_ptr<metrics_sink> metrics = nullptr);

  /// The actor serving the lane of run `workflow_id` (the same for every write of a run),
  /// spawned on first use and anew if the previous one died.
  caf::actor actor(const std::string& workflow_id);
  /// How many lanes (actors) serve the store: its batch_lanes(), 1 to max_lanes.
  std::size_t lanes() const noexcept { return lanes_.size(); }
  /// Asks every actor to stop once its mailbox is drained.
  void stop();

  static constexpr std::size_t max_lanes = 16;

  const std::shared_ptr<CheckpointStore> store;
  const std::size_t bound;
  std::atomic<std::size_t> pending{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> rows{0};
  std::atomic<std::uint64_t> restarts{0}; // actors spawned after one died
  /// Send-to-ack latencies of every write (runtime::checkpoint_statistics).
  latency_histogram latencies;
  const std::shared_ptr<metrics_sink> metrics;

private:
  struct lane {
    caf::actor actor;
    std::shared_ptr<std::atomic<bool>> alive; // of the current actor; null before the first
  };

  caf::actor spawn_locked(lane& l);

  caf::actor_system& sys_;
  std::mutex actor_mutex_;
  std::vector<lane> lanes_;
};

constexpr std::size_t max_batch_writes = 4096;

} // namespace cano::detail
