// The run supervisor: the actor that drives a run, the only owner of the run's FSM position,
// checkpoint sequence, saga stack and cursors. Each run is a run_fsm hosted by one supervisor
// from its start to its result; a supervisor hosts one run at a time and, once a run has
// delivered and left nothing that could still answer it, takes the engine's next run (D1).
//
// It walks the states; non-blocking work without attempt timeout runs inline here (the fast
// path, D1), other work runs on the pool under this actor's attempt runner (attempt timeouts,
// retries), a split goes to a join actor. With a checkpoint
// store every state's entry row is written before its task runs (write-ahead), saga steps and
// stepped cursors get their rows, and a failed run undoes its saga steps in reverse through a
// saga_drain, which records its progress (D7). It enforces the workflow timeouts (0.13.2's, which
// stops the run at once, and 0.15's total timeout, which drops the task in flight and rolls back),
// honours cancellation (cano 0.15 §4.3: at every state, and by dropping the task in flight unless
// it is a saga step), holds the resources' lease and reports the result once. Writes go through a
// checkpoint_writer.
#include <optional>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "../deadline.hpp"
#include "../engine.hpp"
#include "../format.hpp"
#include "../internal_access.hpp"
#include "../resume_plan.hpp"
#include "../user_code.hpp"
#include "checkpoint_writer.hpp"
#include "engine_actor.hpp"
#include "join_actor.hpp"
#include "messages.hpp"
#include "run_context.hpp"
#include "run_instruments.hpp"
#include "runner_handlers.hpp"
#include "saga_drain.hpp"

namespace cano::detail {

namespace {

/// Steps taken inline before the supervisor yields its scheduler thread to other actors.
constexpr int steps_per_message = 64;

/// How the error of a state's throwing body begins (cano's panic rule, D3).
const std::string panic_prefix_text = "panic: ";

/// Where a run is in its life; each phase admits only its own messages.
enum class run_phase : std::uint8_t {
  starting,     // validating; a resume loads the run's log and header on the pool
  setting_up,   // resources are being set up on the pool
  forward,      // walking states
  compensating, // the saga drain runs (D7)
  finishing,    // the final header write is on its way
  tearing_down, // resources are being released on the pool
  ended,        // the result was delivered
};

/// The actor side of a run: CAF's verbs, plus what a run asks of the actor that hosts it.
class run_host : public engine_actor {
public:
  explicit run_host(caf::actor_config& cfg) : engine_actor(cfg) {}

  /// A tag for the next inline runner, unique over the actor's life, so that a late message of
  /// a runner of an earlier run never reaches the current one.
  std::uint32_t next_runner_tag() noexcept { return ++runner_tags_; }

  /// The total timeout of run `run` passed (its timer is a request to this actor that nobody
  /// answers: see run_fsm::begin).
  virtual void total_timeout_passed(std::uint64_t run) = 0;

  /// The run delivered its result. `recycled`: the engine took this actor back for a next run;
  /// otherwise the actor ends (the old per-run life, for runs that may still get answers).
  void run_over(bool recycled) {
    if (recycled) {
      recycled_ = true;
    } else {
      quit();
    }
  }

protected:
  bool recycled_ = false;

private:
  std::uint32_t runner_tags_ = 0;
};

/// What the end of a run writes to its header.
enum class final_write : std::uint8_t {
  none,             // nothing: the store is unreachable, the run was fenced, or it stays resumable
  header,           // the final header
  header_and_clear, // the final header and the log's clear, in one atomic write
};

class run_fsm {
public:
  run_fsm(run_host* self, std::shared_ptr<engine> eng, run_spec spec)
    : self_(self),
      eng_(std::move(eng)),
      run_id_(spec.run_id),
      resume_(spec.resume),
      take_over_(spec.take_over),
      start_if_empty_(spec.start_if_empty),
      scheduled_(spec.scheduled),
      done_(std::move(spec.done)),
      ctx_(std::move(spec.ctx)),
      def_(ctx_->def.get()),
      current_(spec.initial) {
    has_observers_ = !def_->observers.empty();
    if (def_->store != nullptr && !ctx_->workflow_id.empty()) {
      writer_ = std::make_unique<checkpoint_writer>(self_, *eng_, def_->store, ctx_->workflow_id);
    }
    if (spec.cancellation.can_be_cancelled()) {
      rare().cancellation = std::move(spec.cancellation);
    }
  }

  run_fsm(const run_fsm&) = delete;
  run_fsm& operator=(const run_fsm&) = delete;

  // -- what the host actor hands over (each call inside an engine_actor_scope) ------------------

  void start() { begin(); }
  std::uint64_t run_id() const noexcept { return run_id_; }
  /// The result was delivered: the run is over.
  bool ended() const noexcept { return phase_ == run_phase::ended; }
  /// True when nothing of this run can still call back into it: no checkpoint answer, no saga
  /// drain and no total-timeout timer outstanding. Then the host may drop this run and take the
  /// next one; every other late message (timers, pool jobs, workers) is recognised by its run
  /// id, tag or sender. (A total-timeout timer is a request whose handler stays with the actor
  /// until it fires: a run that set one ends its actor, and the timer goes with it.)
  bool quiet() const noexcept {
    return (!writer_ || writer_->in_flight() == 0) && !(rare_ && rare_->drain) && !total_timer_pending_;
  }

  /// The inline runner with this tag, or null (a stale message of an earlier runner).
  attempt_runner* runner_for(std::uint32_t tag) noexcept { return runner_ && runner_tag_ == tag ? &*runner_ : nullptr; }
  void on_runner_message() {
    if (phase_ == run_phase::forward && runner_progress()) {
      advance();
    }
  }
  void on_step() { advance(); }
  void on_task_done(const caf::strong_actor_ptr& from, work_outcome& outcome) {
    if (phase_ != run_phase::forward || !from_worker(from)) {
      return; // a worker of a state this run left already (killed, or of an earlier run)
    }
    worker_ = caf::actor{};
    if (conclude(outcome.value)) {
      advance();
    }
  }
  void on_loaded(resume_data& data) { resume_loaded(data); }
  void on_compensate_done(std::uint64_t seq, const expected<void>& r) {
    if (phase_ == run_phase::compensating) {
      rare_->drain->on_compensate_done(seq, r);
    }
  }
  void on_compensate_timeout(std::uint64_t seq) {
    if (phase_ == run_phase::compensating) {
      rare_->drain->on_compensate_timeout(seq);
    }
  }
  void on_resources(const expected<void>& r) { resources_ready(r); }
  void on_run_timeout() {
    // A rollback cut short stays compensating in its header: a resume finishes it (D7).
    finish(error::workflow("Workflow timeout exceeded"), RunStatus::failed,
           phase_ == run_phase::compensating ? final_write::none : final_write::header);
  }
  void on_drop() {
    finish(error::workflow("run dropped: the runtime shut down before the run finished"), RunStatus::interrupted,
           phase_ == run_phase::compensating ? final_write::none : final_write::header);
  }
  /// A cancel arrived — a token, runtime::cancel, a durable request, the scheduler's
  /// cancel_flow (the flag is set already, unless someone sent the message alone).
  void on_cancel() {
    ctx_->cancelled.store(true, std::memory_order_release);
    if (phase_ == run_phase::forward) {
      interrupt_in_flight();
    }
    // Starting or setting up: the first state sees the flag. Compensating or ending: too late
    // (the drain is not cancellable).
  }
  /// The total timeout's timer fired.
  void on_total_timeout() {
    total_timer_pending_ = false;
    if (ending() || phase_ == run_phase::compensating) {
      return; // the drain has its own deadline
    }
    timed_out_ = true;
    if (phase_ == run_phase::forward) {
      interrupt_in_flight();
    }
  }
  /// The token no longer reaches this run (its actor is going away).
  void release_token() noexcept {
    if (rare_) {
      rare_->cancel_subscription.reset();
    }
  }

private:
  using run_result_value = expected<state_code>;

  bool ending() const noexcept { return phase_ >= run_phase::finishing; }

  /// What the engine needs to know of the current state, looked up once per state rather than
  /// at every use (on the fast path, hash lookups are a good part of a transition's cost).
  struct state_facts {
    state_code code = 0;
    const std::shared_ptr<const state_entry>* entry = nullptr; // null: no task registered
    bool exit = false;
    const std::string* label = nullptr; // the definition's cached label (registered or exit)
  };
  const state_facts& here() {
    if (!here_valid_ || here_.code != current_) {
      here_.code = current_;
      auto it = def_->states.find(current_);
      here_.entry = it == def_->states.end() ? nullptr : &it->second;
      here_.exit = def_->exit_set.count(current_) != 0;
      // Any other state's label is made on demand into a scratch string: never kept.
      here_.label = here_.entry != nullptr || here_.exit ? &def_->label(current_) : nullptr;
      here_valid_ = true;
    }
    return here_;
  }
  const std::string& current_label() {
    const auto& facts = here();
    return facts.label != nullptr ? *facts.label : def_->label(current_);
  }

  bool from_worker(const caf::strong_actor_ptr& from) const {
    return worker_ && from == caf::actor_cast<caf::strong_actor_ptr>(worker_);
  }

  // -- start ------------------------------------------------------------------------------------

  void begin() {
    if (resume_ && def_->store == nullptr) {
      return finish(error::configuration("resume_from requires a checkpoint store (call with_checkpoint_store)"),
                    RunStatus::failed, final_write::none);
    }
    if (auto valid = scheduled_ ? expected<void>{} : def_->validate(); !valid) { // scheduled: checked at start
      return finish(valid.error(), RunStatus::failed, final_write::none);
    }
    if (def_->timeout && !scheduled_) { // scheduled runs ignore with_timeout (cano)
      self_->delayed_send(self_, timer_delay(*def_->timeout), run_timeout_atom::value, run_id_);
    }
    if (def_->total_timeout) { // every run, scheduled ones too (cano 0.15)
      rare().started_at = self_->clock().now();
      if (!is_never(*def_->total_timeout)) {
        // The timer is the timeout of a request nobody answers: unlike a delayed message, it goes
        // away with the actor, so a run that ends early is not kept in memory until it fires.
        total_timer_pending_ = true;
        self_
          ->request(caf::actor_cast<caf::actor>(self_), timer_delay(*def_->total_timeout), total_timeout_atom::value,
                    run_id_)
          .then([] {},
                [host = self_, run = run_id_](caf::error& err) {
                  if (err == caf::sec::request_timeout) {
                    host->total_timeout_passed(run);
                  }
                });
      }
    }
    if (rare_ && rare_->cancellation.can_be_cancelled()) {
      // The token's callback runs on the thread that cancels (now, if it already did). It names
      // this run: should it race the run's end, a recycled actor ignores it.
      std::weak_ptr<const run_context> weak = ctx_;
      rare_->cancel_subscription =
        rare_->cancellation.on_cancel([weak, self = caf::actor_cast<caf::actor_addr>(self_)] {
          if (auto ctx = weak.lock()) {
            signal_cancel(*ctx, caf::actor_cast<caf::actor>(self));
          }
        });
    }
    if (writer_) {
      if (auto driver = writer_->acquire_driver(); !driver) {
        return finish(driver.error(), RunStatus::failed, final_write::none);
      }
    }
    if (resume_) {
      return load_for_resume();
    }
    if (auto valid = scheduled_ ? expected<void>{} : def_->validate_initial_state(current_); !valid) {
      return finish(valid.error(), RunStatus::failed, final_write::none);
    }
    attempts_ = 1;
    owns_header_ = true;
    inst_.started(current_); // metrics/log
    if (writer_) {
      writer_->start_fresh(make_header(RunStatus::running)); // rides on the run's first write
    }
    acquire_resources();
  }

  /// Claims the run (D8) — or adopts it, when it was placed on this node — then reads its log
  /// and header, on the pool: the store may block.
  void load_for_resume() {
    auto load = [store = def_->store, id = ctx_->workflow_id, take_over = take_over_] {
      auto data = std::make_shared<resume_data>();
      auto threw = [](const char* what) {
        return [what](const std::string& text) {
          return error::checkpoint_store(std::string(what) + ": the store threw: " + text);
        };
      };
      auto claimed =
        call_guarded([&]() -> expected<void> { return take_over ? store->claim_run(id) : store->adopt_run(id); },
                     [&](const std::string& t) -> expected<void> { return threw("claim run")(t); });
      if (!claimed) {
        data->rows = claimed.error();
        return data;
      }
      data->rows = call_guarded(
        [&] { return store->load_run(id); },
        [&](const std::string& t) -> expected<std::vector<CheckpointRow>> { return threw("load_run")(t); });
      data->header = call_guarded(
        [&] { return store->run_header(id); },
        [&](const std::string& t) -> expected<std::optional<RunHeader>> { return threw("run_header")(t); });
      return data;
    };
    if (!def_->store->is_blocking()) {
      return resume_loaded(*load());
    }
    auto self = caf::actor_cast<caf::actor>(self_);
    if (!eng_->pool()->try_post(
          [load, self, run = run_id_] { caf::anon_send(self, loaded_atom::value, run, load()); })) {
      finish(error::checkpoint_store("blocking pool exhausted: cannot load the checkpoint log"), RunStatus::failed,
             final_write::none);
    }
  }

  void resume_loaded(resume_data& data) {
    if (ending()) {
      return; // timed out or dropped while loading
    }
    const auto& id = ctx_->workflow_id;
    if (!data.rows) {
      return finish(
        error::checkpoint_store("load checkpoint run " + debug_quote(id) + ": " + data.rows.error().to_string()),
        RunStatus::failed, final_write::none);
    }
    if (!data.header) {
      return finish(
        error::checkpoint_store("load checkpoint run " + debug_quote(id) + ": " + data.header.error().to_string()),
        RunStatus::failed, final_write::none);
    }
    auto start = decide_resume(*def_, id, *data.rows, std::move(*data.header),
                               start_if_empty_ ? std::optional<state_code>(current_) : std::nullopt);
    if (start.header) {
      // The run's input, as first given; the context is this run's own and no task has seen it yet.
      const_cast<run_context&>(*ctx_).input = start.header->input;
      created_at_ = start.header->created_at;
      attempts_ = start.header->attempts;
      if (start.header->cancel_requested_at) {
        // Asked before this resume (its driver died meanwhile): the run stops at its first state.
        ctx_->cancelled.store(true, std::memory_order_release);
      }
    }
    ++attempts_;
    switch (start.how) {
      case resume_start::path::refuse: return finish(std::move(*start.failure), RunStatus::failed, final_write::none);
      case resume_start::path::close:
        owns_header_ = true;
        return finish(std::move(*start.failure), RunStatus::failed, final_write::header);
      case resume_start::path::drain:
        rare().resumed_rollback = std::make_unique<RollbackRecord>(std::move(start.rollback));
        break;
      case resume_start::path::forward:
        current_ = start.plan.state;
        if (!start.fresh) {
          rare().resume_step = start.plan.resume_step;
          rare().superseded = start.plan.superseded;
        }
        stack_ = std::move(start.plan.stack);
        if (!start.plan.cursors.empty()) {
          rare().cursors =
            std::make_unique<std::unordered_map<std::string, saved_cursor>>(std::move(start.plan.cursors));
        }
        break;
    }
    seq_ = start.fresh ? 0 : start.plan.last_sequence + 1;
    owns_header_ = true;
    if (start.how == resume_start::path::forward) {
      writer_->carry_header(make_header(RunStatus::running)); // the new attempt, with the next row
    }
    if (start.fresh) {                    // a placed run's first start (its log was empty): a start, not a resume
      inst_.started(current_, attempts_); // log
    } else {
      inst_.resumed(start.how == resume_start::path::forward ? std::optional<state_code>(current_) : std::nullopt,
                    attempts_);
    }
    if (has_observers_ && !start.fresh) {
      auto last = start.plan.last_sequence;
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_resume(run, last); });
    }
    acquire_resources();
  }

  // -- resources (D5: shared by overlapping runs of one workflow) -------------------------------

  void acquire_resources() {
    if (scheduled_ || def_->resources->empty_set()) { // scheduled: the scheduler holds the lease
      // Straight on: quitting inside make_behavior is safe in CAF 0.17 (become() is ignored
      // once the actor shuts down, and activate() finalizes it).
      return resources_acquired();
    }
    // Setup may block (connections, files): it runs on the pool, never on CAF's scheduler.
    phase_ = run_phase::setting_up;
    setup_in_flight_ = true;
    auto self = caf::actor_cast<caf::actor>(self_);
    bool posted = eng_->pool()->try_post([resources = def_->resources, self, run = run_id_] {
      auto r = call_guarded(
        [&] { return resources->acquire(); },
        [](const std::string& text) -> expected<void> { return error::generic("resource setup threw: " + text); });
      caf::anon_send(self, resources_atom::value, run, std::make_shared<expected<void>>(std::move(r)));
    });
    if (!posted) {
      setup_in_flight_ = false;
      finish(error::task_execution("blocking pool exhausted: cannot set up resources"), RunStatus::failed,
             final_write::header);
    }
  }

  void resources_ready(const expected<void>& r) {
    if (setup_in_flight_) {
      setup_in_flight_ = false;
      holds_resources_ = r.has_value();
      if (ending()) {
        return wrap_up(); // timed out or dropped while setting up
      }
      if (!r) {
        return finish(r.error(), RunStatus::failed, final_write::header);
      }
      return resources_acquired();
    }
    if (phase_ == run_phase::tearing_down) {
      deliver();
    }
  }

  void resources_acquired() {
    inst_.walking(); // metrics: cano_workflow_active
    if (rare_ && rare_->resumed_rollback) {
      auto record = std::move(*rare_->resumed_rollback);
      rare_->resumed_rollback.reset();
      return begin_rollback(std::move(record), false);
    }
    phase_ = run_phase::forward;
    advance();
  }

  // -- the FSM loop -----------------------------------------------------------------------------

  void advance() {
    for (int budget = steps_per_message; budget > 0; --budget) {
      if (phase_ != run_phase::forward || waiting_) {
        return;
      }
      if (!entered_) {
        if (cancel_requested()) {
          return cancel_before_state(); // at the boundary: the state is not entered
        }
        enter_state();
        if (phase_ != run_phase::forward || waiting_) {
          return;
        }
      }
      entered_ = false;
      if (!dispatch()) {
        return; // a worker, a timer or a checkpoint answer will continue the run
      }
    }
    self_->send(self_, step_atom::value, run_id_); // yield, then go on
  }

  /// on_state_enter, then (with a store) the state's entry row, before anything runs.
  void enter_state() {
    const auto& facts = here();
    const auto& label = current_label();
    inst_.entered(current_, label); // log
    if (has_observers_) {
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_state_enter(run, label); });
    }
    const state_entry* registered = facts.entry ? facts.entry->get() : nullptr;
    bool router = registered != nullptr && registered->type == state_entry::kind::router;
    if (def_->store == nullptr || router) {
      step_.step = take_resume_step(visits_);
      ++visits_;
      entered_ = true; // routers write no row and take no sequence number
      return;
    }
    if (ctx_->workflow_id.empty()) {
      return fail(error::checkpoint_store("checkpointing requires a workflow id (call with_workflow_id)"));
    }
    // The step a task's idempotency key names: this entry row, or for the state a resume
    // continues, the entry row of the visit it continues.
    step_.step = take_resume_step(seq_);
    bool named = registered != nullptr && registered->type != state_entry::kind::split;
    CheckpointRow row(seq_, label, named ? registered->work.task_name : std::string());
    row.workflow_version = def_->version;
    if (rare_ && rare_->superseded) { // D7: this re-run replaces the completion the resume skipped
      row.output_blob = supersede_mark(*rare_->superseded);
      rare_->superseded.reset();
    }
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
      return fail(store_failure("append checkpoint: ", r.error()));
    }
    checkpointed();
    entered_ = true;
  }

  /// Runs the entered state; true when it finished at once and the loop goes on.
  bool dispatch() {
    const auto& facts = here();
    if (facts.exit) {
      // With a store, the exit row carried the clear and the final header (write_row).
      finish(run_result_value{current_}, RunStatus::completed,
             final_in_exit_row_ ? final_write::none : final_write::header_and_clear);
      return false;
    }
    if (cancel_requested()) {
      cancel_before_state(); // it came while the entry row was written: the task never starts
      return false;
    }
    if (timed_out_) {
      // The total timeout passed while a saga step ran (never dropped): the next dispatch fails.
      fail_timed_out();
      return false;
    }
    if (facts.entry == nullptr) {
      fail(error::workflow("No task registered for state: " + def_->label(current_)));
      return false;
    }
    entry_ = facts.entry->get();
    inst_.dispatching(); // metrics: cano_task_duration_seconds
    if (entry_->type == state_entry::kind::split) {
      worker_ = spawn_join_actor(self_, ctx_, *facts.entry, def_->label_copy(current_), eng_->pool());
      return false;
    }
    const auto& name = entry_->work.task_name;
    if (has_observers_) {
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_start(run, name); });
    }
    nlohmann::json cursor;
    if (entry_->type == state_entry::kind::stepped) {
      auto c = take_resume_cursor(name);
      if (!c) {
        return conclude_failure(c.error());
      }
      cursor = std::move(*c);
    }
    const bool pause_on_more = def_->store != nullptr;
    // The fast path (D1): a plain inline body's first attempt is made here, without a runner;
    // one is built only when that attempt leaves work (a retry, a stepped task's next step).
    std::optional<attempt_outcome> first;
    if (attempt_runner::first_attempt_plain(entry_->work)) {
      first.emplace(
        attempt_runner::first_plain_attempt(*ctx_, entry_->work, current_label(), panic_prefix_text, step_, cursor));
      if (attempt_runner::first_settles(*ctx_, entry_->work, *first)) {
        return conclude(first->value);
      }
    }
    // The supervisor drives the state's attempts itself: inline for fast work (D1), otherwise on
    // the pool, whose results come straight back to this actor (no task actor per state).
    runner_tag_ = self_->next_runner_tag();
    runner_.emplace(self_, runner_tag_, ctx_, entry_->work, current_label(), panic_prefix_text, eng_->pool(),
                    std::move(cursor), pause_on_more);
    runner_->set_step(step_);
    if (first) {
      runner_->resume_after_first(std::move(*first));
    } else {
      runner_->start();
    }
    return runner_progress();
  }

  /// The cursor a resumed stepped state starts from (consumed once), or null.
  expected<nlohmann::json> take_resume_cursor(const std::string& task_name) {
    if (!rare_ || !rare_->cursors) {
      return nlohmann::json(nullptr);
    }
    auto& cursors = *rare_->cursors;
    auto it = cursors.find(def_->label(current_));
    if (it == cursors.end()) {
      return nlohmann::json(nullptr);
    }
    auto saved = std::move(it->second);
    cursors.erase(it);
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
    while (runner_ && phase_ == run_phase::forward) {
      if (runner_->cursor_pending()) {
        if (interrupt_pending()) {
          // Cancelled while the step ran (a pooled step may come back in place, before this
          // actor reads the cancel): its cursor came after the cancel and is not written.
          drop_in_flight();
          return false;
        }
        auto now = write_cursor(runner_->cursor(), [this](std::optional<error> failure) {
          waiting_ = false;
          if (runner_ && interrupt_pending()) {
            return drop_in_flight(); // cancelled or timed out while its cursor row was written
          }
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
        if (interrupt_pending()) {
          drop_in_flight(); // asked between two steps of an inline stepped task
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

  /// Writes a step cursor row. Returns the outcome now (nullopt inside: success), or nothing
  /// when the checkpoint actor answers later (then `k` runs).
  std::optional<std::optional<error>> write_cursor(const nlohmann::json& cursor,
                                                   std::function<void(std::optional<error>)> k) {
    auto settle = [this](const expected<void>& r) -> std::optional<error> {
      if (!r) {
        return store_failure("append step cursor checkpoint: ", r.error());
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
    inst_.dispatched(def_->label(current_), entry_->type, outcome && !outcome->was_split); // metrics
    if (!outcome) {
      return conclude_failure(outcome.error());
    }
    if (outcome->was_split) {
      switch (entry_->type) {
        case state_entry::kind::stepped:
          return conclude_failure(
            error::workflow("Stepped task returned split result — split is not supported for Stepped states"));
        case state_entry::kind::compensatable:
          return conclude_failure(
            error::workflow("Compensatable task returned a split result — split states cannot be compensatable"));
        default:
          return conclude_failure(
            error::workflow("Single task returned split result - use register_split() for split tasks"));
      }
    }
    const bool split = entry_->type == state_entry::kind::split;
    if (has_observers_ && !split) {
      const auto& name = entry_->work.task_name;
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_success(run, name); });
    }
    auto next = outcome->next;
    if (entry_->type == state_entry::kind::compensatable && outcome->has_output) {
      auto blob = to_blob(*outcome->output);
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
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_failure(run, name, failure); });
    }
    runner_.reset();
    if (cancel_requested() && failure.code() != errc::fenced && !failure.is_store_unavailable()) {
      // The task failed while a cancel was on its way (it may have wound up because of it): the
      // run ends cancelled, as it would have a moment later.
      notify_cancelled();
      fail(error::cancelled());
      return false;
    }
    fail(std::move(failure));
    return false;
  }

  /// A saga step succeeded: write its completion row, then push it on the compensation stack.
  bool saga_step_done(std::vector<std::uint8_t> blob, state_code next) {
    const auto& name = entry_->work.task_name;
    if (!writer_) {
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
        fail(store_failure("append compensation checkpoint: ", r.error()));
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

  // -- checkpoint writes ------------------------------------------------------------------------

  /// Writes a row. Returns its outcome now (a non-blocking store), or nothing: the checkpoint
  /// actor answers later and `k` runs then (the run waits meanwhile: write-ahead). An exit row
  /// carries the log's clear and the completed header: a run's end is one atomic write.
  std::optional<expected<void>> write_row(CheckpointRow row, checkpoint_writer::done_fn k) {
    CheckpointWrite w;
    w.workflow_id = ctx_->workflow_id;
    w.row = std::move(row);
    if (here().exit) {
      w.clear_run = true;
      w.header = make_header(RunStatus::completed);
      w.header->final_state = def_->label(current_);
      final_in_exit_row_ = true;
    }
    if (!writer_) { // never: only runs with a store and an id write rows
      return expected<void>{error::checkpoint_store("run has no checkpoint store to write to")};
    }
    auto now = writer_->write(std::move(w), std::move(k));
    if (!now) {
      waiting_ = true;
    }
    return now;
  }

  /// cano's wrapping of a store error; an unreachable store and a fenced write stay marked.
  static error store_failure(const char* what, const error& cause) {
    if (cause.code() == errc::fenced) {
      return cause;
    }
    auto e = error::checkpoint_store(what + cause.to_string());
    if (cause.is_store_unavailable()) {
      return std::move(e).store_unavailable();
    }
    return e;
  }

  void checkpointed() {
    if (has_observers_) {
      auto seq = seq_;
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_checkpoint(run, seq); });
    }
    ++seq_;
  }

  RunHeader make_header(RunStatus status) {
    auto now = std::chrono::system_clock::now();
    if (created_at_ == std::chrono::system_clock::time_point{}) {
      created_at_ = now;
    }
    RunHeader h;
    h.workflow_id = ctx_->workflow_id;
    h.definition = def_->name;
    h.workflow_version = def_->version;
    h.input = ctx_->input;
    h.status = status;
    h.created_at = created_at_;
    h.updated_at = now;
    h.attempts = attempts_;
    return h;
  }

  // -- cancellation and the total timeout (cano 0.15 §4.2, §4.3) -------------------------------

  bool cancel_requested() const noexcept { return ctx_->cancelled.load(std::memory_order_relaxed); }
  bool interrupt_pending() const noexcept { return timed_out_ || cancel_requested(); }

  /// Drops the task in flight for a cancel or the total timeout, unless it must go on: a saga
  /// step (never interrupted: its entry gets pushed, then the next state stops the run), or a
  /// checkpoint write in flight (its answer continues the run and meets the check there).
  void interrupt_in_flight() {
    if (waiting_ || (!runner_ && !worker_) || entry_ == nullptr) {
      return; // between states (a yield): the next state decides
    }
    if (entry_->type == state_entry::kind::compensatable) {
      return;
    }
    drop_in_flight();
  }

  /// The task in flight is dropped: on_task_failure for it (for a split, each branch), then
  /// on_cancelled or on_workflow_timeout, then the rollback. A cancel wins over the timeout.
  void drop_in_flight() {
    const bool cancel = cancel_requested();
    auto err = cancel ? error::cancelled() : timeout_error();
    stop_worker(); // abandons the attempt: its body sees stop_requested(), its result is ignored
    if (has_observers_) {
      if (entry_->type == state_entry::kind::split) {
        for (std::size_t i = 0; i < entry_->branches.size(); ++i) {
          auto id = entry_->branches[i].task_name + "[" + std::to_string(i) + "]";
          notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_failure(run, id, err); });
        }
      } else {
        const auto& name = entry_->work.task_name;
        notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_task_failure(run, name, err); });
      }
    }
    if (cancel) {
      notify_cancelled();
    } else {
      notify_timed_out(err);
    }
    fail(std::move(err));
  }

  /// Cancelled at a state boundary: on_cancelled for the state, then the rollback.
  void cancel_before_state() {
    notify_cancelled();
    fail(error::cancelled());
  }

  void fail_timed_out() {
    auto err = timeout_error();
    notify_timed_out(err);
    fail(std::move(err));
  }

  void notify_cancelled() {
    if (has_observers_ && !cancel_reported_) {
      cancel_reported_ = true;
      const auto& label = def_->label(current_);
      notify(*ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_cancelled(run, label); });
    }
  }

  void notify_timed_out(const error& err) {
    if (has_observers_) {
      notify(*ctx_,
             [&](WorkflowObserver& o, const run_info& run) { o.on_workflow_timeout(run, err.elapsed(), err.limit()); });
    }
  }

  error timeout_error() {
    auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(self_->clock().now() - rare().started_at);
    return error::workflow_timeout(elapsed, std::chrono::duration_cast<std::chrono::nanoseconds>(*def_->total_timeout));
  }

  // -- failure and rollback ---------------------------------------------------------------------

  /// A terminal FSM failure: undo the saga steps (LIFO, never stopping early), or return the
  /// error unchanged (keeping the log for a resume) when there are none.
  void fail(error original) {
    if (phase_ != run_phase::forward) {
      return;
    }
    if (original.is_store_unavailable()) {
      // D6: the store is gone, not the run: no compensation, the log stays, resume later.
      return finish(std::move(original), RunStatus::interrupted, final_write::none);
    }
    if (original.code() == errc::fenced) {
      // D8: another driver owns the run now; this one stops without a word to the store.
      return finish(std::move(original), RunStatus::interrupted, final_write::none);
    }
    if (stack_.empty()) {
      return finish(std::move(original), RunStatus::failed, final_write::header);
    }
    RollbackRecord record;
    record.stack = std::move(stack_);
    record.errors.push_back(std::move(original));
    begin_rollback(std::move(record), true);
  }

  /// Drains `record` (D7): a fresh rollback records itself before the first undo; a resumed one
  /// goes on from its durable record.
  void begin_rollback(RollbackRecord record, bool record_first) {
    phase_ = run_phase::compensating;
    if (!record.errors.empty()) {
      inst_.compensating(record.errors.front(), record.stack.size() - record.undone); // log
    }
    stop_worker();
    saga_drain::recorder recorder;
    if (writer_ && writer_->may_write()) {
      recorder = [this](const RollbackRecord& r, std::function<void(std::optional<error>)> k) {
        auto on_written = [k, log = ctx_->log()](const expected<void>& written) {
          if (written) {
            return k(std::nullopt);
          }
          const auto& e = written.error();
          if (e.is_store_unavailable() || e.code() == errc::fenced) {
            return k(e); // stop: the header keeps the last durable record (resumable / not ours)
          }
          log->diagnostic(log_level::error, "recording rollback progress failed (the drain goes on): " + e.to_string());
          k(std::nullopt);
        };
        CheckpointWrite w;
        w.workflow_id = ctx_->workflow_id;
        w.header = make_header(RunStatus::compensating);
        w.header->failure = r.errors.front();
        w.header->rollback = r;
        if (auto now = writer_->write(std::move(w), on_written)) {
          on_written(*now);
        }
      };
    }
    // With a total timeout every drain has a budget of its own (cano 0.15 §4.2), from now.
    std::optional<caf::actor_clock::time_point> deadline;
    if (auto budget = def_->compensation_budget()) {
      deadline = deadline_after<std::chrono::steady_clock>(self_->clock().now(), *budget);
    }
    rare().drain = std::make_unique<saga_drain>(
      self_, ctx_, eng_->pool(), std::move(record), std::move(recorder),
      [this](RollbackRecord&& done, std::optional<error> stopped) {
        drain_finished(std::move(done), std::move(stopped));
      },
      deadline);
    rare_->drain->start(record_first);
  }

  void drain_finished(RollbackRecord&& record, std::optional<error> stopped) {
    if (stopped) {
      return finish(std::move(*stopped), RunStatus::compensating, final_write::none);
    }
    rare().rollback = std::make_unique<RollbackRecord>(std::move(record));
    auto& errors = rare_->rollback->errors;
    if (errors.size() == 1) {
      // A clean rollback: the original error, and no log left (cano §3).
      return finish(errors.front(), RunStatus::rolled_back, final_write::header_and_clear);
    }
    // Compensations ran and some failed: the log stays for manual recovery, never a forward
    // resume (the header says rolled back).
    return finish(error::compensation_failed(errors), RunStatus::rolled_back, final_write::header);
  }

  void stop_worker() {
    if (worker_) {
      self_->send_exit(worker_, caf::exit_reason::kill); // abandons its attempts (permits = failures)
      worker_ = caf::actor{};
    }
    runner_.reset();
    if (writer_) {
      writer_->forget_pending();
    }
    waiting_ = false;
  }

  // -- the end ----------------------------------------------------------------------------------

  void finish(run_result_value result, RunStatus status, final_write what) {
    if (ending()) {
      return;
    }
    phase_ = run_phase::finishing;
    result_ = std::move(result);
    inst_.ended(result_, status); // metrics/log
    stop_worker();
    if (what == final_write::none || !owns_header_ || !writer_ || !writer_->may_write()) {
      return wrap_up();
    }
    CheckpointWrite w;
    w.workflow_id = ctx_->workflow_id;
    w.clear_run = what == final_write::header_and_clear;
    w.header = make_header(status);
    if (result_.has_value()) {
      w.header->final_state = def_->label(*result_);
    } else {
      w.header->failure = result_.error();
    }
    if (rare_ && rare_->rollback) {
      w.header->rollback = std::move(*rare_->rollback);
    }
    // The final header is durable before the run reports.
    final_write_pending_ = true;
    auto after = [this](const expected<void>& r) {
      final_write_pending_ = false;
      if (!r) {
        ctx_->log()->diagnostic(log_level::error, "writing the final run header of " + debug_quote(ctx_->workflow_id) +
                                                    " failed: " + r.error().to_string());
      }
      wrap_up();
    };
    if (auto now = writer_->write(std::move(w), after)) {
      after(*now);
    }
  }

  void finish(error err, RunStatus status, final_write what) { finish(run_result_value{std::move(err)}, status, what); }

  /// Once the final write is done and no setup is in flight: release resources, then report.
  void wrap_up() {
    if (phase_ != run_phase::finishing || final_write_pending_ || setup_in_flight_) {
      return;
    }
    release_then_deliver();
  }

  void release_then_deliver() {
    if (!holds_resources_) {
      return deliver();
    }
    phase_ = run_phase::tearing_down;
    holds_resources_ = false;
    auto resources = def_->resources;
    auto self = caf::actor_cast<caf::actor>(self_);
    auto teardown = [resources, self, run = run_id_] {
      resources->release();
      caf::anon_send(self, resources_atom::value, run, std::make_shared<expected<void>>());
    };
    if (!eng_->pool()->try_post(teardown)) {
      resources->release();
      deliver();
    }
  }

  void deliver() {
    phase_ = run_phase::ended;
    run_result r;
    r.run_id = run_id_;
    r.workflow_id = ctx_->workflow_id;
    if (result_.has_value()) {
      detail::run_result_access::set_final_state(r, *result_);
    } else {
      r.failure = result_.error();
    }
    // Back on the engine's shelf before the caller hears of it, so that its next run can take
    // this actor; a run that may still get answers ends its actor instead.
    const bool quiet_now = quiet();
    self_->run_over(eng_->run_ended(run_id_, r, quiet_now ? caf::actor_cast<caf::actor>(self_) : caf::actor{}));
    if (done_.reply_to && done_.reply_in_context) {
      self_->send(done_.reply_to, std::move(r));
    } else if (done_.reply_to) {
      caf::anon_send(done_.reply_to, std::move(r));
    } else if (done_.callback) {
      done_.callback(std::move(r));
    }
    done_ = completion{}; // a timer still pending for this actor must not keep the receiver alive
    release_token();      // a token cancelled from now on reaches nothing of this run
  }

  run_host* self_;
  std::shared_ptr<engine> eng_;
  std::uint64_t run_id_;
  bool resume_;
  bool take_over_;      // a resume claims the run (else: adopts a run placed here)
  bool start_if_empty_; // a resume of a run with an empty log starts it from current_
  bool scheduled_;      // run_options::scheduled: no validation, resources or timeout of its own
  bool has_observers_ = false;
  run_phase phase_ = run_phase::starting;
  completion done_;
  // Runners keep a reference to this very pointer: it must be of the type they take.
  std::shared_ptr<const run_context> ctx_;
  const definition* def_;
  run_instruments inst_{*ctx_}; // metrics and lifecycle log lines

  // Checkpointing
  std::unique_ptr<checkpoint_writer> writer_; // runs with a store and an id only
  std::uint64_t seq_ = 0;                     // the next row's sequence
  bool waiting_ = false;                      // for a checkpoint answer before going on
  bool final_in_exit_row_ = false;            // the exit row carried the clear and the final header
  bool owns_header_ = false;                  // this run writes the id's header (it started or resumed it)
  std::uint32_t attempts_ = 0;
  std::chrono::system_clock::time_point created_at_{};

  // The FSM position
  state_code current_;
  state_facts here_; // of current_, when here_valid_
  const state_entry* entry_ = nullptr;
  task_context::step_id step_;           // the current state's step (idempotency keys)
  std::uint64_t visits_ = 0;             // state visits, the steps of a run without a store
  std::optional<attempt_runner> runner_; // the current state's work (inline or on the pool)
  std::uint32_t runner_tag_ = 0;         // its tag: messages of earlier runners carry another
  caf::actor worker_;                    // the join actor of the current (split) state
  std::vector<stacked_step> stack_;      // completed saga steps
  // What only some runs need sits in one block made on first use: a parked run of the common
  // kind (no resume, rollback, token or total timeout) carries a null pointer instead.
  struct rare_state {
    std::optional<std::uint64_t> resume_step; // the step a resumed run's first state continues
    std::optional<std::uint64_t> superseded;  // the completion row the first state's re-run replaces
    std::unique_ptr<std::unordered_map<std::string, saved_cursor>> cursors; // a resumed run's stepped cursors
    std::unique_ptr<RollbackRecord> resumed_rollback;                       // a resumed drain, started after setup
    std::unique_ptr<saga_drain> drain;
    std::unique_ptr<RollbackRecord> rollback;             // the finished drain, for the final header
    cancellation_token cancellation;                      // run_options::cancellation
    cancellation_token::subscription cancel_subscription; // until the run delivers
    caf::actor_clock::time_point started_at{};            // the total timeout counts from here
  };
  std::unique_ptr<rare_state> rare_;
  rare_state& rare() {
    if (!rare_) {
      rare_ = std::make_unique<rare_state>();
    }
    return *rare_;
  }
  /// The step a resumed run's first state continues (consumed once), else `otherwise`.
  std::uint64_t take_resume_step(std::uint64_t otherwise) {
    if (rare_ && rare_->resume_step) {
      otherwise = *rare_->resume_step;
      rare_->resume_step.reset();
    }
    return otherwise;
  }

  // Cancellation and the total timeout
  bool total_timer_pending_ = false; // its timer is set and has not fired
  bool timed_out_ = false;           // the total timeout passed
  bool cancel_reported_ = false;     // on_cancelled fired

  bool setup_in_flight_ = false; // a setup job runs on the pool (the run may end meanwhile)
  bool final_write_pending_ = false;
  bool holds_resources_ = false;
  bool here_valid_ = false;
  bool entered_ = false; // the current state's entry row is written
  run_result_value result_{state_code{0}};
};

/// The actor that drives runs: one run at a time, each from its start to its result, then —
/// when nothing of that run can still answer — the next run the engine hands it (D1: a
/// supervisor may be recycled). Recycling spares CAF's spawn and, above all, its termination,
/// which wakes the clock thread for every actor that ends.
class run_supervisor : public run_host {
public:
  run_supervisor(caf::actor_config& cfg, std::shared_ptr<engine> eng, run_spec spec) : run_host(cfg) {
    run_.emplace(this, std::move(eng), std::move(spec));
  }

  caf::behavior make_behavior() override {
    with_run([](run_fsm& r) { r.start(); });
    return shared_handlers();
  }

  /// CAF runs an actor's handlers only from here (make_behavior included): the shared handlers
  /// learn which supervisor they serve from the thread-local set around it.
  resume_result resume(caf::execution_unit* ctx, std::size_t max_throughput) override {
    auto* outer = dispatching_; // never another supervisor's: kept for safety
    dispatching_ = this;
    auto result = engine_actor::resume(ctx, max_throughput);
    dispatching_ = outer;
    return result;
  }

  void total_timeout_passed(std::uint64_t run) override {
    with_run(run, [](run_fsm& r) { r.on_total_timeout(); });
  }

  void on_exit() override {
    if (run_) {
      run_->release_token(); // the token no longer points here
    }
  }

private:
  // Every supervisor shares one behaviour: its own (a dozen handlers capturing `this`) cost
  // each actor ~0.8 KB, most of a parked run's memory after CAF's actor itself. The handlers
  // find their supervisor in a thread-local that resume() sets.

  /// The supervisor whose messages this thread handles now (set by resume()).
  static thread_local run_supervisor* dispatching_;

  static caf::behavior& shared_handlers() {
    static caf::behavior handlers = make_shared_handlers();
    return handlers;
  }

  static caf::behavior make_shared_handlers() {
    auto me = [] { return dispatching_; };
    return runner_handlers(
             [me](std::uint32_t tag) {
               auto* s = me();
               return s->run_ ? s->run_->runner_for(tag) : nullptr;
             },
             [me](std::uint32_t, attempt_runner&) {
               auto* s = me();
               s->run_->on_runner_message();
               s->settle();
             })
      .or_else(
        [me](start_run_atom, std::shared_ptr<engine>& eng, run_spec& spec) {
          auto* s = me();
          s->run_.reset(); // the previous run ended (an answer from the store ended it: see run_over)
          s->run_.emplace(s, std::move(eng), std::move(spec));
          s->with_run([](run_fsm& r) { r.start(); });
        },
        [me](step_atom, std::uint64_t run) { me()->with_run(run, [](run_fsm& r) { r.on_step(); }); },
        [me](task_done_atom, work_outcome_ptr& outcome) {
          auto* s = me();
          auto from = s->current_sender();
          s->with_run([&](run_fsm& r) { r.on_task_done(from, *outcome); });
        },
        [me](loaded_atom, std::uint64_t run, resume_data_ptr& data) {
          me()->with_run(run, [&](run_fsm& r) { r.on_loaded(*data); });
        },
        [me](comp_done_atom, std::uint64_t seq, void_result_ptr& r) {
          me()->with_run([&](run_fsm& fsm) { fsm.on_compensate_done(seq, *r); });
        },
        [me](comp_timeout_atom, std::uint64_t seq) {
          me()->with_run([&](run_fsm& r) { r.on_compensate_timeout(seq); });
        },
        [me](resources_atom, std::uint64_t run, void_result_ptr& result) {
          me()->with_run(run, [&](run_fsm& r) { r.on_resources(*result); });
        },
        [me](run_timeout_atom, std::uint64_t run) { me()->with_run(run, [](run_fsm& r) { r.on_run_timeout(); }); },
        [me](drop_atom, std::uint64_t run) { me()->with_run(run, [](run_fsm& r) { r.on_drop(); }); },
        [me](cancel_atom, std::uint64_t run) { me()->with_run(run, [](run_fsm& r) { r.on_cancel(); }); },
        [me](total_timeout_atom, std::uint64_t) -> caf::response_promise {
          // The total timeout's timer: a request to itself that is never answered (see begin()).
          return me()->make_response_promise();
        });
  }

  /// Hands a message to the run in progress (if any: an idle actor drops stale messages).
  template <class F>
  void with_run(F f) {
    if (run_ && !run_->ended()) {
      engine_actor_scope scope;
      f(*run_);
      settle();
    }
  }

  /// Hands a message addressed to run `run` to it, if that run is still the one in progress.
  template <class F>
  void with_run(std::uint64_t run, F f) {
    if (run_ && run_->run_id() == run) {
      with_run(std::move(f));
    }
  }

  /// After a message: a run that ended and left nothing behind is dropped at once.
  void settle() {
    if (run_ && run_->ended() && recycled_) {
      recycled_ = false;
      run_.reset();
    }
  }

  std::optional<run_fsm> run_;
};

thread_local run_supervisor* run_supervisor::dispatching_ = nullptr;

} // namespace

caf::actor spawn_run_supervisor(const std::shared_ptr<engine>& eng, run_spec spec, caf::local_actor* spawner) {
  if (spawner != nullptr) {
    return spawner->spawn<run_supervisor>(eng, std::move(spec));
  }
  return eng->system().spawn<run_supervisor>(eng, std::move(spec));
}

void reuse_run_supervisor(const caf::actor& supervisor, const std::shared_ptr<engine>& eng, run_spec spec,
                          caf::local_actor* sender) {
  if (sender != nullptr) {
    // What a send from inside `sender` does: the message stays on this worker thread.
    supervisor->enqueue(caf::make_mailbox_element(sender->ctrl(), caf::make_message_id(), {}, start_run_atom::value,
                                                  eng, std::move(spec)),
                        sender->context());
  } else {
    caf::anon_send(supervisor, start_run_atom::value, eng, std::move(spec));
  }
}

} // namespace cano::detail
