// CircuitBreaker state machine and permits (spec §1.5, acceptance scenarios §5.3 #34–45,
// errata O1 and O7). The sleeps only wait past a 20 ms reset_timeout; no timing is asserted.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "cano/circuit.hpp"

using namespace std::chrono_literals;

namespace {

/// The spec's fast policy {failure_threshold 3, reset_timeout 20 ms, half_open_max_calls 2}.
cano::CircuitPolicy fast_policy() { return cano::CircuitPolicy{3, 20ms, 2}; }

/// The fast policy with a reset timeout long enough that an immediate try_acquire on an open
/// breaker is rejected even on a stalled machine.
cano::CircuitPolicy slow_reset_policy() { return cano::CircuitPolicy{3, 30s, 2}; }

void wait_past_reset_timeout() { std::this_thread::sleep_for(40ms); }

cano::Permit acquire(const std::shared_ptr<cano::CircuitBreaker>& breaker) {
  auto p = breaker->try_acquire();
  BOOST_TEST_REQUIRE(p.has_value());
  return std::move(p.value());
}

void fail_once(const std::shared_ptr<cano::CircuitBreaker>& breaker) { breaker->record_failure(acquire(breaker)); }

void succeed_once(const std::shared_ptr<cano::CircuitBreaker>& breaker) { breaker->record_success(acquire(breaker)); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// A predicate for BOOST_CHECK_EXCEPTION: the exception text contains `needle`.
auto what_contains(std::string needle) {
  return [needle](const std::invalid_argument& e) { return contains(e.what(), needle); };
}

} // namespace

BOOST_AUTO_TEST_SUITE(circuit_breaker_test)

// §5.3 #34
BOOST_AUTO_TEST_CASE(new_breaker_starts_closed) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  BOOST_TEST(breaker->state().is_closed());
  BOOST_TEST(!breaker->state().is_open());
  BOOST_TEST(!breaker->state().is_half_open());
}

// §1.5: Default = {5, 30 s, 1}.
BOOST_AUTO_TEST_CASE(default_policy_is_five_failures_thirty_seconds_one_trial) {
  cano::CircuitPolicy policy;
  BOOST_TEST(policy.failure_threshold == 5u);
  BOOST_TEST(policy.reset_timeout.count() == 30000);
  BOOST_TEST(policy.half_open_max_calls == 1u);
  auto breaker = cano::CircuitBreaker::make();
  BOOST_TEST(breaker->policy().failure_threshold == 5u);
  BOOST_TEST(breaker->state().is_closed());
}

// §5.3 #35
BOOST_AUTO_TEST_CASE(threshold_consecutive_failures_open_the_breaker_and_reject_calls) {
  auto breaker = cano::CircuitBreaker::make(slow_reset_policy());
  fail_once(breaker);
  fail_once(breaker);
  BOOST_TEST(breaker->state().is_closed());
  fail_once(breaker);
  BOOST_TEST(breaker->state().is_open());

  auto rejected = breaker->try_acquire();
  BOOST_TEST_REQUIRE(!rejected.has_value());
  BOOST_TEST(std::string(rejected.error().category()) == "circuit_open");
  BOOST_TEST(rejected.error() == cano::error::circuit_open("circuit breaker open: rejecting call"));
  BOOST_TEST(breaker->state().is_open());
}

// §5.3 #36
BOOST_AUTO_TEST_CASE(a_success_resets_the_failure_streak) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  fail_once(breaker);
  fail_once(breaker);
  succeed_once(breaker);
  fail_once(breaker);
  fail_once(breaker);
  BOOST_TEST(breaker->state().is_closed());
}

// §5.3 #37
BOOST_AUTO_TEST_CASE(open_breaker_becomes_half_open_after_reset_timeout_on_acquire) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  for (int i = 0; i < 3; ++i) {
    fail_once(breaker);
  }
  BOOST_TEST_REQUIRE(breaker->state().is_open());
  wait_past_reset_timeout();
  auto probe = breaker->try_acquire();
  BOOST_TEST(probe.has_value());
  BOOST_TEST(breaker->state().is_half_open());
  if (probe) {
    breaker->record_success(std::move(probe.value()));
  }
}

// §5.3 #38
BOOST_AUTO_TEST_CASE(half_open_breaker_closes_after_half_open_max_calls_successes) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  for (int i = 0; i < 3; ++i) {
    fail_once(breaker);
  }
  wait_past_reset_timeout();
  auto first = acquire(breaker);
  auto second = acquire(breaker);
  BOOST_TEST(breaker->state().is_half_open());
  breaker->record_success(std::move(first));
  BOOST_TEST(breaker->state().is_half_open());
  breaker->record_success(std::move(second));
  BOOST_TEST(breaker->state().is_closed());
}

// §5.3 #39
BOOST_AUTO_TEST_CASE(a_failed_half_open_trial_reopens_the_breaker) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  for (int i = 0; i < 3; ++i) {
    fail_once(breaker);
  }
  wait_past_reset_timeout();
  auto trial = acquire(breaker);
  BOOST_TEST(breaker->state().is_half_open());
  breaker->record_failure(std::move(trial));
  BOOST_TEST(breaker->state().is_open());
}

// §5.3 #40
BOOST_AUTO_TEST_CASE(half_open_breaker_rejects_calls_beyond_the_trial_slots) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  for (int i = 0; i < 3; ++i) {
    fail_once(breaker);
  }
  wait_past_reset_timeout();
  auto first = acquire(breaker);
  auto second = acquire(breaker);
  auto third = breaker->try_acquire();
  BOOST_TEST_REQUIRE(!third.has_value());
  BOOST_TEST(std::string(third.error().category()) == "circuit_open");
  BOOST_TEST(third.error() == cano::error::circuit_open("circuit breaker half-open: trial slot exhausted"));
  BOOST_TEST(breaker->state().is_half_open());
  breaker->record_success(std::move(first));
  breaker->record_success(std::move(second));
  BOOST_TEST(breaker->state().is_closed());
}

// §5.3 #41
BOOST_AUTO_TEST_CASE(permits_dropped_unconsumed_count_as_failures) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  {
    auto a = acquire(breaker);
    auto b = acquire(breaker);
    auto c = acquire(breaker);
    BOOST_TEST(breaker->state().is_closed());
  }
  BOOST_TEST(breaker->state().is_open());
}

// Errata O1: an abandoned HalfOpen probe (cancellation, panic) reopens the breaker.
BOOST_AUTO_TEST_CASE(a_half_open_probe_dropped_unconsumed_reopens_the_breaker) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  for (int i = 0; i < 3; ++i) {
    fail_once(breaker);
  }
  wait_past_reset_timeout();
  {
    auto probe = acquire(breaker);
    BOOST_TEST(breaker->state().is_half_open());
  }
  BOOST_TEST(breaker->state().is_open());
}

// §5.3 #42
BOOST_AUTO_TEST_CASE(zero_half_open_max_calls_is_rejected) {
  BOOST_CHECK_EXCEPTION(cano::CircuitBreaker::make(cano::CircuitPolicy{3, 20ms, 0}), std::invalid_argument,
                        what_contains("half_open_max_calls must be >= 1"));
}

// §5.3 #42
BOOST_AUTO_TEST_CASE(zero_failure_threshold_is_rejected) {
  BOOST_CHECK_EXCEPTION(cano::CircuitBreaker::make(cano::CircuitPolicy{0, 20ms, 1}), std::invalid_argument,
                        what_contains("failure_threshold must be >= 1"));
}

// §5.3 #42
BOOST_AUTO_TEST_CASE(half_open_max_calls_above_half_of_u32_max_is_rejected) {
  BOOST_CHECK_EXCEPTION(
    cano::CircuitBreaker::make(cano::CircuitPolicy{3, 20ms, std::numeric_limits<std::uint32_t>::max()}),
    std::invalid_argument, what_contains("must be <="));
  // u32::MAX / 2 itself is allowed.
  BOOST_CHECK_NO_THROW(
    cano::CircuitBreaker::make(cano::CircuitPolicy{3, 20ms, std::numeric_limits<std::uint32_t>::max() / 2}));
}

// §5.3 #43
BOOST_AUTO_TEST_CASE(a_permit_from_before_a_transition_is_ignored_as_stale) {
  auto breaker = cano::CircuitBreaker::make(cano::CircuitPolicy{2, 20ms, 1});
  auto stale = acquire(breaker);
  fail_once(breaker);
  fail_once(breaker);
  BOOST_TEST_REQUIRE(breaker->state().is_open());
  wait_past_reset_timeout();
  auto probe = acquire(breaker);
  BOOST_TEST_REQUIRE(breaker->state().is_half_open());
  breaker->record_success(std::move(stale));
  BOOST_TEST(breaker->state().is_half_open());
  breaker->record_success(std::move(probe));
  BOOST_TEST(breaker->state().is_closed());
}

// §5.3 #44
BOOST_AUTO_TEST_CASE(open_state_debug_text_starts_with_open_until) {
  auto breaker = cano::CircuitBreaker::make(fast_policy());
  for (int i = 0; i < 3; ++i) {
    fail_once(breaker);
  }
  auto text = breaker->state().to_string();
  BOOST_TEST(text.rfind("Open { until:", 0) == 0u);
  BOOST_TEST(cano::CircuitBreaker::make()->state().to_string() == "Closed");
}

// §5.3 #45
BOOST_AUTO_TEST_CASE(breaker_round_trips_through_open_half_open_and_closed) {
  auto breaker = cano::CircuitBreaker::make(cano::CircuitPolicy{2, 20ms, 1});
  fail_once(breaker);
  fail_once(breaker);
  BOOST_TEST_REQUIRE(breaker->state().is_open());

  wait_past_reset_timeout();
  auto trial = acquire(breaker);
  BOOST_TEST(breaker->state().is_half_open());
  breaker->record_failure(std::move(trial));
  BOOST_TEST(breaker->state().is_open());

  wait_past_reset_timeout();
  auto second_trial = acquire(breaker);
  BOOST_TEST(breaker->state().is_half_open());
  BOOST_TEST(breaker->state().to_string() == "HalfOpen");
  breaker->record_success(std::move(second_trial));
  BOOST_TEST(breaker->state().is_closed());

  fail_once(breaker);
  BOOST_TEST(breaker->state().is_closed());
  fail_once(breaker);
  BOOST_TEST(breaker->state().is_open());
}

// Errata O7: clones of a breaker are the same breaker (shared ownership in the port).
BOOST_AUTO_TEST_CASE(copies_of_a_shared_breaker_share_state) {
  auto breaker = cano::CircuitBreaker::make(slow_reset_policy());
  auto alias = breaker;
  fail_once(breaker);
  fail_once(alias);
  fail_once(breaker);
  BOOST_TEST(alias->state().is_open());
  BOOST_TEST(!alias->try_acquire().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
