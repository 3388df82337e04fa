#include "join_actor.hpp"

#include <optional>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>

#include "../deadline.hpp"
#include "../engine.hpp"
#include "runner_handlers.hpp"

namespace cano::detail {

namespace {

/// Inline branches started per message before the join actor yields its thread.
constexpr std::size_t launches_per_message = 256;

class join_actor : public caf::event_based_actor {
public:
  join_actor(caf::actor_config& cfg, std::shared_ptr<const run_context> ctx,
             std::shared_ptr<const state_entry> entry, std::string label,
             std::shared_ptr<blocking_pool> pool, caf::actor supervisor)
    : caf::event_based_actor(cfg),
      ctx_(std::move(ctx)),
      entry_(std::move(entry)),
      label_(std::move(label)),
      pool_(std::move(pool)),
      supervisor_(std::move(supervisor)),
      join_(entry_->join),
      total_(entry_->branches.size()),
      runners_(total_),
      observers_(ctx_->def->observers) {
    limit_ = join_.bulkhead ? *join_.bulkhead : total_;
  }

  caf::behavior make_behavior() override {
    engine_actor_scope scope;
    if (auto bad = check_join_config(join_)) {
      reply(std::move(*bad));
      return {};
    }
    if (join_.timeout) {
      delayed_self_send(this, *join_.timeout, join_timeout_atom::value);
    }
    // cano spawns every branch up front (a bulkhead permit is taken inside the branch), so
    // every branch gets its on_task_start now, in index order.
    if (!observers_.empty()) {
      for (std::size_t i = 0; i < total_; ++i) {
        auto id = branch_id(i);
        notify(observers_, [&](WorkflowObserver& o) { o.on_task_start(id); });
      }
    }
    launch_more();
    if (decided_) {
      return {};
    }
    return runner_handlers(
             [this](std::uint32_t tag) -> attempt_runner* {
               return tag < runners_.size() ? runners_[tag].get() : nullptr;
             },
             [this](std::uint32_t tag, attempt_runner& r) {
               if (r.done()) {
                 settle(tag);
                 launch_more();
               }
             })
      .or_else(
        [this](launch_atom) {
          engine_actor_scope scope;
          launch_more();
        },
        [this](join_timeout_atom) {
          engine_actor_scope scope;
          on_timeout();
        });
  }

  void on_exit() override {
    for (auto& r : runners_) {
      if (r) {
        r->abandon(); // killed by the supervisor: running branches are abandoned
      }
    }
  }

private:
  std::string branch_id(std::size_t i) const {
    return entry_->branches[i].task_name + "[" + std::to_string(i) + "]";
  }

  void launch_more() {
    std::size_t launched_inline = 0;
    while (!decided_ && next_ < total_ && running_ < limit_) {
      if (launched_inline == launches_per_message) {
        send(this, launch_atom::value); // let other actors run, then go on
        return;
      }
      auto i = next_++;
      ++running_;
      runners_[i] = std::make_unique<attempt_runner>(
        this, static_cast<std::uint32_t>(i), ctx_, entry_->branches[i], label_, branch_id(i),
        "panic in split task " + std::to_string(i) + ": ", pool_);
      if (runners_[i]->start()) {
        ++launched_inline;
        settle(i);
      }
    }
    if (!decided_ && settled_ == total_) {
      decide();
    }
  }

  void settle(std::size_t i) {
    auto runner = std::move(runners_[i]);
    --running_;
    ++settled_;
    auto& r = runner->result();
    if (r) {
      successes_.push_back(i);
    } else {
      errors_.emplace_back(i, r.error_value());
    }
    auto kind = join_.strategy.type();
    bool early = (kind == JoinStrategy::kind::any && !successes_.empty()) ||
                 (kind == JoinStrategy::kind::partial_results &&
                  successes_.size() >= join_.strategy.count());
    if (early) {
      stop_losers();
      decide();
    }
  }

  /// Branches not yet started never start; running ones are abandoned (their bodies see
  /// stop_requested(), late results are dropped, breaker permits count as failures).
  void stop_losers() {
    next_ = total_;
    for (auto& r : runners_) {
      r.reset();
    }
    running_ = 0;
  }

  void on_timeout() {
    if (decided_) {
      return;
    }
    stop_losers();
    if (join_.strategy.type() == JoinStrategy::kind::partial_timeout) {
      decide();
      return;
    }
    decided_ = true; // no per-branch completion events on a join timeout (cano)
    reply(error::workflow("Split task timeout exceeded"));
  }

  void decide() {
    decided_ = true;
    if (!observers_.empty()) {
      for (auto i : successes_) {
        auto id = branch_id(i);
        notify(observers_, [&](WorkflowObserver& o) { o.on_task_success(id); });
      }
      for (auto& [i, err] : errors_) {
        auto id = branch_id(i);
        notify(observers_, [&](WorkflowObserver& o) { o.on_task_failure(id, err); });
      }
    }
    auto succeeded = successes_.size();
    auto kind = join_.strategy.type();
    if (kind == JoinStrategy::kind::partial_results) {
      if (succeeded >= join_.strategy.count()) {
        return reply_join_state();
      }
      return reply(error::workflow("Partial results condition not met: " + std::to_string(succeeded) +
                                   " completed successfully, " +
                                   std::to_string(join_.strategy.count()) + " required" +
                                   error_summary()));
    }
    if (kind == JoinStrategy::kind::partial_timeout) {
      if (succeeded + errors_.size() >= 1) {
        return reply_join_state();
      }
      return reply(error::workflow("PartialTimeout: No tasks completed before timeout"));
    }
    if (join_.strategy.is_satisfied(succeeded, total_)) {
      return reply_join_state();
    }
    reply(error::workflow("Join condition not met: " + std::to_string(succeeded) + " of " +
                          std::to_string(total_) + " tasks completed successfully, strategy: " +
                          join_.strategy.to_string() + error_summary()));
  }

  /// "; errors: task 1: <err>; task 4: <err>; ... and 2 more error(s)" (first three errors).
  std::string error_summary() const {
    if (errors_.empty()) {
      return {};
    }
    std::string out = "; errors: ";
    for (std::size_t k = 0; k < errors_.size() && k < 3; ++k) {
      out += (k == 0 ? "" : "; ") + ("task " + std::to_string(errors_[k].first) + ": " +
                                     errors_[k].second.to_string());
    }
    if (errors_.size() > 3) {
      out += "; ... and " + std::to_string(errors_.size() - 3) + " more error(s)";
    }
    return out;
  }

  void reply_join_state() {
    step_result r;
    r.next = join_.join_state;
    reply(std::move(r));
  }

  void reply(expected<step_result> value) {
    decided_ = true;
    send(supervisor_, task_done_atom::value, std::make_shared<work_outcome>(work_outcome{std::move(value)}));
    quit();
  }

  std::shared_ptr<const run_context> ctx_;
  std::shared_ptr<const state_entry> entry_;
  std::string label_;
  std::shared_ptr<blocking_pool> pool_;
  caf::actor supervisor_;
  const split_info& join_;
  const std::size_t total_;
  std::vector<std::unique_ptr<attempt_runner>> runners_;
  const observer_list& observers_;
  std::size_t limit_ = 0;
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  std::size_t settled_ = 0;
  std::vector<std::size_t> successes_;                 // completion order
  std::vector<std::pair<std::size_t, error>> errors_;  // completion order
  bool decided_ = false;
};

} // namespace

caf::actor spawn_join_actor(caf::local_actor* supervisor, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool) {
  return supervisor->spawn<join_actor>(std::move(ctx), std::move(entry), std::move(label),
                                       std::move(pool), caf::actor_cast<caf::actor>(supervisor));
}

} // namespace cano::detail
