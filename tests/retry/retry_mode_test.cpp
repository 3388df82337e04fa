// RetryMode and TaskConfig: attempt counts and backoff delays (spec §1.4, acceptance scenarios
// §5.2 #11–18) and the exact float semantics of delay_for_attempt (errata O4).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "cano/retry.hpp"

using namespace std::chrono_literals;

namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

} // namespace

BOOST_AUTO_TEST_SUITE(retry_mode_test)

// §5.2 #11
BOOST_AUTO_TEST_CASE(none_retry_makes_one_attempt_and_never_waits) {
  auto mode = cano::RetryMode::none();
  BOOST_TEST(mode.max_attempts() == 1u);
  BOOST_TEST(!mode.delay_for_attempt(0).has_value());
  BOOST_TEST(!mode.delay_for_attempt(1).has_value());
}

// §5.2 #12
BOOST_AUTO_TEST_CASE(fixed_retry_gives_the_same_delay_until_retries_run_out) {
  auto mode = cano::RetryMode::fixed(3, 100ms);
  BOOST_TEST(mode.max_attempts() == 4u);
  for (std::size_t attempt = 0; attempt < 3; ++attempt) {
    auto d = mode.delay_for_attempt(attempt);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() == 100);
  }
  BOOST_TEST(!mode.delay_for_attempt(3).has_value());
  BOOST_TEST(!mode.delay_for_attempt(4).has_value());
}

// §5.2 #13
BOOST_AUTO_TEST_CASE(exponential_retry_grows_the_delay_and_stops_after_max_retries) {
  auto mode = cano::RetryMode::exponential(3);
  BOOST_TEST(mode.max_attempts() == 4u);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  auto d2 = mode.delay_for_attempt(2);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST_REQUIRE(d2.has_value());
  BOOST_TEST(d1->count() >= d0->count() / 2);
  BOOST_TEST(d2->count() >= d1->count() / 2);
  BOOST_TEST(!mode.delay_for_attempt(3).has_value());
}

// §1.4: exponential(n) = {base 100 ms, x2.0, cap 30 s, jitter 0.1}.
BOOST_AUTO_TEST_CASE(exponential_retry_uses_cano_defaults_for_base_multiplier_cap_and_jitter) {
  auto mode = cano::RetryMode::exponential(3);
  BOOST_TEST((mode.mode() == cano::RetryMode::kind::exponential));
  BOOST_TEST(mode.retries() == 3u);
  BOOST_TEST(mode.base_delay().count() == 100);
  BOOST_TEST(mode.multiplier() == 2.0);
  BOOST_TEST(mode.max_delay().count() == 30000);
  BOOST_TEST(mode.jitter() == 0.1);
  // 10 % jitter around 100, 200 and 400 ms.
  for (int i = 0; i < 20; ++i) {
    auto d0 = mode.delay_for_attempt(0);
    auto d1 = mode.delay_for_attempt(1);
    auto d2 = mode.delay_for_attempt(2);
    BOOST_TEST_REQUIRE(d0.has_value());
    BOOST_TEST_REQUIRE(d1.has_value());
    BOOST_TEST_REQUIRE(d2.has_value());
    BOOST_TEST(d0->count() >= 90);
    BOOST_TEST(d0->count() <= 110);
    BOOST_TEST(d1->count() >= 180);
    BOOST_TEST(d1->count() <= 220);
    BOOST_TEST(d2->count() >= 360);
    BOOST_TEST(d2->count() <= 440);
  }
}

// §5.2 #14
BOOST_AUTO_TEST_CASE(custom_exponential_without_jitter_multiplies_the_base_each_attempt) {
  auto mode = cano::RetryMode::exponential_custom(2, 50ms, 3.0, 5s, 0.0);
  BOOST_TEST(mode.max_attempts() == 3u);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST(d0->count() == 50);
  BOOST_TEST(d1->count() == 150);
  BOOST_TEST(!mode.delay_for_attempt(2).has_value());
}

// §5.2 #15
BOOST_AUTO_TEST_CASE(custom_exponential_delay_is_capped_at_max_delay) {
  auto mode = cano::RetryMode::exponential_custom(5, 100ms, 10.0, 500ms, 0.0);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  auto d2 = mode.delay_for_attempt(2);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST_REQUIRE(d2.has_value());
  BOOST_TEST(d0->count() == 100);
  BOOST_TEST(d1->count() == 500);
  BOOST_TEST(d2->count() == 500);
}

// §5.2 #16
BOOST_AUTO_TEST_CASE(half_jitter_keeps_the_first_delay_within_half_of_the_base) {
  auto mode = cano::RetryMode::exponential_custom(3, 100ms, 2.0, 30s, 0.5);
  for (int i = 0; i < 20; ++i) {
    auto d = mode.delay_for_attempt(0);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() >= 50);
    BOOST_TEST(d->count() <= 150);
  }
}

// §5.2 #17
BOOST_AUTO_TEST_CASE(custom_exponential_clamps_negative_jitter_to_zero) {
  auto mode = cano::RetryMode::exponential_custom(1, 100ms, 2.0, 30s, -0.5);
  BOOST_TEST(mode.jitter() == 0.0);
  auto d = mode.delay_for_attempt(0);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->count() == 100);
}

// §5.2 #17
BOOST_AUTO_TEST_CASE(custom_exponential_clamps_jitter_above_one_to_one) {
  auto mode = cano::RetryMode::exponential_custom(1, 100ms, 2.0, 30s, 1.5);
  BOOST_TEST(mode.jitter() == 1.0);
  for (int i = 0; i < 20; ++i) {
    auto d = mode.delay_for_attempt(0);
    BOOST_TEST_REQUIRE(d.has_value());
    BOOST_TEST(d->count() >= 0);
    BOOST_TEST(d->count() <= 200);
  }
}

// §5.2 #18
BOOST_AUTO_TEST_CASE(default_retry_mode_makes_four_attempts_with_three_delays) {
  cano::RetryMode mode;
  BOOST_TEST(mode.max_attempts() == 4u);
  BOOST_TEST(mode.delay_for_attempt(0).has_value());
  BOOST_TEST(mode.delay_for_attempt(1).has_value());
  BOOST_TEST(mode.delay_for_attempt(2).has_value());
  BOOST_TEST(!mode.delay_for_attempt(3).has_value());
}

// §5.2 #18
BOOST_AUTO_TEST_CASE(task_config_builders_set_the_number_of_attempts) {
  BOOST_TEST(cano::TaskConfig::make().retry_mode.max_attempts() == 4u);
  BOOST_TEST(cano::TaskConfig{}.retry_mode.max_attempts() == 4u);
  BOOST_TEST(cano::TaskConfig::minimal().retry_mode.max_attempts() == 1u);
  BOOST_TEST(cano::TaskConfig{}.with_fixed_retry(5, 100ms).retry_mode.max_attempts() == 6u);
  BOOST_TEST(cano::TaskConfig{}.with_fixed_retry(10, 1s).retry_mode.max_attempts() == 11u);
}

// §1.4: TaskConfig defaults and minimal() leave timeout and breaker unset.
BOOST_AUTO_TEST_CASE(task_config_defaults_have_no_timeout_and_no_circuit_breaker) {
  auto def = cano::TaskConfig::make();
  BOOST_TEST(!def.attempt_timeout.has_value());
  BOOST_TEST(!def.circuit_breaker);
  BOOST_TEST((def.retry_mode.mode() == cano::RetryMode::kind::exponential));
  auto minimal = cano::TaskConfig::minimal();
  BOOST_TEST((minimal.retry_mode.mode() == cano::RetryMode::kind::none));
  BOOST_TEST(!minimal.attempt_timeout.has_value());
  BOOST_TEST(!minimal.circuit_breaker);
  auto timed = cano::TaskConfig{}.with_attempt_timeout(500ms);
  BOOST_TEST_REQUIRE(timed.attempt_timeout.has_value());
  BOOST_TEST(timed.attempt_timeout->count() == 500);
  BOOST_TEST(cano::TaskConfig{}.with_exponential_retry(7).retry_mode.max_attempts() == 8u);
}

// Errata O4: f64::min ignores NaN, so a NaN multiplier leaves the cap. NaN^0 == 1, so attempt 0
// still waits the base.
BOOST_AUTO_TEST_CASE(nan_multiplier_gives_max_delay_after_the_first_attempt) {
  auto mode = cano::RetryMode::exponential_raw(3, 100ms, nan_value, 5s, 0.0);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  auto d2 = mode.delay_for_attempt(2);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST_REQUIRE(d2.has_value());
  BOOST_TEST(d0->count() == 100);
  BOOST_TEST(d1->count() == 5000);
  BOOST_TEST(d2->count() == 5000);
  BOOST_TEST(!mode.delay_for_attempt(3).has_value());
}

// Errata O4: +inf * base is capped at max_delay (inf^0 == 1 keeps the base at attempt 0).
BOOST_AUTO_TEST_CASE(infinite_multiplier_gives_max_delay_after_the_first_attempt) {
  auto mode = cano::RetryMode::exponential_raw(3, 100ms, infinity, 5s, 0.0);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  auto d2 = mode.delay_for_attempt(2);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST_REQUIRE(d2.has_value());
  BOOST_TEST(d0->count() == 100);
  BOOST_TEST(d1->count() == 5000);
  BOOST_TEST(d2->count() == 5000);
}

// Errata O4: a negative product is clamped to 0 by max(.., 0).
BOOST_AUTO_TEST_CASE(negative_multiplier_gives_zero_delay_at_odd_attempts) {
  auto mode = cano::RetryMode::exponential_raw(4, 100ms, -2.0, 5s, 0.0);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  auto d2 = mode.delay_for_attempt(2);
  auto d3 = mode.delay_for_attempt(3);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST_REQUIRE(d2.has_value());
  BOOST_TEST_REQUIRE(d3.has_value());
  BOOST_TEST(d0->count() == 100);
  BOOST_TEST(d1->count() == 0);
  BOOST_TEST(d2->count() == 400);
  BOOST_TEST(d3->count() == 0);
}

// Errata O4: 0^0 == 1, 0^n == 0.
BOOST_AUTO_TEST_CASE(zero_multiplier_gives_the_base_first_then_zero_delay) {
  auto mode = cano::RetryMode::exponential_raw(3, 100ms, 0.0, 5s, 0.0);
  auto d0 = mode.delay_for_attempt(0);
  auto d1 = mode.delay_for_attempt(1);
  auto d2 = mode.delay_for_attempt(2);
  BOOST_TEST_REQUIRE(d0.has_value());
  BOOST_TEST_REQUIRE(d1.has_value());
  BOOST_TEST_REQUIRE(d2.has_value());
  BOOST_TEST(d0->count() == 100);
  BOOST_TEST(d1->count() == 0);
  BOOST_TEST(d2->count() == 0);
}

// Errata O4: `NaN > 0` is false, so a NaN jitter applies no jitter at all.
BOOST_AUTO_TEST_CASE(nan_jitter_is_treated_as_no_jitter) {
  auto raw = cano::RetryMode::exponential_raw(3, 100ms, 2.0, 5s, nan_value);
  for (int i = 0; i < 20; ++i) {
    auto d0 = raw.delay_for_attempt(0);
    auto d1 = raw.delay_for_attempt(1);
    BOOST_TEST_REQUIRE(d0.has_value());
    BOOST_TEST_REQUIRE(d1.has_value());
    BOOST_TEST(d0->count() == 100);
    BOOST_TEST(d1->count() == 200);
  }
  // exponential_custom's clamp keeps NaN (Rust's f64::clamp), with the same effect.
  auto custom = cano::RetryMode::exponential_custom(3, 100ms, 2.0, 5s, nan_value);
  BOOST_TEST(std::isnan(custom.jitter()));
  auto d = custom.delay_for_attempt(0);
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->count() == 100);
}

// §1.4: the plain enum literal (exponential_raw) does not clamp the jitter.
BOOST_AUTO_TEST_CASE(raw_exponential_keeps_the_jitter_unclamped) {
  BOOST_TEST(cano::RetryMode::exponential_raw(1, 100ms, 2.0, 30s, 1.5).jitter() == 1.5);
  BOOST_TEST(cano::RetryMode::exponential_raw(1, 100ms, 2.0, 30s, -0.5).jitter() == -0.5);
}

BOOST_AUTO_TEST_SUITE_END()
