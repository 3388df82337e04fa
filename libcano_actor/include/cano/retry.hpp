// Retry policy and per-task configuration (cano's RetryMode and TaskConfig).
//
//   auto cfg = cano::TaskConfig{}
//                  .with_retry(cano::RetryMode::exponential_custom(5, 50ms, 2.0, 2s, 0.1))
//                  .with_attempt_timeout(500ms)
//                  .with_blocking(false);   // fast path: the body never blocks (ARCHITECTURE D1)
//
// Defaults follow cano: 3 retries with exponential backoff (100 ms base, x2, 30 s cap, 10 %
// jitter), no attempt timeout, no circuit breaker. `blocking` defaults to true: the body runs on
// the engine's thread pool, never on CAF's scheduler.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cano/circuit.hpp" // TaskConfig::with_circuit_breaker takes what CircuitBreaker::make returns

namespace cano {

using duration = std::chrono::milliseconds;

class RetryMode {
public:
  enum class kind { none, fixed, exponential };

  /// One attempt, no retry.
  static RetryMode none() { return RetryMode(none_tag{}); }
  /// `retries` retries after the first attempt, `delay` between attempts.
  static RetryMode fixed(std::size_t retries, duration delay);
  /// cano's `exponential(n)`: base 100 ms, multiplier 2.0, cap 30 s, jitter 0.1.
  static RetryMode exponential(std::size_t max_retries);
  /// Custom exponential backoff; jitter is clamped to [0, 1] (NaN stays NaN and acts as 0).
  static RetryMode exponential_custom(std::size_t max_retries, duration base, double multiplier, duration max_delay,
                                      double jitter);
  /// Exponential backoff with the given fields, jitter unclamped (cano's enum literal).
  static RetryMode exponential_raw(std::size_t max_retries, duration base, double multiplier, duration max_delay,
                                   double jitter);

  /// cano's default: exponential(3).
  RetryMode() : RetryMode(exponential(3)) {}

  kind mode() const noexcept { return kind_; }
  std::size_t retries() const noexcept { return retries_; }
  duration base_delay() const noexcept { return base_; }
  double multiplier() const noexcept { return multiplier_; }
  duration max_delay() const noexcept { return max_; }
  double jitter() const noexcept { return jitter_; }

  /// Total attempts: 1, retries + 1 (saturating).
  std::size_t max_attempts() const noexcept;
  /// The wait after the 0-based attempt `attempt` failed, or nothing when no retry follows.
  std::optional<duration> delay_for_attempt(std::size_t attempt) const;

private:
  struct none_tag {};
  explicit RetryMode(none_tag) : kind_(kind::none) {}

  kind kind_ = kind::none;
  std::size_t retries_ = 0;
  duration base_{0};
  double multiplier_ = 0.0;
  duration max_{0};
  double jitter_ = 0.0;
};

class WorkflowObserver;

/// Per-task execution settings: retries, attempt timeout, circuit breaker, blocking.
struct TaskConfig {
  RetryMode retry_mode{};
  std::optional<duration> attempt_timeout;
  std::shared_ptr<CircuitBreaker> circuit_breaker;
  /// True (default): the body may block and runs on the engine's pool. False: the body never
  /// blocks and, without an attempt timeout, runs inline in its run's supervisor actor.
  bool blocking = true;

  /// cano's `TaskConfig::new()`: the default configuration.
  static TaskConfig make() { return TaskConfig{}; }
  /// cano's `minimal()`: no retries, nothing else.
  static TaskConfig minimal();

  TaskConfig with_retry(RetryMode mode) const;
  TaskConfig with_fixed_retry(std::size_t retries, duration delay) const;
  TaskConfig with_exponential_retry(std::size_t max_retries) const;
  TaskConfig with_attempt_timeout(duration d) const;
  TaskConfig with_circuit_breaker(std::shared_ptr<CircuitBreaker> breaker) const;
  TaskConfig with_blocking(bool is_blocking) const;
};

} // namespace cano
