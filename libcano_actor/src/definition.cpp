#include "cano/detail/definition.hpp"

#include <algorithm>
#include <unordered_map>

#include "format.hpp"

namespace cano::detail {

void definition::fill_labels() const {
  for (const auto& kv : states) {
    cache_.labels.emplace(kv.first, label_of(kv.first));
  }
  for (auto code : exit_states) {
    cache_.labels.emplace(code, label_of(code));
  }
}

const std::string& definition::label(state_code s) const {
  if (!cache_.labels_ready.load(std::memory_order_acquire)) {
    std::call_once(cache_.labels_once, [this] {
      fill_labels();
      cache_.labels_ready.store(true, std::memory_order_release);
    });
  }
  auto it = cache_.labels.find(s);
  if (it != cache_.labels.end()) {
    return it->second;
  }
  thread_local std::string scratch; // an unregistered target: label it on demand
  scratch = label_of(s);
  return scratch;
}

std::string definition::label_copy(state_code s) const { return label(s); }

std::optional<state_code> definition::state_of(const std::string& wanted) const {
  for (const auto& kv : states) {
    if (label(kv.first) == wanted) {
      return kv.first;
    }
  }
  for (auto code : exit_states) {
    if (label(code) == wanted) {
      return code;
    }
  }
  return std::nullopt;
}

expected<void> definition::validate() const {
  std::call_once(cache_.validated_once, [this] {
    auto fail = [this](std::string m) { cache_.validation_error = error::configuration(std::move(m)); };
    if (states.empty()) {
      return fail("Workflow has no registered state handlers");
    }
    if (exit_states.empty()) {
      return fail("Workflow has no exit states defined — orchestration may loop forever");
    }
    for (const auto& kv : states) {
      if (kv.second->type != state_entry::kind::split) {
        continue;
      }
      const auto& join = kv.second->join;
      if (auto bad = check_join_config(join)) {
        cache_.validation_error = std::move(*bad);
        return;
      }
      if (states.count(join.join_state) == 0 && exit_set.count(join.join_state) == 0) {
        return fail("Split join_state " + label(join.join_state) + " is neither registered nor an exit state");
      }
    }
    // Ours (D4): labels and task names are checkpoint keys, so they must be unique / non-empty.
    std::unordered_map<std::string, state_code> seen;
    auto check_label = [&](state_code code) -> bool {
      auto l = label(code);
      auto [it, fresh] = seen.emplace(l, code);
      if (!fresh && it->second != code) {
        fail("duplicate state label " + debug_quote(l) +
             ": two states share it, but labels identify states in events and checkpoints");
        return false;
      }
      return true;
    };
    for (const auto& kv : states) {
      if (!check_label(kv.first)) {
        return;
      }
    }
    for (auto code : exit_states) {
      if (!check_label(code)) {
        return;
      }
    }
    for (const auto& kv : states) {
      bool empty_name = kv.second->type == state_entry::kind::split
                          ? std::any_of(kv.second->branches.begin(), kv.second->branches.end(),
                                        [](const work_item& w) { return w.task_name.empty(); })
                          : kv.second->work.task_name.empty();
      if (empty_name) {
        return fail("the task registered for state " + label(kv.first) +
                    " has an empty name; task names identify tasks in checkpoints");
      }
    }
  });
  if (cache_.validation_error) {
    return *cache_.validation_error;
  }
  return {};
}

expected<void> definition::validate_initial_state(state_code initial) const {
  if (states.count(initial) == 0 && exit_set.count(initial) == 0) {
    return error::configuration("Initial state " + label(initial) + " is neither registered nor an exit state");
  }
  return {};
}

std::optional<duration> definition::compensation_budget() const {
  if (!total_timeout) {
    return std::nullopt; // cano bounds drains only when the run has a total budget
  }
  if (compensation_timeout) {
    return compensation_timeout;
  }
  return std::min<duration>(*total_timeout / 2, std::chrono::seconds(30));
}

} // namespace cano::detail
