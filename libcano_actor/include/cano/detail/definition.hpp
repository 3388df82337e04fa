// The state-type-erased form of a workflow, which the engine executes. Not part of the API.
#pragma once

#include <any>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "cano/checkpoint.hpp"
#include "cano/error.hpp"
#include "cano/join.hpp"
#include "cano/metrics_sink.hpp"
#include "cano/observer.hpp"
#include "cano/resources.hpp"
#include "cano/retry.hpp"
#include "cano/state.hpp"
#include "cano/task_context.hpp"

namespace cano::detail {

/// What one body call decided.
struct step_result {
  state_code next = 0;
  bool was_split = false; // the body returned a Split where a Single was expected
  bool more = false;      // a stepped task asked for another step with `cursor`
  // The JSON values sit behind pointers, set only when present: a result passes through a few
  // hands per state, and most results (plain tasks) carry none.
  std::shared_ptr<const nlohmann::json> cursor; // with `more`
  bool has_output = false;                      // a compensatable task's output, for its completion row
  std::shared_ptr<const nlohmann::json> output; // with `has_output`
};

/// A plain body: Task::run, RouterTask::route, SteppedTask::step (with the current cursor).
using erased_body = std::function<expected<step_result>(task_context&, const nlohmann::json& cursor)>;

/// One call an attempt program asks the engine to make (on the pool or inline), after `delay`.
struct call_request {
  std::uint64_t id = 0;
  duration delay{0};
  std::function<expected<std::any>(task_context&)> fn;
};

/// What an attempt program wants next: more calls, or the attempt's outcome.
struct program_action {
  std::vector<call_request> calls;
  std::optional<expected<step_result>> finished;
};

/// One attempt of a multi-call task (poll loop, batch cycle) as a state machine the engine
/// drives: begin() and on_call_done() run on the hosting actor, calls run where the task's
/// blocking flag says.
class attempt_program {
public:
  virtual ~attempt_program() = default;
  virtual program_action begin() = 0;
  virtual program_action on_call_done(std::uint64_t call_id, expected<std::any> value) = 0;

  /// Where the program reports what it measures (poll iterations, batch runs and items); set by
  /// the engine before begin(), null when the run measures nothing.
  void set_metrics(metrics_sink* sink) noexcept { metrics_ = sink; }

protected:
  /// Calls `record(sink)` when the run measures (a sink's exception is dropped).
  template <class F>
  void measure(F&& record) const noexcept {
    if (metrics_ != nullptr) {
      try {
        record(*metrics_);
      } catch (...) {
      }
    }
  }

private:
  metrics_sink* metrics_ = nullptr;
};

using program_factory = std::function<std::unique_ptr<attempt_program>()>;

/// One unit of work with its retry policy: a state's task or one branch of a split.
struct work_item {
  std::string task_name;
  TaskConfig config;
  erased_body body;                 // set for plain bodies
  program_factory make_program;     // set for poll and batch tasks
  std::shared_ptr<const void> task; // keeps the user's task alive for abandoned attempts
};

/// The erased join configuration of a split state.
struct split_info {
  JoinStrategy strategy = JoinStrategy::all();
  state_code join_state = 0;
  std::optional<duration> timeout;
  std::optional<std::size_t> bulkhead;
};

/// How to undo a compensatable task, by task name.
struct compensator {
  std::function<TaskConfig()> config; // re-read at rollback (cano re-reads attempt_timeout)
  /// Decodes the JSON output and compensates.
  std::function<expected<void>(task_context&, const nlohmann::json& output)> compensate;
  std::shared_ptr<const void> task;
};

struct state_entry {
  enum class kind { single, router, split, stepped, compensatable };
  kind type = kind::single;
  work_item work;                  // single, router, stepped (and poll/batch, which are single)
  std::vector<work_item> branches; // split
  split_info join;                 // split
  /// Split: what one non-blocking branch took on average in earlier runs (ns, 0 = not known
  /// yet). The join actor learns it and fans expensive branches out to child actors at once.
  mutable std::atomic<std::uint64_t> branch_cost_ns{0};
};

struct definition {
  std::unordered_map<state_code, std::shared_ptr<const state_entry>> states;
  std::vector<state_code> exit_states; // insertion order, deduplicated
  std::unordered_set<state_code> exit_set;
  std::optional<duration> timeout;              // with_timeout (cano 0.13.2)
  std::optional<duration> total_timeout;        // with_total_timeout (cano 0.15 §4.2)
  std::optional<duration> compensation_timeout; // with_compensation_timeout
  std::vector<std::shared_ptr<WorkflowObserver>> observers;
  std::shared_ptr<Resources> resources = std::make_shared<Resources>();
  std::string name;
  std::string workflow_id;
  std::uint32_t version = 0;
  std::function<std::string(state_code)> label_of;
  std::shared_ptr<CheckpointStore> store;
  std::unordered_map<std::string, std::shared_ptr<const compensator>> compensators;
  /// The states each state's task declares it may go to (Workflow::with_transitions): drawn by
  /// to_dot / to_mermaid, not checked by the engine.
  std::unordered_map<state_code, std::vector<state_code>> transitions;

  /// cano's validate(), cached on first use (a fresh definition has a fresh cache).
  expected<void> validate() const;
  expected<void> validate_initial_state(state_code initial) const;
  /// Labels of registered and exit states, computed once.
  const std::string& label(state_code s) const;
  std::string label_copy(state_code s) const;
  /// The registered or exit state with this label (registered states first, as cano's
  /// resume_from looks them up), or nothing.
  std::optional<state_code> state_of(const std::string& label) const;
  /// The compensation budget of every drain when a total timeout is set (cano 0.15 §4.2):
  /// with_compensation_timeout, else min(total / 2, 30 s); nothing without a total timeout.
  std::optional<duration> compensation_budget() const;

private:
  /// What is derived from the settings above, computed once. A copy of a definition copies every
  /// setting (the implicit copy constructor, so a new field is never forgotten) and starts with
  /// empty caches: Workflow copies a definition only to change it.
  struct derived_caches {
    derived_caches() = default;
    derived_caches(const derived_caches&) noexcept {}
    derived_caches& operator=(const derived_caches&) = delete;
    std::once_flag validated_once;
    std::optional<error> validation_error;
    std::once_flag labels_once;
    std::atomic<bool> labels_ready{false}; // labels filled: the hot path skips call_once
    std::unordered_map<state_code, std::string> labels;
  };
  mutable derived_caches cache_;
  void fill_labels() const;
};

/// cano's join-config checks (validate, and again at dispatch as defence in depth).
std::optional<error> check_join_config(const split_info& join);

} // namespace cano::detail
