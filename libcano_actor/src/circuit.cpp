#include "cano/circuit.hpp"

#include <limits>
#include <stdexcept>

#include "deadline.hpp"
#include "measure.hpp"

namespace cano {

namespace {
constexpr std::uint32_t max_half_open_calls = std::numeric_limits<std::uint32_t>::max() / 2;
}

std::string CircuitState::to_string() const {
  switch (state) {
    case kind::closed: return "Closed";
    case kind::half_open: return "HalfOpen";
    case kind::open: {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      return "Open { until: now + " + std::to_string(left.count()) + "ms }";
    }
  }
  return "Closed";
}

CircuitBreaker::CircuitBreaker(CircuitPolicy policy) : policy_(policy) {
  if (policy.failure_threshold == 0) {
    throw std::invalid_argument("CircuitPolicy::failure_threshold must be >= 1");
  }
  if (policy.half_open_max_calls == 0) {
    throw std::invalid_argument("CircuitPolicy::half_open_max_calls must be >= 1");
  }
  if (policy.half_open_max_calls > max_half_open_calls) {
    throw std::invalid_argument("CircuitPolicy::half_open_max_calls must be <= " + std::to_string(max_half_open_calls));
  }
}

std::shared_ptr<CircuitBreaker> CircuitBreaker::make(CircuitPolicy policy) {
  return std::make_shared<CircuitBreaker>(policy);
}

std::shared_ptr<metrics_sink> CircuitBreaker::sink_locked() const {
  return metrics_ ? metrics_ : default_metrics_sink();
}

void CircuitBreaker::set_metrics(std::shared_ptr<metrics_sink> sink) {
  std::lock_guard<std::mutex> guard(mutex_);
  metrics_ = std::move(sink);
}

void CircuitBreaker::transition(CircuitState::kind to, std::chrono::steady_clock::time_point now) {
  using kind = CircuitState::kind;
  const auto from = state_.state;
  if (auto sink = sink_locked()) {
    auto t = from == kind::closed ? circuit_transition::closed_to_open
             : from == kind::open ? circuit_transition::open_to_halfopen
             : to == kind::closed ? circuit_transition::halfopen_to_closed
                                  : circuit_transition::halfopen_to_open;
    detail::measure(sink, [t](metrics_sink& m) { m.circuit_changed(t); });
  }
  state_.state = to;
  // Saturated: a reset timeout too long for the clock keeps the breaker open (never resets).
  state_.until = to == CircuitState::kind::open
                   ? detail::deadline_after<std::chrono::steady_clock>(now, policy_.reset_timeout)
                   : std::chrono::steady_clock::time_point{};
  half_open_in_flight_ = 0;
  half_open_successes_ = 0;
  ++epoch_; // wraps; permits of the previous state become stale
}

expected<Permit> CircuitBreaker::try_acquire() {
  std::lock_guard<std::mutex> guard(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (state_.is_open() && now >= state_.until) {
    transition(CircuitState::kind::half_open, now);
  }
  auto result = acquire_locked();
  detail::measure(sink_locked(), [ok = result.has_value()](metrics_sink& m) { m.circuit_acquire(ok); });
  return result;
}

expected<Permit> CircuitBreaker::acquire_locked() {
  switch (state_.state) {
    case CircuitState::kind::closed: return Permit(shared_from_this(), false, epoch_);
    case CircuitState::kind::open: return error::circuit_open("circuit breaker open: rejecting call");
    case CircuitState::kind::half_open:
      if (half_open_in_flight_ >= policy_.half_open_max_calls) {
        return error::circuit_open("circuit breaker half-open: trial slot exhausted");
      }
      ++half_open_in_flight_;
      return Permit(shared_from_this(), true, epoch_);
  }
  return error::circuit_open("circuit breaker open: rejecting call");
}

void CircuitBreaker::settle(bool success, bool half_open, std::uint32_t epoch) {
  std::lock_guard<std::mutex> guard(mutex_);
  // Every outcome is counted, stale ones and dropped permits (failures) included (cano).
  detail::measure(sink_locked(), [success](metrics_sink& m) { m.circuit_outcome(success); });
  if (epoch != epoch_) {
    return; // issued before the last transition: stale
  }
  if (half_open && half_open_in_flight_ > 0) {
    --half_open_in_flight_;
  }
  auto now = std::chrono::steady_clock::now();
  switch (state_.state) {
    case CircuitState::kind::closed:
      if (success) {
        consecutive_failures_ = 0;
      } else {
        if (consecutive_failures_ < std::numeric_limits<std::uint32_t>::max()) {
          ++consecutive_failures_;
        }
        if (consecutive_failures_ >= policy_.failure_threshold) {
          transition(CircuitState::kind::open, now);
        }
      }
      break;
    case CircuitState::kind::half_open:
      if (success) {
        if (half_open_successes_ < std::numeric_limits<std::uint32_t>::max()) {
          ++half_open_successes_;
        }
        if (half_open_successes_ >= policy_.half_open_max_calls) {
          consecutive_failures_ = 0;
          transition(CircuitState::kind::closed, now);
        }
      } else {
        transition(CircuitState::kind::open, now);
      }
      break;
    case CircuitState::kind::open: break;
  }
}

void CircuitBreaker::record_success(Permit permit) {
  auto breaker = std::move(permit.breaker_);
  settle(true, permit.half_open_, permit.epoch_);
}

void CircuitBreaker::record_failure(Permit permit) {
  auto breaker = std::move(permit.breaker_);
  settle(false, permit.half_open_, permit.epoch_);
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return state_;
}

Permit::Permit(Permit&& other) noexcept
  : breaker_(std::move(other.breaker_)),
    half_open_(other.half_open_),
    epoch_(other.epoch_) {}

Permit& Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    if (breaker_) {
      breaker_->settle(false, half_open_, epoch_);
    }
    breaker_ = std::move(other.breaker_);
    half_open_ = other.half_open_;
    epoch_ = other.epoch_;
  }
  return *this;
}

Permit::~Permit() {
  if (breaker_) {
    breaker_->settle(false, half_open_, epoch_); // dropped unconsumed: a failure (cano)
  }
}

} // namespace cano
