// task_context — what a task body can see of its run.
//
//   cano::expected<cano::TaskResult<S>> run(cano::task_context& ctx) override {
//     auto db = ctx.resources().get<Db>("db");
//     if (ctx.stop_requested()) return cano::error::task_execution("abandoned");
//     if (ctx.is_cancelled()) ...;   // the run is being cancelled: wind up early
//     ...
//   }
//
// The context lives for one attempt; do not keep references to it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace cano {

class Resources;

/// Which execution of a run a task_context belongs to, for task_context::idempotency_key().
struct task_step {
  std::uint64_t step = 0;   // the sequence of the state's entry row (a visit count without a store)
  std::int32_t branch = -1; // a split branch's index, or -1
  bool undo = false;        // a compensation
};

class task_context {
public:
  using step_id = task_step;

  task_context(const std::string& workflow_id, const std::string& state_label, std::uint32_t attempt,
               const nlohmann::json& input, Resources& resources, const std::atomic<bool>* stop_flag, step_id step = {},
               const std::atomic<bool>* cancel_flag = nullptr)
    : workflow_id_(workflow_id),
      state_label_(state_label),
      attempt_(attempt),
      input_(input),
      resources_(resources),
      stop_flag_(stop_flag),
      cancel_flag_(cancel_flag),
      step_(step) {}

  /// The run's workflow id (empty when none was given).
  const std::string& workflow_id() const noexcept { return workflow_id_; }
  /// The label of the state this task runs for.
  const std::string& state_label() const noexcept { return state_label_; }
  /// 1-based number of this attempt.
  std::uint32_t attempt() const noexcept { return attempt_; }
  /// The run's input (null when none was given).
  const nlohmann::json& input() const noexcept { return input_; }
  Resources& resources() const noexcept { return resources_; }
  /// True once the engine has abandoned this attempt (timeout, workflow timeout, shutdown):
  /// long bodies should check it and return early; their result will be ignored.
  bool stop_requested() const noexcept { return stop_flag_ != nullptr && stop_flag_->load(std::memory_order_relaxed); }
  /// True once the run was asked to stop (cano 0.15 §4.3: its cancellation token,
  /// runtime::cancel, a durable CheckpointStore::request_cancel). A long body may wind up early;
  /// the engine abandons it anyway unless it is a saga step, which always finishes (its result
  /// counts, then the run stops). See cano/cancellation.hpp.
  bool is_cancelled() const noexcept {
    return cancel_flag_ != nullptr && cancel_flag_->load(std::memory_order_relaxed);
  }

  /// A key to hand to the systems a body calls so they can drop repeats (ARCHITECTURE D9):
  /// the same for every execution of one step of one run — each retry, and a re-run after a
  /// resume in any process — and different for the next visit of the same state. Shape:
  /// "<workflow id>/<step>", "<workflow id>/<step>#<branch>" for a split branch,
  /// "<workflow id>/<step>/undo" for the compensation of the step whose completion row is
  /// <step>. Without a checkpoint store, steps count the run's state visits from 0.
  std::string idempotency_key() const {
    std::string key = workflow_id_ + "/" + std::to_string(step_.step);
    if (step_.branch >= 0) {
      key += "#" + std::to_string(step_.branch);
    }
    if (step_.undo) {
      key += "/undo";
    }
    return key;
  }
  const step_id& step() const noexcept { return step_; }

private:
  const std::string& workflow_id_;
  const std::string& state_label_;
  std::uint32_t attempt_;
  const nlohmann::json& input_;
  Resources& resources_;
  const std::atomic<bool>* stop_flag_;
  const std::atomic<bool>* cancel_flag_;
  step_id step_;
};

} // namespace cano
