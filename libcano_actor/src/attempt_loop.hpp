// cano's run_with_retries as a state machine, so that actors can drive it without blocking:
// begin() before each attempt (circuit breaker), finish() after it decides: done, or retry
// after a delay. attempt_runner drives it for every kind of work.
#pragma once

#include <cstdint>
#include <memory>
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

/// The task id observers see for split branch `branch` of a task named `name`: "name[branch]".
inline std::string branch_task_id(const std::string& name, std::size_t branch) {
  return name + "[" + std::to_string(branch) + "]";
}

class attempt_loop {
public:
  /// No split branch: the work is a state's task.
  /// A split branch's index; a split never has 2^32 branches.
  using branch_index = std::uint32_t;
  static constexpr branch_index no_branch = static_cast<branch_index>(-1);

  /// `work` and `ctx` (the run: its observers, metrics sink and logger) outlive the loop;
  /// `branch` is the split branch the work is (observers name it "task[branch]"), or no_branch.
  attempt_loop(const work_item& work, const run_context& ctx, branch_index branch = no_branch)
    : work_(work),
      ctx_(ctx),
      branch_(branch) {}

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

  /// The final result, valid once finish() returned done (or settle() set it).
  expected<step_result>& result() { return *result_; }
  /// Ends the loop with `value` from outside an attempt (a cancel between two steps, a cursor
  /// row that could not be written).
  void settle(expected<step_result> value) { result_ = std::make_unique<expected<step_result>>(std::move(value)); }
  /// The id observers see: the task's name, "name[i]" for split branch i (built on demand: a
  /// loop without observers never needs it).
  std::string task_id() const;
  /// 1-based number of the attempt in progress (or last made).
  std::uint32_t attempt() const noexcept { return attempt_; }

private:
  const work_item& work_;
  const run_context& ctx_;
  branch_index branch_; // or no_branch
  std::uint32_t attempt_ = 0;
  // Both are held behind pointers: a loop waiting for its next call (a parked poll) holds
  // neither, and their inline storage (~120 bytes) would be paid by every parked run.
  std::unique_ptr<Permit> permit_;                // a circuit breaker's, while an attempt runs
  std::unique_ptr<expected<step_result>> result_; // once the loop settled
};

} // namespace cano::detail
