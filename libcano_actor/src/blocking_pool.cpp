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

bool blocking_pool::try_post(std::function<void()> job, std::shared_ptr<const std::atomic<bool>> stop,
                             bool* taken_now) {
  if (taken_now != nullptr) {
    *taken_now = false;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (stopped_) {
    return false;
  }
  const bool lingering_free = lingering_ > queue_.size();
  const bool thread_free = idle_ + lingering_ > queue_.size();
  if (!thread_free && threads_ >= config_.max_threads) {
    return false;
  }
  queue_.push_back({std::move(job), clock::now(), std::move(stop)});
  queued_.store(queue_.size(), std::memory_order_release);
  if (lingering_free) {
    if (taken_now != nullptr) {
      *taken_now = true;
    }
    return true; // a lingering thread sees it: nobody to wake
  }
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
  c.idle = idle_ + lingering_; // a lingering thread has no job: it waits for one
  c.busy = threads_ - c.idle;
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

void blocking_pool::linger_locked(std::unique_lock<std::mutex>& lock) {
  ++lingering_;
  lock.unlock();
  const auto until = clock::now() + config_.linger;
  for (unsigned spins = 0; queued_.load(std::memory_order_acquire) == 0; ++spins) {
    if (spins < 64) {
      cpu_relax();
      continue;
    }
    // Past a few pauses, yield: on a busy machine the poster may need this very core.
    if (clock::now() >= until) {
      break;
    }
    std::this_thread::yield();
  }
  lock.lock();
  --lingering_;
}

void blocking_pool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  bool worked = false; // linger only after a job: a thread that found no work sleeps at once
  for (;;) {
    if (queue_.empty() && worked && !stopped_ && config_.linger.count() > 0) {
      linger_locked(lock);
    }
    worked = false;
    if (queue_.empty()) {
      ++idle_;
      bool woke = wait_up_to(work_ready_, lock, config_.idle_timeout, [this] { return !queue_.empty() || stopped_; });
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
    queued_.store(queue_.size(), std::memory_order_release);
    worked = true;
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
    bool starved =
      !queue_.empty() && idle_ < queue_.size() && clock::now() - queue_.front().since >= config_.injection_delay;
    if (starved && threads_ < config_.max_threads) {
      start_thread_locked();
    }
  }
}

} // namespace cano::detail
