#include "cano/cancellation.hpp"

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include "log.hpp"
#include "user_code.hpp"

namespace cano {

namespace detail {

/// What a handle and its tokens share: the flag and the callbacks waiting for it.
struct cancellation_state {
  std::atomic<bool> cancelled{false};
  std::mutex mutex;
  std::uint64_t next_id = 1;
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks;
};

} // namespace detail

std::pair<cancellation_handle, cancellation_token> cancellation_token::make() {
  auto state = std::make_shared<detail::cancellation_state>();
  return {cancellation_handle(state), cancellation_token(state)};
}

bool cancellation_token::is_cancelled() const noexcept {
  return state_ != nullptr && state_->cancelled.load(std::memory_order_acquire);
}

cancellation_token::subscription cancellation_token::on_cancel(std::function<void()> fn) const {
  subscription sub;
  if (!state_) {
    return sub;
  }
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (!state_->cancelled.load(std::memory_order_acquire)) {
      sub.state_ = state_;
      sub.id_ = state_->next_id++;
      state_->callbacks.emplace_back(sub.id_, std::move(fn));
      return sub;
    }
  }
  // Already cancelled: the callback runs at once.
  detail::call_guarded(fn, [](const std::string& text) { detail::log_error("cancellation callback threw: " + text); });
  return sub;
}

cancellation_token::subscription::subscription(subscription&& other) noexcept
  : state_(std::move(other.state_)),
    id_(std::exchange(other.id_, 0)) {}

cancellation_token::subscription& cancellation_token::subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

cancellation_token::subscription::~subscription() { reset(); }

void cancellation_token::subscription::reset() noexcept {
  if (!state_) {
    return;
  }
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    auto& cbs = state_->callbacks;
    for (auto it = cbs.begin(); it != cbs.end(); ++it) {
      if (it->first == id_) {
        cbs.erase(it);
        break;
      }
    }
  }
  state_.reset();
  id_ = 0;
}

void cancellation_handle::cancel() const {
  std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks;
  {
    std::lock_guard<std::mutex> guard(state_->mutex);
    if (state_->cancelled.exchange(true, std::memory_order_acq_rel)) {
      return; // idempotent
    }
    callbacks.swap(state_->callbacks);
  }
  for (auto& cb : callbacks) {
    detail::call_guarded(cb.second,
                         [](const std::string& text) { detail::log_error("cancellation callback threw: " + text); });
  }
}

bool cancellation_handle::is_cancelled() const noexcept { return state_->cancelled.load(std::memory_order_acquire); }

} // namespace cano
