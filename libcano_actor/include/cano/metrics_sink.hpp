// metrics_sink — the engine's measurements as calls, one per event, so any metrics system can
// record them. cano_actor::metrics (<cano/prometheus_metrics.hpp>) records them in Prometheus
// under cano's metric names; implement this interface to feed another system.
//
//   auto metrics = cano::prometheus_metrics::make({}).value();   // cano_actor::metrics
//   cano::runtime_config cfg;
//   cfg.metrics = metrics;                                      // this runtime's runs
//   cano::set_default_metrics_sink(metrics);                    // circuit breakers, direct calls
//
// The calls follow cano's emission points (cano-semantics §1.17: which event, which labels); the
// ones marked "ours" measure the actor runtime. Every method defaults to doing nothing. They are
// called on engine threads (actors, pool threads, checkpoint actors), concurrently: they must be
// thread-safe, quick, and must not throw. With no sink set, the engine skips them entirely.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace cano {

enum class RunStatus : std::uint8_t; // cano/checkpoint.hpp

/// How a state was dispatched (cano's `kind` label). Poll and batch tasks are `single`.
enum class task_kind : std::uint8_t { single, router, split, compensatable, stepped };
/// "single", "router", "split", "compensatable", "stepped".
const char* to_string(task_kind kind) noexcept;

/// How a run ended, as cano's `outcome` label of cano_workflow_runs_total says it.
enum class run_outcome : std::uint8_t { completed, failed, timeout };
/// "completed", "failed", "timeout".
const char* to_string(run_outcome outcome) noexcept;

/// A circuit breaker's state change (cano's `transition` label).
enum class circuit_transition : std::uint8_t { closed_to_open, open_to_halfopen, halfopen_to_closed, halfopen_to_open };
/// "closed_to_open", "open_to_halfopen", "halfopen_to_closed", "halfopen_to_open".
const char* to_string(circuit_transition t) noexcept;

/// How a peer node was found dead (ours: cano has no cluster).
enum class death_signal : std::uint8_t { down, lease };
/// "down" (its connection dropped and its advisory lock was free), "lease" (its lease expired).
const char* to_string(death_signal s) noexcept;

/// What a runtime reports when metrics are collected (ours): read on demand, never pushed, so
/// keeping them costs the hot path nothing.
struct runtime_gauges {
  /// Runs of this runtime in flight, by definition name (Workflow::with_name; "" unnamed).
  std::vector<std::pair<std::string, std::size_t>> runs_in_flight;
  /// Checkpoint writes waiting for the checkpoint actors of blocking stores.
  std::size_t checkpoint_backlog = 0;
  /// Threads of the blocking pool: running a call, waiting for one, and running a call whose
  /// attempt was given up (timed out or dropped; they still count against max_blocking_threads).
  std::size_t pool_busy = 0;
  std::size_t pool_idle = 0;
  std::size_t pool_abandoned = 0;
};

/// Something that reports runtime_gauges when asked (each runtime registers one).
class gauge_source {
public:
  virtual ~gauge_source() = default;
  virtual runtime_gauges read() const = 0;
};

/// What the checkpoint actor of a blocking store did in one batch (ours).
struct checkpoint_batch_figures {
  std::size_t writes = 0;             // writes in the batch (rows, headers and clears of many runs)
  std::size_t rows = 0;               // rows among them
  std::chrono::nanoseconds commit{0}; // how long the store's append_batch took
  /// For each write: from the run sending it to the batch's commit (group-commit latency).
  std::vector<std::chrono::nanoseconds> latencies;
};

class metrics_sink {
public:
  virtual ~metrics_sink() = default;

  // -- cano's direct instrumentation (cano-semantics §1.17) -----------------------------------

  /// A run began its FSM walk (after validation and resource setup): cano_workflow_active +1.
  virtual void workflow_started() {}
  /// That run ended (before teardown): cano_workflow_active -1, cano_workflow_runs_total and
  /// cano_workflow_duration_seconds{outcome}.
  virtual void workflow_finished(run_outcome /*outcome*/, std::chrono::nanoseconds /*took*/) {}
  /// One state dispatch, retries included, ended (Ok or Err): cano_task_duration_seconds{state, kind}.
  virtual void task_dispatched(const std::string& /*state*/, task_kind /*kind*/, std::chrono::nanoseconds /*took*/) {}
  /// One attempt of a retry loop ended: cano_task_attempts_total{outcome=completed|failed}.
  virtual void task_attempt(bool /*ok*/) {}
  /// A retry loop was rejected by its open breaker: cano_circuit_rejections_total.
  virtual void circuit_rejected() {}
  /// A split's join decided: cano_split_branch_results_total{result} (only non-zero counts).
  virtual void split_joined(std::size_t /*succeeded*/, std::size_t /*failed*/, std::size_t /*cancelled*/) {}
  /// cano_circuit_transitions_total{transition}.
  virtual void circuit_changed(circuit_transition /*t*/) {}
  /// Every try_acquire: cano_circuit_acquires_total{result=acquired|rejected}.
  virtual void circuit_acquire(bool /*acquired*/) {}
  /// Every recorded outcome, stale ones and dropped permits included: cano_circuit_outcomes_total.
  virtual void circuit_outcome(bool /*success*/) {}
  /// A poll returned Ok: cano_poll_iterations_total{outcome=ready|pending}.
  virtual void poll_iteration(bool /*ready*/) {}
  /// A batch's load → items → finish cycle ended: cano_batch_runs_total{outcome}.
  virtual void batch_run(bool /*ok*/) {}
  /// A batch's items were processed: cano_batch_items_total{result=ok|err}.
  virtual void batch_items(std::size_t /*ok*/, std::size_t /*failed*/) {}
  /// A step returned Ok: cano_step_iterations_total{outcome=more|done}.
  virtual void step_iteration(bool /*more*/) {}
  /// Every checkpoint row the engine appends: cano_checkpoint_appends_total{result=ok|err}.
  virtual void checkpoint_append(bool /*ok*/) {}
  /// Every clear of a run's log: cano_checkpoint_clears_total{result=ok|err}.
  virtual void checkpoint_clear(bool /*ok*/) {}
  /// Every compensate invoked: cano_compensations_run_total{result=ok|err}.
  virtual void compensation_run(bool /*ok*/) {}
  /// A non-empty drain ended: cano_compensation_drains_total{outcome=clean|partial}.
  virtual void compensation_drain(bool /*clean*/) {}
  /// A scheduled run began: cano_scheduler_active_flows +1.
  virtual void flow_started(const std::string& /*flow*/) {}
  /// It ended: cano_scheduler_active_flows -1, cano_scheduler_flow_runs_total{flow, outcome},
  /// cano_scheduler_flow_duration_seconds{flow}.
  virtual void flow_finished(const std::string& /*flow*/, bool /*ok*/, std::chrono::nanoseconds /*took*/) {}
  /// The flow entered Backoff: cano_scheduler_flow_backoff_total{flow}.
  virtual void flow_backoff(const std::string& /*flow*/) {}
  /// The flow entered Tripped: cano_scheduler_flow_tripped_total{flow}.
  virtual void flow_tripped(const std::string& /*flow*/) {}

  // -- ours: the actor runtime -----------------------------------------------------------------

  /// A run ended with this header status (every run that got a supervisor, refused or not):
  /// cano_runs_finished_total{status}.
  virtual void run_finished(RunStatus /*status*/) {}
  /// A checkpoint actor committed a batch: cano_checkpoint_batch_writes,
  /// cano_checkpoint_commit_seconds, cano_checkpoint_write_latency_seconds.
  virtual void checkpoint_batch(const checkpoint_batch_figures& /*batch*/) {}
  /// A checkpoint write was refused because another driver owns the run (D8):
  /// cano_fenced_writes_total.
  virtual void fenced_write() {}
  /// This node declared a peer dead and handed its runs to survivors: cano_cluster_failovers_total{signal}.
  virtual void node_failover(death_signal /*signal*/) {}
  /// This node claimed an orphaned run and resumed it: cano_cluster_claims_total.
  virtual void run_claimed() {}
  /// This node found itself declared dead and rejoined: cano_cluster_rejoins_total.
  virtual void node_rejoined() {}

  /// A runtime registers its gauges here when it starts using this sink; the sink reads them
  /// when its metrics are collected and forgets them once `source` has expired.
  virtual void watch(std::weak_ptr<const gauge_source> /*source*/) {}
};

/// The process-wide sink: used by circuit breakers without a sink of their own, by runtimes
/// whose runtime_config::metrics is null (read when the runtime is constructed, so set it before
/// the first run of Workflow::orchestrate) and by direct calls of run_poll_loop / run_batch.
/// Null (the default) measures nothing.
void set_default_metrics_sink(std::shared_ptr<metrics_sink> sink);
std::shared_ptr<metrics_sink> default_metrics_sink();

} // namespace cano
