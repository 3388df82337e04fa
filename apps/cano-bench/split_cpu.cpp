#include "split_cpu.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "cano/workflow.hpp"
#include "closed_loop.hpp"

namespace bench {

namespace {

using clock = std::chrono::steady_clock;

/// Pure CPU work: `n` rounds of an integer mix the compiler cannot fold away.
std::uint64_t spin(std::uint64_t n) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (std::uint64_t i = 0; i < n; ++i) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x += i;
  }
  return x;
}

/// Rounds of `spin` that take about `work` here (the fastest of a few tries).
std::uint64_t calibrate(std::chrono::microseconds work) {
  const std::uint64_t probe = 200000;
  double best_ns = 0;
  volatile std::uint64_t sink = 0;
  for (int i = 0; i < 5; ++i) {
    auto t0 = clock::now();
    sink = sink + spin(probe);
    double ns = std::chrono::duration<double, std::nano>(clock::now() - t0).count();
    best_ns = (i == 0 || ns < best_ns) ? ns : best_ns;
  }
  auto rounds = static_cast<double>(probe) * static_cast<double>(work.count()) * 1000.0 / best_ns;
  return rounds < 1 ? 1 : static_cast<std::uint64_t>(rounds);
}

struct pass_figures {
  double runs_per_sec = 0;
  std::uint64_t runs = 0;
  std::uint64_t failures = 0;
  std::size_t scheduler_threads = 0;
  std::size_t branch_threads = 0; // distinct threads that ran branches in the measured window
};

pass_figures run_pass(std::size_t branches, std::uint64_t rounds, double seconds, int max_threads) {
  caf::actor_system_config cfg;
  if (max_threads > 0) {
    cfg.set("scheduler.max-threads", max_threads);
  }
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto threads = std::make_shared<std::pair<std::mutex, std::set<std::thread::id>>>();
  auto branch = cano::make_task<int>(
    "cpu",
    [rounds, threads] {
      volatile std::uint64_t sink = spin(rounds);
      (void)sink;
      std::lock_guard<std::mutex> guard(threads->first);
      threads->second.insert(std::this_thread::get_id());
      return 1;
    },
    cano::TaskConfig::minimal().with_blocking(false));
  std::vector<std::shared_ptr<cano::Task<int>>> tasks(branches, branch);
  auto wf = cano::Workflow<int>{}
              .register_split(0, tasks, cano::JoinConfig<int>{cano::JoinStrategy::all(), 1})
              .add_exit_state(1);
  auto figures =
    run_closed_loop(sys, 1, 0.5, seconds, [&](caf::local_actor* self) { return rt.start(wf, 0, {}, self); });
  pass_figures out;
  out.runs = figures.runs;
  out.failures = figures.failures;
  out.runs_per_sec = static_cast<double>(figures.runs) / figures.seconds;
  out.scheduler_threads = sys.scheduler().num_workers();
  std::lock_guard<std::mutex> guard(threads->first);
  out.branch_threads = threads->second.size();
  return out;
}

} // namespace

nlohmann::json measure_split_cpu(const std::string& name, std::size_t branches, std::chrono::microseconds work,
                                 double seconds) {
  auto rounds = calibrate(work);
  auto t0 = clock::now();
  volatile std::uint64_t sink = spin(rounds);
  (void)sink;
  double branch_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  auto parallel = run_pass(branches, rounds, seconds, 0);
  auto single = run_pass(branches, rounds, seconds, 1);
  return {
    {"workload", name},
    {"branches", branches},
    {"branch_ms", branch_ms},
    {"runs", parallel.runs},
    {"failures", parallel.failures + single.failures},
    {"seconds", seconds},
    {"runs_per_sec", parallel.runs_per_sec},
    {"scheduler_threads", parallel.scheduler_threads},
    {"branch_threads", parallel.branch_threads},
    {"runs_per_sec_one_thread", single.runs_per_sec},
    {"speedup", single.runs_per_sec > 0 ? parallel.runs_per_sec / single.runs_per_sec : 0.0},
  };
}

} // namespace bench
