#include "checkpoint_actor.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>

#include "../measure.hpp"
#include "../user_code.hpp"
#include "messages.hpp"

namespace cano::detail {

namespace {

struct pending_write {
  caf::response_promise promise;
  write_ptr write;
};

/// One store call for the whole batch; whatever it throws becomes every write's outcome.
std::vector<expected<void>> commit(CheckpointStore& store, const std::vector<CheckpointWrite>& writes) {
  auto outcomes = call_guarded([&] { return store.append_batch(writes); },
                               [&](const std::string& text) {
                                 return std::vector<expected<void>>(
                                   writes.size(), error::checkpoint_store("the store's append_batch threw: " + text));
                               });
  if (outcomes.size() != writes.size()) {
    outcomes.assign(writes.size(),
                    error::checkpoint_store("the store's append_batch returned " + std::to_string(outcomes.size()) +
                                            " outcomes for " + std::to_string(writes.size()) + " writes"));
  }
  return outcomes;
}

/// Records each write's send-to-ack latency; with a metrics sink, reports the batch too.
void record_batch(checkpoint_channel& channel, const std::vector<pending_write>& batch, std::size_t rows,
                  std::chrono::nanoseconds commit) {
  auto now = std::chrono::steady_clock::now();
  checkpoint_batch_figures figures;
  if (channel.metrics) {
    figures.writes = batch.size();
    figures.rows = rows;
    figures.commit = commit;
    figures.latencies.reserve(batch.size());
  }
  for (const auto& p : batch) {
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(now - p.write->sent);
    channel.latencies.record(took);
    if (channel.metrics) {
      figures.latencies.push_back(took);
    }
  }
  measure(channel.metrics, [&](metrics_sink& m) { m.checkpoint_batch(figures); });
}

void checkpoint_loop(caf::blocking_actor* self, std::shared_ptr<checkpoint_channel> channel) {
  bool running = true;
  std::vector<pending_write> batch;
  auto take = [&](ckpt_write_atom, write_ptr& w) { batch.push_back({self->make_response_promise(), std::move(w)}); };
  // Blocking actors see exit messages as messages: one that is not a normal exit ends this actor
  // (what waits in its mailbox is answered with an error by CAF; the next write spawns anew).
  auto on_exit = [&](caf::exit_msg& em) {
    if (em.reason) {
      running = false;
    }
  };
  try {
    while (running) {
      batch.clear();
      self->receive(
        take, [&](ckpt_stop_atom) { running = false; }, on_exit);
      // Everything that queued up while the previous batch was committing joins this one.
      bool more = true;
      while (more && running && batch.size() < max_batch_writes) {
        more = false;
        self->receive(
          [&](ckpt_write_atom a, write_ptr& w) {
            take(a, w);
            more = true;
          },
          [&](ckpt_stop_atom) { running = false; }, on_exit, caf::after(std::chrono::seconds(0)) >> [] {});
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
      auto began = std::chrono::steady_clock::now();
      auto outcomes = commit(*channel->store, writes);
      auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - began);
      channel->batches.fetch_add(1);
      channel->writes.fetch_add(writes.size());
      channel->rows.fetch_add(rows);
      record_batch(*channel, batch, rows, took);
      channel->pending.fetch_sub(batch.size());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        batch[i].promise.deliver(std::make_shared<expected<void>>(std::move(outcomes[i])));
      }
      batch.clear();
    }
  } catch (...) {
    // Dying with writes in hand: their writers must not wait forever (the store's state for
    // them is unknown, so they are told it is unavailable: interrupted, resumable).
    auto text = current_exception_text();
    channel->pending.fetch_sub(batch.size());
    for (auto& p : batch) {
      p.promise.deliver(std::make_shared<expected<void>>(
        error::checkpoint_store("the checkpoint actor stopped: " + text).store_unavailable()));
    }
    throw;
  }
}

} // namespace

checkpoint_channel::checkpoint_channel(caf::actor_system& sys, std::shared_ptr<CheckpointStore> s, std::size_t b,
                                       std::shared_ptr<metrics_sink> m)
  : store(std::move(s)),
    bound(b),
    metrics(std::move(m)),
    sys_(sys),
    lanes_(std::clamp<std::size_t>(store->batch_lanes(), 1, max_lanes)) {}

caf::actor checkpoint_channel::spawn_locked(lane& l) {
  l.alive = std::make_shared<std::atomic<bool>>(true);
  l.actor = sys_.spawn<caf::detached>(checkpoint_loop, shared_from_this());
  l.actor->attach_functor([alive = l.alive](const caf::error&) { alive->store(false); });
  return l.actor;
}

caf::actor checkpoint_channel::actor(const std::string& workflow_id) {
  auto& l = lanes_[lanes_.size() == 1 ? 0 : std::hash<std::string>{}(workflow_id) % lanes_.size()];
  std::lock_guard<std::mutex> guard(actor_mutex_);
  if (!l.alive || !l.alive->load()) {
    if (l.alive) {
      restarts.fetch_add(1);
    }
    return spawn_locked(l);
  }
  return l.actor;
}

void checkpoint_channel::stop() {
  std::lock_guard<std::mutex> guard(actor_mutex_);
  for (auto& l : lanes_) {
    if (l.actor) {
      caf::anon_send(l.actor, ckpt_stop_atom::value);
    }
  }
}

} // namespace cano::detail
