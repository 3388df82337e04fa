#include "checkpoint_writer.hpp"

#include "engine_actor.hpp"

#include "../engine.hpp"
#include "../measure.hpp"
#include "../user_code.hpp"
#include "checkpoint_actor.hpp"
#include "messages.hpp"

namespace cano::detail {

namespace {

/// A direct (non-blocking) store: a plain row is one append; anything more is one batch of one
/// write, which the store applies as a whole.
expected<void> write_direct(CheckpointStore& store, const CheckpointWrite& w) {
  return call_guarded(
    [&]() -> expected<void> {
      if (w.row && !w.clear_run && !w.header && !w.create) {
        return store.append(w.workflow_id, *w.row);
      }
      auto outcomes = store.append_batch({w});
      if (outcomes.size() != 1) {
        return error::checkpoint_store("the store's append_batch returned " + std::to_string(outcomes.size()) +
                                       " outcomes for 1 write");
      }
      return std::move(outcomes.front());
    },
    [](const std::string& text) -> expected<void> { return error::checkpoint_store("the store threw: " + text); });
}

} // namespace

checkpoint_writer::checkpoint_writer(engine_actor* host, engine& eng, std::shared_ptr<CheckpointStore> store,
                                     const std::string& id)
  : host_(host),
    metrics_(eng.metrics().get()),
    store_(std::move(store)),
    id_(id) {
  if (store_->is_blocking()) {
    channel_ = eng.checkpoint_channel_for(store_);
  }
}

expected<void> checkpoint_writer::acquire_driver() {
  if (!channel_) {
    return {};
  }
  return call_guarded(
    [&] { return store_->acquire_driver(); },
    [](const std::string& text) -> expected<void> { return error::checkpoint_store("the store threw: " + text); });
}

void checkpoint_writer::start_fresh(RunHeader header) {
  pending_header_ = std::make_unique<RunHeader>(std::move(header));
  pending_create_ = true;
}

void checkpoint_writer::carry_header(RunHeader header) {
  pending_header_ = std::make_unique<RunHeader>(std::move(header));
  pending_create_ = false;
}

void checkpoint_writer::settle(bool create, const expected<void>& r) {
  if (!r && (create || r.error().code() == errc::fenced)) {
    closed_ = true; // the id is not ours (any more): nothing else may be written for it
  }
  if (!r && r.error().code() == errc::fenced) {
    measure(metrics_, [](metrics_sink& m) { m.fenced_write(); });
  }
}

void checkpoint_writer::count(bool row, bool clear, const expected<void>& r) const {
  if (metrics_ == nullptr || (!row && !clear)) {
    return;
  }
  const bool ok = r.has_value();
  measure(metrics_, [row, clear, ok](metrics_sink& m) {
    if (row) {
      m.checkpoint_append(ok);
    }
    if (clear) {
      m.checkpoint_clear(ok);
    }
  });
}

std::optional<expected<void>> checkpoint_writer::write(CheckpointWrite w, done_fn k) {
  const bool row = w.row.has_value();
  const bool clear = w.clear_run;
  if (closed_) {
    expected<void> refused{error::checkpoint_store("run " + id_ + ": no further checkpoint writes (refused earlier)")};
    count(row, clear, refused);
    return refused;
  }
  if (pending_header_) {
    w.create = pending_create_;
    if (!w.header) {
      w.header = std::move(*pending_header_);
    }
    pending_header_.reset();
  }
  if (!channel_) {
    auto r = write_direct(*store_, w);
    settle(w.create, r);
    count(row, clear, r);
    return r;
  }
  if (channel_->pending.fetch_add(1) >= channel_->bound) {
    channel_->pending.fetch_sub(1);
    expected<void> full{error::checkpoint_store("checkpoint queue is full: " + std::to_string(channel_->bound) +
                                                " writes are already waiting for the store")};
    count(row, clear, full);
    return full;
  }
  const bool create = w.create;
  auto queued = std::make_shared<const queued_write>(queued_write{std::move(w), std::chrono::steady_clock::now()});
  auto epoch = epoch_;
  ++in_flight_;
  host_->request(channel_->actor(id_), caf::infinite, ckpt_write_atom::value, queued)
    .then(
      [this, epoch, create, row, clear, k](void_result_ptr& outcome) {
        --in_flight_;
        settle(create, *outcome);
        count(row, clear, *outcome);
        if (epoch == epoch_) {
          k(*outcome);
        }
      },
      [this, epoch, row, clear, k](caf::error& err) {
        --in_flight_;
        channel_->pending.fetch_sub(1); // bounced from a dead actor's mailbox: never counted down
        // The checkpoint actor went away with our write: its fate is unknown (D6: interrupt).
        expected<void> lost{error::checkpoint_store("the checkpoint actor stopped before answering: " + to_string(err))
                              .store_unavailable()};
        count(row, clear, lost);
        if (epoch == epoch_) {
          k(lost);
        }
      });
  return std::nullopt;
}

} // namespace cano::detail
