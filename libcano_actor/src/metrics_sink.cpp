#include "cano/metrics_sink.hpp"

#include <atomic>
#include <mutex>

namespace cano {

const char* to_string(task_kind kind) noexcept {
  switch (kind) {
    case task_kind::single: return "single";
    case task_kind::router: return "router";
    case task_kind::split: return "split";
    case task_kind::compensatable: return "compensatable";
    case task_kind::stepped: return "stepped";
  }
  return "single";
}

const char* to_string(run_outcome outcome) noexcept {
  switch (outcome) {
    case run_outcome::completed: return "completed";
    case run_outcome::failed: return "failed";
    case run_outcome::timeout: return "timeout";
  }
  return "failed";
}

const char* to_string(circuit_transition t) noexcept {
  switch (t) {
    case circuit_transition::closed_to_open: return "closed_to_open";
    case circuit_transition::open_to_halfopen: return "open_to_halfopen";
    case circuit_transition::halfopen_to_closed: return "halfopen_to_closed";
    case circuit_transition::halfopen_to_open: return "halfopen_to_open";
  }
  return "closed_to_open";
}

const char* to_string(death_signal s) noexcept { return s == death_signal::down ? "down" : "lease"; }

namespace {
std::mutex default_mutex;
std::shared_ptr<metrics_sink> default_sink; // guarded by default_mutex
std::atomic<bool> default_set{false};       // lets the common case (none) skip the mutex
} // namespace

void set_default_metrics_sink(std::shared_ptr<metrics_sink> sink) {
  std::lock_guard<std::mutex> guard(default_mutex);
  default_set.store(sink != nullptr, std::memory_order_release);
  default_sink = std::move(sink);
}

std::shared_ptr<metrics_sink> default_metrics_sink() {
  if (!default_set.load(std::memory_order_acquire)) {
    return nullptr;
  }
  std::lock_guard<std::mutex> guard(default_mutex);
  return default_sink;
}

} // namespace cano
