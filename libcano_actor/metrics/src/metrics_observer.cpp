#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <prometheus/counter.h>

#include "cano/prometheus_metrics.hpp"

namespace cano {

struct MetricsObserver::families {
  explicit families(prometheus::Registry& r)
    : state_enters(prometheus::BuildCounter()
                     .Name("cano_state_enters_total")
                     .Help("States entered, by state (MetricsObserver)")
                     .Register(r)),
      task_runs(prometheus::BuildCounter()
                  .Name("cano_observed_task_runs_total")
                  .Help("Tasks' final outcomes, by task and outcome (MetricsObserver)")
                  .Register(r)),
      retries(prometheus::BuildCounter()
                .Name("cano_task_retries_total")
                .Help("Failed attempts that were retried, by task (MetricsObserver)")
                .Register(r)),
      circuit_open(prometheus::BuildCounter()
                     .Name("cano_circuit_open_events_total")
                     .Help("Attempts rejected by an open circuit breaker, by task (MetricsObserver)")
                     .Register(r)),
      checkpoints(prometheus::BuildCounter()
                    .Name("cano_checkpoints_observed_total")
                    .Help("Checkpoint rows appended (MetricsObserver)")
                    .Register(r)
                    .Add({})),
      resumes(prometheus::BuildCounter()
                .Name("cano_resumes_total")
                .Help("Runs resumed from their checkpoint log (MetricsObserver)")
                .Register(r)
                .Add({})) {}

  /// The series of `f` with `labels`, created on first use; `key` identifies it.
  prometheus::Counter& series(prometheus::Family<prometheus::Counter>& f, const prometheus::Labels& labels,
                              const std::string& key) {
    std::lock_guard<std::mutex> guard(mutex);
    auto& slot = cache[f.GetName() + '\0' + key];
    if (slot == nullptr) {
      slot = &f.Add(labels);
    }
    return *slot;
  }

  prometheus::Family<prometheus::Counter>& state_enters;
  prometheus::Family<prometheus::Counter>& task_runs;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Counter>& circuit_open;
  prometheus::Counter& checkpoints;
  prometheus::Counter& resumes;
  std::mutex mutex;
  std::unordered_map<std::string, prometheus::Counter*> cache;
};

std::shared_ptr<MetricsObserver> MetricsObserver::make(const std::shared_ptr<prometheus::Registry>& registry) {
  if (!registry) {
    throw std::invalid_argument("MetricsObserver::make: the registry is null");
  }
  return std::shared_ptr<MetricsObserver>(new MetricsObserver(registry));
}

MetricsObserver::MetricsObserver(std::shared_ptr<prometheus::Registry> registry)
  : registry_(std::move(registry)),
    f_(std::make_unique<families>(*registry_)) {}

MetricsObserver::~MetricsObserver() = default;

void MetricsObserver::on_state_enter(const std::string& state) {
  f_->series(f_->state_enters, {{"state", state}}, state).Increment();
}

void MetricsObserver::on_task_success(const std::string& task_id) {
  f_->series(f_->task_runs, {{"task", task_id}, {"outcome", "completed"}}, task_id + '\0' + "completed").Increment();
}

void MetricsObserver::on_task_failure(const std::string& task_id, const error&) {
  f_->series(f_->task_runs, {{"task", task_id}, {"outcome", "failed"}}, task_id + '\0' + "failed").Increment();
}

void MetricsObserver::on_retry(const std::string& task_id, std::uint32_t) {
  f_->series(f_->retries, {{"task", task_id}}, task_id).Increment();
}

void MetricsObserver::on_circuit_open(const std::string& task_id) {
  f_->series(f_->circuit_open, {{"task", task_id}}, task_id).Increment();
}

void MetricsObserver::on_checkpoint(const std::string&, std::uint64_t) { f_->checkpoints.Increment(); }

void MetricsObserver::on_resume(const std::string&, std::uint64_t) { f_->resumes.Increment(); }

} // namespace cano
