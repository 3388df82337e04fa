// Calls every observer of a run, in registration order; a throwing hook is logged and skipped.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cano/observer.hpp"
#include "log.hpp"

namespace cano::detail {

using observer_list = std::vector<std::shared_ptr<WorkflowObserver>>;

template <class F>
void notify(const observer_list& observers, F&& hook) {
  for (const auto& o : observers) {
    try {
      hook(*o);
    } catch (const std::exception& e) {
      log_error(std::string("observer hook threw (ignored): ") + e.what());
    } catch (...) {
      log_error("observer hook threw a non-standard exception (ignored)");
    }
  }
}

} // namespace cano::detail
