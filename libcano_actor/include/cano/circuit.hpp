// CircuitBreaker — a shared breaker that stops calling a failing dependency for a while.
//
//   auto breaker = cano::CircuitBreaker::make({/*failure_threshold*/ 3, 30s, /*half_open*/ 1});
//   auto cfg = cano::TaskConfig{}.with_circuit_breaker(breaker);  // shared by many tasks
//
// Closed → (failure_threshold consecutive failures) → Open → (reset_timeout elapsed, checked
// lazily) → HalfOpen → (half_open_max_calls successes) → Closed, or one failure → Open.
// A Permit is consumed by record_success/record_failure; a permit dropped unconsumed counts as a
// failure (a cancelled or abandoned attempt), as in cano. Acquires, outcomes and transitions are
// measured (cano's cano_circuit_* metrics) in the breaker's metrics sink, or the process default.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "cano/error.hpp"
#include "cano/metrics_sink.hpp"

namespace cano {

struct CircuitPolicy {
  std::uint32_t failure_threshold = 5;
  std::chrono::milliseconds reset_timeout{30000};
  std::uint32_t half_open_max_calls = 1;
};

struct CircuitState {
  enum class kind { closed, open, half_open };
  kind state = kind::closed;
  std::chrono::steady_clock::time_point until{}; // meaningful when open

  bool is_closed() const noexcept { return state == kind::closed; }
  bool is_open() const noexcept { return state == kind::open; }
  bool is_half_open() const noexcept { return state == kind::half_open; }
  /// "Closed", "HalfOpen" or "Open { until: ... }" (cano's Debug form).
  std::string to_string() const;
};

class CircuitBreaker;

/// The right to make one call. Move-only; dropping it unconsumed records a failure.
class Permit {
public:
  Permit(Permit&& other) noexcept;
  Permit& operator=(Permit&& other) noexcept;
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  ~Permit();

private:
  friend class CircuitBreaker;
  Permit(std::shared_ptr<CircuitBreaker> breaker, bool half_open, std::uint32_t epoch)
    : breaker_(std::move(breaker)),
      half_open_(half_open),
      epoch_(epoch) {}
  std::shared_ptr<CircuitBreaker> breaker_; // empty once consumed
  bool half_open_;
  std::uint32_t epoch_;
};

class CircuitBreaker : public std::enable_shared_from_this<CircuitBreaker> {
public:
  /// Throws std::invalid_argument for failure_threshold 0 or half_open_max_calls 0 or too large.
  static std::shared_ptr<CircuitBreaker> make(CircuitPolicy policy = {});

  /// A permit, or circuit_open("circuit breaker open: rejecting call") /
  /// circuit_open("circuit breaker half-open: trial slot exhausted").
  expected<Permit> try_acquire();
  void record_success(Permit permit);
  void record_failure(Permit permit);

  CircuitState state() const;
  const CircuitPolicy& policy() const noexcept { return policy_; }

  /// Where this breaker's acquires, outcomes and transitions are measured (cano-semantics §1.17:
  /// cano_circuit_acquires_total, cano_circuit_outcomes_total, cano_circuit_transitions_total).
  /// Null (the default): the process default sink (set_default_metrics_sink), if any.
  void set_metrics(std::shared_ptr<metrics_sink> sink);

  explicit CircuitBreaker(CircuitPolicy policy); // prefer make(): permits need shared ownership

private:
  friend class Permit;
  void settle(bool success, bool half_open, std::uint32_t epoch);
  void transition(CircuitState::kind to, std::chrono::steady_clock::time_point now);
  expected<Permit> acquire_locked();
  /// The sink to measure in (own or default), or null; called with mutex_ held.
  std::shared_ptr<metrics_sink> sink_locked() const;

  CircuitPolicy policy_;
  mutable std::mutex mutex_;
  CircuitState state_;
  std::uint32_t consecutive_failures_ = 0;
  std::uint32_t half_open_in_flight_ = 0;
  std::uint32_t half_open_successes_ = 0;
  std::uint32_t epoch_ = 0;
  std::shared_ptr<metrics_sink> metrics_;
};

} // namespace cano
