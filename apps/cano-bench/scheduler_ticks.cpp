// scheduler_ticks: 1,000 `every` flows with a 100 ms interval on one scheduler (one node), each
// run one non-blocking state. Reports the sustained ticks (scheduled runs started) per second and
// the tick lateness: how long after its due time (the previous run's end + the interval, cano's
// rule) each run's body started, p50 / p99 / max, over the measured window after a warm-up.
// All flows start together, so they tick in bursts of 1,000: the figures include that queueing.
#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/scheduler.hpp"
#include "memory.hpp"
#include "workload.hpp"

namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t flows = 1000;
constexpr auto interval = std::chrono::milliseconds(100);
constexpr double warmup_seconds = 1.0;

/// One flow's runs are sequential (the next starts after the scheduler saw the previous end),
/// so each slot is written by one run at a time.
struct flow_slot {
  clock::time_point last_end{};
  std::vector<double> lateness_ms; // runs started inside the window
  std::size_t ticks = 0;
};

double percentile(std::vector<double>& v, double q) {
  if (v.empty()) {
    return 0.0;
  }
  auto idx = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return v[idx];
}

nlohmann::json measure(double seconds) {
  auto baseline = bench::rss_bytes();
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto slots = std::make_shared<std::vector<flow_slot>>(flows);
  const auto window_start =
    clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(warmup_seconds));
  const auto window_end =
    window_start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));

  cano::Scheduler<int> scheduler;
  for (std::size_t f = 0; f < flows; ++f) {
    auto body = [slots, f, window_start, window_end]() -> cano::expected<int> {
      auto& slot = (*slots)[f];
      auto now = clock::now();
      if (now >= window_start && now < window_end && slot.last_end != clock::time_point{}) {
        auto due = slot.last_end + interval;
        slot.lateness_ms.push_back(std::chrono::duration<double, std::milli>(now - due).count());
        ++slot.ticks;
      }
      slot.last_end = clock::now();
      return 1;
    };
    auto wf = cano::Workflow<int>{}
                .register_task(0, "tick", body, cano::TaskConfig::minimal().with_blocking(false))
                .add_exit_state(1);
    (void)scheduler.every("flow-" + std::to_string(f), wf, 0, interval);
  }
  auto running = scheduler.start(rt);
  if (!running) {
    return {{"workload", "scheduler_ticks"}, {"error", running.error().to_string()}};
  }
  std::this_thread::sleep_until(window_end);
  auto rss = bench::rss_bytes();
  auto threads = bench::thread_count();
  auto stopped = running->stop();
  std::size_t failing = 0;
  for (const auto& info : running->list()) {
    failing += info.failure_streak > 0 ? 1 : 0;
  }

  std::vector<double> lateness;
  std::size_t ticks = 0;
  for (auto& slot : *slots) {
    ticks += slot.ticks;
    lateness.insert(lateness.end(), slot.lateness_ms.begin(), slot.lateness_ms.end());
  }
  auto max_late = lateness.empty() ? 0.0 : *std::max_element(lateness.begin(), lateness.end());
  auto p50 = percentile(lateness, 0.50);
  auto p99 = percentile(lateness, 0.99);
  return {
    {"workload", "scheduler_ticks"},
    {"flows", flows},
    {"interval_ms", interval.count()},
    {"seconds", seconds},
    {"ticks", ticks},
    {"ticks_per_s", static_cast<double>(ticks) / seconds},
    {"ideal_ticks_per_s", static_cast<double>(flows) * 1000.0 / static_cast<double>(interval.count())},
    {"lateness_p50_ms", p50},
    {"lateness_p99_ms", p99},
    {"lateness_max_ms", max_late},
    {"failing_flows", failing},
    {"stop", stopped ? "ok" : stopped.error().to_string()},
    {"threads", threads},
    {"rss_bytes", rss > baseline ? rss - baseline : 0},
  };
}

bench::register_workload scheduler_ticks{"scheduler_ticks", measure};

} // namespace
