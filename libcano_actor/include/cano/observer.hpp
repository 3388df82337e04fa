// WorkflowObserver — synchronous hooks on a run's lifecycle, for logging, metrics and tests.
//
//   struct Printer : cano::WorkflowObserver {
//     void on_state_enter(const cano::run_info& run, const std::string& s) override {
//       std::cout << run.workflow_id << " (run " << run.run_id << ") enters " << s << "\n";
//     }
//   };
//   wf = std::move(wf).with_observer(std::make_shared<Printer>());
//
// The engine calls the hooks that take a run_info first, which tell concurrent runs apart; each
// of them defaults to the hook of cano's signature (without it), so an observer written for
// either form works. Override one form per hook.
//
// Hooks run on engine threads (supervisor, task, join and branch actors), possibly concurrently
// for concurrent runs and for the branches of one split: implementations must be thread-safe. An
// exception thrown by a hook is caught and logged; it never breaks the run.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "cano/error.hpp"

namespace cano {

/// Which run a hook is about. The references live as long as the hook call.
struct run_info {
  /// The runtime's id of the run (run_result::run_id, runtime::start's return value): unique
  /// within one runtime, also for runs without a workflow id.
  std::uint64_t run_id;
  /// The run's workflow id; empty for a run that has none.
  const std::string& workflow_id;
  /// Workflow::with_name of its definition; empty when unnamed.
  const std::string& definition;
};

class WorkflowObserver {
public:
  virtual ~WorkflowObserver() = default;

  // -- cano's hooks (cano-semantics §1.16) -------------------------------------------------------

  /// Every FSM iteration, including the initial, router and exit states.
  virtual void on_state_enter(const std::string& /*state*/) {}
  /// Before a task's retry loop (once per dispatch).
  virtual void on_task_start(const std::string& /*task_id*/) {}
  /// After the task's final outcome was a success.
  virtual void on_task_success(const std::string& /*task_id*/) {}
  /// After the task's final outcome was an error.
  virtual void on_task_failure(const std::string& /*task_id*/, const error& /*err*/) {}
  /// After a failed attempt that will be retried; `attempt` counts failures so far (1-based).
  virtual void on_retry(const std::string& /*task_id*/, std::uint32_t /*attempt*/) {}
  /// The task's circuit breaker rejected an attempt.
  virtual void on_circuit_open(const std::string& /*task_id*/) {}
  /// A checkpoint row was appended.
  virtual void on_checkpoint(const std::string& /*workflow_id*/, std::uint64_t /*sequence*/) {}
  /// A run was resumed from its checkpoint log.
  virtual void on_resume(const std::string& /*workflow_id*/, std::uint64_t /*sequence*/) {}
  /// cano 0.15 (§4.2): the run exceeded Workflow::with_total_timeout after `elapsed`; fires once,
  /// after on_task_failure of the task it dropped (each branch of a split).
  virtual void on_workflow_timeout(std::chrono::nanoseconds /*elapsed*/, std::chrono::nanoseconds /*limit*/) {}
  /// cano 0.15 (§4.3): the run was cancelled in `state` (the state it did not enter, or whose
  /// task it dropped, after that task's on_task_failure); fires once.
  virtual void on_cancelled(const std::string& /*state*/) {}

  // -- the same hooks with the run they are about (what the engine calls) ------------------------

  virtual void on_state_enter(const run_info& /*run*/, const std::string& state) { on_state_enter(state); }
  virtual void on_task_start(const run_info& /*run*/, const std::string& task_id) { on_task_start(task_id); }
  virtual void on_task_success(const run_info& /*run*/, const std::string& task_id) { on_task_success(task_id); }
  virtual void on_task_failure(const run_info& /*run*/, const std::string& task_id, const error& err) {
    on_task_failure(task_id, err);
  }
  virtual void on_retry(const run_info& /*run*/, const std::string& task_id, std::uint32_t attempt) {
    on_retry(task_id, attempt);
  }
  virtual void on_circuit_open(const run_info& /*run*/, const std::string& task_id) { on_circuit_open(task_id); }
  virtual void on_checkpoint(const run_info& run, std::uint64_t sequence) { on_checkpoint(run.workflow_id, sequence); }
  virtual void on_resume(const run_info& run, std::uint64_t sequence) { on_resume(run.workflow_id, sequence); }
  virtual void on_workflow_timeout(const run_info& /*run*/, std::chrono::nanoseconds elapsed,
                                   std::chrono::nanoseconds limit) {
    on_workflow_timeout(elapsed, limit);
  }
  virtual void on_cancelled(const run_info& /*run*/, const std::string& state) { on_cancelled(state); }
};

} // namespace cano
