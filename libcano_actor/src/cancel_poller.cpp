#include "cancel_poller.hpp"

#include <algorithm>

#include "deadline.hpp"
#include "user_code.hpp"

namespace cano::detail {

cancel_poller::cancel_poller(std::chrono::milliseconds interval, stores_fn stores, requested_fn requested,
                             std::shared_ptr<const logger> log)
  : interval_(std::max(interval, std::chrono::milliseconds(1))), // never a busy loop
    stores_(std::move(stores)),
    requested_(std::move(requested)),
    log_(std::move(log)) {}

cancel_poller::~cancel_poller() { stop(); }

void cancel_poller::ensure_started() {
  if (started_.load(std::memory_order_acquire)) {
    return; // every durable start calls this: no lock once the thread runs
  }
  std::lock_guard<std::mutex> guard(mutex_);
  if (started_.load(std::memory_order_relaxed) || stopping_) {
    return;
  }
  started_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { loop(); });
}

void cancel_poller::stop() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

std::uint64_t cancel_poller::queries() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return queries_;
}

void cancel_poller::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wait_up_to(wake_, lock, interval_, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    poll_once();
    lock.lock();
  }
}

void cancel_poller::poll_once() {
  for (const auto& store : stores_()) {
    auto ids = call_guarded([&] { return store->cancel_requests(); },
                            [](const std::string& text) -> expected<std::vector<std::string>> {
                              return error::checkpoint_store("cancel_requests: the store threw: " + text);
                            });
    std::unique_lock<std::mutex> lock(mutex_);
    ++queries_;
    auto failing = std::find(failing_.begin(), failing_.end(), store.get());
    if (!ids) {
      // The next interval asks again; say so once per outage, not once per interval.
      if (failing == failing_.end()) {
        failing_.push_back(store.get());
        lock.unlock();
        log_->diagnostic(log_level::error,
                         "looking for cancel requests failed (retried every interval): " + ids.error().to_string());
      }
      continue;
    }
    if (failing != failing_.end()) {
      failing_.erase(failing);
    }
    lock.unlock();
    for (const auto& id : *ids) {
      requested_(*store, id);
    }
  }
}

} // namespace cano::detail
