// The linear workload's workflow: states 0..9 each run a trivial task to the next state,
// 10 is the exit. `blocking` chooses the pool path (default config) or the inline fast path.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cano/workflow.hpp"

namespace bench {

constexpr int linear_states = 10;

cano::Workflow<int> linear_workflow(bool blocking);

/// Runs the linear workflow with `in_flight` concurrent runs and reports the figures.
nlohmann::json measure_linear(const std::string& name, bool blocking, std::size_t in_flight, double seconds);

} // namespace bench
