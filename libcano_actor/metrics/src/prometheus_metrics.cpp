#include "cano/prometheus_metrics.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>

#include "cano/checkpoint.hpp"

namespace cano {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

/// Durations of runs, tasks and scheduled flows (seconds).
const Histogram::BucketBoundaries& duration_buckets() {
  static const Histogram::BucketBoundaries b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,   0.5,     1,      2.5,   5,      10,    30,   60,    300};
  return b;
}

/// Checkpoint latencies (seconds): a commit takes from tens of microseconds to seconds.
const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries b{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return b;
}

/// Writes per batch: 1 up to the batch limit of 4,096.
const Histogram::BucketBoundaries& batch_buckets() {
  static const Histogram::BucketBoundaries b{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
  return b;
}

template <class T>
Family<T>& family(prometheus::Registry& r, const std::string& name, const std::string& help);

template <>
Family<Counter>& family<Counter>(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
template <>
Family<Gauge>& family<Gauge>(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
template <>
Family<Histogram>& family<Histogram>(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

/// Each instance gets a number never reused, so per-thread caches can tell instances apart.
std::atomic<std::uint64_t> next_instance{1};

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

} // namespace

struct prometheus_metrics::families {
  explicit families(prometheus::Registry& r)
    : runs(family<Counter>(r, "cano_workflow_runs_total",
                           "Runs that walked their states, by how they ended (completed, failed, timeout)")),
      runs_completed(runs.Add({{"outcome", "completed"}})),
      runs_failed(runs.Add({{"outcome", "failed"}})),
      runs_timeout(runs.Add({{"outcome", "timeout"}})),
      run_duration(family<Histogram>(r, "cano_workflow_duration_seconds",
                                     "How long runs walked their states (setup and teardown excluded), by outcome")),
      run_duration_completed(run_duration.Add({{"outcome", "completed"}}, duration_buckets())),
      run_duration_failed(run_duration.Add({{"outcome", "failed"}}, duration_buckets())),
      run_duration_timeout(run_duration.Add({{"outcome", "timeout"}}, duration_buckets())),
      active(family<Gauge>(r, "cano_workflow_active", "Runs walking their states now").Add({})),
      task_duration(family<Histogram>(r, "cano_task_duration_seconds",
                                      "One state dispatch, retries included, by state and dispatch kind")),
      attempts(family<Counter>(r, "cano_task_attempts_total", "Attempts of retry loops, by outcome")),
      attempts_completed(attempts.Add({{"outcome", "completed"}})),
      attempts_failed(attempts.Add({{"outcome", "failed"}})),
      circuit_rejections(
        family<Counter>(r, "cano_circuit_rejections_total", "Retry loops rejected by an open circuit breaker").Add({})),
      split_results(
        family<Counter>(r, "cano_split_branch_results_total", "Split branches after their join, by result")),
      circuit_transitions(family<Counter>(r, "cano_circuit_transitions_total", "Circuit breaker state changes")),
      circuit_acquires(
        family<Counter>(r, "cano_circuit_acquires_total", "Circuit breaker permits asked for, by result")),
      acquired(circuit_acquires.Add({{"result", "acquired"}})),
      rejected(circuit_acquires.Add({{"result", "rejected"}})),
      circuit_outcomes(family<Counter>(r, "cano_circuit_outcomes_total",
                                       "Outcomes recorded by circuit breakers (dropped permits as failures)")),
      circuit_success(circuit_outcomes.Add({{"outcome", "success"}})),
      circuit_failure(circuit_outcomes.Add({{"outcome", "failure"}})),
      polls(family<Counter>(r, "cano_poll_iterations_total", "Polls that returned Ok, by outcome (ready, pending)")),
      batches(family<Counter>(r, "cano_batch_runs_total", "Batch load-items-finish cycles, by outcome")),
      batch_items(family<Counter>(r, "cano_batch_items_total", "Batch items processed, by result")),
      steps(family<Counter>(r, "cano_step_iterations_total", "Steps that returned Ok, by outcome (more, done)")),
      appends(family<Counter>(r, "cano_checkpoint_appends_total", "Checkpoint rows the engine appended, by result")),
      append_ok(appends.Add({{"result", "ok"}})),
      append_err(appends.Add({{"result", "err"}})),
      clears(family<Counter>(r, "cano_checkpoint_clears_total", "Clears of a run's checkpoint log, by result")),
      clear_ok(clears.Add({{"result", "ok"}})),
      clear_err(clears.Add({{"result", "err"}})),
      compensations(family<Counter>(r, "cano_compensations_run_total", "Compensations invoked, by result")),
      compensation_ok(compensations.Add({{"result", "ok"}})),
      compensation_err(compensations.Add({{"result", "err"}})),
      drains(family<Counter>(r, "cano_compensation_drains_total",
                             "Rollbacks that ended, by outcome (clean: every compensation succeeded)")),
      flow_runs(family<Counter>(r, "cano_scheduler_flow_runs_total", "Scheduled runs, by flow and outcome")),
      flow_duration(family<Histogram>(r, "cano_scheduler_flow_duration_seconds", "Scheduled runs' durations, by flow")),
      flow_backoffs(family<Counter>(r, "cano_scheduler_flow_backoff_total", "Times a flow entered Backoff")),
      flow_trips(family<Counter>(r, "cano_scheduler_flow_tripped_total", "Times a flow entered Tripped")),
      active_flows(family<Gauge>(r, "cano_scheduler_active_flows", "Scheduled runs in flight").Add({})),
      // ours
      finished(family<Counter>(r, "cano_runs_finished_total", "Runs that ended, by the status their header recorded")),
      in_flight(family<Gauge>(r, "cano_runs_in_flight", "Runs of the runtimes in flight, by definition")),
      batch_writes(family<Histogram>(r, "cano_checkpoint_batch_writes",
                                     "Writes per checkpoint batch (group commit) of blocking stores")
                     .Add({}, batch_buckets())),
      commit_seconds(family<Histogram>(r, "cano_checkpoint_commit_seconds",
                                       "How long a blocking store took to commit one checkpoint batch")
                       .Add({}, latency_buckets())),
      write_latency(family<Histogram>(r, "cano_checkpoint_write_latency_seconds",
                                      "From a run sending a checkpoint write to its batch's commit (group-commit "
                                      "latency)")
                      .Add({}, latency_buckets())),
      backlog(family<Gauge>(r, "cano_checkpoint_backlog",
                            "Checkpoint writes waiting for the checkpoint actors of blocking stores")
                .Add({})),
      pool(family<Gauge>(r, "cano_blocking_pool_threads",
                         "Threads of the blocking pool: busy, idle, abandoned (busy with a call given up)")),
      pool_busy(pool.Add({{"state", "busy"}})),
      pool_idle(pool.Add({{"state", "idle"}})),
      pool_abandoned(pool.Add({{"state", "abandoned"}})),
      fenced(
        family<Counter>(r, "cano_fenced_writes_total", "Checkpoint writes refused because another driver owns the run")
          .Add({})),
      failovers(family<Counter>(r, "cano_cluster_failovers_total",
                                "Peers this node declared dead (their runs handed to survivors), by signal")),
      claims(family<Counter>(r, "cano_cluster_claims_total", "Orphaned runs this node claimed and resumed").Add({})),
      rejoins(
        family<Counter>(r, "cano_cluster_rejoins_total", "Times this node found itself declared dead and rejoined")
          .Add({})) {
    for (auto t : {circuit_transition::closed_to_open, circuit_transition::open_to_halfopen,
                   circuit_transition::halfopen_to_closed, circuit_transition::halfopen_to_open}) {
      transitions[static_cast<std::size_t>(t)] = &circuit_transitions.Add({{"transition", to_string(t)}});
    }
    for (auto s : {RunStatus::running, RunStatus::completed, RunStatus::failed, RunStatus::rolled_back,
                   RunStatus::interrupted, RunStatus::compensating}) {
      by_status[static_cast<std::size_t>(s)] = &finished.Add({{"status", to_string(s)}});
    }
    for (auto s : {death_signal::down, death_signal::lease}) {
      by_signal[static_cast<std::size_t>(s)] = &failovers.Add({{"signal", to_string(s)}});
    }
  }

  Family<Counter>& runs;
  Counter& runs_completed;
  Counter& runs_failed;
  Counter& runs_timeout;
  Family<Histogram>& run_duration;
  Histogram& run_duration_completed;
  Histogram& run_duration_failed;
  Histogram& run_duration_timeout;
  Gauge& active;
  Family<Histogram>& task_duration;
  Family<Counter>& attempts;
  Counter& attempts_completed;
  Counter& attempts_failed;
  Counter& circuit_rejections;
  Family<Counter>& split_results;
  Family<Counter>& circuit_transitions;
  Family<Counter>& circuit_acquires;
  Counter& acquired;
  Counter& rejected;
  Family<Counter>& circuit_outcomes;
  Counter& circuit_success;
  Counter& circuit_failure;
  Family<Counter>& polls;
  Family<Counter>& batches;
  Family<Counter>& batch_items;
  Family<Counter>& steps;
  Family<Counter>& appends;
  Counter& append_ok;
  Counter& append_err;
  Family<Counter>& clears;
  Counter& clear_ok;
  Counter& clear_err;
  Family<Counter>& compensations;
  Counter& compensation_ok;
  Counter& compensation_err;
  Family<Counter>& drains;
  Family<Counter>& flow_runs;
  Family<Histogram>& flow_duration;
  Family<Counter>& flow_backoffs;
  Family<Counter>& flow_trips;
  Gauge& active_flows;
  Family<Counter>& finished;
  Family<Gauge>& in_flight;
  Histogram& batch_writes;
  Histogram& commit_seconds;
  Histogram& write_latency;
  Gauge& backlog;
  Family<Gauge>& pool;
  Gauge& pool_busy;
  Gauge& pool_idle;
  Gauge& pool_abandoned;
  Counter& fenced;
  Family<Counter>& failovers;
  Counter& claims;
  Counter& rejoins;
  std::array<Counter*, 4> transitions{};
  std::array<Counter*, 6> by_status{};
  std::array<Counter*, 2> by_signal{};

  /// Series created on first use (labels of fixed values whose zero would say nothing new, and
  /// user labels: states, flows, definitions), guarded by `mutex`.
  std::mutex mutex;
  std::unordered_map<std::string, Counter*> counters; // by family name + '\0' + label value
  std::unordered_map<std::string, Histogram*> histograms;
  std::unordered_map<std::string, Gauge*> in_flight_by_definition;
  const std::uint64_t instance = next_instance.fetch_add(1);

  Counter& counter(Family<Counter>& f, const char* label, const std::string& value) {
    std::lock_guard<std::mutex> guard(mutex);
    auto& slot = counters[f.GetName() + '\0' + value];
    if (slot == nullptr) {
      slot = &f.Add({{label, value}});
    }
    return *slot;
  }

  Histogram& histogram(Family<Histogram>& f, const prometheus::Labels& labels, const std::string& key) {
    std::lock_guard<std::mutex> guard(mutex);
    auto& slot = histograms[f.GetName() + '\0' + key];
    if (slot == nullptr) {
      slot = &f.Add(labels, duration_buckets());
    }
    return *slot;
  }

  /// cano_task_duration_seconds{state, kind}: the hot path's only lookup by a user label. Each
  /// thread keeps the series it used, so a dispatch takes no lock once its state was seen.
  Histogram& task_series(const std::string& state, task_kind kind) {
    struct cache {
      std::uint64_t owner = 0;
      std::unordered_map<std::string, std::array<Histogram*, 5>> by_state;
    };
    thread_local cache c;
    if (c.owner != instance) {
      c.owner = instance;
      c.by_state.clear();
    }
    auto& kinds = c.by_state[state];
    auto k = static_cast<std::size_t>(kind);
    if (kinds[k] == nullptr) {
      kinds[k] =
        &histogram(task_duration, {{"state", state}, {"kind", to_string(kind)}}, state + '\0' + to_string(kind));
    }
    return *kinds[k];
  }
};

prometheus_metrics::prometheus_metrics(std::shared_ptr<prometheus::Registry> registry)
  : registry_(std::move(registry)),
    f_(std::make_unique<families>(*registry_)) {}

prometheus_metrics::~prometheus_metrics() { exposer_.reset(); }

expected<std::shared_ptr<prometheus_metrics>> prometheus_metrics::make(metrics_options options) {
  if (!options.registry) {
    options.registry = std::make_shared<prometheus::Registry>();
  }
  std::shared_ptr<prometheus_metrics> m;
  try {
    m.reset(new prometheus_metrics(options.registry));
  } catch (const std::exception& e) {
    return error::configuration(std::string("metrics: the registry refused cano's metrics: ") + e.what());
  }
  if (!options.serve) {
    return m;
  }
  if (options.host.empty()) {
    return error::configuration("metrics: serve needs a host to bind (127.0.0.1 for this machine only)");
  }
  auto bind = (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host) + ":" +
              std::to_string(options.port);
  try {
    // One thread: scrapes are rare, and each one reads the runtimes' gauges.
    auto exposer = std::make_unique<prometheus::Exposer>(bind, 1);
    exposer->RegisterCollectable(m, "/metrics");
    auto ports = exposer->GetListeningPorts();
    m->port_ = ports.empty() ? options.port : static_cast<std::uint16_t>(ports.front());
    m->host_ = options.host;
    m->exposer_ = std::move(exposer);
  } catch (const std::exception& e) {
    return error::configuration("metrics: cannot serve on " + bind + ": " + e.what());
  }
  return m;
}

const std::shared_ptr<prometheus::Registry>& prometheus_metrics::registry() const noexcept { return registry_; }

std::uint16_t prometheus_metrics::port() const noexcept { return port_; }

std::string prometheus_metrics::url() const {
  if (!exposer_) {
    return {};
  }
  auto host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return "http://" + host + ":" + std::to_string(port_) + "/metrics";
}

void prometheus_metrics::refresh() const {
  std::vector<std::shared_ptr<const gauge_source>> live;
  {
    std::lock_guard<std::mutex> guard(sources_mutex_);
    for (const auto& w : sources_) {
      if (auto s = w.lock()) {
        live.push_back(std::move(s));
      }
    }
  }
  runtime_gauges sum;
  std::unordered_map<std::string, std::size_t> by_definition;
  for (const auto& s : live) {
    auto g = s->read();
    for (const auto& [definition, n] : g.runs_in_flight) {
      by_definition[definition] += n;
    }
    sum.checkpoint_backlog += g.checkpoint_backlog;
    sum.pool_busy += g.pool_busy;
    sum.pool_idle += g.pool_idle;
    sum.pool_abandoned += g.pool_abandoned;
  }
  auto& f = *f_;
  f.backlog.Set(static_cast<double>(sum.checkpoint_backlog));
  f.pool_busy.Set(static_cast<double>(sum.pool_busy));
  f.pool_idle.Set(static_cast<double>(sum.pool_idle));
  f.pool_abandoned.Set(static_cast<double>(sum.pool_abandoned));
  std::lock_guard<std::mutex> guard(f.mutex);
  for (auto& [definition, gauge] : f.in_flight_by_definition) {
    if (by_definition.count(definition) == 0) {
      gauge->Set(0); // a definition seen before with nothing in flight now
    }
  }
  for (const auto& [definition, n] : by_definition) {
    auto& gauge = f.in_flight_by_definition[definition];
    if (gauge == nullptr) {
      gauge = &f.in_flight.Add({{"definition", definition}});
    }
    gauge->Set(static_cast<double>(n));
  }
}

std::vector<prometheus::MetricFamily> prometheus_metrics::Collect() const {
  refresh();
  return registry_->Collect();
}

std::string prometheus_metrics::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

void prometheus_metrics::watch(std::weak_ptr<const gauge_source> source) {
  std::lock_guard<std::mutex> guard(sources_mutex_);
  sources_.erase(std::remove_if(sources_.begin(), sources_.end(), [](const auto& w) { return w.expired(); }),
                 sources_.end());
  sources_.push_back(std::move(source));
}

void prometheus_metrics::workflow_started() { f_->active.Increment(); }

void prometheus_metrics::workflow_finished(run_outcome outcome, std::chrono::nanoseconds took) {
  auto& f = *f_;
  f.active.Decrement();
  switch (outcome) {
    case run_outcome::completed:
      f.runs_completed.Increment();
      f.run_duration_completed.Observe(seconds(took));
      break;
    case run_outcome::failed:
      f.runs_failed.Increment();
      f.run_duration_failed.Observe(seconds(took));
      break;
    case run_outcome::timeout:
      f.runs_timeout.Increment();
      f.run_duration_timeout.Observe(seconds(took));
      break;
  }
}

void prometheus_metrics::task_dispatched(const std::string& state, task_kind kind, std::chrono::nanoseconds took) {
  f_->task_series(state, kind).Observe(seconds(took));
}

void prometheus_metrics::task_attempt(bool ok) { (ok ? f_->attempts_completed : f_->attempts_failed).Increment(); }

void prometheus_metrics::circuit_rejected() { f_->circuit_rejections.Increment(); }

void prometheus_metrics::split_joined(std::size_t succeeded, std::size_t failed, std::size_t cancelled) {
  auto& f = *f_;
  // cano increments only the buckets that are not zero: a result never seen has no series.
  if (succeeded > 0) {
    f.counter(f.split_results, "result", "success").Increment(static_cast<double>(succeeded));
  }
  if (failed > 0) {
    f.counter(f.split_results, "result", "failure").Increment(static_cast<double>(failed));
  }
  if (cancelled > 0) {
    f.counter(f.split_results, "result", "cancelled").Increment(static_cast<double>(cancelled));
  }
}

void prometheus_metrics::circuit_changed(circuit_transition t) {
  f_->transitions[static_cast<std::size_t>(t)]->Increment();
}

void prometheus_metrics::circuit_acquire(bool acquired) { (acquired ? f_->acquired : f_->rejected).Increment(); }

void prometheus_metrics::circuit_outcome(bool success) {
  (success ? f_->circuit_success : f_->circuit_failure).Increment();
}

void prometheus_metrics::poll_iteration(bool ready) {
  f_->counter(f_->polls, "outcome", ready ? "ready" : "pending").Increment();
}

void prometheus_metrics::batch_run(bool ok) {
  f_->counter(f_->batches, "outcome", ok ? "completed" : "failed").Increment();
}

void prometheus_metrics::batch_items(std::size_t ok, std::size_t failed) {
  auto& f = *f_;
  f.counter(f.batch_items, "result", "ok").Increment(static_cast<double>(ok));
  f.counter(f.batch_items, "result", "err").Increment(static_cast<double>(failed));
}

void prometheus_metrics::step_iteration(bool more) {
  f_->counter(f_->steps, "outcome", more ? "more" : "done").Increment();
}

void prometheus_metrics::checkpoint_append(bool ok) { (ok ? f_->append_ok : f_->append_err).Increment(); }

void prometheus_metrics::checkpoint_clear(bool ok) { (ok ? f_->clear_ok : f_->clear_err).Increment(); }

void prometheus_metrics::compensation_run(bool ok) { (ok ? f_->compensation_ok : f_->compensation_err).Increment(); }

void prometheus_metrics::compensation_drain(bool clean) {
  f_->counter(f_->drains, "outcome", clean ? "clean" : "partial").Increment();
}

void prometheus_metrics::flow_started(const std::string&) { f_->active_flows.Increment(); }

void prometheus_metrics::flow_finished(const std::string& flow, bool ok, std::chrono::nanoseconds took) {
  auto& f = *f_;
  f.active_flows.Decrement();
  {
    std::lock_guard<std::mutex> guard(f.mutex);
    auto& slot = f.counters[f.flow_runs.GetName() + '\0' + flow + '\0' + (ok ? "completed" : "failed")];
    if (slot == nullptr) {
      slot = &f.flow_runs.Add({{"flow", flow}, {"outcome", ok ? "completed" : "failed"}});
    }
    slot->Increment();
  }
  f.histogram(f.flow_duration, {{"flow", flow}}, flow).Observe(seconds(took));
}

void prometheus_metrics::flow_backoff(const std::string& flow) {
  f_->counter(f_->flow_backoffs, "flow", flow).Increment();
}

void prometheus_metrics::flow_tripped(const std::string& flow) {
  f_->counter(f_->flow_trips, "flow", flow).Increment();
}

void prometheus_metrics::run_finished(RunStatus status) {
  auto i = static_cast<std::size_t>(status);
  if (i < f_->by_status.size()) {
    f_->by_status[i]->Increment();
  }
}

void prometheus_metrics::checkpoint_batch(const checkpoint_batch_figures& batch) {
  auto& f = *f_;
  f.batch_writes.Observe(static_cast<double>(batch.writes));
  f.commit_seconds.Observe(seconds(batch.commit));
  // One lock of the histogram for the whole batch.
  const auto& bounds = latency_buckets();
  std::vector<double> increments(bounds.size() + 1, 0.0);
  double sum = 0;
  for (auto d : batch.latencies) {
    auto s = seconds(d);
    sum += s;
    auto at = std::lower_bound(bounds.begin(), bounds.end(), s); // le semantics: s <= bound
    increments[static_cast<std::size_t>(at - bounds.begin())] += 1;
  }
  if (!batch.latencies.empty()) {
    f.write_latency.ObserveMultiple(increments, sum);
  }
}

void prometheus_metrics::fenced_write() { f_->fenced.Increment(); }

void prometheus_metrics::node_failover(death_signal signal) {
  f_->by_signal[static_cast<std::size_t>(signal)]->Increment();
}

void prometheus_metrics::run_claimed() { f_->claims.Increment(); }

void prometheus_metrics::node_rejoined() { f_->rejoins.Increment(); }

} // namespace cano
