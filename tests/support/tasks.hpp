// Small task builders shared by the workflow tests.
#pragma once

#include <atomic>
#include <memory>

#include "cano/task.hpp"
#include "support/states.hpp"

namespace test {

using calls = std::shared_ptr<std::atomic<int>>;
inline calls make_calls() { return std::make_shared<std::atomic<int>>(0); }

/// A task that always goes to `next`.
inline std::shared_ptr<cano::Task<State>> goto_task(State next, cano::TaskConfig cfg = {}, std::string name = "GoTo") {
  return cano::make_task<State>(
    std::move(name), [next] { return next; }, std::move(cfg));
}

/// A task that counts its calls and fails while the count is below `fail_first`.
inline std::shared_ptr<cano::Task<State>> flaky_task(calls n, int fail_first, State next, cano::TaskConfig cfg,
                                                     std::string name = "Flaky") {
  return cano::make_task<State>(
    std::move(name),
    [n, fail_first, next]() -> cano::expected<State> {
      if (n->fetch_add(1) < fail_first) {
        return cano::error::task_execution("immediate fail");
      }
      return next;
    },
    std::move(cfg));
}

} // namespace test
