// Workflow<S> — a typed finite-state machine: tasks registered per state, exit states, and the
// settings of its runs. Builders return the workflow by value and chain:
//
//   enum class Order { Validate, Charge, Done };
//   auto wf = cano::Workflow<Order>{}
//                 .with_name("orders")
//                 .register_task(Order::Validate, "validate", [](cano::task_context&) { return Order::Charge; })
//                 .register_task(Order::Charge, std::make_shared<Charge>())
//                 .add_exit_state(Order::Done);
//   cano::expected<Order> end = wf.orchestrate(Order::Validate);   // or runtime::run / start
//
// A Workflow is a cheap handle: copies share the definition until one of them is changed.
// One workflow may run many times concurrently.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cano/batch_task.hpp"
#include "cano/cancellation.hpp"
#include "cano/checkpoint.hpp"
#include "cano/detail/definition.hpp"
#include "cano/detail/workflow_graph.hpp"
#include "cano/error.hpp"
#include "cano/join.hpp"
#include "cano/observer.hpp"
#include "cano/poll_task.hpp"
#include "cano/resources.hpp"
#include "cano/retry.hpp"
#include "cano/runtime.hpp"
#include "cano/saga.hpp"
#include "cano/state.hpp"
#include "cano/stepped_task.hpp"
#include "cano/task.hpp"

namespace cano {

namespace detail {
/// The library's way to the definition behind a Workflow handle (not API).
struct workflow_access {
  template <class S>
  static const std::shared_ptr<definition>& definition_of(const Workflow<S>& wf) noexcept {
    return wf.definition_ptr();
  }
};
} // namespace detail

template <class S>
class Workflow {
public:
  Workflow() : def_(std::make_shared<detail::definition>()) {
    def_->label_of = [](detail::state_code c) { return label_of(detail::decode_state<S>(c)); };
  }
  /// A workflow whose tasks share `resources`.
  explicit Workflow(Resources resources) : Workflow() {
    def_->resources = std::make_shared<Resources>(std::move(resources));
  }
  /// cano's `Workflow::bare()`: no resources.
  static Workflow bare() { return Workflow{}; }

  // --- registration (re-registering a state replaces its entry) -------------------------------

  /// Registers a task object for `state`.
  template <class T, class = std::enable_if_t<std::is_base_of_v<Task<S>, T>>>
  Workflow register_task(S state, std::shared_ptr<T> task) const {
    return with_entry(state, detail::state_entry::kind::single, work_of(std::move(task)));
  }
  template <class T, class = std::enable_if_t<std::is_base_of_v<Task<S>, std::decay_t<T>> ||
                                              std::is_base_of_v<detail::program_task<S>, std::decay_t<T>>>>
  Workflow register_task(S state, T&& task) const {
    return register_task(state, std::make_shared<std::decay_t<T>>(std::forward<T>(task)));
  }
  /// Registers a PollTask or BatchTask for `state`: the engine drives its calls.
  template <class T, class = std::enable_if_t<std::is_base_of_v<detail::program_task<S>, T>>, class = void>
  Workflow register_task(S state, std::shared_ptr<T> task) const {
    std::shared_ptr<detail::program_task<S>> as_program = task;
    detail::work_item w;
    w.task_name = as_program->name();
    w.config = as_program->config();
    w.make_program = [p = as_program] { return p->make_program(p); };
    w.task = std::move(as_program);
    return with_entry(state, detail::state_entry::kind::single, std::move(w));
  }
  /// Registers a named callable for `state`.
  template <class F>
  Workflow register_task(S state, std::string name, F fn, TaskConfig config = {}) const {
    return register_task(state, make_task<S>(std::move(name), std::move(fn), std::move(config)));
  }
  /// Registers a callable for `state`, named after the state's label.
  template <class F, class = std::enable_if_t<std::is_invocable_v<F&, task_context&> || std::is_invocable_v<F&>>>
  Workflow register_task(S state, F fn) const {
    return register_task(state, label_of(state), std::move(fn));
  }

  /// Registers a router for `state`: it writes no checkpoint row.
  template <class T, class = std::enable_if_t<std::is_base_of_v<Task<S>, T>>>
  Workflow register_router(S state, std::shared_ptr<T> router) const {
    return with_entry(state, detail::state_entry::kind::router, work_of(std::move(router)));
  }
  template <class T, class = std::enable_if_t<std::is_base_of_v<Task<S>, std::decay_t<T>>>>
  Workflow register_router(S state, T&& router) const {
    return register_router(state, std::make_shared<std::decay_t<T>>(std::forward<T>(router)));
  }
  template <class F>
  Workflow register_router(S state, std::string name, F fn, TaskConfig config = {}) const {
    return register_router(state, make_router<S>(std::move(name), std::move(fn), std::move(config)));
  }

  /// Registers a split: every task runs (at most `bulkhead` at once) and the run moves to the
  /// join state when the strategy is satisfied. Branches may be of different types.
  Workflow register_split(S state, std::vector<std::shared_ptr<Task<S>>> tasks, JoinConfig<S> join) const {
    auto entry = std::make_shared<detail::state_entry>();
    entry->type = detail::state_entry::kind::split;
    for (auto& t : tasks) {
      entry->branches.push_back(work_of(std::move(t)));
    }
    entry->join.strategy = join.strategy;
    entry->join.join_state = detail::encode_state(join.join_state);
    entry->join.timeout = join.timeout;
    entry->join.bulkhead = join.bulkhead;
    return with_state(state, std::move(entry));
  }

  /// Registers a stepped task the engine drives step by step (cursors can be checkpointed).
  template <class T, class = std::enable_if_t<std::is_base_of_v<SteppedTask<S, typename T::cursor_type>, T>>>
  Workflow register_stepped(S state, std::shared_ptr<T> task) const {
    std::shared_ptr<SteppedTask<S, typename T::cursor_type>> base = task;
    detail::work_item w;
    w.task_name = base->name();
    w.config = base->config();
    w.body = detail::stepped_body(base, w.task_name);
    w.task = std::move(base);
    return with_entry(state, detail::state_entry::kind::stepped, std::move(w));
  }

  /// Registers a saga step for `state`: on a later failure its compensate undoes it.
  template <class T, class = std::enable_if_t<std::is_base_of_v<CompensatableTask<S, typename T::output_type>, T>>>
  Workflow register_with_compensation(S state, std::shared_ptr<T> task) const {
    std::shared_ptr<CompensatableTask<S, typename T::output_type>> base = task;
    detail::work_item w;
    w.task_name = base->name();
    w.config = base->config();
    w.body = detail::compensatable_body(base, w.task_name);
    w.task = base;
    auto name = w.task_name;
    Workflow wf = with_entry(state, detail::state_entry::kind::compensatable, std::move(w));
    wf.def_->compensators[name] = detail::make_compensator(base, name);
    return wf;
  }

  // --- settings --------------------------------------------------------------------------------

  Workflow add_exit_state(S state) const {
    Workflow w = clone();
    auto code = detail::encode_state(state);
    if (w.def_->exit_set.insert(code).second) {
      w.def_->exit_states.push_back(code);
    }
    return w;
  }
  Workflow add_exit_states(const std::vector<S>& states) const {
    Workflow w = *this;
    for (S s : states) {
      w = w.add_exit_state(s);
    }
    return w;
  }
  /// Bounds a whole run; past it the run fails with "Workflow timeout exceeded" (cano 0.13.2:
  /// the run stops at once, nothing is undone).
  Workflow with_timeout(duration d) const {
    Workflow w = clone();
    w.def_->timeout = d;
    return w;
  }
  /// A wall-clock budget for each run, resume or scheduled run (cano 0.15, spec §4.2), counted
  /// from its start. Past it the task in flight is dropped (on_task_failure, for a split each
  /// branch), on_workflow_timeout fires and the run fails with error::workflow_timeout(elapsed,
  /// limit) after its saga steps are undone. A saga step in flight is never dropped: it finishes
  /// and the run fails at its next state (an exit state still completes it). With a total
  /// timeout every rollback of the run, whatever its cause, is bounded too (see
  /// with_compensation_timeout). A budget of ten years or more never fires. Throws
  /// std::invalid_argument for a negative duration.
  Workflow with_total_timeout(duration d) const {
    check_not_negative("with_total_timeout", d);
    Workflow w = clone();
    w.def_->total_timeout = d;
    return w;
  }
  /// The budget of a rollback when a total timeout is set (cano 0.15, spec §4.2); default
  /// min(total / 2, 30 s), from the moment the rollback begins (a resumed rollback gets a new
  /// one). A compensate still running when it passes fails with timeout("compensate for
  /// \"<task>\" exceeded compensation deadline") (compensates of non-blocking tasks without an
  /// attempt_timeout run inline and are not cut short); entries not begun by then are not undone:
  /// each becomes an orphaned_compensation error keeping its task id and output, followed by
  /// timeout("compensation deadline elapsed; <n> entries left unprocessed"). Without
  /// with_total_timeout it has no effect (as in cano). Throws std::invalid_argument for a
  /// negative duration.
  Workflow with_compensation_timeout(duration d) const {
    check_not_negative("with_compensation_timeout", d);
    Workflow w = clone();
    w.def_->compensation_timeout = d;
    return w;
  }
  Workflow with_observer(std::shared_ptr<WorkflowObserver> observer) const {
    Workflow w = clone();
    w.def_->observers.push_back(std::move(observer));
    return w;
  }
  /// Keeps a write-ahead checkpoint log of every run in `store` (resume after a crash).
  Workflow with_checkpoint_store(std::shared_ptr<CheckpointStore> store) const {
    Workflow w = clone();
    w.def_->store = std::move(store);
    return w;
  }
  /// Declares the states the task of `state` may go to: drawn by to_dot and to_mermaid (a state
  /// without a declaration is drawn going somewhere "decided at run time"). Documentation only:
  /// the engine does not check it. Declaring again replaces the list; the declaration stays when
  /// the state's task is registered again. Split states go to their join state and ignore it.
  Workflow with_transitions(S state, std::vector<S> next) const {
    Workflow w = clone();
    auto& slot = w.def_->transitions[detail::encode_state(state)];
    slot.clear();
    for (S s : next) {
      slot.push_back(detail::encode_state(s));
    }
    return w;
  }
  /// Names the definition (for run headers and resume_all).
  Workflow with_name(std::string name) const {
    Workflow w = clone();
    w.def_->name = std::move(name);
    return w;
  }
  /// cano parity: the workflow id used when a run gives none.
  Workflow with_workflow_id(std::string id) const {
    Workflow w = clone();
    w.def_->workflow_id = std::move(id);
    return w;
  }
  Workflow with_workflow_version(std::uint32_t version) const {
    Workflow w = clone();
    w.def_->version = version;
    return w;
  }

  // --- inspection and execution ----------------------------------------------------------------

  /// cano's validation rules in cano's order, then duplicate labels and empty task names (D4).
  expected<void> validate() const { return def_->validate(); }
  expected<void> validate_initial_state(S state) const {
    return def_->validate_initial_state(detail::encode_state(state));
  }
  /// True when a compensator is registered under this task name.
  bool has_compensator(const std::string& task_name) const { return def_->compensators.count(task_name) != 0; }
  bool has_state(S state) const { return def_->states.count(detail::encode_state(state)) != 0; }
  std::size_t state_count() const noexcept { return def_->states.size(); }
  const std::string& name() const noexcept { return def_->name; }
  std::uint32_t workflow_version() const noexcept { return def_->version; }
  Resources& resources() const noexcept { return *def_->resources; }

  /// cano's orchestrate: runs on the process-wide default runtime and blocks until the end.
  /// `token` cancels the run (cano 0.15 §4.3; cano/cancellation.hpp).
  expected<S> orchestrate(S initial, cancellation_token token = {}) const {
    run_options options{def_->workflow_id, {}};
    options.cancellation = std::move(token);
    return detail::default_runtime().run(*this, initial, std::move(options));
  }

  /// cano's resume_from on the process-wide default runtime: continues the run `workflow_id`
  /// from its checkpoint log and blocks until it ends. `token` cancels it.
  expected<S> resume_from(const std::string& workflow_id, cancellation_token token = {}) const {
    return detail::default_runtime().resume(*this, workflow_id, std::move(token));
  }

  /// The definition as a Graphviz DOT graph: its states (registered, exit, join and declared
  /// targets), the transitions tasks declare (with_transitions), each split's edge to its join
  /// state labelled with the join strategy, compensatable and exit states marked. The same
  /// definition always gives the same text. `dot -Tsvg` renders it.
  std::string to_dot() const { return detail::definition_to_dot(*def_); }
  /// The same graph as a Mermaid flowchart, as text for documentation.
  std::string to_mermaid() const { return detail::definition_to_mermaid(*def_); }

private:
  friend class runtime;                  // runs the definition behind this handle
  friend struct detail::workflow_access; // and so do the library's other entry points
  const std::shared_ptr<detail::definition>& definition_ptr() const noexcept { return def_; }

  // Copy on write: a workflow shares its definition until it is changed.
  Workflow clone() const { return Workflow(std::make_shared<detail::definition>(*def_)); }
  explicit Workflow(std::shared_ptr<detail::definition> def) : def_(std::move(def)) {}

  static void check_not_negative(const char* what, duration d) {
    if (d.count() < 0) {
      throw std::invalid_argument(std::string(what) + ": the duration must not be negative (got " +
                                  std::to_string(d.count()) + "ms)");
    }
  }

  template <class T>
  static detail::work_item work_of(std::shared_ptr<T> task) {
    static_assert(detail::implements_task_body<T, S>,
                  "cano: this task class overrides neither run(task_context&) nor run_bare(); "
                  "override one of them");
    std::shared_ptr<Task<S>> as_task = std::move(task);
    detail::work_item w;
    w.task_name = as_task->name();
    w.config = as_task->config();
    w.body = [t = as_task.get()](task_context& ctx, const nlohmann::json&) -> expected<detail::step_result> {
      auto r = t->run(ctx);
      if (!r) {
        return r.error();
      }
      detail::step_result out;
      if (r->is_split()) {
        out.was_split = true;
      } else {
        out.next = detail::encode_state(r->state());
      }
      return out;
    };
    w.task = std::move(as_task);
    return w;
  }

  Workflow with_entry(S state, detail::state_entry::kind kind, detail::work_item work) const {
    auto entry = std::make_shared<detail::state_entry>();
    entry->type = kind;
    entry->work = std::move(work);
    return with_state(state, std::move(entry));
  }

  Workflow with_state(S state, std::shared_ptr<detail::state_entry> entry) const {
    Workflow w = clone();
    auto& slot = w.def_->states[detail::encode_state(state)];
    // cano's forget_compensator_for: replacing a saga step drops its compensator.
    if (slot && slot->type == detail::state_entry::kind::compensatable) {
      w.def_->compensators.erase(slot->work.task_name);
    }
    slot = std::move(entry);
    return w;
  }

  std::shared_ptr<detail::definition> def_;
};

} // namespace cano
