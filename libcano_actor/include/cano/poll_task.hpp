// PollTask — waits for something outside the workflow by polling it.
//
//   struct AwaitPayment : cano::PollTask<Order> {
//     cano::expected<cano::PollOutcome<Order>> poll(cano::task_context&) override {
//       if (gateway.settled()) return cano::PollOutcome<Order>::ready(Order::Ship);
//       return cano::PollOutcome<Order>::pending(500);   // poll again in 500 ms
//     }
//   };
//
// A pending wait is a timer message, never a sleeping thread, so thousands of runs can be
// parked cheaply. The whole poll loop is one attempt: attempt_timeout bounds all of it. The
// default config is minimal (no retry); on_poll_error chooses between failing at once and
// tolerating a number of consecutive errors (a Pending resets the count).
#pragma once

#include <cstdint>
#include <memory>
#include <thread>

#include "cano/detail/program_task.hpp"

namespace cano {

template <class S>
class PollOutcome {
public:
  static PollOutcome ready(TaskResult<S> r) { return PollOutcome(std::move(r), 0, true); }
  static PollOutcome pending(std::uint64_t delay_ms) { return PollOutcome(TaskResult<S>(S{}), delay_ms, false); }
  bool is_ready() const noexcept { return ready_; }
  const TaskResult<S>& result() const noexcept { return result_; }
  std::uint64_t delay_ms() const noexcept { return delay_ms_; }
  /// The delay as a duration, saturated at its maximum (which the engine treats as never).
  duration delay() const noexcept {
    constexpr auto max = static_cast<std::uint64_t>(duration::max().count());
    return delay_ms_ >= max ? duration::max() : duration{static_cast<duration::rep>(delay_ms_)};
  }

private:
  PollOutcome(TaskResult<S> r, std::uint64_t d, bool ready) : result_(std::move(r)), delay_ms_(d), ready_(ready) {}
  TaskResult<S> result_;
  std::uint64_t delay_ms_;
  bool ready_;
};

/// What a poll error does: fail at once (default), or allow `max_errors` consecutive errors.
struct PollErrorPolicy {
  static PollErrorPolicy fail_fast() { return {false, 0}; }
  static PollErrorPolicy retry_on_error(std::uint32_t max_errors) { return {true, max_errors}; }
  bool retry = false;
  std::uint32_t max_errors = 0;
};

template <class S>
class PollTask : public detail::program_task<S> {
public:
  TaskConfig config() const override { return TaskConfig::minimal(); }
  virtual PollErrorPolicy on_poll_error() const { return PollErrorPolicy::fail_fast(); }
  virtual expected<PollOutcome<S>> poll(task_context& ctx) = 0;

  std::unique_ptr<detail::attempt_program> make_program(const std::shared_ptr<detail::program_task<S>>& self) override;
};

namespace detail {

/// One attempt of a poll loop: poll, then Ready ends it, Pending polls again after a timer.
template <class S>
class poll_program final : public attempt_program {
public:
  /// `task` outlives the program: the workflow's definition owns it, and the engine runs a
  /// program only inside a run whose context holds that definition.
  explicit poll_program(PollTask<S>* task) : poll_program(task, task->on_poll_error()) {}

  program_action begin() override { return poll_after(duration{0}); }

  program_action on_call_done(std::uint64_t, expected<std::any> value) override {
    program_action next;
    if (!value) {
      if (!retry_on_error_ || ++consecutive_errors_ > max_errors_) {
        next.finished.emplace(value.error());
        return next;
      }
      return poll_after(duration{0}); // tolerated: poll again at once
    }
    auto& outcome = std::any_cast<PollOutcome<S>&>(*value);
    const bool ready = outcome.is_ready();
    this->measure([ready](metrics_sink& m) { m.poll_iteration(ready); });
    if (ready) {
      next.finished.emplace(to_step_result(outcome.result()));
      return next;
    }
    consecutive_errors_ = 0;
    return poll_after(outcome.delay());
  }

private:
  poll_program(PollTask<S>* task, PollErrorPolicy policy)
    : task_(task),
      max_errors_(policy.max_errors),
      retry_on_error_(policy.retry) {}

  program_action poll_after(duration delay) {
    program_action a;
    // The call holds the task by plain pointer (it then fits std::function's inline storage: a
    // parked run allocates nothing for it). The workflow's definition owns the task for as long
    // as a call can run: a call runs inline, or in a pool job that holds the run's context, and
    // with it the definition.
    a.calls.push_back({++calls_, delay, [task = task_](task_context& ctx) -> expected<std::any> {
                         auto r = task->poll(ctx);
                         if (!r) {
                           return r.error();
                         }
                         return std::any(std::move(*r));
                       }});
    return a;
  }

  // A parked run holds its program: its fields are kept small (40 bytes with the base's).
  PollTask<S>* task_;
  // Call ids only tell this program's calls apart (one is in flight at a time): wrapping after
  // 2^32 polls is harmless.
  std::uint32_t calls_ = 0;
  std::uint32_t max_errors_;
  std::uint32_t consecutive_errors_ = 0;
  bool retry_on_error_;
};

} // namespace detail

template <class S>
std::unique_ptr<detail::attempt_program>
PollTask<S>::make_program(const std::shared_ptr<detail::program_task<S>>& self) {
  return std::make_unique<detail::poll_program<S>>(static_cast<PollTask<S>*>(self.get()));
}

/// cano's run_poll_loop for direct calls outside the engine: polls on the calling thread and
/// sleeps through Pending delays. A Split result is returned as is. Iterations are counted in
/// the default metrics sink (set_default_metrics_sink), if any.
template <class S>
expected<TaskResult<S>> run_poll_loop(PollTask<S>& task, task_context& ctx) {
  auto metrics = default_metrics_sink();
  auto policy = task.on_poll_error();
  std::uint32_t consecutive = 0;
  for (;;) {
    auto r = task.poll(ctx);
    if (!r) {
      if (!policy.retry || ++consecutive > policy.max_errors) {
        return r.error();
      }
      continue;
    }
    if (metrics) {
      metrics->poll_iteration(r->is_ready());
    }
    if (r->is_ready()) {
      return r->result();
    }
    consecutive = 0;
    if (r->delay_ms() > 0) {
      std::this_thread::sleep_for(r->delay());
    }
  }
}

} // namespace cano
