#include "scheduler_actor.hpp"

#include <algorithm>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "../engine.hpp"
#include "../measure.hpp"
#include "cano/actor_api.hpp"

namespace cano::detail {

namespace {

using tick_atom = caf::atom_constant<caf::atom("cano_stick")>; // (flow): a loop's wait is over
using bound_atom = caf::atom_constant<caf::atom("cano_sbnd")>; // stop's bound elapsed

/// Waits longer than this mean "effectively never"; they also keep time points from overflowing.
constexpr std::chrono::hours longest_wait{24 * 365 * 100};

std::chrono::nanoseconds clamp_wait(std::chrono::nanoseconds d) {
  if (d < std::chrono::nanoseconds::zero()) {
    return std::chrono::nanoseconds::zero();
  }
  return std::min<std::chrono::nanoseconds>(d, longest_wait);
}

class scheduler_actor : public caf::event_based_actor {
public:
  scheduler_actor(caf::actor_config& cfg, scheduler_plan plan)
    : caf::event_based_actor(cfg),
      plan_(std::move(plan)),
      board_(*plan_.board),
      loop_awaits_run_(plan_.flows.size(), false),
      current_run_(plan_.flows.size(), 0),
      last_fire_(plan_.flows.size()),
      run_began_(plan_.flows.size()) {}

  const char* name() const override { return "cano_scheduler"; }

  caf::behavior make_behavior() override {
    // If this actor ends without a stop (killed, or a bug), waiters still get an answer.
    attach_functor([board = plan_.board] {
      std::lock_guard<std::mutex> guard(board->mutex);
      board->accepting = false;
      if (!board->teardown_pending) {
        board->publish(error::workflow("Scheduler driver task terminated unexpectedly without publishing a result"));
      }
    });
    // As cano's start: every-flows run at once, cron-flows wait for their first fire time.
    for (std::size_t i = 0; i < plan_.flows.size(); ++i) {
      switch (plan_.flows[i].kind) {
        case scheduled_flow::trigger::every: fire_every(i); break;
        case scheduled_flow::trigger::cron: arm_cron(i); break;
        case scheduled_flow::trigger::manual: break;
      }
    }
    return {
      [this](tick_atom, std::uint64_t i) { on_tick(static_cast<std::size_t>(i)); },
      [this](sched_run_atom, std::uint64_t i) { start_run(static_cast<std::size_t>(i), false); },
      [this](sched_cancel_atom, std::uint64_t i) { cancel(static_cast<std::size_t>(i)); },
      [this](run_result& r) { on_result(r); },
      [this](sched_stop_atom) { begin_stop(); },
      [this](bound_atom) { bound_elapsed(); },
    };
  }

private:
  // --- loops -----------------------------------------------------------------------------------

  /// An every-flow's turn: run now if dispatchable (not Running, not Tripped), else wait again.
  void fire_every(std::size_t i) {
    if (stopping_) {
      return;
    }
    if (reserve(i, false)) {
      start_run(i, true);
    } else {
      wait_every(i);
    }
  }

  /// cano's every-loop wait: max(interval, what is left of the backoff window).
  void wait_every(std::size_t i) {
    auto wait = plan_.flows[i].interval;
    const auto now = board_.utc_now();
    {
      std::lock_guard<std::mutex> guard(board_.mutex);
      const auto& eligible = board_.flows[i].info.next_eligible;
      if (eligible && *eligible > now) {
        wait = std::max(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(*eligible - now));
      }
    }
    delayed_send(this, clamp_wait(wait), tick_atom::value, std::uint64_t{i});
  }

  /// cano's cron-loop wait: until the next fire time after now; none left ends the loop.
  void arm_cron(std::size_t i) {
    if (stopping_) {
      return;
    }
    const auto now = board_.utc_now();
    // Never before the fire time already armed: each fire time is used at most once.
    auto next = plan_.flows[i].cron->next_after(std::max(now, last_fire_[i]));
    if (!next) {
      return;
    }
    last_fire_[i] = *next;
    delayed_send(this, clamp_wait(std::chrono::duration_cast<std::chrono::nanoseconds>(*next - now)), tick_atom::value,
                 std::uint64_t{i});
  }

  void on_tick(std::size_t i) {
    if (stopping_) {
      return;
    }
    if (plan_.flows[i].kind == scheduled_flow::trigger::every) {
      return fire_every(i);
    }
    // Cron: a fire time inside the backoff window is skipped, as is one while not dispatchable.
    if (reserve(i, true)) {
      start_run(i, true);
    } else {
      arm_cron(i);
    }
  }

  /// Reserves flow i for a loop-driven run; with `honour_window`, not inside its backoff window.
  bool reserve(std::size_t i, bool honour_window) {
    const auto now = board_.utc_now();
    std::lock_guard<std::mutex> guard(board_.mutex);
    const auto& eligible = board_.flows[i].info.next_eligible;
    if (honour_window && eligible && now < *eligible) {
      return false;
    }
    if (board_.reserve(i, now) != reservation::reserved) {
      return false;
    }
    ++board_.runs_in_flight;
    return true;
  }

  // --- runs ------------------------------------------------------------------------------------

  /// Starts the run of reserved flow i; `for_loop`: its loop waits for the result.
  void start_run(std::size_t i, bool for_loop) {
    run_options options;
    options.scheduled = true; // validated and set up at start: cano's scheduler path
    // What runtime::start(wf, initial, options, self) does: a run of this runtime, spawned from
    // this actor, whose run_result comes back here.
    const auto& flow = plan_.flows[i];
    auto id = plan_.eng->start(flow.def, flow.initial, std::move(options),
                               completion{caf::actor_cast<caf::actor>(this), {}, true}, this);
    runs_.emplace(id, i);
    current_run_[i] = id;
    loop_awaits_run_[i] = for_loop;
    run_began_[i] = board_.utc_now(); // the actor clock: durations follow virtual time too
    measure(plan_.eng->metrics(), [&](metrics_sink& m) { m.flow_started(board_.flows[i].info.id); });
  }

  void on_result(const run_result& r) {
    auto it = runs_.find(r.run_id);
    if (it == runs_.end()) {
      return;
    }
    const auto i = it->second;
    runs_.erase(it);
    if (current_run_[i] == r.run_id) {
      current_run_[i] = 0;
    }
    const auto now = board_.utc_now();
    FlowStatus::kind became;
    {
      std::lock_guard<std::mutex> guard(board_.mutex);
      board_.apply_outcome(i, r.failure, now);
      --board_.runs_in_flight;
      became = board_.flows[i].info.status.state();
    }
    measure(plan_.eng->metrics(), [&](metrics_sink& m) {
      const auto& id = board_.flows[i].info.id; // fixed at start: read without the lock
      m.flow_finished(id, !r.failure, std::chrono::duration_cast<std::chrono::nanoseconds>(now - run_began_[i]));
      if (became == FlowStatus::kind::backoff) {
        m.flow_backoff(id);
      } else if (became == FlowStatus::kind::tripped) {
        m.flow_tripped(id);
      }
    });
    if (loop_awaits_run_[i]) {
      loop_awaits_run_[i] = false;
      if (plan_.flows[i].kind == scheduled_flow::trigger::every) {
        if (!stopping_) {
          wait_every(i);
        }
      } else {
        arm_cron(i);
      }
    }
    if (stopping_ && runs_.empty()) {
      finish_stop(cancelled_at_bound_ ? expected<void>(timed_out()) : expected<void>{});
    }
  }

  void cancel(std::size_t i) {
    if (current_run_[i] != 0) {
      plan_.eng->cancel(current_run_[i]);
    }
  }

  // --- stop ------------------------------------------------------------------------------------

  void begin_stop() {
    if (stopping_) {
      return;
    }
    stopping_ = true; // loops stop: their pending waits are ignored
    if (runs_.empty()) {
      return finish_stop({});
    }
    delayed_send(this, plan_.stop_bound, bound_atom::value);
  }

  void bound_elapsed() {
    if (finished_) {
      return;
    }
    if (!cancelled_at_bound_ && !runs_.empty()) {
      // cano 0.13.2 leaves such runs going under a teardown. We cancel them (cooperatively, §4.3)
      // and, as cano 0.15's stop, let them drain: their rollbacks may still use the resources,
      // so the teardown waits for their results, one more bound at most.
      cancelled_at_bound_ = true;
      for (const auto& kv : runs_) {
        plan_.eng->cancel(kv.first);
      }
      delayed_send(this, plan_.stop_bound, bound_atom::value);
      return;
    }
    finish_stop(timed_out());
  }

  static error timed_out() { return error::workflow("Timeout waiting for workflows to complete"); }

  /// Tears the flows' resources down in reverse registration order on the pool (resource hooks
  /// never run on CAF's threads), publishes the result, and ends this actor.
  void finish_stop(expected<void> result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    std::vector<std::shared_ptr<Resources>> reverse;
    for (auto it = plan_.flows.rbegin(); it != plan_.flows.rend(); ++it) {
      reverse.push_back(it->def->resources);
    }
    {
      std::lock_guard<std::mutex> guard(board_.mutex);
      board_.teardown_pending = true;
    }
    auto board = plan_.board;
    auto teardown = [reverse = std::move(reverse), board, result = std::move(result),
                     log = plan_.eng->log()]() mutable {
      for (const auto& resources : reverse) {
        try {
          resources->release();
        } catch (...) {
          log->diagnostic(log_level::error, "scheduler: a resource teardown threw; the rest are still torn down");
        }
      }
      std::lock_guard<std::mutex> guard(board->mutex);
      board->accepting = false;
      board->publish(std::move(result));
    };
    auto shared = std::make_shared<decltype(teardown)>(std::move(teardown));
    if (!plan_.eng->pool()->try_post([shared] { (*shared)(); })) {
      (*shared)();
    }
    quit();
  }

  scheduler_plan plan_;
  flow_board& board_;
  std::vector<bool> loop_awaits_run_;                   // the flow's loop waits for its run's result
  std::vector<std::uint64_t> current_run_;              // the flow's run in flight (0: none)
  std::vector<flow_board::time_point> last_fire_;       // cron: the fire time last armed
  std::vector<flow_board::time_point> run_began_;       // the flow's run in flight began (metrics)
  std::unordered_map<std::uint64_t, std::size_t> runs_; // run id → flow
  bool stopping_ = false;
  bool cancelled_at_bound_ = false; // stop's bound passed: runs in flight were cancelled
  bool finished_ = false;
};

} // namespace

caf::actor spawn_scheduler_actor(caf::actor_system& sys, scheduler_plan plan) {
  return sys.spawn<scheduler_actor>(std::move(plan));
}

} // namespace cano::detail
