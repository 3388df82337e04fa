// Durations near the maximum (issue 10, item 3): an attempt, workflow, join or compensation
// timeout, a retry or poll delay, a breaker's reset timeout or a shutdown deadline of
// `milliseconds::max()` means "effectively never". Before, each overflowed its clock and fired
// at once (or, for a retry, after a millisecond).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include "cano/circuit.hpp"
#include "cano/poll_task.hpp"
#include "cano/saga.hpp"
#include "cano/workflow.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

constexpr auto forever = std::chrono::milliseconds::max();

/// A task that sleeps a little (so a timer firing at once would win), then goes to `next`.
std::shared_ptr<cano::Task<State>> napping_task(State next, cano::TaskConfig cfg) {
  return cano::make_task<State>(
    "Nap",
    [next] {
      std::this_thread::sleep_for(30ms);
      return next;
    },
    cfg);
}

/// Polls Pending(delay) once, then Ready(Complete).
class PendingOnce : public cano::PollTask<State> {
public:
  PendingOnce(std::uint64_t delay_ms, bool blocking) : delay_ms_(delay_ms), blocking_(blocking) {}
  std::string name() const override { return "PendingOnce"; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(blocking_); }
  cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
    if (polls.fetch_add(1) == 0) {
      return cano::PollOutcome<State>::pending(delay_ms_);
    }
    return cano::PollOutcome<State>::ready(State::Complete);
  }
  std::atomic<int> polls{0};

private:
  std::uint64_t delay_ms_;
  bool blocking_;
};

/// A saga step whose config carries the attempt timeout both forward and at rollback.
class SlowUndo : public cano::CompensatableTask<State, int> {
public:
  explicit SlowUndo(cano::TaskConfig cfg) : cfg_(cfg) {}
  std::string name() const override { return "SlowUndo"; }
  cano::TaskConfig config() const override { return cfg_; }
  cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(State::Process), 7);
  }
  cano::expected<void> compensate(cano::task_context&, int) override {
    std::this_thread::sleep_for(30ms);
    ++undone;
    return {};
  }
  std::atomic<int> undone{0};

private:
  cano::TaskConfig cfg_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(huge_durations_test)

BOOST_AUTO_TEST_CASE(an_attempt_timeout_of_the_maximum_never_fires) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto cfg = cano::TaskConfig::minimal().with_attempt_timeout(forever).with_blocking(blocking);
    auto wf = cano::Workflow<State>{}
                .register_task(State::Start, napping_task(State::Complete, cfg))
                .add_exit_state(State::Complete);
    auto r = ts.rt->run(wf, State::Start);
    BOOST_TEST(r.has_value(), (r ? std::string() : r.error().to_string()));
  }
}

BOOST_AUTO_TEST_CASE(a_workflow_timeout_of_the_maximum_never_fires) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, napping_task(State::Complete, cano::TaskConfig::minimal()))
              .add_exit_state(State::Complete)
              .with_timeout(forever);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_TEST(r.has_value(), (r ? std::string() : r.error().to_string()));
}

BOOST_AUTO_TEST_CASE(a_retry_delay_of_the_maximum_waits_until_the_workflow_timeout) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto n = make_calls();
    auto cfg = cano::TaskConfig{}.with_fixed_retry(1, forever).with_blocking(blocking);
    auto wf = cano::Workflow<State>{}
                .register_task(State::Start, flaky_task(n, 1, State::Complete, cfg))
                .add_exit_state(State::Complete)
                .with_timeout(300ms);
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message() == "Workflow timeout exceeded");
    BOOST_TEST(n->load() == 1); // the retry never came
  }
}

BOOST_AUTO_TEST_CASE(an_exponential_backoff_past_the_maximum_saturates_instead_of_retrying_at_once) {
  test_system ts;
  auto n = make_calls();
  auto mode = cano::RetryMode::exponential_custom(3, forever / 2, 4.0, forever, 0.0);
  auto cfg = cano::TaskConfig{}.with_retry(mode).with_blocking(false);
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, flaky_task(n, 1, State::Complete, cfg))
              .add_exit_state(State::Complete)
              .with_timeout(300ms);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message() == "Workflow timeout exceeded");
  BOOST_TEST(n->load() == 1);
}

BOOST_AUTO_TEST_CASE(a_join_timeout_of_the_maximum_never_fires) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto cfg = cano::TaskConfig::minimal().with_blocking(blocking);
    auto wf = cano::Workflow<State>{}
                .register_split(State::Start, {napping_task(State::Join, cfg), napping_task(State::Join, cfg)},
                                cano::JoinConfig<State>{cano::JoinStrategy::all(), State::Join}.with_timeout(forever))
                .add_exit_state(State::Join);
    auto r = ts.rt->run(wf, State::Start);
    BOOST_TEST(r.has_value(), (r ? std::string() : r.error().to_string()));
  }
}

BOOST_AUTO_TEST_CASE(a_compensation_timeout_of_the_maximum_never_fires) {
  test_system ts;
  auto step = std::make_shared<SlowUndo>(cano::TaskConfig::minimal().with_attempt_timeout(forever));
  auto fail = cano::make_task<State>(
    "Fail", []() -> cano::expected<State> { return cano::error::task_execution("later step failed"); },
    cano::TaskConfig::minimal());
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, step)
              .register_task(State::Process, fail)
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r.has_value());
  // A clean rollback returns the original error: the compensate finished, nothing timed out.
  BOOST_TEST(r.error().to_string() == "Task execution error: later step failed");
  BOOST_TEST(step->undone.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_poll_delay_past_the_maximum_parks_until_the_workflow_timeout) {
  const std::uint64_t delays[] = {std::numeric_limits<std::uint64_t>::max(),
                                  static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())};
  for (auto delay : delays) {
    for (bool blocking : {true, false}) {
      test_system ts;
      auto poller = std::make_shared<PendingOnce>(delay, blocking);
      auto wf =
        cano::Workflow<State>{}.register_task(State::Start, poller).add_exit_state(State::Complete).with_timeout(300ms);
      auto r = ts.rt->run(wf, State::Start);
      BOOST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error().message() == "Workflow timeout exceeded");
      BOOST_TEST(poller->polls.load() == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_breaker_reset_timeout_of_the_maximum_keeps_it_open) {
  auto breaker = cano::CircuitBreaker::make(cano::CircuitPolicy{1, forever, 1});
  auto permit = breaker->try_acquire();
  BOOST_REQUIRE(permit.has_value());
  breaker->record_failure(std::move(*permit));
  BOOST_REQUIRE(breaker->state().is_open());
  auto again = breaker->try_acquire();
  BOOST_TEST(!again.has_value());
  BOOST_TEST(breaker->state().is_open());
}

BOOST_AUTO_TEST_CASE(a_shutdown_deadline_of_the_maximum_waits_for_the_runs) {
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, napping_task(State::Complete, cano::TaskConfig::minimal()))
              .add_exit_state(State::Complete);
  ts.rt->start(wf, State::Start, {}, caf::actor{self});
  BOOST_TEST(ts.rt->shutdown(forever)); // every run ended within the deadline
  auto results = receive_results(self, 1);
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results.front().ok(), (results.front().ok() ? std::string() : results.front().failure->to_string()));
}

BOOST_AUTO_TEST_SUITE_END()
