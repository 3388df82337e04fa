// Cooperative cancellation (cano 0.15, spec §4.3): a handle that cancels and a token that a run
// watches. Hand the token to a run when it starts or resumes; cancel through the handle from any
// thread.
//
//   auto [handle, token] = cano::cancellation_token::make();
//   rt.start(wf, Order::Validate, {"order-42", input, false, token}, self);
//   ...
//   handle.cancel();   // the run stops: it ends with category `cancelled` after its rollback
//
// What a cancelled run does: it is checked before every state (before on_state_enter; a run
// cancelled before it starts runs no task) and interrupts the task in flight — a body, a poll
// loop, a stepped loop, a batch, a split's branches (abandoned: their bodies see
// task_context::stop_requested() and their results are ignored) — except a saga step
// (register_with_compensation), which is never interrupted: it finishes, its entry is pushed,
// and the run stops at the next state. Then the saga steps are undone (the drain itself is not
// cancellable), resources are torn down and the run ends with error::cancelled() (or
// compensation_failed whose first error is it). Observers see on_cancelled(state) once.
//
// A default-constructed token is disabled: it never fires and costs nothing. Copies of a handle
// or token share their state; cancel() is idempotent; a handle that goes away cancels nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace cano {

namespace detail {
struct cancellation_state;
} // namespace detail

class cancellation_handle;

class cancellation_token {
public:
  /// A disabled token: it never fires (cano's CancellationToken::disabled()).
  cancellation_token() noexcept = default;
  static cancellation_token disabled() noexcept { return {}; }
  /// A new handle and the token it cancels.
  static std::pair<cancellation_handle, cancellation_token> make();

  /// True once the handle cancelled.
  bool is_cancelled() const noexcept;
  /// False for a disabled token.
  bool can_be_cancelled() const noexcept { return state_ != nullptr; }

  /// Removes its callback when it goes (see on_cancel).
  class subscription {
  public:
    subscription() noexcept = default;
    subscription(subscription&& other) noexcept;
    subscription& operator=(subscription&& other) noexcept;
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription();
    /// Removes the callback now (it may still be running on the thread that cancels).
    void reset() noexcept;

  private:
    friend class cancellation_token;
    std::shared_ptr<detail::cancellation_state> state_;
    std::uint64_t id_ = 0;
  };

  /// Calls `fn` once on the thread that cancels (on this thread, now, when the token is already
  /// cancelled), unless the returned subscription went first. A disabled token never calls it.
  /// `fn` must not throw.
  subscription on_cancel(std::function<void()> fn) const;

private:
  friend class cancellation_handle;
  explicit cancellation_token(std::shared_ptr<detail::cancellation_state> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::cancellation_state> state_;
};

class cancellation_handle {
public:
  /// Cancels the token (idempotent, from any thread): its subscribers' callbacks run now.
  void cancel() const;
  bool is_cancelled() const noexcept;
  /// The token this handle cancels.
  cancellation_token token() const { return cancellation_token(state_); }

private:
  friend class cancellation_token;
  explicit cancellation_handle(std::shared_ptr<detail::cancellation_state> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::cancellation_state> state_;
};

} // namespace cano
