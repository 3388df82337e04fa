// What every actor of one run shares: the definition, the run's id and input, its cancel flag,
// and where its measurements and log lines go.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "../logger.hpp"
#include "cano/detail/definition.hpp"
#include "cano/metrics_sink.hpp"
#include "cano/observer.hpp"
#include "cano/task_context.hpp"

namespace cano::detail {

class timer_queue;

/// What every run of one runtime shares from it, held once per run by one pointer.
struct run_services {
  std::shared_ptr<metrics_sink> metrics; // null: nothing is measured
  std::shared_ptr<const logger> log = default_logger();
  std::shared_ptr<timer_queue> timers;
};

struct run_context {
  std::shared_ptr<const definition> def;
  std::string workflow_id;
  nlohmann::json input; // set before any task runs (a resumed run reads it from its header)
  /// When the run's supervisor was created: its workflow timeout counts from (just after) here,
  /// so a split can tell, between branches, that the run's deadline has passed.
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// Set once the run is to be cancelled (cano 0.15 §4.3), by whoever asks first — the token's
  /// callback, runtime::cancel, the poller of durable requests — before it messages the
  /// supervisor, so that loops running inline see it between calls. Never cleared.
  mutable std::atomic<bool> cancelled{false};
  /// The runtime's id of the run (run_result::run_id).
  std::uint64_t run_id = 0;
  /// The runtime's services (never null in a run the engine made).
  std::shared_ptr<const run_services> services;

  /// The runtime's metrics sink (null: nothing is measured).
  const std::shared_ptr<metrics_sink>& metrics() const noexcept { return services->metrics; }
  /// The runtime's logger (never null).
  const std::shared_ptr<const logger>& log() const noexcept { return services->log; }
  /// The runtime's timers for attempt runners' delays.
  timer_queue& timers() const noexcept { return *services->timers; }

  /// The run as observer hooks see it (valid while this context lives).
  run_info info() const noexcept { return run_info{run_id, workflow_id, def->name}; }
};

/// The context of one call into user code of a run (a body, a poll, a step, a compensate).
inline task_context make_task_context(const run_context& ctx, const std::string& label, std::uint32_t attempt,
                                      const std::atomic<bool>* stop, task_context::step_id step = {}) {
  return task_context(ctx.workflow_id, label, attempt, ctx.input, *ctx.def->resources, stop, step, &ctx.cancelled);
}

} // namespace cano::detail
