// Calls every observer of a run, in registration order; a throwing hook is logged and skipped.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cano/observer.hpp"
#include "log.hpp"
#include "user_code.hpp"

namespace cano::detail {

using observer_list = std::vector<std::shared_ptr<WorkflowObserver>>;

template <class F>
void notify(const observer_list& observers, F&& hook) {
  for (const auto& o : observers) {
    call_guarded([&] { hook(*o); },
                 [](const std::string& text) { log_error("observer hook threw (ignored): " + text); });
  }
}

} // namespace cano::detail
