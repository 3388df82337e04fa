// cano's BackoffPolicy::compute_delay (scheduler/backoff.rs), in f64 seconds like cano: no
// millisecond truncation, NaN-ignoring min/max (errata O4), re-capped after jitter.
#include <cmath>
#include <cstdint>
#include <random>

#include "cano/scheduler.hpp"

namespace cano {

namespace {

double jitter_draw() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(-1.0, 1.0)(gen);
}

double as_seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

} // namespace

BackoffPolicy BackoffPolicy::with_trip(std::uint32_t n) {
  BackoffPolicy p;
  p.streak_limit = n;
  return p;
}

std::chrono::nanoseconds BackoffPolicy::compute_delay(std::uint32_t streak) const {
  return compute_delay(streak, jitter > 0.0 ? jitter_draw() : 0.0);
}

std::chrono::nanoseconds BackoffPolicy::compute_delay(std::uint32_t streak, double draw) const {
  const std::uint32_t s = streak < 1 ? 1 : streak;
  // Rust's powi takes the exponent as i32: (s - 1) wraps past i32::MAX as it does there.
  const auto exponent = static_cast<std::int32_t>(s - 1);
  const double base = as_seconds(initial) * std::pow(multiplier, exponent);
  const double cap = as_seconds(max_delay);
  const double capped = std::fmin(base, cap);
  double factor = 1.0;
  if (jitter > 0.0) {
    const double j = std::fmin(std::fmax(jitter, 0.0), 1.0);
    factor = 1.0 + j * draw;
  }
  const double delayed = std::fmax(capped * factor, 0.0);
  if (!(delayed < cap)) {
    return max_delay; // also inf; Duration::min(max_delay) in cano
  }
  auto ns = std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(delayed * 1e9)));
  return ns < max_delay ? ns : max_delay;
}

} // namespace cano
