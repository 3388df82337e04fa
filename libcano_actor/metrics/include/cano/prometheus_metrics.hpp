// prometheus_metrics — the engine's measurements in Prometheus, under cano's metric names and
// labels (cano-semantics §1.16–1.17), plus the actor runtime's own (README: "Metrics").
//
//   auto metrics = cano::prometheus_metrics::make({/*registry*/ nullptr, /*serve*/ true}).value();
//   cano::runtime_config cfg;
//   cfg.metrics = metrics;                            // this runtime's runs, checkpoints, pool
//   cano::set_default_metrics_sink(metrics);          // circuit breakers (unless they have one)
//   cano::runtime rt{sys, cfg};
//   // curl http://127.0.0.1:9464/metrics
//
// Hand in your own prometheus::Registry to serve cano's metrics with yours, or serve them here:
// the HTTP endpoint is off unless asked for, and binds 127.0.0.1 unless told otherwise. The
// runtime gauges (runs in flight, checkpoint backlog, blocking-pool threads) are read from the
// runtimes when the metrics are collected: serve this object (it is a prometheus::Collectable),
// not its bare registry, or call refresh() before you collect the registry yourself.
//
// Component cano_actor::metrics (CMake option CANO_ACTOR_WITH_METRICS), prometheus-cpp 1.0.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "cano/error.hpp"
#include "cano/metrics_sink.hpp"
#include "cano/observer.hpp"

namespace prometheus {
class Exposer;
} // namespace prometheus

namespace cano {

struct metrics_options {
  /// Where the metrics are registered; null: a registry of their own (registry()).
  std::shared_ptr<prometheus::Registry> registry;
  /// Serve them at http://host:port/metrics. Off by default.
  bool serve = false;
  /// The address the endpoint binds: loopback unless you mean to expose it.
  std::string host = "127.0.0.1";
  /// 0: any free port (port() tells which).
  std::uint16_t port = 9464;
};

class prometheus_metrics final : public metrics_sink,
                                 public prometheus::Collectable,
                                 public std::enable_shared_from_this<prometheus_metrics> {
public:
  /// Registers every metric in the registry and, with `serve`, starts the endpoint. Errors:
  /// configuration — the endpoint cannot listen on host:port, or the registry refuses a name
  /// (it holds a metric of another type under one of cano's names).
  static expected<std::shared_ptr<prometheus_metrics>> make(metrics_options options = {});

  ~prometheus_metrics() override;
  prometheus_metrics(const prometheus_metrics&) = delete;
  prometheus_metrics& operator=(const prometheus_metrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const noexcept;
  /// The port the endpoint listens on; 0 when not serving.
  std::uint16_t port() const noexcept;
  /// "http://host:port/metrics", or empty when not serving.
  std::string url() const;

  /// Reads the watched runtimes' gauges into the registry (what Collect does first).
  void refresh() const;
  /// The registry's metrics, gauges refreshed (what the endpoint serves).
  std::vector<prometheus::MetricFamily> Collect() const override;
  /// Collect() in Prometheus' text exposition format.
  std::string text() const;

  // metrics_sink
  void workflow_started() override;
  void workflow_finished(run_outcome outcome, std::chrono::nanoseconds took) override;
  void task_dispatched(const std::string& state, task_kind kind, std::chrono::nanoseconds took) override;
  void task_attempt(bool ok) override;
  void circuit_rejected() override;
  void split_joined(std::size_t succeeded, std::size_t failed, std::size_t cancelled) override;
  void circuit_changed(circuit_transition t) override;
  void circuit_acquire(bool acquired) override;
  void circuit_outcome(bool success) override;
  void poll_iteration(bool ready) override;
  void batch_run(bool ok) override;
  void batch_items(std::size_t ok, std::size_t failed) override;
  void step_iteration(bool more) override;
  void checkpoint_append(bool ok) override;
  void checkpoint_clear(bool ok) override;
  void compensation_run(bool ok) override;
  void compensation_drain(bool clean) override;
  void flow_started(const std::string& flow) override;
  void flow_finished(const std::string& flow, bool ok, std::chrono::nanoseconds took) override;
  void flow_backoff(const std::string& flow) override;
  void flow_tripped(const std::string& flow) override;
  void run_finished(RunStatus status) override;
  void checkpoint_batch(const checkpoint_batch_figures& batch) override;
  void fenced_write() override;
  void node_failover(death_signal signal) override;
  void run_claimed() override;
  void node_rejoined() override;
  void watch(std::weak_ptr<const gauge_source> source) override;

  struct families; // the registered metrics (src/)

private:
  explicit prometheus_metrics(std::shared_ptr<prometheus::Registry> registry);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<families> f_;
  mutable std::mutex sources_mutex_;
  std::vector<std::weak_ptr<const gauge_source>> sources_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::unique_ptr<prometheus::Exposer> exposer_; // last: stops serving before the rest goes
};

/// cano's MetricsObserver (cano-semantics §1.16): an observer that counts what it sees in a
/// registry — cano_state_enters_total{state}, cano_observed_task_runs_total{task, outcome},
/// cano_task_retries_total{task}, cano_circuit_open_events_total{task},
/// cano_checkpoints_observed_total, cano_resumes_total (task starts are not counted).
///
///   wf = wf.with_observer(cano::MetricsObserver::make(metrics->registry()));
class MetricsObserver final : public WorkflowObserver {
public:
  /// Throws std::invalid_argument when the registry refuses one of the names (another type).
  static std::shared_ptr<MetricsObserver> make(const std::shared_ptr<prometheus::Registry>& registry);
  ~MetricsObserver() override;

  void on_state_enter(const std::string& state) override;
  void on_task_success(const std::string& task_id) override;
  void on_task_failure(const std::string& task_id, const error& err) override;
  void on_retry(const std::string& task_id, std::uint32_t attempt) override;
  void on_circuit_open(const std::string& task_id) override;
  void on_checkpoint(const std::string& workflow_id, std::uint64_t sequence) override;
  void on_resume(const std::string& workflow_id, std::uint64_t sequence) override;

  struct families;

private:
  explicit MetricsObserver(std::shared_ptr<prometheus::Registry> registry);
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<families> f_;
};

} // namespace cano
