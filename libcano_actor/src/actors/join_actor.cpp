#include "join_actor.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "../deadline.hpp"
#include "../engine.hpp"
#include "../measure.hpp"
#include "branch_actor.hpp"
#include "runner_handlers.hpp"

namespace cano::detail {

namespace {

using steady = std::chrono::steady_clock;

/// Branches started per message before the join actor yields its thread.
constexpr std::size_t launches_per_message = 256;

/// Non-blocking branches worth fanning out to branch actors (one per branch, on every scheduler
/// thread): at least `fan_out_after` of work in all, at least `fan_out_branch_cost` each. A
/// branch actor costs about 2-3 µs of CPU (spawn, start, report, quit): below these figures
/// running inline in the join actor is as fast or faster (cano-bench split8_cpu and variants of it).
constexpr std::chrono::nanoseconds fan_out_after = std::chrono::microseconds(200);
constexpr std::chrono::nanoseconds fan_out_branch_cost = std::chrono::microseconds(10);

class join_actor : public caf::event_based_actor {
public:
  join_actor(caf::actor_config& cfg, std::shared_ptr<const run_context> ctx, std::shared_ptr<const state_entry> entry,
             std::string label, std::shared_ptr<blocking_pool> pool, caf::actor supervisor)
    : caf::event_based_actor(cfg),
      ctx_(std::move(ctx)),
      entry_(std::move(entry)),
      label_(std::move(label)),
      pool_(std::move(pool)),
      supervisor_(std::move(supervisor)),
      join_(entry_->join),
      total_(entry_->branches.size()),
      observers_(ctx_->def->observers) {
    limit_ = join_.bulkhead ? *join_.bulkhead : total_;
    successes_.reserve(total_);
  }

  caf::behavior make_behavior() override {
    engine_actor_scope scope;
    if (auto bad = check_join_config(join_)) {
      reply(std::move(*bad));
      return {};
    }
    // No branch starts once the join timeout or the run's deadline has passed.
    if (join_.timeout) {
      deadline_ = deadline_after<steady>(steady::now(), *join_.timeout);
      delayed_self_send(this, *join_.timeout, join_timeout_atom::value);
    }
    if (ctx_->def->timeout) {
      deadline_ = std::min(deadline_, deadline_after<steady>(ctx_->started, *ctx_->def->timeout));
    }
    if (ctx_->def->total_timeout) {
      deadline_ = std::min(deadline_, deadline_after<steady>(ctx_->started, *ctx_->def->total_timeout));
    }
    fan_out_ = fan_out_from_start();
    // cano spawns every branch up front (a bulkhead permit is taken inside the branch), so
    // every branch gets its on_task_start now, in index order.
    if (!observers_.empty()) {
      for (std::size_t i = 0; i < total_; ++i) {
        auto id = branch_id(i);
        notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_start(run, id); });
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
                 auto runner = std::move(runners_[tag]);
                 settle(tag, runner->result());
                 launch_more();
               }
             })
      .or_else(
        [this](launch_atom) {
          engine_actor_scope scope;
          launch_more();
        },
        [this](branch_done_atom, std::uint32_t i, work_outcome_ptr& outcome, std::uint64_t cost_ns) {
          engine_actor_scope scope;
          if (decided_ || i >= branch_actors_.size() || !branch_actors_[i]) {
            return; // a loser's late result
          }
          branch_actors_[i] = caf::actor{};
          fanned_ns_ += cost_ns;
          ++fanned_;
          settle(i, outcome->value);
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
    stop_branch_actors();
    if (fanned_ > 0) {
      entry_->branch_cost_ns.store(fanned_ns_ / fanned_, std::memory_order_relaxed);
    }
  }

private:
  std::string branch_id(std::size_t i) const { return branch_task_id(entry_->branches[i].task_name, i); }

  static bool worth_fanning_out(std::uint64_t branch_ns, std::uint64_t branches) {
    return branch_ns >= static_cast<std::uint64_t>(fan_out_branch_cost.count()) &&
           branch_ns * branches >= static_cast<std::uint64_t>(fan_out_after.count());
  }

  /// Whether the non-blocking branches fan out from the first one: earlier runs of this split
  /// found them expensive, or nothing is known yet and the join has a timeout (inline branches
  /// would keep the join from acting on it; their cost is learned for the next runs).
  bool fan_out_from_start() const {
    auto cost = entry_->branch_cost_ns.load(std::memory_order_relaxed);
    if (cost == 0 && (!join_.timeout || is_never(*join_.timeout))) {
      return false;
    }
    if (cost != 0 && !worth_fanning_out(cost, total_)) {
      return false;
    }
    std::uint64_t non_blocking = 0;
    for (const auto& b : entry_->branches) {
      non_blocking += attempt_runner::runs_inline(b.config) ? 1 : 0;
    }
    return non_blocking > 0 && (cost == 0 || worth_fanning_out(cost, non_blocking));
  }

  bool past_deadline() const { return deadline_ != steady::time_point::max() && steady::now() >= deadline_; }

  void launch_more() {
    launch_some();
    if (inline_since_ != steady::time_point{}) { // inline time counts only while branches ran
      inline_ns_ += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - inline_since_).count());
      inline_since_ = steady::time_point{};
    }
  }

  void launch_some() {
    std::size_t launched = 0;
    while (!decided_ && next_ < total_ && running_ < limit_) {
      if (launched == launches_per_message) {
        send(this, launch_atom::value); // let other actors run, then go on
        return;
      }
      if (past_deadline() || ctx_->cancelled.load(std::memory_order_relaxed)) {
        break; // nothing starts any more; the join timeout (or the run's, or its cancel) decides
      }
      auto i = next_++;
      ++running_;
      ++launched;
      const auto& work = entry_->branches[i];
      const bool non_blocking = attempt_runner::runs_inline(work.config);
      if (non_blocking && fan_out_) {
        fan_out(i);
        continue;
      }
      if (non_blocking && inline_since_ == steady::time_point{}) {
        inline_since_ = steady::now();
      }
      if (non_blocking && one_attempt(work)) {
        run_once_inline(i); // the fast path: no allocation, no timer
      } else {
        run_hosted(i);
      }
      if (non_blocking) {
        inline_ran();
      }
    }
    if (!decided_ && settled_ == total_) {
      decide();
    }
  }

  /// A non-blocking branch with a single attempt: it ends inside start(), no timer follows.
  static bool one_attempt(const work_item& work) {
    return !work.make_program && work.config.retry_mode.max_attempts() <= 1;
  }

  void run_once_inline(std::size_t i) {
    quick_.emplace(this, static_cast<std::uint32_t>(i), ctx_, entry_->branches[i], label_, i, pool_);
    quick_->start();
    if (quick_->done()) {
      settle(i, quick_->result());
    } else { // cannot happen for one inline attempt; never leave the branch unsettled
      settle(i, error::workflow("split task " + std::to_string(i) + " did not finish its only attempt"));
    }
    quick_.reset();
  }

  /// Runs branch `i` in a runner this actor hosts until it is done (pool calls, retry timers).
  void run_hosted(std::size_t i) {
    if (runners_.empty()) {
      runners_.resize(total_);
    }
    runners_[i] = std::make_unique<attempt_runner>(this, static_cast<std::uint32_t>(i), ctx_, entry_->branches[i],
                                                   label_, i, pool_);
    if (runners_[i]->start()) {
      auto runner = std::move(runners_[i]);
      settle(i, runner->result());
    }
  }

  /// Counts a branch run inline; at 1, 2, 4, 8, ... of them (few clock reads for trivial
  /// branches), learns their cost and fans the rest out once they prove expensive. Waits
  /// between messages (retry timers, pool calls) do not count.
  void inline_ran() {
    if (++inline_runs_ != next_check_) {
      return;
    }
    next_check_ *= 2;
    auto took =
      inline_ns_ + static_cast<std::uint64_t>(
                     std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - inline_since_).count());
    auto each = std::max<std::uint64_t>(1, took / inline_runs_);
    entry_->branch_cost_ns.store(each, std::memory_order_relaxed);
    if (worth_fanning_out(each, total_ - next_)) {
      fan_out_ = true; // what is left (at most total_ - next_ branches) runs on branch actors
    }
  }

  /// Runs branch `i` on a branch actor of its own, started through the scheduler.
  void fan_out(std::size_t i) {
    if (!control_) {
      control_ = std::make_shared<split_control>();
      control_->deadline = deadline_;
      branch_actors_.resize(total_);
    }
    auto a = spawn_branch_actor(this, ctx_, entry_, static_cast<std::uint32_t>(i), label_, pool_, control_);
    start_branch_actor(a);
    branch_actors_[i] = std::move(a);
  }

  /// Branch actors not started yet never start; running ones are abandoned.
  void stop_branch_actors() {
    if (!control_) {
      return;
    }
    control_->stopped.store(true, std::memory_order_release);
    for (auto& a : branch_actors_) {
      if (a) {
        caf::anon_send_exit(a, caf::exit_reason::kill);
        a = caf::actor{};
      }
    }
  }

  void settle(std::size_t i, const expected<step_result>& r) {
    --running_;
    ++settled_;
    if (r) {
      successes_.push_back(i);
    } else {
      errors_.emplace_back(i, r.error());
    }
    auto kind = join_.strategy.type();
    bool early = (kind == JoinStrategy::kind::any && !successes_.empty()) ||
                 (kind == JoinStrategy::kind::partial_results && successes_.size() >= join_.strategy.count());
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
    stop_branch_actors();
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
    // metrics: branches neither succeeded nor failed were cancelled (never started or abandoned)
    measure(ctx_->metrics(), [ok = successes_.size(), failed = errors_.size(), all = total_](metrics_sink& m) {
      m.split_joined(ok, failed, all - ok - failed);
    });
    if (!observers_.empty()) {
      for (auto i : successes_) {
        auto id = branch_id(i);
        notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_success(run, id); });
      }
      for (auto& [i, err] : errors_) {
        auto id = branch_id(i);
        notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_failure(run, id, err); });
      }
    }
    auto succeeded = successes_.size();
    auto kind = join_.strategy.type();
    if (kind == JoinStrategy::kind::partial_results) {
      if (succeeded >= join_.strategy.count()) {
        return reply_join_state();
      }
      return reply(error::workflow("Partial results condition not met: " + std::to_string(succeeded) +
                                   " completed successfully, " + std::to_string(join_.strategy.count()) + " required" +
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
    reply(error::workflow("Join condition not met: " + std::to_string(succeeded) + " of " + std::to_string(total_) +
                          " tasks completed successfully, strategy: " + join_.strategy.to_string() + error_summary()));
  }

  /// "; errors: task 1: <err>; task 4: <err>; ... and 2 more error(s)" (first three errors).
  std::string error_summary() const {
    if (errors_.empty()) {
      return {};
    }
    std::string out = "; errors: ";
    for (std::size_t k = 0; k < errors_.size() && k < 3; ++k) {
      out += (k == 0 ? "" : "; ") + ("task " + std::to_string(errors_[k].first) + ": " + errors_[k].second.to_string());
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
  std::vector<std::unique_ptr<attempt_runner>> runners_; // by branch index (sized on first use)
  std::optional<attempt_runner> quick_;                  // the one-attempt inline branch running now
  const observer_list& observers_;
  steady::time_point deadline_ = steady::time_point::max();
  // Fan-out of non-blocking branches to branch actors (created on the first one).
  bool fan_out_ = false;
  std::shared_ptr<split_control> control_;
  std::vector<caf::actor> branch_actors_; // by branch index, while running
  std::uint64_t fanned_ = 0;              // branch actors that reported, and their cost
  std::uint64_t fanned_ns_ = 0;
  std::size_t inline_runs_ = 0;       // non-blocking branches run here, and the time they took:
  std::uint64_t inline_ns_ = 0;       // in earlier messages
  steady::time_point inline_since_{}; // since the first of this message (zero: none yet)
  std::size_t next_check_ = 1;
  std::size_t limit_ = 0;
  std::size_t next_ = 0;
  std::size_t running_ = 0;
  std::size_t settled_ = 0;
  std::vector<std::size_t> successes_;                // completion order
  std::vector<std::pair<std::size_t, error>> errors_; // completion order
  bool decided_ = false;
};

} // namespace

caf::actor spawn_join_actor(caf::local_actor* supervisor, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool) {
  return supervisor->spawn<join_actor>(std::move(ctx), std::move(entry), std::move(label), std::move(pool),
                                       caf::actor_cast<caf::actor>(supervisor));
}

} // namespace cano::detail
