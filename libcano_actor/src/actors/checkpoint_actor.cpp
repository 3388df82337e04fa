#include "checkpoint_actor.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/send.hpp>

#include "messages.hpp"

namespace cano::detail {

namespace {

struct pending_write {
  caf::strong_actor_ptr reply_to;
  std::uint64_t request = 0;
  write_ptr write;
};

void checkpoint_loop(caf::blocking_actor* self, std::shared_ptr<checkpoint_channel> channel) {
  bool running = true;
  std::vector<pending_write> batch;
  auto take = [&](ckpt_write_atom, std::uint64_t request, write_ptr& w) {
    batch.push_back({self->current_sender(), request, std::move(w)});
  };
  while (running) {
    batch.clear();
    self->receive(take, [&](ckpt_stop_atom) { running = false; });
    // Everything that queued up while the previous batch was committing joins this one.
    bool more = true;
    while (more && batch.size() < max_batch_writes) {
      more = false;
      self->receive([&](ckpt_write_atom a, std::uint64_t r, write_ptr& w) {
        take(a, r, w);
        more = true;
      },
                    [&](ckpt_stop_atom) { running = false; },
                    caf::after(std::chrono::seconds(0)) >> [] {});
    }
    if (batch.empty()) {
      continue;
    }
    std::vector<CheckpointWrite> writes;
    writes.reserve(batch.size());
    std::uint64_t rows = 0;
    for (auto& p : batch) {
      writes.push_back(p.write->write);
      rows += p.write->write.row ? 1 : 0;
    }
    std::vector<expected<void>> outcomes;
    try {
      outcomes = channel->store->append_batch(writes);
    } catch (const std::exception& e) {
      outcomes.clear();
    }
    if (outcomes.size() != writes.size()) {
      outcomes.assign(writes.size(), error::checkpoint_store(
                                       "the store's append_batch failed or returned the wrong "
                                       "number of outcomes"));
    }
    channel->batches.fetch_add(1);
    channel->writes.fetch_add(writes.size());
    channel->rows.fetch_add(rows);
    {
      auto now = std::chrono::steady_clock::now();
      std::lock_guard<std::mutex> guard(channel->latency_mutex);
      if (channel->latencies_us.size() > (1u << 20)) {
        channel->latencies_us.clear(); // keep the recent past only
      }
      for (auto& p : batch) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - p.write->sent).count();
        channel->latencies_us.push_back(static_cast<std::uint32_t>(us));
      }
    }
    channel->pending.fetch_sub(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].reply_to) {
        caf::anon_send(caf::actor_cast<caf::actor>(batch[i].reply_to), ckpt_ack_atom::value,
                       batch[i].request, std::make_shared<expected<void>>(std::move(outcomes[i])));
      }
    }
  }
}

} // namespace

std::shared_ptr<checkpoint_channel> spawn_checkpoint_actor(caf::actor_system& sys,
                                                           std::shared_ptr<CheckpointStore> store,
                                                           std::size_t queue_bound) {
  auto channel = std::make_shared<checkpoint_channel>();
  channel->store = std::move(store);
  channel->bound = queue_bound;
  channel->actor = sys.spawn<caf::detached>(checkpoint_loop, channel);
  return channel;
}

void stop_checkpoint_actor(const checkpoint_channel& channel) {
  caf::anon_send(channel.actor, ckpt_stop_atom::value);
}

} // namespace cano::detail
