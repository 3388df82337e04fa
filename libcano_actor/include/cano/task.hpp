// Tasks — the work done in one state. A task returns the next state (TaskResult).
//
// As a class:
//   struct Charge : cano::Task<Order> {
//     cano::TaskConfig config() const override { return cano::TaskConfig{}.with_fixed_retry(3, 50ms); }
//     cano::expected<cano::TaskResult<Order>> run(cano::task_context& ctx) override {
//       return Order::Ship;
//     }
//   };
// or as a named lambda:
//   auto t = cano::make_task<Order>("charge", [](cano::task_context&) { return Order::Ship; });
//
// A RouterTask only decides where to go: registered with `register_router` it writes no
// checkpoint row. Bodies may be called concurrently by concurrent runs. An exception escaping a
// body ends the task at once as task_execution("panic: <what>"), without retry.
#pragma once

#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "cano/error.hpp"
#include "cano/resources.hpp"
#include "cano/retry.hpp"
#include "cano/task_context.hpp"

namespace cano {

/// Where a task sends the run: one next state, or (for split states) several.
template <class S>
class TaskResult {
public:
  TaskResult(S next) : single_(next) {} // NOLINT: a state converts to a Single result
  static TaskResult single(S next) { return TaskResult(next); }
  static TaskResult split(std::vector<S> targets) { return TaskResult(std::move(targets)); }
  bool is_single() const noexcept { return !split_; }
  bool is_split() const noexcept { return split_; }
  /// The next state of a Single result (the first target of a Split).
  S state() const { return split_ && !targets_.empty() ? targets_.front() : single_; }
  std::vector<S> states() const { return split_ ? targets_ : std::vector<S>{single_}; }
  friend bool operator==(const TaskResult& a, const TaskResult& b) {
    return a.split_ == b.split_ && a.states() == b.states();
  }
  friend bool operator!=(const TaskResult& a, const TaskResult& b) { return !(a == b); }

private:
  explicit TaskResult(std::vector<S> targets) : single_(), targets_(std::move(targets)), split_(true) {}
  S single_;               // a Single result needs no allocation: the hot path
  std::vector<S> targets_; // only for Split
  bool split_ = false;
};

namespace detail {
std::string type_name_of(const std::type_info& info);
error unimplemented_task_error(const std::string& type_name);
} // namespace detail

template <class S>
class Task {
public:
  virtual ~Task() = default;
  /// Read once at registration (cano caches it).
  virtual TaskConfig config() const { return TaskConfig{}; }
  /// The checkpoint task_id and compensator key: keep it stable across processes.
  virtual std::string name() const { return detail::type_name_of(typeid(*this)); }
  virtual expected<TaskResult<S>> run(task_context& /*ctx*/) { return run_bare(); }
  /// For tasks that need no context.
  virtual expected<TaskResult<S>> run_bare() {
    return detail::unimplemented_task_error(detail::type_name_of(typeid(*this)));
  }
};

/// A task that only routes. `run` forwards to `route`, so a router is also a plain Task.
template <class S>
class RouterTask : public Task<S> {
public:
  virtual expected<TaskResult<S>> route(task_context& ctx) = 0;
  expected<TaskResult<S>> run(task_context& ctx) final { return route(ctx); }
};

namespace detail {

// Whether class task T overrides `run` or `run_bare`: without an override, `&T::run` names
// Task<S>'s own member. Overloaded or private members cannot be inspected: assume overridden
// (the run-time configuration error, cano's scenario 63, still catches what C++ cannot see).
template <class T, class S, class = void>
struct overrides_run : std::true_type {};
template <class T, class S>
struct overrides_run<T, S, std::void_t<decltype(&T::run)>>
  : std::bool_constant<!std::is_same_v<decltype(&T::run), decltype(&Task<S>::run)>> {};
template <class T, class S, class = void>
struct overrides_run_bare : std::true_type {};
template <class T, class S>
struct overrides_run_bare<T, S, std::void_t<decltype(&T::run_bare)>>
  : std::bool_constant<!std::is_same_v<decltype(&T::run_bare), decltype(&Task<S>::run_bare)>> {};

/// True when T implements a body; Task<S> itself (a type-erased task) is taken on trust.
template <class T, class S>
inline constexpr bool implements_task_body =
  std::is_same_v<T, Task<S>> || overrides_run<T, S>::value || overrides_run_bare<T, S>::value;

template <class T>
struct is_expected : std::false_type {};
template <class T>
struct is_expected<expected<T>> : std::true_type {};

/// Turns what a lambda returned (S, TaskResult<S>, expected<S>, expected<TaskResult<S>>) into
/// expected<TaskResult<S>>.
template <class S, class R>
expected<TaskResult<S>> to_task_result(R&& r) {
  using D = std::decay_t<R>;
  if constexpr (std::is_same_v<D, expected<TaskResult<S>>>) {
    return std::forward<R>(r);
  } else if constexpr (std::is_same_v<D, expected<S>>) {
    if (!r) {
      return r.error();
    }
    return TaskResult<S>(*r);
  } else {
    static_assert(std::is_convertible_v<D, TaskResult<S>>,
                  "a task body returns S, TaskResult<S>, expected<S> or expected<TaskResult<S>>");
    return TaskResult<S>(std::forward<R>(r));
  }
}

template <class S, class F>
expected<TaskResult<S>> invoke_body(F& fn, task_context& ctx) {
  if constexpr (std::is_invocable_v<F&, task_context&>) {
    return to_task_result<S>(fn(ctx));
  } else {
    static_assert(std::is_invocable_v<F&>, "a task body takes (task_context&) or nothing");
    return to_task_result<S>(fn());
  }
}

template <class S, class F, class Base>
class fn_task final : public Base {
public:
  fn_task(std::string name, F fn, TaskConfig cfg) : name_(std::move(name)), fn_(std::move(fn)), cfg_(std::move(cfg)) {}
  TaskConfig config() const override { return cfg_; }
  std::string name() const override { return name_; }
  expected<TaskResult<S>> run(task_context& ctx) override { return invoke_body<S>(fn_, ctx); }

private:
  std::string name_;
  F fn_;
  TaskConfig cfg_;
};

template <class S, class F>
class fn_router final : public RouterTask<S> {
public:
  fn_router(std::string name, F fn, TaskConfig cfg)
    : name_(std::move(name)),
      fn_(std::move(fn)),
      cfg_(std::move(cfg)) {}
  TaskConfig config() const override { return cfg_; }
  std::string name() const override { return name_; }
  expected<TaskResult<S>> route(task_context& ctx) override { return invoke_body<S>(fn_, ctx); }

private:
  std::string name_;
  F fn_;
  TaskConfig cfg_;
};

} // namespace detail

/// A task from a callable taking `task_context&` (or nothing).
template <class S, class F>
std::shared_ptr<Task<S>> make_task(std::string name, F fn, TaskConfig config = {}) {
  return std::make_shared<detail::fn_task<S, F, Task<S>>>(std::move(name), std::move(fn), std::move(config));
}

/// A router from a callable taking `task_context&` (or nothing).
template <class S, class F>
std::shared_ptr<RouterTask<S>> make_router(std::string name, F fn, TaskConfig config = {}) {
  return std::make_shared<detail::fn_router<S, F>>(std::move(name), std::move(fn), std::move(config));
}

} // namespace cano
