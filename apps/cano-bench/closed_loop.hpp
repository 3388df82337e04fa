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
};

/// `start_one(self)` starts one run from the driver actor `self`, which receives its result.
loop_figures run_closed_loop(caf::actor_system& sys, std::size_t in_flight, double warmup_seconds,
                             double seconds, std::function<void(caf::local_actor*)> start_one);

} // namespace bench
