// Splits of CPU-bound non-blocking branches: a fixed amount of pure CPU work per branch, joined
// with All, one run in flight, measured on the actor system's default scheduler and again on a
// single scheduler thread (the speed-up is what fanning branches out over threads buys).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace bench {

/// Runs the split for `seconds` on each scheduler configuration; every branch does the same
/// number of loop iterations, calibrated once to take about `work` on this machine.
nlohmann::json measure_split_cpu(const std::string& name, std::size_t branches, std::chrono::microseconds work,
                                 double seconds);

} // namespace bench
