// cano-semantics §5.2 #19–31 (run_with_retries), driven through one-task workflows on both
// execution paths: inline (non-blocking) and the blocking pool.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cano/circuit.hpp"
#include "cano/workflow.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

cano::expected<State> run_one(test_system& ts, std::shared_ptr<cano::Task<State>> task) {
  auto wf = cano::Workflow<State>{}.register_task(State::Start, std::move(task)).add_exit_state(State::Complete);
  return ts.rt->run(wf, State::Start);
}

const bool both_paths[] = {true, false}; // blocking, inline

std::shared_ptr<cano::Task<State>> sleeper(calls n, std::chrono::milliseconds first, std::chrono::milliseconds later,
                                           cano::TaskConfig cfg) {
  return cano::make_task<State>(
    "Sleeper",
    [n, first, later] {
      std::this_thread::sleep_for(n->fetch_add(1) == 0 ? first : later);
      return State::Complete;
    },
    std::move(cfg));
}

} // namespace

BOOST_AUTO_TEST_SUITE(retry_loop_test)

BOOST_AUTO_TEST_CASE(a_succeeding_task_is_called_once) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto r = run_one(ts, flaky_task(n, 0, State::Complete, cano::TaskConfig::minimal().with_blocking(blocking)));
    BOOST_TEST(r.has_value());
    BOOST_TEST(n->load() == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_task_failing_twice_succeeds_on_the_third_call) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto r = run_one(
      ts, flaky_task(n, 2, State::Complete, cano::TaskConfig{}.with_fixed_retry(2, 1ms).with_blocking(blocking)));
    BOOST_TEST(r.has_value());
    BOOST_TEST(n->load() == 3);
  }
}

BOOST_AUTO_TEST_CASE(exhausted_retries_report_the_attempt_count_and_last_error) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto r = run_one(
      ts, flaky_task(n, 1000, State::Complete, cano::TaskConfig{}.with_fixed_retry(2, 1ms).with_blocking(blocking)));
    BOOST_REQUIRE(!r);
    BOOST_TEST(n->load() == 3);
    BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
    BOOST_TEST(r.error().message() == "Task failed after 3 attempt(s): Task execution error: immediate fail");
  }
}

BOOST_AUTO_TEST_CASE(a_single_attempt_returns_the_raw_error) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto r = run_one(ts, flaky_task(n, 1000, State::Complete, cano::TaskConfig::minimal().with_blocking(blocking)));
    BOOST_REQUIRE(!r);
    BOOST_TEST(n->load() == 1);
    BOOST_TEST(r.error().category() == std::string("task_execution"));
    BOOST_TEST(r.error().message() == "immediate fail");
  }
}

BOOST_AUTO_TEST_CASE(every_attempt_timing_out_exhausts_the_retries_with_a_timeout_error) {
  test_system ts;
  auto n = make_calls();
  auto r =
    run_one(ts, sleeper(n, 200ms, 200ms, cano::TaskConfig{}.with_fixed_retry(2, 1ms).with_attempt_timeout(20ms)));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
  BOOST_TEST(r.error().to_string().find("Timeout error") != std::string::npos);
  BOOST_TEST(r.error().to_string().find("attempt_timeout") != std::string::npos);
  BOOST_TEST(n->load() == 3);
}

BOOST_AUTO_TEST_CASE(each_attempt_gets_a_fresh_deadline) {
  test_system ts;
  auto n = make_calls();
  auto r = run_one(ts, sleeper(n, 200ms, 0ms, cano::TaskConfig{}.with_fixed_retry(1, 1ms).with_attempt_timeout(30ms)));
  BOOST_TEST(r.has_value());
  BOOST_TEST(n->load() == 2);
}

BOOST_AUTO_TEST_CASE(a_short_task_without_timeout_succeeds_with_the_default_config) {
  test_system ts;
  auto n = make_calls();
  auto r = run_one(ts, sleeper(n, 5ms, 5ms, cano::TaskConfig{}));
  BOOST_TEST(r.has_value());
}

BOOST_AUTO_TEST_CASE(an_open_breaker_rejects_without_invoking_the_body) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto breaker = cano::CircuitBreaker::make({3, 20ms, 1});
    auto cfg = cano::TaskConfig::minimal().with_circuit_breaker(breaker).with_blocking(blocking);
    auto n = make_calls();
    for (int i = 0; i < 3; ++i) {
      BOOST_TEST(!run_one(ts, flaky_task(n, 1000, State::Complete, cfg)).has_value());
    }
    BOOST_TEST(n->load() == 3);
    BOOST_TEST(breaker->state().is_open());
    auto r = run_one(ts, flaky_task(n, 1000, State::Complete, cfg));
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("circuit_open"));
    BOOST_TEST(r.error().message() == "circuit breaker open: rejecting call");
    BOOST_TEST(n->load() == 3);
  }
}

BOOST_AUTO_TEST_CASE(a_breaker_tripping_mid_loop_ends_it_with_the_raw_circuit_error) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({1, 60000ms, 1});
  auto cfg = cano::TaskConfig{}.with_fixed_retry(5, 1ms).with_circuit_breaker(breaker);
  auto n = make_calls();
  auto first = run_one(ts, flaky_task(n, 1000, State::Complete, cfg));
  BOOST_REQUIRE(!first);
  BOOST_TEST(first.error().category() == std::string("circuit_open"));
  BOOST_TEST(n->load() == 1);
  auto second = run_one(ts, flaky_task(n, 1000, State::Complete, cfg));
  BOOST_REQUIRE(!second);
  BOOST_TEST(second.error().category() == std::string("circuit_open"));
  BOOST_TEST(n->load() == 1);
}

BOOST_AUTO_TEST_CASE(a_threshold_of_two_allows_exactly_two_invocations) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({2, 60000ms, 1});
  auto n = make_calls();
  auto r = run_one(ts, flaky_task(n, 1000, State::Complete,
                                  cano::TaskConfig{}.with_fixed_retry(5, 1ms).with_circuit_breaker(breaker)));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("circuit_open"));
  BOOST_TEST(n->load() == 2);
  BOOST_TEST(breaker->state().is_open());
}

BOOST_AUTO_TEST_CASE(a_breaker_closes_again_after_a_successful_half_open_trial) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({2, 20ms, 1});
  auto cfg = cano::TaskConfig::minimal().with_circuit_breaker(breaker);
  auto failing = make_calls();
  BOOST_TEST(!run_one(ts, flaky_task(failing, 1000, State::Complete, cfg)).has_value());
  BOOST_TEST(!run_one(ts, flaky_task(failing, 1000, State::Complete, cfg)).has_value());
  BOOST_TEST(breaker->state().is_open());
  std::this_thread::sleep_for(40ms);
  auto n = make_calls();
  auto r = run_one(ts, flaky_task(n, 0, State::Complete, cfg));
  BOOST_TEST(r.has_value());
  BOOST_TEST(n->load() == 1);
  BOOST_TEST(breaker->state().is_closed());
}

BOOST_AUTO_TEST_CASE(tasks_sharing_a_breaker_share_its_state) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({3, 60000ms, 1});
  auto a = make_calls();
  auto b = make_calls();
  auto cfg = cano::TaskConfig::minimal().with_circuit_breaker(breaker);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(!run_one(ts, flaky_task(a, 1000, State::Complete, cfg, "A")).has_value());
  }
  BOOST_TEST(breaker->state().is_open());
  auto r = run_one(ts, flaky_task(b, 0, State::Complete, cfg, "B"));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("circuit_open"));
  BOOST_TEST(b->load() == 0);
}

BOOST_AUTO_TEST_CASE(attempt_timeouts_count_as_breaker_failures) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({2, 60000ms, 1});
  auto cfg = cano::TaskConfig::minimal().with_circuit_breaker(breaker).with_attempt_timeout(10ms);
  auto n = make_calls();
  for (int i = 0; i < 2; ++i) {
    auto r = run_one(ts, sleeper(n, 100ms, 100ms, cfg));
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("timeout"));
    BOOST_TEST(r.error().message() == "task attempt exceeded attempt_timeout");
  }
  BOOST_TEST(n->load() == 2);
  BOOST_TEST(breaker->state().is_open());
  auto r = run_one(ts, sleeper(n, 100ms, 100ms, cfg));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("circuit_open"));
  BOOST_TEST(n->load() == 2);
}

BOOST_AUTO_TEST_CASE(an_exception_is_not_retried) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto task = cano::make_task<State>(
      "Thrower",
      [n]() -> State {
        n->fetch_add(1);
        throw std::logic_error("kaput");
      },
      cano::TaskConfig{}.with_fixed_retry(3, 1ms).with_blocking(blocking));
    auto r = run_one(ts, task);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("task_execution"));
    BOOST_TEST(r.error().message() == "panic: kaput");
    BOOST_TEST(n->load() == 1);
  }
}

// Inline, the first attempt is made without a runner and a retry hands the work to one: the
// retry's exception must end the loop there as it would on the first attempt.
BOOST_AUTO_TEST_CASE(an_exception_on_a_retry_is_not_retried_either) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto task = cano::make_task<State>(
      "FailsThenThrows",
      [n]() -> cano::expected<State> {
        if (n->fetch_add(1) == 0) {
          return cano::error::task_execution("first fails");
        }
        throw std::logic_error("kaput on retry");
      },
      cano::TaskConfig{}.with_fixed_retry(3, 1ms).with_blocking(blocking));
    auto r = run_one(ts, task);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("task_execution"));
    BOOST_TEST(r.error().message() == "panic: kaput on retry");
    BOOST_TEST(n->load() == 2);
  }
}

BOOST_AUTO_TEST_CASE(a_permanent_error_skips_the_remaining_retries) {
  for (bool blocking : both_paths) {
    test_system ts;
    auto n = make_calls();
    auto task = cano::make_task<State>(
      "Declined",
      [n]() -> cano::expected<State> {
        n->fetch_add(1);
        return cano::error::task_execution("card declined").permanent();
      },
      cano::TaskConfig{}.with_fixed_retry(3, 1ms).with_blocking(blocking));
    auto r = run_one(ts, task);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("task_execution"));
    BOOST_TEST(r.error().message() == "card declined");
    BOOST_TEST(n->load() == 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()
