// run_instruments — what one run reports about itself besides its result: cano's run metrics
// (cano_workflow_*, cano_task_duration_seconds, step "done"), ours (runs finished by status) and
// one structured log line per lifecycle event (started, resumed, compensating, ended). The run
// supervisor calls it at those points; with no metrics sink and lifecycle lines off, each call
// is a test of a pointer and a level.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cano/checkpoint.hpp"
#include "cano/detail/definition.hpp"
#include "run_context.hpp"

namespace cano::detail {

class run_instruments {
public:
  /// `ctx` outlives this object (both belong to the supervisor).
  explicit run_instruments(const run_context& ctx) : ctx_(ctx) {}

  /// A fresh run was admitted (validated): "run_started" at `state`, attempt `attempt` (1, or
  /// more for a placed run started by another node after a failed placement).
  void started(state_code state, std::uint32_t attempt = 1);
  /// A run was resumed from its log: "run_resumed" at `state` (none: its rollback continues),
  /// attempt n.
  void resumed(std::optional<state_code> state, std::uint32_t attempt);
  /// The run's FSM walk begins (after resource setup): cano_workflow_active +1.
  void walking();
  /// State `state`, labelled `label`, is entered: a debug line.
  void entered(state_code state, const std::string& label);
  /// A state's task is dispatched / its final outcome arrived (cano_task_duration_seconds; a
  /// stepped task's last step counts as a "done" step iteration).
  void dispatching();
  void dispatched(const std::string& state, state_entry::kind kind, bool ok);
  /// A rollback of `steps` saga steps begins after `cause`: "run_compensating".
  void compensating(const error& cause, std::size_t steps) const;
  /// The run ends with `result` and header `status` (the log line names the last state entered:
  /// the exit state, or the state it failed in). Called once.
  void ended(const expected<state_code>& result, RunStatus status);

private:
  log_record record(log_level level, const char* event, const char* message) const;

  metrics_sink* metrics() const noexcept { return ctx_.metrics().get(); }

  const run_context& ctx_;
  // The last state started, resumed or entered (its label is looked up only for a log line).
  state_code state_ = 0;
  bool has_state_ = false;
  bool walking_ = false;      // workflow_started was reported: workflow_finished must follow
  std::uint32_t attempt_ = 0; // the run's attempt (1 for a fresh run, +1 per resume)
  std::chrono::steady_clock::time_point walk_started_{};
  std::chrono::steady_clock::time_point dispatch_started_{};
};

} // namespace cano::detail
