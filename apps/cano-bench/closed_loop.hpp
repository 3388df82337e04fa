// A closed-loop driver: keeps `in_flight` runs going through the actor API (runtime::start),
// starting a new run whenever one ends, and counts the runs that end inside the measured
// window (after a warm-up).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include <caf/actor.hpp>

#include "cano/runtime.hpp"

namespace bench {

struct loop_figures {
  std::uint64_t runs = 0;
  double seconds = 0;
  std::uint64_t failures = 0;
  std::size_t rss_at_end = 0;
  /// CPU time of the whole process (every thread, user + system) over the measured window.
  double cpu_seconds = 0;
  /// 99th percentile, over the runs that ended in the window, of a run's latency (its start to
  /// its result reaching the driver) in microseconds; 0 when no run ended in the window.
  double p99_run_latency_us = 0;
};

/// `start_one(self)` starts one run from the driver actor `self`, which receives its result,
/// and returns the run's id (runtime::start), by which the driver times the run.
loop_figures run_closed_loop(caf::actor_system& sys, std::size_t in_flight, double warmup_seconds, double seconds,
                             std::function<std::uint64_t(caf::local_actor*)> start_one);

/// Seconds of CPU time this process has used so far (all threads, user + system).
double process_cpu_seconds();

/// CPU time of the whole process per run ended in the window, in microseconds (every thread:
/// the engine's, CAF's idle workers and the driver alike).
inline double cpu_us_per_run(const loop_figures& f) {
  return f.runs > 0 ? f.cpu_seconds * 1e6 / static_cast<double>(f.runs) : 0.0;
}

} // namespace bench
