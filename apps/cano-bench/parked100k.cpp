// parked100k: 100,000 runs parked in a poll task's Pending{2 s} at once. Reports the memory per
// parked run (RSS delta / runs) and the process's thread count while they are parked.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/workflow.hpp"
#include "memory.hpp"
#include "workload.hpp"

namespace {

constexpr std::size_t parked_runs = 100000;

/// Pending for 2 s on the first poll, Ready on the second.
class park_once : public cano::PollTask<int> {
public:
  explicit park_once(std::atomic<std::size_t>& parked) : parked_(parked) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(false); }
  cano::expected<cano::PollOutcome<int>> poll(cano::task_context&) override {
    // Each run's first poll parks; the count tells the driver when all are parked.
    auto polls = polls_.fetch_add(1);
    if (polls < parked_runs) {
      parked_.fetch_add(1);
      return cano::PollOutcome<int>::pending(2000);
    }
    return cano::PollOutcome<int>::ready(1);
  }

private:
  std::atomic<std::size_t>& parked_;
  std::atomic<std::size_t> polls_{0};
};

nlohmann::json measure(double) {
  std::atomic<std::size_t> parked{0};
  auto baseline = bench::rss_bytes();
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto wf = cano::Workflow<int>{}.register_task(0, std::make_shared<park_once>(parked)).add_exit_state(1);
  auto before = bench::rss_bytes();
  std::promise<std::size_t> done;
  auto finished = done.get_future();
  auto started = std::chrono::steady_clock::now();
  sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
    for (std::size_t i = 0; i < parked_runs; ++i) {
      rt.start(wf, 0, {}, caf::actor_cast<caf::actor>(self));
    }
    auto count = std::make_shared<std::size_t>(0);
    auto ok = std::make_shared<std::size_t>(0);
    return {[self, count, ok, &done](cano::run_result& r) {
      *ok += r.ok() ? 1 : 0;
      if (++*count == parked_runs) {
        done.set_value(*ok);
        self->quit();
      }
    }};
  });
  while (parked.load() < parked_runs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto parked_at = std::chrono::steady_clock::now();
  auto rss_parked = bench::rss_bytes();
  auto threads = bench::thread_count();
  auto ok = finished.get();
  auto ended = std::chrono::steady_clock::now();
  auto delta = rss_parked > before ? rss_parked - before : 0;
  return {
    {"workload", "parked100k"},
    {"runs", parked_runs},
    {"completed_ok", ok},
    {"seconds_to_park_all", std::chrono::duration<double>(parked_at - started).count()},
    {"seconds_total", std::chrono::duration<double>(ended - started).count()},
    {"bytes_per_run", static_cast<double>(delta) / static_cast<double>(parked_runs)},
    {"threads_while_parked", threads},
    {"rss_bytes", rss_parked > baseline ? rss_parked - baseline : 0},
  };
}

bench::register_workload parked100k{"parked100k", measure};

} // namespace
