// The run supervisor: one actor per run, the only owner of the run's FSM position, checkpoint
// sequence, saga stack and cursors.
//
// It walks the states; non-blocking work without attempt timeout runs inline here (the fast
// path, D1), other work is handed to a task actor, a split to a join actor. With a checkpoint
// store every state's entry row is written before its task runs (write-ahead), saga steps and
// stepped cursors get their rows, and a failed run undoes its saga steps in reverse. It
// enforces the workflow timeout, holds the resources' lease and reports the result once.
#include <optional>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>

#include "../engine.hpp"
#include "../format.hpp"
#include "../log.hpp"
#include "../resume_plan.hpp"
#include "../run_result_access.hpp"
#include "checkpoint_actor.hpp"
#include "join_actor.hpp"
#include "messages.hpp"
#include "run_context.hpp"
#include "runner_handlers.hpp"
#include "task_actor.hpp"

namespace cano::detail {

namespace {

/// Steps taken inline before the supervisor yields its scheduler thread to other actors.
constexpr int steps_per_message = 64;

using write_done = std::function<void(const expected<void>&)>;

class run_supervisor : public caf::event_based_actor {
public:
  run_supervisor(caf::actor_config& cfg, std::shared_ptr<engine> eng, run_spec spec)
    : caf::event_based_actor(cfg),
      eng_(std::move(eng)),
      run_id_(spec.run_id),
      resume_(spec.resume),
      done_(std::move(spec.done)),
      current_(spec.initial) {
    auto ctx = std::make_shared<run_context>();
    ctx->def = std::move(spec.def);
    ctx->workflow_id = spec.workflow_id.empty() ? ctx->def->workflow_id : std::move(spec.workflow_id);
    ctx->input = std::move(spec.input);
    ctx_ = ctx;
    mutable_ctx_ = std::move(ctx);
    def_ = ctx_->def.get();
    has_observers_ = !def_->observers.empty();
    store_ = def_->store.get();
    if (store_ != nullptr && store_->is_blocking()) {
      channel_ = eng_->checkpoint_channel_for(def_->store);
    }
  }

  caf::behavior make_behavior() override {
    engine_actor_scope scope;
    begin();
    return runner_handlers([this](std::uint32_t) { return runner_ ? &*runner_ : nullptr; },
                           [this](std::uint32_t, attempt_runner&) {
                             if (!finished_ && runner_progress()) {
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
          if (finished_ || draining_) {
            return;
          }
          worker_ = caf::actor{};
          if (conclude(outcome->value)) {
            advance();
          }
        },
        [this](cursor_atom, json_ptr& cursor) {
          engine_actor_scope scope;
          on_worker_cursor(*cursor);
        },
        [this](ckpt_ack_atom, std::uint64_t request, void_result_ptr& outcome) {
          engine_actor_scope scope;
          auto it = pending_writes_.find(request);
          if (it == pending_writes_.end()) {
            return;
          }
          auto k = std::move(it->second);
          pending_writes_.erase(it);
          // After the end only the final header write still matters (the run waits for it).
          if (k && (!finished_ || request == final_write_)) {
            k(*outcome);
          }
        },
        [this](loaded_atom, resume_data_ptr& data) {
          engine_actor_scope scope;
          resume_loaded(*data);
        },
        [this](comp_done_atom, std::uint64_t seq, void_result_ptr& r) {
          engine_actor_scope scope;
          compensation_returned(seq, *r);
        },
        [this](comp_timeout_atom, std::uint64_t seq) {
          engine_actor_scope scope;
          compensation_timed_out(seq);
        },
        [this](resources_atom, void_result_ptr& r) {
          engine_actor_scope scope;
          resources_ready(*r);
        },
        [this](run_timeout_atom) {
          engine_actor_scope scope;
          finish(error::workflow("Workflow timeout exceeded"), RunStatus::failed);
        },
        [this](drop_atom) {
          engine_actor_scope scope;
          finish(error::workflow("run dropped: the runtime shut down before the run finished"),
                 RunStatus::interrupted);
        });
  }

private:
  using run_result_value = expected<state_code>;

  // --- start -----------------------------------------------------------------------------------

  void begin() {
    if (resume_ && store_ == nullptr) {
      return finish(error::configuration(
                      "resume_from requires a checkpoint store (call with_checkpoint_store)"),
                    RunStatus::failed);
    }
    if (auto valid = def_->validate(); !valid) {
      return finish(valid.error_value(), RunStatus::failed);
    }
    if (def_->timeout) {
      delayed_send(this, *def_->timeout, run_timeout_atom::value);
    }
    if (resume_) {
      return load_for_resume();
    }
    if (auto valid = def_->validate_initial_state(current_); !valid) {
      return finish(valid.error_value(), RunStatus::failed);
    }
    write_header(RunStatus::running);
    acquire_resources();
  }

  void load_for_resume() {
    auto store = def_->store;
    auto id = ctx_->workflow_id;
    auto load = [store, id] {
      auto data = std::make_shared<resume_data>();
      try {
        data->rows = store->load_run(id);
        data->header = store->run_header(id);
      } catch (const std::exception& e) {
        data->rows = error::checkpoint_store(std::string("the store threw: ") + e.what());
      }
      return data;
    };
    if (!channel_) {
      return resume_loaded(*load());
    }
    auto self = caf::actor_cast<caf::actor>(this);
    if (!eng_->pool()->try_post([load, self] { caf::anon_send(self, loaded_atom::value, load()); })) {
      finish(error::checkpoint_store("blocking pool exhausted: cannot load the checkpoint log"),
             RunStatus::failed);
    }
  }

  void resume_loaded(resume_data& data) {
    const auto& id = ctx_->workflow_id;
    if (!data.rows) {
      return finish(error::checkpoint_store("load checkpoint run " + debug_quote(id) + ": " +
                                            data.rows.error_value().to_string()),
                    RunStatus::failed);
    }
    auto plan = plan_resume(*def_, id, *data.rows);
    if (!plan) {
      return finish(plan.error_value(), RunStatus::failed);
    }
    if (data.header && data.header->has_value()) {
      if ((*data.header)->status == RunStatus::rolled_back) {
        // D6: a run whose compensations ran is never resumed forward.
        return finish(error::workflow("run " + debug_quote(id) +
                                      " was rolled back (its compensations ran); it cannot be resumed"),
                      RunStatus::rolled_back);
      }
      mutable_ctx_->input = (*data.header)->input; // the run's input, as first given
      created_at_ = (*data.header)->created_at;
    }
    current_ = plan->state;
    seq_ = plan->last_sequence + 1;
    stack_ = std::move(plan->stack);
    cursors_ = std::move(plan->cursors);
    if (has_observers_) {
      auto last = plan->last_sequence;
      notify(def_->observers, [&](WorkflowObserver& o) { o.on_resume(id, last); });
    }
    write_header(RunStatus::running);
    acquire_resources();
  }

  void acquire_resources() {
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
      finish(error::task_execution("blocking pool exhausted: cannot set up resources"),
             RunStatus::failed);
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
        return finish(r.error_value(), RunStatus::failed);
      }
      advance();
      return;
    }
    deliver(); // teardown finished
  }

  // --- the FSM loop ----------------------------------------------------------------------------

  void advance() {
    for (int budget = steps_per_message; budget > 0; --budget) {
      if (finished_ || draining_ || waiting_) {
        return;
      }
      if (!entered_) {
        enter_state();
        if (finished_ || draining_ || waiting_) {
          return;
        }
      }
      entered_ = false;
      if (!dispatch()) {
        return; // a worker, a timer or a checkpoint ack will continue the run
      }
    }
    send(this, step_atom::value); // yield, then go on
  }

  /// on_state_enter, then (with a store) the state's entry row, before anything runs.
  void enter_state() {
    const auto& label = def_->label(current_);
    if (has_observers_) {
      notify(def_->observers, [&](WorkflowObserver& o) { o.on_state_enter(label); });
    }
    auto it = def_->states.find(current_);
    bool router = it != def_->states.end() && it->second->type == state_entry::kind::router;
    if (store_ == nullptr || router) {
      entered_ = true; // routers write no row and take no sequence number
      return;
    }
    if (ctx_->workflow_id.empty()) {
      return fail(error::checkpoint_store("checkpointing requires a workflow id (call with_workflow_id)"));
    }
    bool named = it != def_->states.end() && it->second->type != state_entry::kind::split;
    CheckpointRow row(seq_, label, named ? it->second->work.task_name : std::string());
    row.workflow_version = def_->version;
    auto now = write_row(std::move(row), [this](const expected<void>& r) {
      waiting_ = false;
      entry_row_written(r);
      advance();
    });
    if (now) {
      entry_row_written(*now);
    }
  }

  void entry_row_written(const expected<void>& r) {
    if (!r) {
      return fail(store_failure("append checkpoint: ", r.error_value()));
    }
    checkpointed();
    entered_ = true;
  }

  /// Runs the entered state; true when it finished at once and the loop goes on.
  bool dispatch() {
    if (def_->exit_set.count(current_) != 0) {
      if (!final_in_exit_row_) {
        clear_log();
      }
      finish(run_result_value{current_}, RunStatus::completed);
      return false;
    }
    auto it = def_->states.find(current_);
    if (it == def_->states.end()) {
      fail(error::workflow("No task registered for state: " + def_->label(current_)));
      return false;
    }
    entry_ = it->second.get();
    if (entry_->type == state_entry::kind::split) {
      worker_ = spawn_join_actor(this, ctx_, it->second, def_->label_copy(current_), eng_->pool());
      return false;
    }
    const auto& name = entry_->work.task_name;
    if (has_observers_) {
      notify(def_->observers, [&](WorkflowObserver& o) { o.on_task_start(name); });
    }
    nlohmann::json cursor;
    if (entry_->type == state_entry::kind::stepped) {
      auto c = take_resume_cursor(name);
      if (!c) {
        return conclude_failure(c.error_value());
      }
      cursor = std::move(*c);
    }
    const bool pause_on_more = store_ != nullptr;
    if (!attempt_runner::runs_inline(entry_->work.config)) {
      // Off the supervisor: a task actor drives the work on the pool.
      worker_ = spawn_task_actor(this, ctx_, it->second, def_->label_copy(current_), eng_->pool(),
                                 std::move(cursor), pause_on_more);
      return false;
    }
    runner_.emplace(this, 0, ctx_, entry_->work, def_->label(current_), name, "panic: ",
                    eng_->pool(), std::move(cursor), pause_on_more);
    runner_->start();
    return runner_progress();
  }

  /// The cursor a resumed stepped state starts from (consumed once), or null.
  expected<nlohmann::json> take_resume_cursor(const std::string& task_name) {
    auto it = cursors_.find(def_->label(current_));
    if (it == cursors_.end()) {
      return nlohmann::json(nullptr);
    }
    auto saved = std::move(it->second);
    cursors_.erase(it);
    try {
      return from_blob(saved.blob);
    } catch (const std::exception& e) {
      return error::task_execution("deserialize cursor for `" + task_name + "`: " + e.what() +
                                   blob_location(ctx_->workflow_id, saved.sequence));
    }
  }

  /// Moves an inline runner on: cursor rows, then its outcome. True when the state concluded
  /// and the loop goes on.
  bool runner_progress() {
    while (runner_ && !finished_) {
      if (runner_->cursor_pending()) {
        auto now = write_cursor(runner_->cursor(), [this](std::optional<error> failure) {
          waiting_ = false;
          if (runner_) {
            runner_->cursor_written(std::move(failure));
            if (runner_progress()) {
              advance();
            }
          }
        });
        if (!now) {
          return false;
        }
        runner_->cursor_written(std::move(*now));
        continue;
      }
      if (!runner_->done()) {
        return false; // waiting for a timer
      }
      return conclude(runner_->result());
    }
    return false;
  }

  /// A task actor's stepped task returned More: write its cursor row, then let it go on.
  void on_worker_cursor(const nlohmann::json& cursor) {
    if (finished_ || !worker_) {
      return;
    }
    auto reply = [this](std::optional<error> failure) {
      waiting_ = false;
      auto r = failure ? std::make_shared<expected<void>>(std::move(*failure))
                       : std::make_shared<expected<void>>();
      if (worker_) {
        send(worker_, cursor_ack_atom::value, std::move(r));
      }
    };
    if (auto now = write_cursor(cursor, reply)) {
      reply(std::move(*now));
    }
  }

  /// Writes a step cursor row. Returns the outcome now (nullopt inside: success), or nothing
  /// when the checkpoint actor answers later (then `k` runs).
  std::optional<std::optional<error>> write_cursor(const nlohmann::json& cursor,
                                                   std::function<void(std::optional<error>)> k) {
    auto settle = [this](const expected<void>& r) -> std::optional<error> {
      if (!r) {
        return store_failure("append step cursor checkpoint: ", r.error_value());
      }
      checkpointed();
      return std::nullopt;
    };
    if (ctx_->workflow_id.empty()) {
      return std::optional<error>{
        error::checkpoint_store("checkpointing requires a workflow id (call with_workflow_id)")};
    }
    CheckpointRow row(seq_, def_->label(current_), entry_->work.task_name);
    row = row.with_cursor(to_blob(cursor));
    row.workflow_version = def_->version;
    auto now = write_row(std::move(row), [settle, k](const expected<void>& r) { k(settle(r)); });
    if (!now) {
      return std::nullopt;
    }
    return std::optional<std::optional<error>>{settle(*now)};
  }

  /// Applies a task's final outcome: moves to the next state (true) or fails the run (false).
  bool conclude(expected<step_result>& outcome) {
    if (!outcome) {
      return conclude_failure(outcome.error_value());
    }
    if (outcome->was_split) {
      switch (entry_->type) {
        case state_entry::kind::stepped:
          return conclude_failure(error::workflow(
            "Stepped task returned split result — split is not supported for Stepped states"));
        case state_entry::kind::compensatable:
          return conclude_failure(error::workflow(
            "Compensatable task returned a split result — split states cannot be compensatable"));
        default:
          return conclude_failure(error::workflow(
            "Single task returned split result - use register_split() for split tasks"));
      }
    }
    const bool split = entry_->type == state_entry::kind::split;
    if (has_observers_ && !split) {
      const auto& name = entry_->work.task_name;
      notify(def_->observers, [&](WorkflowObserver& o) { o.on_task_success(name); });
    }
    auto next = outcome->next;
    if (entry_->type == state_entry::kind::compensatable && outcome->has_output) {
      auto blob = to_blob(outcome->output);
      runner_.reset();
      return saga_step_done(std::move(blob), next);
    }
    runner_.reset();
    current_ = next;
    return true;
  }

  bool conclude_failure(error failure) {
    // A split's branches have reported for themselves (join actor); other tasks report here.
    if (has_observers_ && entry_->type != state_entry::kind::split) {
      const auto& name = entry_->work.task_name;
      notify(def_->observers, [&](WorkflowObserver& o) { o.on_task_failure(name, failure); });
    }
    runner_.reset();
    fail(std::move(failure));
    return false;
  }

  /// A saga step succeeded: write its completion row, then push it on the compensation stack.
  bool saga_step_done(std::vector<std::uint8_t> blob, state_code next) {
    const auto& name = entry_->work.task_name;
    if (store_ == nullptr || ctx_->workflow_id.empty()) {
      stack_.push_back({name, std::move(blob), 0});
      current_ = next;
      return true;
    }
    CheckpointRow row(seq_, def_->label(current_), name);
    row = row.with_output(blob);
    row.workflow_version = def_->version;
    auto after = [this, name, blob, next](const expected<void>& r) {
      stack_.push_back({name, blob, seq_}); // pushed even when the row failed: undo it too
      if (!r) {
        fail(store_failure("append compensation checkpoint: ", r.error_value()));
        return false;
      }
      checkpointed();
      current_ = next;
      return true;
    };
    auto now = write_row(std::move(row), [this, after](const expected<void>& r) {
      waiting_ = false;
      if (after(r)) {
        advance();
      }
    });
    return now && after(*now);
  }

  // --- checkpoint writes -----------------------------------------------------------------------

  /// Writes a row. Returns its outcome now (a non-blocking store), or nothing: the checkpoint
  /// actor answers later and `k` runs then (the run waits meanwhile: write-ahead).
  std::optional<expected<void>> write_row(CheckpointRow row, write_done k) {
    if (!channel_) { // the fast path: a non-blocking store, appended to from here
      try {
        return store_->append(ctx_->workflow_id, row);
      } catch (const std::exception& e) {
        return expected<void>{error::checkpoint_store(std::string("the store threw: ") + e.what())};
      }
    }
    CheckpointWrite w;
    w.workflow_id = ctx_->workflow_id;
    w.row = std::move(row);
    if (header_pending_) {
      w.header = make_header(RunStatus::running);
      header_pending_ = false;
    }
    if (def_->exit_set.count(current_) != 0) {
      // An exit row ends the run: its log is cleared and its header completed in the same
      // write (applied only if the row itself lands).
      w.clear_run = true;
      w.header = make_header(RunStatus::completed);
      final_in_exit_row_ = true;
    }
    auto now = write(std::move(w), std::move(k));
    if (!now) {
      waiting_ = true;
    }
    return now;
  }

  std::optional<expected<void>> write(CheckpointWrite w, write_done k) {
    if (!channel_) {
      try {
        if (w.row) {
          return store_->append(w.workflow_id, *w.row);
        }
        if (w.clear_run) {
          return store_->clear(w.workflow_id);
        }
        if (w.header) {
          return store_->put_run_header(*w.header);
        }
        return expected<void>{};
      } catch (const std::exception& e) {
        return expected<void>{error::checkpoint_store(std::string("the store threw: ") + e.what())};
      }
    }
    if (channel_->pending.fetch_add(1) >= channel_->bound) {
      channel_->pending.fetch_sub(1);
      return expected<void>{error::checkpoint_store(
        "checkpoint queue is full: " + std::to_string(channel_->bound) +
        " writes are already waiting for the store")};
    }
    auto request = ++next_request_;
    pending_writes_.emplace(request, std::move(k));
    send(channel_->actor, ckpt_write_atom::value, request,
         std::make_shared<const queued_write>(queued_write{std::move(w), std::chrono::steady_clock::now()}));
    return std::nullopt;
  }

  /// cano's wrapping of a store error; an unreachable store stays marked as such.
  static error store_failure(const char* what, const error& cause) {
    auto e = error::checkpoint_store(what + cause.to_string());
    if (cause.is_store_unavailable()) {
      return std::move(e).store_unavailable();
    }
    return e;
  }

  void checkpointed() {
    if (has_observers_) {
      auto seq = seq_;
      notify(def_->observers, [&](WorkflowObserver& o) { o.on_checkpoint(ctx_->workflow_id, seq); });
    }
    ++seq_;
  }

  /// Best effort: a failure is logged, the run's result is unaffected.
  void clear_log() {
    if (store_ == nullptr || ctx_->workflow_id.empty()) {
      return;
    }
    CheckpointWrite w;
    w.workflow_id = ctx_->workflow_id;
    w.clear_run = true;
    auto id = ctx_->workflow_id;
    auto log_failure = [id](const expected<void>& r) {
      if (!r) {
        log_error("clearing the checkpoint log of " + debug_quote(id) + " failed: " + r.error_value().to_string());
      }
    };
    if (auto now = write(std::move(w), log_failure)) {
      log_failure(*now);
    }
  }

  /// Writes the run's header; returns false when the checkpoint actor answers later (then
  /// `then` runs), true when it is done (`then` is not called).
  RunHeader make_header(RunStatus status) {
    auto now = std::chrono::system_clock::now();
    if (created_at_ == std::chrono::system_clock::time_point{}) {
      created_at_ = now;
    }
    return RunHeader{ctx_->workflow_id, def_->name, def_->version, ctx_->input, status, created_at_, now};
  }

  bool write_header(RunStatus status, std::function<void()> then = {}) {
    if (store_ == nullptr || ctx_->workflow_id.empty()) {
      return true;
    }
    header_written_ = true;
    if (channel_ && status == RunStatus::running && !then) {
      // Through the checkpoint actor the header rides on the run's first row (one write less).
      header_pending_ = true;
      return true;
    }
    CheckpointWrite w;
    w.workflow_id = ctx_->workflow_id;
    w.header = make_header(status);
    auto id = ctx_->workflow_id;
    auto log_failure = [id](const expected<void>& r) {
      if (!r) {
        log_error("writing the run header of " + debug_quote(id) + " failed: " + r.error_value().to_string());
      }
    };
    auto request = next_request_ + 1;
    if (auto done = write(std::move(w), [log_failure, then](const expected<void>& r) {
          log_failure(r);
          if (then) {
            then();
          }
        })) {
      log_failure(*done);
      return true;
    }
    if (then) {
      final_write_ = request;
    }
    return false;
  }

  // --- failure and rollback --------------------------------------------------------------------

  /// A terminal FSM failure: undo the saga steps (LIFO, never stopping early), or return the
  /// error unchanged (keeping the log for a resume) when there are none.
  void fail(error original) {
    if (finished_ || draining_) {
      return;
    }
    if (original.is_store_unavailable()) {
      // D6: the store is gone, not the run: no compensation, the log stays, resume later.
      return finish(std::move(original), RunStatus::interrupted);
    }
    if (stack_.empty()) {
      return finish(std::move(original), RunStatus::failed);
    }
    draining_ = true;
    if (worker_) {
      send_exit(worker_, caf::exit_reason::kill);
      worker_ = caf::actor{};
    }
    runner_.reset();
    drain_errors_.clear();
    drain_errors_.push_back(std::move(original));
    drain_next();
  }

  void drain_next() {
    while (!stack_.empty()) {
      auto step = std::move(stack_.back());
      stack_.pop_back();
      auto it = def_->compensators.find(step.task_id);
      if (it == def_->compensators.end()) {
        drain_errors_.push_back(error::workflow("no compensator registered for task " +
                                                debug_quote(step.task_id) + " — cannot roll it back"));
        continue;
      }
      nlohmann::json output;
      try {
        output = from_blob(step.blob);
      } catch (const std::exception& e) {
        drain_errors_.push_back(error::generic("deserialize compensation output for `" + step.task_id +
                                               "`: " + e.what() +
                                               blob_location(ctx_->workflow_id, step.sequence)));
        continue;
      }
      const auto& comp = it->second;
      TaskConfig cfg; // cano re-reads the task's config at rollback time
      try {
        cfg = comp->config();
      } catch (...) {
        cfg = TaskConfig{};
      }
      if (attempt_runner::runs_inline(cfg)) {
        if (auto failed = run_compensate(*comp, step.task_id, output, nullptr)) {
          drain_errors_.push_back(std::move(*failed));
        }
        continue;
      }
      if (post_compensate(comp, std::move(step.task_id), std::move(output), cfg)) {
        return; // comp_done / comp_timeout continues the drain
      }
    }
    draining_ = false;
    if (drain_errors_.size() == 1) {
      clear_log(); // a clean rollback leaves no log
      return finish(std::move(drain_errors_.front()), RunStatus::rolled_back);
    }
    // Compensations ran (some failed): the log stays for manual recovery, never a forward resume.
    finish(error::compensation_failed(std::move(drain_errors_)), RunStatus::rolled_back);
  }

  /// Runs one compensate, catching exceptions; returns its error, if any.
  std::optional<error> run_compensate(const compensator& comp, const std::string& task_id,
                                      const nlohmann::json& output, const std::atomic<bool>* stop) {
    static const std::string no_label;
    task_context tc(ctx_->workflow_id, no_label, 1, ctx_->input, *def_->resources, stop);
    try {
      auto r = comp.compensate(tc, output);
      if (!r) {
        return r.error_value();
      }
      return std::nullopt;
    } catch (const std::exception& e) {
      return error::task_execution("compensate for " + debug_quote(task_id) + " panicked: " + e.what());
    } catch (...) {
      return error::task_execution("compensate for " + debug_quote(task_id) +
                                   " panicked: <non-string panic payload>");
    }
  }

  bool post_compensate(std::shared_ptr<const compensator> comp, std::string task_id,
                       nlohmann::json output, const TaskConfig& cfg) {
    auto seq = ++drain_seq_;
    comp_task_id_ = task_id;
    comp_timeout_ = cfg.attempt_timeout;
    auto stop = std::make_shared<std::atomic<bool>>(false);
    comp_stop_ = stop;
    auto ctx = ctx_;
    auto self = caf::actor_cast<caf::actor>(this);
    bool posted = eng_->pool()->try_post([ctx, comp, task_id, output, stop, self, seq] {
      static const std::string no_label;
      task_context tc(ctx->workflow_id, no_label, 1, ctx->input, *ctx->def->resources, stop.get());
      expected<void> r;
      try {
        r = comp->compensate(tc, output);
      } catch (const std::exception& e) {
        r = error::task_execution("compensate for " + debug_quote(task_id) + " panicked: " + e.what());
      } catch (...) {
        r = error::task_execution("compensate for " + debug_quote(task_id) +
                                  " panicked: <non-string panic payload>");
      }
      caf::anon_send(self, comp_done_atom::value, seq, std::make_shared<expected<void>>(std::move(r)));
    });
    if (!posted) {
      drain_errors_.push_back(error::task_execution("blocking pool exhausted: cannot run compensate for " +
                                                    debug_quote(task_id)));
      return false;
    }
    if (cfg.attempt_timeout) {
      delayed_send(this, *cfg.attempt_timeout, comp_timeout_atom::value, seq);
    }
    return true;
  }

  void compensation_returned(std::uint64_t seq, const expected<void>& r) {
    if (!draining_ || seq != drain_seq_) {
      return; // a compensate that already timed out
    }
    ++drain_seq_; // settles this one
    if (!r) {
      drain_errors_.push_back(r.error_value());
    }
    drain_next();
  }

  void compensation_timed_out(std::uint64_t seq) {
    if (!draining_ || seq != drain_seq_) {
      return;
    }
    ++drain_seq_;
    if (comp_stop_) {
      comp_stop_->store(true);
    }
    drain_errors_.push_back(error::timeout("compensate for " + debug_quote(comp_task_id_) +
                                           " exceeded attempt_timeout " +
                                           debug_duration(comp_timeout_.value_or(duration{0}))));
    drain_next();
  }

  // --- the end ---------------------------------------------------------------------------------

  void finish(run_result_value result, RunStatus status) {
    if (finished_) {
      return;
    }
    finished_ = true;
    draining_ = false;
    result_ = std::move(result);
    if (worker_) {
      send_exit(worker_, caf::exit_reason::kill); // abandons its attempts (permits = failures)
      worker_ = caf::actor{};
    }
    runner_.reset();
    // The final header (after any clear of the log, which the checkpoint actor commits in
    // order) is durable before the run reports.
    bool store_gone = !result_.has_value() && result_.error_value().is_store_unavailable();
    bool already_final = final_in_exit_row_ && status == RunStatus::completed;
    if (header_written_ && !store_gone && !already_final &&
        !write_header(status, [this] { after_final_write(); })) {
      return;
    }
    after_final_write();
  }

  void after_final_write() {
    if (setting_up_) {
      return; // resources_ready() releases what setup acquired, then delivers
    }
    release_then_deliver();
  }

  void finish(error err, RunStatus status) { finish(run_result_value{std::move(err)}, status); }

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
      detail::run_result_access::set_final_state(r, *result_);
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

  std::shared_ptr<engine> eng_;
  std::uint64_t run_id_;
  bool resume_;
  completion done_;
  std::shared_ptr<const run_context> ctx_;
  std::shared_ptr<run_context> mutable_ctx_; // only to set a resumed run's input before it runs
  const definition* def_ = nullptr;
  bool has_observers_ = false;

  // Checkpointing
  CheckpointStore* store_ = nullptr;
  std::shared_ptr<checkpoint_channel> channel_; // set for blocking stores
  std::unordered_map<std::uint64_t, write_done> pending_writes_;
  std::uint64_t next_request_ = 0;
  std::uint64_t seq_ = 0;
  bool waiting_ = false; // for a checkpoint ack before going on
  bool header_written_ = false;
  bool header_pending_ = false;    // the running header waits to ride on the first row
  bool final_in_exit_row_ = false; // the exit row carried the clear and the final header
  std::uint64_t final_write_ = 0; // the request id of the final header write
  std::chrono::system_clock::time_point created_at_{};

  // The FSM position
  state_code current_;
  bool entered_ = false; // the current state's entry row is written
  const state_entry* entry_ = nullptr;
  std::optional<attempt_runner> runner_; // inline work of the current state
  caf::actor worker_;                     // task or join actor of the current state
  std::vector<stacked_step> stack_;       // completed saga steps
  std::unordered_map<std::string, saved_cursor> cursors_; // a resumed run's stepped cursors

  // Rollback
  bool draining_ = false;
  std::vector<error> drain_errors_;
  std::uint64_t drain_seq_ = 0;
  std::string comp_task_id_;
  std::optional<duration> comp_timeout_;
  std::shared_ptr<std::atomic<bool>> comp_stop_;

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
