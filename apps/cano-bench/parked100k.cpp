// parked100k: 100,000 runs parked in a poll task's Pending{2 s} at once. Reports the memory per
// parked run (RSS delta / runs) and the process's thread count while they are parked. Every run
// stays parked until memory is read (a poll before that answers Pending{2 s} again), so the
// figure never counts a run that already woke and ended.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <malloc.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/workflow.hpp"
#include "memory.hpp"
#include "workload.hpp"

namespace {

constexpr std::size_t parked_runs = 100000;

/// Pending for 2 s until released, then Ready. A run's input is its index.
class park_once : public cano::PollTask<int> {
public:
  park_once(std::atomic<std::size_t>& parked, std::atomic<bool>& released)
    : parked_(parked),
      released_(released),
      seen_(parked_runs) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(false); }
  cano::expected<cano::PollOutcome<int>> poll(cano::task_context& ctx) override {
    if (released_.load()) {
      return cano::PollOutcome<int>::ready(1);
    }
    // The first poll of each run counts it as parked; the count tells the driver when all are.
    auto index = ctx.input().get<std::size_t>();
    if (index < parked_runs && !seen_[index].exchange(true)) {
      parked_.fetch_add(1);
    }
    return cano::PollOutcome<int>::pending(2000);
  }

private:
  std::atomic<std::size_t>& parked_;
  std::atomic<bool>& released_;
  std::vector<std::atomic<bool>> seen_;
};

nlohmann::json measure(double) {
  std::atomic<std::size_t> parked{0};
  std::atomic<bool> released{false};
  std::atomic<std::size_t> runs_ended{0};
  auto baseline = bench::rss_bytes();
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto wf = cano::Workflow<int>{}.register_task(0, std::make_shared<park_once>(parked, released)).add_exit_state(1);
  auto before = bench::rss_bytes();
  auto heap_before = mallinfo2().uordblks;
  std::promise<std::size_t> done;
  auto finished = done.get_future();
  auto started = std::chrono::steady_clock::now();
  sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
    for (std::size_t i = 0; i < parked_runs; ++i) {
      rt.start(wf, 0, {"", i}, caf::actor_cast<caf::actor>(self));
    }
    auto count = std::make_shared<std::size_t>(0);
    auto ok = std::make_shared<std::size_t>(0);
    return {[self, count, ok, &done, &runs_ended](cano::run_result& r) {
      runs_ended.fetch_add(1);
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
  auto heap_parked = mallinfo2().uordblks;
  auto threads = bench::thread_count();
  auto ended_before_measure = runs_ended.load(); // 0: every run was still parked
  released.store(true);
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
    {"heap_bytes_per_run", static_cast<double>(heap_parked - heap_before) / static_cast<double>(parked_runs)},
    {"threads_while_parked", threads},
    {"runs_ended_before_measure", ended_before_measure},
    {"rss_bytes", rss_parked > baseline ? rss_parked - baseline : 0},
  };
}

bench::register_workload parked100k{"parked100k", measure};

} // namespace
