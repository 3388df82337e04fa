// What the cancellation and total-timeout suites share: an observer that keeps the category of
// every failure, a saga step with a journal, and a body that blocks until it is abandoned.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cano/observer.hpp"
#include "cano/saga.hpp"
#include "cano/task_context.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"

namespace test {

/// Records hooks as "state_enter:S", "task_start:T", "task_success:T", "task_failure:T:<category>",
/// "cancelled:S", "workflow_timeout:<limit ms>".
class event_log : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override { add("state_enter:" + s); }
  void on_task_start(const std::string& t) override { add("task_start:" + t); }
  void on_task_success(const std::string& t) override { add("task_success:" + t); }
  void on_task_failure(const std::string& t, const cano::error& e) override {
    add("task_failure:" + t + ":" + e.category());
  }
  void on_cancelled(const std::string& s) override { add("cancelled:" + s); }
  void on_workflow_timeout(std::chrono::nanoseconds elapsed, std::chrono::nanoseconds limit) override {
    std::lock_guard<std::mutex> g(mutex_);
    elapsed_.push_back(elapsed);
    events_.push_back("workflow_timeout:" +
                      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()));
  }

  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> g(mutex_);
    return events_;
  }
  /// How many events start with `prefix`.
  std::size_t count(const std::string& prefix) const {
    std::size_t n = 0;
    for (const auto& e : events()) {
      n += e.rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
  }
  bool contains(const std::string& event) const { return index_of(event) >= 0; }
  /// Index of the first event equal to `event`, or -1.
  int index_of(const std::string& event) const {
    auto all = events();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i] == event) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  std::vector<std::chrono::nanoseconds> timeouts_elapsed() const {
    std::lock_guard<std::mutex> g(mutex_);
    return elapsed_;
  }

private:
  void add(std::string e) {
    std::lock_guard<std::mutex> g(mutex_);
    events_.push_back(std::move(e));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
  std::vector<std::chrono::nanoseconds> elapsed_;
};

/// A thread-safe list of strings ("run:reserve", "rollback:reserve", ...).
class journal {
public:
  void add(std::string e) {
    std::lock_guard<std::mutex> g(mutex_);
    entries_.push_back(std::move(e));
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> g(mutex_);
    return entries_;
  }
  std::size_t count(const std::string& e) const {
    std::size_t n = 0;
    for (const auto& x : entries()) {
      n += x == e ? 1 : 0;
    }
    return n;
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

/// A saga step: journals "run:<name>" and "rollback:<name>"; its output is its name. Blocking
/// unless `blocking` is false; `fail_undo` makes its compensate fail; `hold` (when set) is a gate
/// its forward run waits on after arriving at `entered`.
class journaled_step : public cano::CompensatableTask<State, std::string> {
public:
  journaled_step(std::string name, State next, std::shared_ptr<journal> j, bool blocking = true)
    : name_(std::move(name)),
      next_(next),
      journal_(std::move(j)),
      blocking_(blocking) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(blocking_); }
  cano::expected<std::pair<cano::TaskResult<State>, std::string>> run(cano::task_context&) override {
    if (entered) {
      entered->arrive();
    }
    if (hold) {
      hold->wait_for(std::chrono::seconds(60));
    }
    journal_->add("run:" + name_);
    return std::make_pair(cano::TaskResult<State>(next_), name_);
  }
  cano::expected<void> compensate(cano::task_context&, std::string output) override {
    journal_->add("rollback:" + output);
    if (fail_undo) {
      return cano::error::task_execution(name_ + " rollback failed");
    }
    return {};
  }

  std::shared_ptr<counter> entered;
  std::shared_ptr<gate> hold;
  bool fail_undo = false;

private:
  std::string name_;
  State next_;
  std::shared_ptr<journal> journal_;
  bool blocking_;
};

/// A blocking body's wait until its attempt is abandoned (bounded: a test never hangs on it).
/// Returns whether it was abandoned.
inline bool wait_until_abandoned(cano::task_context& ctx) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!ctx.stop_requested() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ctx.stop_requested();
}

} // namespace test
