#include "blocking_pool.hpp"

#include <algorithm>
#include <exception>
#include <thread>

#include "deadline.hpp"
#include "logger.hpp"

namespace cano::detail {

std::shared_ptr<blocking_pool> blocking_pool::make(pool_config config) {
  return std::make_shared<blocking_pool>(config);
}

bool blocking_pool::try_post(std::function<void()> job, std::shared_ptr<const std::atomic<bool>> stop) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopped_) {
    return false;
  }
  const bool thread_free = idle_ > queue_.size();
  if (!thread_free && threads_ >= config_.max_threads) {
    return false;
  }
  queue_.push_back({std::move(job), clock::now(), std::move(stop)});
  if (thread_free) {
    lock.unlock();
    work_ready_.notify_one();
    return true;
  }
  if (threads_ < std::min(config_.core_threads, config_.max_threads)) {
    start_thread_locked();
    return true;
  }
  // Beyond the core: grow only if the work is still waiting after the injection delay.
  if (!injector_running_) {
    injector_running_ = true;
    try {
      std::thread([self = shared_from_this()] { self->injector_loop(); }).detach();
    } catch (const std::exception& e) {
      injector_running_ = false;
      diagnose(std::string("blocking pool could not start its injector: ") + e.what());
      start_thread_locked();
    }
  }
  return true;
}

void blocking_pool::diagnose(const std::string& text) const {
  (config_.log ? config_.log : default_logger())->diagnostic(log_level::error, text);
}

void blocking_pool::start_thread_locked() {
  try {
    std::thread([self = shared_from_this()] { self->worker_loop(); }).detach();
    ++threads_;
  } catch (const std::exception& e) {
    diagnose(std::string("blocking pool could not start a thread: ") + e.what());
  }
}

std::size_t blocking_pool::threads() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return threads_;
}

pool_counts blocking_pool::counts() const {
  std::lock_guard<std::mutex> guard(mutex_);
  pool_counts c;
  c.idle = idle_;
  c.busy = threads_ - idle_;
  for (const auto& stop : running_stops_) {
    if (stop->load(std::memory_order_relaxed)) {
      ++c.abandoned;
    }
  }
  return c;
}

void blocking_pool::stop() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopped_ = true;
  }
  work_ready_.notify_all();
  injector_wake_.notify_all();
}

void blocking_pool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      ++idle_;
      bool woke = wait_up_to(work_ready_, lock, config_.idle_timeout,
                             [this] { return !queue_.empty() || stopped_; });
      --idle_;
      if (!woke || queue_.empty()) {
        --threads_;
        return;
      }
    }
    auto job = std::move(queue_.front().job);
    auto stop = std::move(queue_.front().stop);
    queue_.pop_front();
    if (stop) {
      running_stops_.push_back(stop);
    }
    lock.unlock();
    try {
      job();
    } catch (...) {
      diagnose("a blocking job threw past its own guard");
    }
    job = nullptr; // what the job holds is released outside the lock
    lock.lock();
    if (stop) {
      auto it = std::find(running_stops_.begin(), running_stops_.end(), stop);
      if (it != running_stops_.end()) {
        *it = std::move(running_stops_.back());
        running_stops_.pop_back();
      }
    }
  }
}

void blocking_pool::injector_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (queue_.empty() || stopped_) {
      injector_running_ = false;
      return;
    }
    wait_up_to(injector_wake_, lock, config_.injection_delay);
    bool starved = !queue_.empty() && idle_ < queue_.size() &&
                   clock::now() - queue_.front().since >= config_.injection_delay;
    if (starved && threads_ < config_.max_threads) {
      start_thread_locked();
    }
  }
}

} // namespace cano::detail
