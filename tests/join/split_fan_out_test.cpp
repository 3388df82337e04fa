// Non-blocking split branches fan out to branch actors (issue 19): CPU-bound branches use more
// than one scheduler thread, a join deadline acts between branches (what has not started by then
// never starts), and the join keeps cano's rules (bulkhead, losers abandoned) while they do.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cano/workflow.hpp"
#include "support/states.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;
using cano::JoinConfig;
using cano::JoinStrategy;
using branches = std::vector<std::shared_ptr<cano::Task<State>>>;
using steady = std::chrono::steady_clock;

namespace {

const auto non_blocking = cano::TaskConfig::minimal().with_blocking(false);

/// When each branch started, relative to a common origin, and which never did.
struct start_log {
  std::mutex mutex;
  steady::time_point origin = steady::now();
  std::vector<std::pair<int, steady::duration>> starts;
  void started(int branch) {
    std::lock_guard<std::mutex> guard(mutex);
    starts.emplace_back(branch, steady::now() - origin);
  }
  bool has(int branch) {
    std::lock_guard<std::mutex> guard(mutex);
    return std::any_of(starts.begin(), starts.end(), [&](auto& s) { return s.first == branch; });
  }
  steady::duration latest_start() {
    std::lock_guard<std::mutex> guard(mutex);
    steady::duration out{0};
    for (auto& s : starts) {
      out = std::max(out, s.second);
    }
    return out;
  }
};

/// A non-blocking branch that logs its start, sleeps `d` (a stand-in for work) and ends ok or not.
std::shared_ptr<cano::Task<State>> timed_branch(std::shared_ptr<start_log> log, int id, std::chrono::milliseconds d,
                                                bool ok = true) {
  return cano::make_task<State>(
    "Timed",
    [=]() -> cano::expected<State> {
      log->started(id);
      std::this_thread::sleep_for(d);
      if (!ok) {
        return cano::error::task_execution("failed");
      }
      return State::Join;
    },
    non_blocking);
}

/// Pure CPU work for about `d` (spins on the clock, never sleeps).
void burn(std::chrono::microseconds d) {
  auto until = steady::now() + d;
  volatile std::uint64_t x = 1;
  while (steady::now() < until) {
    x = x * 6364136223846793005ULL + 1;
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(split_fan_out_test)

BOOST_AUTO_TEST_CASE(scenario_83_non_blocking_returns_within_the_deadline_and_starts_nothing_after_it) {
  // cano-semantics §5.6 #83 with non-blocking branches, a bulkhead of two (so the order of starts
  // is fixed) and a fifth branch whose turn comes only after the 200 ms deadline: it never starts.
  test_system ts;
  auto log = std::make_shared<start_log>();
  auto late_runs = std::make_shared<std::atomic<int>>(0);
  auto late = cano::make_task<State>(
    "Late",
    [=] {
      ++*late_runs;
      log->started(4);
      return State::Join;
    },
    non_blocking);
  auto wf = cano::Workflow<State>{}
              .register_split(
                State::Start,
                {timed_branch(log, 0, 50ms), timed_branch(log, 1, 100ms, false), timed_branch(log, 2, 150ms),
                 timed_branch(log, 3, 500ms), late},
                JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(200ms).with_bulkhead(2))
              .add_exit_state(State::Join);
  log->origin = steady::now();
  auto r = ts.rt->run(wf, State::Start);
  auto took = steady::now() - log->origin;
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Join);
  BOOST_TEST(late_runs->load() == 0); // its turn came after the deadline: never started
  BOOST_TEST(log->has(3));            // the 500 ms branch started before it
  // Within the deadline plus the longest running branch (before: the sum of all, 802 ms).
  BOOST_TEST((took < 200ms + 500ms),
             "took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
}

BOOST_AUTO_TEST_CASE(without_a_bulkhead_no_branch_starts_after_the_join_deadline) {
  // Ten 150 ms branches on two scheduler threads and a 200 ms join timeout: the first two start
  // at once, the next two at about 150 ms, the rest (their turn: about 300 ms) never, whatever
  // thread they were queued on.
  test_system ts;
  auto log = std::make_shared<start_log>();
  branches tasks;
  for (int i = 0; i < 10; ++i) {
    tasks.push_back(timed_branch(log, i, 150ms));
  }
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, tasks,
                              JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(200ms))
              .add_exit_state(State::Join);
  log->origin = steady::now();
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Join);
  int started = 0;
  for (int i = 0; i < 10; ++i) {
    started += log->has(i) ? 1 : 0;
  }
  BOOST_TEST(started >= 1);
  BOOST_TEST(started <= 4); // two threads, two turns each before the deadline
  // Nothing started after the deadline (slack for the gap between the check and the start,
  // well short of the next turn at about 300 ms).
  BOOST_TEST((log->latest_start() < 200ms + 80ms));
}

BOOST_AUTO_TEST_CASE(a_join_timeout_acts_while_a_non_blocking_branch_still_runs) {
  // One long branch (500 ms) and a 100 ms join timeout: the join answers on the other thread
  // instead of waiting for the branch it would have run inline.
  test_system ts;
  auto log = std::make_shared<start_log>();
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {timed_branch(log, 0, 500ms)},
                              JoinConfig<State>{JoinStrategy::all(), State::Join}.with_timeout(100ms))
              .add_exit_state(State::Join);
  auto t0 = steady::now();
  auto r = ts.rt->run(wf, State::Start);
  auto took = steady::now() - t0;
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message() == "Split task timeout exceeded");
  BOOST_TEST((took < 500ms), "took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
}

BOOST_AUTO_TEST_CASE(cpu_bound_branches_run_on_more_than_one_thread) {
  test_system ts; // two scheduler threads
  auto threads = std::make_shared<std::pair<std::mutex, std::set<std::thread::id>>>();
  auto cpu = cano::make_task<State>(
    "Cpu",
    [threads] {
      burn(2000us);
      std::lock_guard<std::mutex> guard(threads->first);
      threads->second.insert(std::this_thread::get_id());
      return State::Join;
    },
    non_blocking);
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, branches(8, cpu), {JoinStrategy::all(), State::Join})
              .add_exit_state(State::Join);
  for (int run = 0; run < 2; ++run) { // the first run learns the cost, the second fans out at once
    {
      std::lock_guard<std::mutex> guard(threads->first);
      threads->second.clear();
    }
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(r.has_value());
    std::lock_guard<std::mutex> guard(threads->first);
    BOOST_TEST(threads->second.size() > 1u, "run " << run << " used " << threads->second.size() << " thread(s)");
  }
}

BOOST_AUTO_TEST_CASE(fanned_out_branches_respect_the_bulkhead) {
  test_system ts;
  auto in_flight = std::make_shared<std::atomic<int>>(0);
  auto max_seen = std::make_shared<std::atomic<int>>(0);
  auto cpu = cano::make_task<State>(
    "Cpu",
    [=] {
      int now = ++*in_flight;
      int prev = max_seen->load();
      while (now > prev && !max_seen->compare_exchange_weak(prev, now)) {
      }
      burn(1000us);
      --*in_flight;
      return State::Join;
    },
    non_blocking);
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, branches(12, cpu),
                              JoinConfig<State>{JoinStrategy::all(), State::Join}.with_bulkhead(1))
              .add_exit_state(State::Join);
  for (int run = 0; run < 2; ++run) {
    BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  }
  BOOST_TEST(max_seen->load() == 1);
}

BOOST_AUTO_TEST_CASE(an_any_join_abandons_fanned_out_losers) {
  // One quick winner among slow CPU branches: the run does not wait for the losers, and their
  // late results change nothing.
  test_system ts;
  auto finished = std::make_shared<std::atomic<int>>(0);
  auto slow = cano::make_task<State>(
    "Slow",
    [=]() -> cano::expected<State> {
      burn(20000us);
      ++*finished;
      return cano::error::task_execution("too late");
    },
    non_blocking);
  auto quick = cano::make_task<State>(
    "Quick", [] { return State::Join; }, non_blocking);
  branches tasks{slow, slow, slow, quick, slow, slow, slow, slow};
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, tasks, {JoinStrategy::any(), State::Join})
              .add_exit_state(State::Join);
  for (int run = 0; run < 3; ++run) {
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == State::Join);
  }
  BOOST_TEST(finished->load() < 3 * 7); // some losers never started or were dropped
}

BOOST_AUTO_TEST_SUITE_END()
