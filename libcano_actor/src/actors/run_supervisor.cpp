// The run supervisor: one actor per run, the only owner of the run's FSM position.
//
// It walks the states; a non-blocking task without attempt timeout runs inline here (the fast
// path, D1), anything else is handed to a task actor. It enforces the workflow timeout, holds
// the resources' lease for the run, and reports the result exactly once.
#include <atomic>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>

#include "../engine.hpp"
#include "../format.hpp"
#include "join_actor.hpp"
#include "messages.hpp"
#include "run_context.hpp"
#include "runner_handlers.hpp"
#include "task_actor.hpp"

namespace cano::detail {

namespace {

/// Steps taken inline before the supervisor yields its scheduler thread to other actors.
constexpr int steps_per_message = 64;

class run_supervisor : public caf::event_based_actor {
  using run_result_value = expected<state_code>;

public:
  run_supervisor(caf::actor_config& cfg, std::shared_ptr<engine> eng, run_spec spec)
    : caf::event_based_actor(cfg),
      eng_(std::move(eng)),
      run_id_(spec.run_id),
      done_(std::move(spec.done)),
      current_(spec.initial) {
    auto ctx = std::make_shared<run_context>();
    ctx->def = std::move(spec.def);
    ctx->workflow_id = spec.workflow_id.empty() ? ctx->def->workflow_id : std::move(spec.workflow_id);
    ctx->input = std::move(spec.input);
    ctx_ = std::move(ctx);
    def_ = ctx_->def.get();
    has_observers_ = !def_->observers.empty();
  }

  caf::behavior make_behavior() override {
    engine_actor_scope scope;
    begin();
    return runner_handlers([this](std::uint32_t) { return runner_ ? &*runner_ : nullptr; },
                           [this](std::uint32_t, attempt_runner& r) {
                             if (!finished_ && r.done() && conclude(r.result())) {
                               advance();
                             }
                           })
      .or_else(
        [this](step_atom) {
          engine_actor_scope scope;
          advance();
        },
        [this](task_done_atom, work_outcome_ptr& outcome) {
          engine_actor_scope scope;
          if (finished_) {
            return;
          }
          worker_ = caf::actor{};
          if (conclude(outcome->value)) {
            advance();
          }
        },
        [this](resources_atom, void_result_ptr& r) {
          engine_actor_scope scope;
          resources_ready(*r);
        },
        [this](run_timeout_atom) {
          engine_actor_scope scope;
          finish(error::workflow("Workflow timeout exceeded"));
        },
        [this](drop_atom) {
          engine_actor_scope scope;
          finish(error::workflow("run dropped: the runtime shut down before the run finished"));
        });
  }

private:
  // --- start and end ---------------------------------------------------------------------------

  void begin() {
    if (auto valid = def_->validate(); !valid) {
      return finish(valid.error_value());
    }
    if (auto valid = def_->validate_initial_state(current_); !valid) {
      return finish(valid.error_value());
    }
    if (def_->timeout) {
      delayed_send(this, *def_->timeout, run_timeout_atom::value);
    }
    if (def_->resources->empty_set()) {
      // Straight into the FSM: quitting inside make_behavior is safe in CAF 0.17 (become() is
      // ignored once the actor shuts down, and activate() finalizes it).
      advance();
      return;
    }
    // Setup may block (connections, files): it runs on the pool, never on CAF's scheduler.
    setting_up_ = true;
    auto resources = def_->resources;
    auto self = caf::actor_cast<caf::actor>(this);
    bool posted = eng_->pool()->try_post([resources, self] {
      expected<void> r = error::generic("resource setup threw");
      try {
        r = resources->acquire();
      } catch (const std::exception& e) {
        r = error::generic(std::string("resource setup threw: ") + e.what());
      }
      caf::anon_send(self, resources_atom::value, std::make_shared<expected<void>>(std::move(r)));
    });
    if (!posted) {
      setting_up_ = false;
      finish(error::task_execution("blocking pool exhausted: cannot set up resources"));
    }
  }

  void resources_ready(const expected<void>& r) {
    if (setting_up_) {
      setting_up_ = false;
      if (r) {
        holds_resources_ = true;
      }
      if (finished_) {
        return release_then_deliver(); // timed out or dropped while setting up
      }
      if (!r) {
        return finish(r.error_value());
      }
      advance();
      return;
    }
    deliver(); // teardown finished
  }

  void finish(run_result_value result) {
    if (finished_) {
      return;
    }
    finished_ = true;
    result_ = std::move(result);
    if (worker_) {
      send_exit(worker_, caf::exit_reason::kill); // abandons its attempts (permits = failures)
      worker_ = caf::actor{};
    }
    runner_.reset();
    if (setting_up_) {
      return; // resources_ready() releases what setup acquired, then delivers
    }
    release_then_deliver();
  }

  void finish(error err) { finish(run_result_value{std::move(err)}); }

  void release_then_deliver() {
    if (!holds_resources_) {
      return deliver();
    }
    holds_resources_ = false;
    auto resources = def_->resources;
    auto self = caf::actor_cast<caf::actor>(this);
    auto teardown = [resources, self] {
      resources->release();
      caf::anon_send(self, resources_atom::value, std::make_shared<expected<void>>());
    };
    if (!eng_->pool()->try_post(teardown)) {
      resources->release();
      deliver();
    }
  }

  void deliver() {
    run_result r;
    r.run_id = run_id_;
    r.workflow_id = ctx_->workflow_id;
    if (result_.has_value()) {
      r.final_state = *result_;
    } else {
      r.failure = result_.error_value();
    }
    eng_->run_ended(run_id_);
    if (done_.reply_to && done_.reply_in_context) {
      send(done_.reply_to, std::move(r));
    } else if (done_.reply_to) {
      caf::anon_send(done_.reply_to, std::move(r));
    } else if (done_.callback) {
      done_.callback(std::move(r));
    }
    quit();
  }

  // --- the FSM loop ----------------------------------------------------------------------------

  void advance() {
    for (int budget = steps_per_message; budget > 0; --budget) {
      if (finished_) {
        return;
      }
      if (has_observers_) {
        const auto& label = def_->label(current_);
        notify(def_->observers, [&](WorkflowObserver& o) { o.on_state_enter(label); });
      }
      if (def_->exit_set.count(current_) != 0) {
        return finish(run_result_value{current_});
      }
      auto it = def_->states.find(current_);
      if (it == def_->states.end()) {
        return finish(error::workflow("No task registered for state: " + def_->label(current_)));
      }
      entry_ = it->second.get();
      if (entry_->type == state_entry::kind::split) {
        worker_ = spawn_join_actor(this, ctx_, it->second, def_->label_copy(current_), eng_->pool());
        return;
      }
      if (has_observers_) {
        notify(def_->observers,
               [&](WorkflowObserver& o) { o.on_task_start(entry_->work.task_name); });
      }
      if (!attempt_runner::runs_inline(entry_->work.config)) {
        // Off the supervisor: a task actor drives the work on the pool.
        worker_ = spawn_task_actor(this, ctx_, it->second, def_->label_copy(current_), eng_->pool());
        return;
      }
      runner_.emplace(this, 0, ctx_, entry_->work, def_->label(current_), entry_->work.task_name,
                      "panic: ", eng_->pool());
      if (!runner_->start()) {
        return; // waiting for a timer (retry delay, poll interval)
      }
      if (!conclude(runner_->result())) {
        return;
      }
    }
    send(this, step_atom::value); // yield, then go on
  }

  /// Applies a task's final outcome: moves to the next state (true) or fails the run (false).
  bool conclude(expected<step_result>& outcome) {
    const bool split = entry_->type == state_entry::kind::split;
    std::optional<error> failure;
    if (!outcome) {
      failure = outcome.error_value();
    } else if (outcome->was_split) {
      failure = error::workflow(
        entry_->type == state_entry::kind::stepped
          ? "Stepped task returned split result — split is not supported for Stepped states"
          : "Single task returned split result - use register_split() for split tasks");
    }
    // A split's branches have reported for themselves (join actor); other tasks report here.
    if (failure) {
      if (has_observers_ && !split) {
        notify(def_->observers,
               [&](WorkflowObserver& o) { o.on_task_failure(entry_->work.task_name, *failure); });
      }
      finish(std::move(*failure));
      return false;
    }
    if (has_observers_ && !split) {
      notify(def_->observers,
             [&](WorkflowObserver& o) { o.on_task_success(entry_->work.task_name); });
    }
    current_ = outcome->next;
    runner_.reset();
    return true;
  }

  std::shared_ptr<engine> eng_;
  std::uint64_t run_id_;
  completion done_;
  std::shared_ptr<const run_context> ctx_;
  const definition* def_ = nullptr;
  bool has_observers_ = false;

  state_code current_;
  const state_entry* entry_ = nullptr;
  std::optional<attempt_runner> runner_; // inline work of the current state
  caf::actor worker_;                     // task or join actor of the current state

  bool setting_up_ = false;
  bool holds_resources_ = false;
  bool finished_ = false;
  run_result_value result_{state_code{0}};
};

} // namespace

caf::actor spawn_run_supervisor(const std::shared_ptr<engine>& eng, run_spec spec,
                                caf::local_actor* spawner) {
  if (spawner != nullptr) {
    return spawner->spawn<run_supervisor>(eng, std::move(spec));
  }
  return eng->system().spawn<run_supervisor>(eng, std::move(spec));
}

} // namespace cano::detail
