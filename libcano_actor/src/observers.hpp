// Calls every observer of a run, in registration order; a throwing hook is logged (through the
// run's logger) and skipped.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "actors/run_context.hpp"
#include "cano/observer.hpp"
#include "user_code.hpp"

namespace cano::detail {

using observer_list = std::vector<std::shared_ptr<WorkflowObserver>>;

/// Calls `hook(observer, run)` for each observer of the run `ctx`.
template <class F>
void notify(const run_context& ctx, F&& hook) {
  const auto run = ctx.info();
  for (const auto& o : ctx.def->observers) {
    call_guarded([&] { hook(*o, run); },
                 [&](const std::string& text) {
                   ctx.log()->diagnostic(log_level::error, "observer hook threw (ignored): " + text);
                 });
  }
}

} // namespace cano::detail
