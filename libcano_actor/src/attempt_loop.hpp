// cano's run_with_retries as a state machine, so that actors can drive it without blocking:
// begin() before each attempt (circuit breaker), finish() after it decides: done, or retry
// after a delay. attempt_runner drives it for every kind of work.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cano/circuit.hpp"
#include "cano/detail/definition.hpp"
#include "observers.hpp"

namespace cano::detail {

/// The outcome of one attempt. `panicked`: the body threw (no retry, cano's panic rule).
struct attempt_outcome {
  expected<step_result> value;
  bool panicked = false;
};

class attempt_loop {
public:
  /// `ctx`: the run (its observers, metrics sink and logger); it outlives the loop.
  attempt_loop(const TaskConfig& config, const run_context& ctx, const std::string& task_id)
    : config_(config),
      ctx_(ctx),
      task_id_(task_id) {}

  /// Starts the next attempt: takes a breaker permit. On rejection fires on_circuit_open and
  /// returns the raw circuit_open error, which ends the loop.
  std::optional<error> begin();

  struct decision {
    bool done = true;
    std::optional<duration> delay; // when !done: wait this long before the next attempt
  };
  /// Settles the attempt (breaker, observers) and says whether the loop is over.
  decision finish(attempt_outcome outcome);
  /// Whether `outcome` of attempt number `attempt` ends the loop (cano's rule: a success, a panic,
  /// a permanent error, or no attempt left); finish() and the inline fast path both decide by it.
  static bool ends_loop(const TaskConfig& config, const attempt_outcome& outcome, std::uint32_t attempt) {
    return outcome.value.has_value() || outcome.panicked || outcome.value.error().is_permanent() ||
           attempt >= config.retry_mode.max_attempts();
  }

  /// The final result, valid once finish() returned done.
  expected<step_result>& result() { return *result_; }
  /// 1-based number of the attempt in progress (or last made).
  std::uint32_t attempt() const noexcept { return attempt_; }

private:
  const TaskConfig& config_;
  const run_context& ctx_;
  const std::string& task_id_;
  std::uint32_t attempt_ = 0;
  std::optional<Permit> permit_;
  std::optional<expected<step_result>> result_;
};

} // namespace cano::detail
