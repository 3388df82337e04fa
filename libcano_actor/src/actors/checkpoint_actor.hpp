// The checkpoint actor (ARCHITECTURE D6): the only writer to one blocking store. It runs
// detached; while one append_batch is in flight its mailbox fills, and the next batch takes
// everything waiting (up to 4,096 writes) — group commit with no added wait. Each writer is
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

  /// The actor serving the store, spawned on first use and anew if the previous one died.
  caf::actor actor();
  /// Asks the actor to stop once its mailbox is drained.
  void stop();

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
  caf::actor spawn_locked();

  caf::actor_system& sys_;
  std::mutex actor_mutex_;
  caf::actor actor_;
  std::shared_ptr<std::atomic<bool>> alive_; // of the current actor; null before the first
};

constexpr std::size_t max_batch_writes = 4096;

} // namespace cano::detail
