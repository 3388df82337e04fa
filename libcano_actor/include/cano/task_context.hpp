// task_context — what a task body can see of its run.
//
//   cano::expected<cano::TaskResult<S>> run(cano::task_context& ctx) override {
//     auto db = ctx.resources().get<Db>("db");
//     if (ctx.stop_requested()) return cano::error::task_execution("cancelled");
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

class task_context {
public:
  task_context(const std::string& workflow_id, const std::string& state_label,
               std::uint32_t attempt, const nlohmann::json& input, Resources& resources,
               const std::atomic<bool>* stop_flag)
    : workflow_id_(workflow_id),
      state_label_(state_label),
      attempt_(attempt),
      input_(input),
      resources_(resources),
      stop_flag_(stop_flag) {}

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
  bool stop_requested() const noexcept {
    return stop_flag_ != nullptr && stop_flag_->load(std::memory_order_relaxed);
  }

private:
  const std::string& workflow_id_;
  const std::string& state_label_;
  std::uint32_t attempt_;
  const nlohmann::json& input_;
  Resources& resources_;
  const std::atomic<bool>* stop_flag_;
};

} // namespace cano
