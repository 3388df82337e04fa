// The split workloads' workflow: one split state of `branches` trivial non-blocking branches
// joined with All, then the exit.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

/// Runs the split workflow one run at a time for `seconds` (at least `min_runs` runs).
nlohmann::json measure_split(const std::string& name, std::size_t branches, double seconds, double warmup_seconds);

} // namespace bench
