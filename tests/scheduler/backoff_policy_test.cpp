// cano's BackoffPolicy (spec §5.13 scenarios 169-170): the delay formula without jitter, the
// cap, jitter bounds, the trip rule and the defaults.
#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>

#include "cano/scheduler.hpp"

using namespace std::chrono_literals;

namespace {
cano::BackoffPolicy policy(std::chrono::nanoseconds initial, double multiplier, std::chrono::nanoseconds cap,
                           double jitter, std::optional<std::uint32_t> limit = std::nullopt) {
  return cano::BackoffPolicy{initial, multiplier, cap, jitter, limit};
}
} // namespace

BOOST_AUTO_TEST_SUITE(backoff_policy_test)

BOOST_AUTO_TEST_CASE(delays_grow_exponentially_without_jitter) {
  auto p = policy(100ms, 2.0, 60s, 0.0);
  BOOST_TEST(p.compute_delay(1).count() == std::chrono::nanoseconds(100ms).count());
  BOOST_TEST(p.compute_delay(2).count() == std::chrono::nanoseconds(200ms).count());
  BOOST_TEST(p.compute_delay(3).count() == std::chrono::nanoseconds(400ms).count());
  BOOST_TEST(p.compute_delay(4).count() == std::chrono::nanoseconds(800ms).count());
}

BOOST_AUTO_TEST_CASE(delays_stop_at_max_delay) {
  auto p = policy(100ms, 10.0, 500ms, 0.0);
  BOOST_TEST(p.compute_delay(5).count() == std::chrono::nanoseconds(500ms).count());
  BOOST_TEST(p.compute_delay(20).count() == std::chrono::nanoseconds(500ms).count());
  // 10^999 overflows to inf: min(inf, cap) is still the cap.
  BOOST_TEST(p.compute_delay(1000).count() == std::chrono::nanoseconds(500ms).count());
}

BOOST_AUTO_TEST_CASE(jitter_stays_within_its_band_and_the_cap) {
  auto p = policy(1000ms, 1.0, 60s, 0.5);
  for (int i = 0; i < 50; ++i) {
    auto d = p.compute_delay(1);
    BOOST_TEST(d.count() >= std::chrono::nanoseconds(500ms).count());
    BOOST_TEST(d.count() <= std::chrono::nanoseconds(1500ms).count());
  }
  // The band's edges, drawn explicitly; jitter above 1 is clamped to 1; the cap holds after jitter.
  BOOST_TEST(p.compute_delay(1, -1.0).count() == std::chrono::nanoseconds(500ms).count());
  BOOST_TEST(p.compute_delay(1, 1.0).count() == std::chrono::nanoseconds(1500ms).count());
  auto wide = policy(1000ms, 1.0, 60s, 3.0);
  BOOST_TEST(wide.compute_delay(1, -1.0).count() == 0);
  BOOST_TEST(wide.compute_delay(1, 1.0).count() == std::chrono::nanoseconds(2000ms).count());
  auto capped = policy(1000ms, 1.0, 1100ms, 0.5);
  BOOST_TEST(capped.compute_delay(1, 1.0).count() == std::chrono::nanoseconds(1100ms).count());
}

BOOST_AUTO_TEST_CASE(streak_zero_counts_as_one) {
  auto p = policy(100ms, 2.0, 10s, 0.0);
  BOOST_TEST(p.compute_delay(0).count() == std::chrono::nanoseconds(100ms).count());
}

BOOST_AUTO_TEST_CASE(delays_keep_sub_millisecond_precision) {
  // cano computes in f64 seconds: no truncation to whole milliseconds.
  auto p = policy(1500us, 1.5, 60s, 0.0);
  BOOST_TEST(p.compute_delay(2).count() == 2250000);
}

BOOST_AUTO_TEST_CASE(nan_operands_act_as_cano_min_and_max_do) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // multiplier NaN: base is NaN, min(NaN, cap) = cap (f64::min ignores NaN).
  BOOST_TEST(policy(100ms, nan, 5s, 0.0).compute_delay(3).count() == std::chrono::nanoseconds(5s).count());
  // jitter NaN: `jitter > 0` is false, no jitter.
  BOOST_TEST(policy(100ms, 2.0, 5s, nan).compute_delay(2).count() == std::chrono::nanoseconds(200ms).count());
  // a negative multiplier at an odd power floors at zero.
  BOOST_TEST(policy(100ms, -2.0, 5s, 0.0).compute_delay(2).count() == 0);
}

BOOST_AUTO_TEST_CASE(trips_at_the_streak_limit) {
  auto p = policy(100ms, 2.0, 60s, 0.0, 3u);
  BOOST_TEST(!p.is_tripped(0));
  BOOST_TEST(!p.is_tripped(2));
  BOOST_TEST(p.is_tripped(3));
  BOOST_TEST(p.is_tripped(99));
  cano::BackoffPolicy never;
  never.streak_limit = std::nullopt;
  BOOST_TEST(!never.is_tripped(0));
  BOOST_TEST(!never.is_tripped(UINT32_MAX));
  BOOST_TEST(cano::BackoffPolicy::with_trip(0).is_tripped(1));
}

BOOST_AUTO_TEST_CASE(defaults_are_canos) {
  cano::BackoffPolicy d;
  BOOST_TEST(d.initial.count() == std::chrono::nanoseconds(1s).count());
  BOOST_TEST(d.multiplier == 2.0);
  BOOST_TEST(d.max_delay.count() == std::chrono::nanoseconds(300s).count());
  BOOST_TEST(d.jitter == 0.1);
  BOOST_TEST(!d.streak_limit.has_value());
  auto t = cano::BackoffPolicy::with_trip(7);
  BOOST_TEST(t.initial.count() == d.initial.count());
  BOOST_TEST(t.multiplier == d.multiplier);
  BOOST_TEST(t.max_delay.count() == d.max_delay.count());
  BOOST_TEST(t.jitter == d.jitter);
  BOOST_TEST((t.streak_limit == std::optional<std::uint32_t>(7)));
}

BOOST_AUTO_TEST_SUITE_END()
