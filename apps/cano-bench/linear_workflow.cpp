#include "linear_workflow.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>

#include "closed_loop.hpp"
#include "memory.hpp"

namespace bench {

cano::Workflow<int> linear_workflow(bool blocking) {
  auto config = blocking ? cano::TaskConfig{} : cano::TaskConfig{}.with_blocking(false);
  cano::Workflow<int> wf;
  for (int s = 0; s < linear_states; ++s) {
    wf = wf.register_task(
      s, "step" + std::to_string(s), [s] { return s + 1; }, config);
  }
  return wf.add_exit_state(linear_states);
}

nlohmann::json measure_linear(const std::string& name, bool blocking, std::size_t in_flight, double seconds) {
  auto baseline = rss_bytes();
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto wf = linear_workflow(blocking);
  auto figures = run_closed_loop(sys, in_flight, 0.5, seconds, [&](caf::local_actor* self) {
    if (in_flight == 1) {
      return rt.start(wf, 0, {}, self); // started on the driver's worker: no cross-thread wake-up
    }
    // Started through the actor system so runs spread over every worker; the driver still
    // receives each result.
    return rt.start(wf, 0, {}, caf::actor_cast<caf::actor>(self));
  });
  double wall_ns = figures.seconds * 1e9;
  double transitions = static_cast<double>(figures.runs) * linear_states;
  return {
    {"workload", name},
    {"runs", figures.runs},
    {"failures", figures.failures},
    {"seconds", figures.seconds},
    {"runs_per_sec", static_cast<double>(figures.runs) / figures.seconds},
    {"ns_per_transition", transitions > 0 ? wall_ns / transitions : 0.0},
    {"rss_bytes", figures.rss_at_end > baseline ? figures.rss_at_end - baseline : 0},
    {"in_flight", in_flight},
    {"cpu_us_per_run", cpu_us_per_run(figures)},
    {"p99_transition_us", figures.p99_run_latency_us / linear_states},
  };
}

} // namespace bench
