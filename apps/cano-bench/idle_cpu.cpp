// idle_cpu: what an idle runtime costs. A runtime whose pool has just run blocking bodies (so
// its threads exist and linger) is left with no runs for 10 s; the figure is the CPU time the
// whole process used over those 10 s, as a percentage of one core (CAF's workers and clock
// thread included). Spinning while idle would show here.
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "closed_loop.hpp"
#include "linear_workflow.hpp"
#include "memory.hpp"
#include "workload.hpp"

namespace {

constexpr double idle_seconds = 10.0;

nlohmann::json measure(double) {
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  // Warm up: blocking runs, several at once, so that more than one pool thread exists.
  auto wf = bench::linear_workflow(true);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!rt.run(wf, 0)) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : callers) {
    t.join();
  }
  auto threads_after_warmup = bench::thread_count();
  auto cpu_before = bench::process_cpu_seconds();
  auto wall_before = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_seconds));
  auto cpu = bench::process_cpu_seconds() - cpu_before;
  auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  return {
    {"workload", "idle_cpu"},
    {"failures", failures.load()},
    {"seconds", wall},
    {"cpu_seconds", cpu},
    {"idle_cpu_percent_of_core", 100.0 * cpu / wall},
    {"threads_after_warmup", threads_after_warmup},
    {"threads_at_end", bench::thread_count()},
  };
}

bench::register_workload idle_cpu{"idle_cpu", measure};

} // namespace
