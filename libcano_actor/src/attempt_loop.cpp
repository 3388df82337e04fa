#include "attempt_loop.hpp"

#include "measure.hpp"

namespace cano::detail {

std::string attempt_loop::task_id() const {
  return branch_ == no_branch ? work_.task_name : branch_task_id(work_.task_name, branch_);
}

std::optional<error> attempt_loop::begin() {
  ++attempt_;
  if (work_.config.circuit_breaker) {
    auto permit = work_.config.circuit_breaker->try_acquire();
    if (!permit) {
      measure(ctx_.metrics(), [](metrics_sink& m) { m.circuit_rejected(); });
      notify(ctx_, [this](WorkflowObserver& o, const run_info& run) { o.on_circuit_open(run, task_id()); });
      settle(permit.error());
      return permit.error();
    }
    permit_ = std::make_unique<Permit>(std::move(*permit));
  }
  return std::nullopt;
}

attempt_loop::decision attempt_loop::finish(attempt_outcome outcome) {
  bool ok = outcome.value.has_value();
  if (!outcome.panicked) { // cano counts the attempts its retry loop saw end (a panic unwinds past it)
    measure(ctx_.metrics(), [ok](metrics_sink& m) { m.task_attempt(ok); });
  }
  if (permit_) {
    // A timeout or a panic is a failure too.
    if (ok) {
      work_.config.circuit_breaker->record_success(std::move(*permit_));
    } else {
      work_.config.circuit_breaker->record_failure(std::move(*permit_));
    }
    permit_.reset();
  }
  if (ends_loop(work_.config, outcome, attempt_)) {
    const bool exhausted =
      !ok && !outcome.panicked && !outcome.value.error().is_permanent() && work_.config.retry_mode.max_attempts() > 1;
    if (exhausted) {
      settle(error::retry_exhausted("Task failed after " + std::to_string(attempt_) +
                                    " attempt(s): " + outcome.value.error().to_string()));
    } else {
      settle(std::move(outcome.value));
    }
    return {};
  }
  auto failed = attempt_;
  notify(ctx_, [&](WorkflowObserver& o, const run_info& run) { o.on_retry(run, task_id(), failed); });
  decision d;
  d.done = false;
  d.delay = work_.config.retry_mode.delay_for_attempt(attempt_ - 1);
  return d;
}

} // namespace cano::detail
