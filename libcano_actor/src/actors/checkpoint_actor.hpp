// The checkpoint actor (ARCHITECTURE D6): the only writer to one blocking store. It runs
// detached; while one append_batch is in flight its mailbox fills, and the next batch takes
// everything waiting (up to 4,096 writes) — group commit with no added wait. Each writer is
// told the outcome of its own write, so one run's conflict never fails another's. The queue
// of pending writes is bounded: past it, writes fail at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor.hpp>

#include "cano/checkpoint.hpp"

namespace caf {
class actor_system;
}

namespace cano::detail {

/// Writers reach a checkpoint actor through its channel, which also counts pending writes.
struct checkpoint_channel {
  caf::actor actor;
  std::shared_ptr<CheckpointStore> store;
  std::atomic<std::size_t> pending{0};
  std::size_t bound = 0;
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> rows{0};
  /// Send-to-ack latencies in microseconds (the most recent samples, bounded).
  std::mutex latency_mutex;
  std::vector<std::uint32_t> latencies_us;
};

constexpr std::size_t max_batch_writes = 4096;

std::shared_ptr<checkpoint_channel> spawn_checkpoint_actor(caf::actor_system& sys,
                                                           std::shared_ptr<CheckpointStore> store,
                                                           std::size_t queue_bound);
/// Asks the actor to stop once its mailbox is drained.
void stop_checkpoint_actor(const checkpoint_channel& channel);

} // namespace cano::detail
