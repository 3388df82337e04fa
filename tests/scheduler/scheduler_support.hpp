// Workflows and helpers for the scheduler tests. Their tasks are non-blocking (minimal config),
// so under virtual time a whole run happens inside virtual_system::run().
#pragma once

#include <chrono>
#include <climits>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>

#include "cano/scheduler.hpp"
#include "support/states.hpp"

namespace test {

using utc_time = std::chrono::system_clock::time_point;

/// A fixed UTC instant for the scheduler's clock: 2024-01-01T00:00:00Z plus `offset`.
inline utc_time utc_origin(std::chrono::milliseconds offset = std::chrono::milliseconds(0)) {
  std::tm tm{};
  tm.tm_year = 124;
  tm.tm_mday = 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + offset;
}

/// What a flow's task saw: the actor-clock time of every call (virtual under the test policy).
struct call_log {
  std::mutex mutex;
  std::vector<caf::actor_clock::time_point> at;
  std::size_t count() {
    std::lock_guard<std::mutex> g(mutex);
    return at.size();
  }
  /// Milliseconds from `zero` to each call.
  std::vector<long> ms_since(caf::actor_clock::time_point zero) {
    std::lock_guard<std::mutex> g(mutex);
    std::vector<long> out;
    for (auto t : at) {
      out.push_back(static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(t - zero).count()));
    }
    return out;
  }
};

/// cano's FlakyTask: call n (1-based) fails while n < succeed_on (INT_MAX: always fails).
inline cano::Workflow<State> flaky_workflow(caf::actor_system& sys, std::shared_ptr<call_log> log,
                                            int succeed_on = INT_MAX) {
  auto task = [&sys, log, succeed_on]() -> cano::expected<State> {
    std::size_t n = 0;
    {
      std::lock_guard<std::mutex> g(log->mutex);
      log->at.push_back(sys.clock().now());
      n = log->at.size();
    }
    if (static_cast<long long>(n) >= succeed_on) {
      return State::Complete;
    }
    return cano::error::task_execution("flaky");
  };
  return cano::Workflow<State>{}
    .register_task(State::Start, "Flaky", task, cano::TaskConfig::minimal().with_blocking(false))
    .add_exit_state(State::Complete);
}

/// A flow that always succeeds at once.
inline cano::Workflow<State> ok_workflow(caf::actor_system& sys, std::shared_ptr<call_log> log) {
  return flaky_workflow(sys, std::move(log), 1);
}

/// A run that takes `length` (a poll that waits once, on a timer), then succeeds; each start is
/// logged. Virtual time under the test policy.
class slow_poll : public cano::PollTask<State> {
public:
  slow_poll(caf::actor_system& sys, std::shared_ptr<call_log> log, std::chrono::milliseconds length)
    : sys_(sys),
      log_(std::move(log)),
      length_(length) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(false); }
  cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
    std::lock_guard<std::mutex> g(log_->mutex);
    waiting_ = !waiting_;
    if (waiting_) {
      log_->at.push_back(sys_.clock().now());
      return cano::PollOutcome<State>::pending(static_cast<std::uint64_t>(length_.count()));
    }
    return cano::PollOutcome<State>::ready(State::Complete);
  }
  /// After a cancelled run: the next run starts with a fresh wait.
  void forget() {
    std::lock_guard<std::mutex> g(log_->mutex);
    waiting_ = false;
  }

private:
  caf::actor_system& sys_;
  std::shared_ptr<call_log> log_;
  std::chrono::milliseconds length_;
  bool waiting_ = false;
};

inline cano::Workflow<State> slow_workflow(caf::actor_system& sys, std::shared_ptr<call_log> log,
                                           std::chrono::milliseconds length) {
  return cano::Workflow<State>{}
    .register_task(State::Start, std::make_shared<slow_poll>(sys, std::move(log), length))
    .add_exit_state(State::Complete);
}

inline cano::BackoffPolicy no_jitter(std::chrono::milliseconds initial, double multiplier,
                                     std::chrono::milliseconds max_delay,
                                     std::optional<std::uint32_t> limit = std::nullopt) {
  return cano::BackoffPolicy{initial, multiplier, max_delay, 0.0, limit};
}

/// The error text of a failed call, or "ok".
inline std::string text(const cano::expected<void>& r) { return r ? "ok" : r.error().to_string(); }

} // namespace test
