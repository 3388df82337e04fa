#include "cano/retry.hpp"

#include <cmath>
#include <limits>
#include <random>

namespace cano {

RetryMode RetryMode::fixed(std::size_t retries, duration delay) {
  RetryMode m = none();
  m.kind_ = kind::fixed;
  m.retries_ = retries;
  m.base_ = delay;
  return m;
}

RetryMode RetryMode::exponential_raw(std::size_t max_retries, duration base, double multiplier, duration max_delay,
                                     double jitter) {
  RetryMode m = none();
  m.kind_ = kind::exponential;
  m.retries_ = max_retries;
  m.base_ = base;
  m.multiplier_ = multiplier;
  m.max_ = max_delay;
  m.jitter_ = jitter;
  return m;
}

RetryMode RetryMode::exponential(std::size_t max_retries) {
  return exponential_raw(max_retries, duration{100}, 2.0, duration{30000}, 0.1);
}

RetryMode RetryMode::exponential_custom(std::size_t max_retries, duration base, double multiplier, duration max_delay,
                                        double jitter) {
  // Rust's f64::clamp keeps NaN; the delay computation then treats it as no jitter.
  double clamped = std::isnan(jitter) ? jitter : std::fmin(std::fmax(jitter, 0.0), 1.0);
  return exponential_raw(max_retries, base, multiplier, max_delay, clamped);
}

std::size_t RetryMode::max_attempts() const noexcept {
  if (kind_ == kind::none) {
    return 1;
  }
  return retries_ == std::numeric_limits<std::size_t>::max() ? retries_ : retries_ + 1;
}

namespace {

double uniform_minus_one_to_one() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(-1.0, 1.0)(rng);
}

// Rust's `as u64` on f64: NaN -> 0, saturating at both ends. Capped to what chrono holds.
std::int64_t saturating_ms(double v) {
  if (std::isnan(v) || v <= 0.0) {
    return 0;
  }
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (v >= static_cast<double>(max)) {
    return max;
  }
  return static_cast<std::int64_t>(v);
}

} // namespace

std::optional<duration> RetryMode::delay_for_attempt(std::size_t attempt) const {
  switch (kind_) {
    case kind::none: return std::nullopt;
    case kind::fixed:
      if (attempt < retries_) {
        return base_;
      }
      return std::nullopt;
    case kind::exponential: break;
  }
  if (attempt >= retries_) {
    return std::nullopt;
  }
  // cano's exact float semantics (errata O4): fmin/fmax ignore NaN like Rust's f64::min/max,
  // the exponent is truncated to i32 like powi, jitter applies after the cap.
  double base_ms = static_cast<double>(base_.count());
  double exp = base_ms * std::pow(multiplier_, static_cast<double>(static_cast<std::int32_t>(attempt)));
  double capped = std::fmin(exp, static_cast<double>(max_.count()));
  double factor = jitter_ > 0.0 ? 1.0 + jitter_ * uniform_minus_one_to_one() : 1.0;
  double final_ms = std::fmax(capped * factor, 0.0);
  return duration{saturating_ms(final_ms)};
}

TaskConfig TaskConfig::minimal() {
  TaskConfig c;
  c.retry_mode = RetryMode::none();
  return c;
}

TaskConfig TaskConfig::with_retry(RetryMode mode) const {
  TaskConfig c = *this;
  c.retry_mode = mode;
  return c;
}

TaskConfig TaskConfig::with_fixed_retry(std::size_t retries, duration delay) const {
  return with_retry(RetryMode::fixed(retries, delay));
}

TaskConfig TaskConfig::with_exponential_retry(std::size_t max_retries) const {
  return with_retry(RetryMode::exponential(max_retries));
}

TaskConfig TaskConfig::with_attempt_timeout(duration d) const {
  TaskConfig c = *this;
  c.attempt_timeout = d;
  return c;
}

TaskConfig TaskConfig::with_circuit_breaker(std::shared_ptr<CircuitBreaker> breaker) const {
  TaskConfig c = *this;
  c.circuit_breaker = std::move(breaker);
  return c;
}

TaskConfig TaskConfig::with_blocking(bool is_blocking) const {
  TaskConfig c = *this;
  c.blocking = is_blocking;
  return c;
}

} // namespace cano
