// The state-type-erased form of a workflow, which the engine executes. Not part of the API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cano/error.hpp"
#include "cano/observer.hpp"
#include "cano/resources.hpp"
#include "cano/retry.hpp"
#include "cano/state.hpp"
#include "cano/task_context.hpp"

namespace cano::detail {

/// What a body decided: the next state, or that it returned a Split.
struct step_result {
  state_code next = 0;
  bool was_split = false;
};

using erased_body = std::function<expected<step_result>(task_context&)>;

struct state_entry {
  enum class kind { single, router };
  kind type = kind::single;
  std::string task_name;
  TaskConfig config;
  erased_body body;
  std::shared_ptr<const void> task; // keeps the user's task object alive for abandoned attempts
};

struct definition {
  std::unordered_map<state_code, std::shared_ptr<const state_entry>> states;
  std::vector<state_code> exit_states; // insertion order, deduplicated
  std::unordered_set<state_code> exit_set;
  std::optional<duration> timeout;
  std::vector<std::shared_ptr<WorkflowObserver>> observers;
  std::shared_ptr<Resources> resources = std::make_shared<Resources>();
  std::string name;
  std::string workflow_id;
  std::uint32_t version = 0;
  std::function<std::string(state_code)> label_of;

  /// cano's validate(), cached on first use (a fresh definition has a fresh cache).
  expected<void> validate() const;
  expected<void> validate_initial_state(state_code initial) const;
  /// Labels of registered and exit states, computed once.
  const std::string& label(state_code s) const;
  std::string label_copy(state_code s) const;

private:
  mutable std::once_flag validated_once_;
  mutable std::optional<error> validation_error_;
  mutable std::once_flag labels_once_;
  mutable std::unordered_map<state_code, std::string> labels_;
  void fill_labels() const;
};

} // namespace cano::detail
