#include "blocking_pool.hpp"

#include <exception>
#include <thread>

#include "log.hpp"

namespace cano::detail {

std::shared_ptr<blocking_pool> blocking_pool::make(std::size_t max_threads,
                                                   std::chrono::milliseconds idle_timeout) {
  return std::make_shared<blocking_pool>(max_threads, idle_timeout);
}

bool blocking_pool::try_post(std::function<void()> job) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (idle_ > queue_.size()) {
    queue_.push_back(std::move(job));
    lock.unlock();
    work_ready_.notify_one();
    return true;
  }
  if (threads_ >= max_threads_) {
    return false;
  }
  queue_.push_back(std::move(job));
  ++threads_;
  lock.unlock();
  try {
    std::thread([self = shared_from_this()] { self->worker_loop(); }).detach();
  } catch (const std::exception& e) {
    log_error(std::string("blocking pool could not start a thread: ") + e.what());
    std::lock_guard<std::mutex> guard(mutex_);
    --threads_;
    if (!queue_.empty()) {
      queue_.pop_back();
    }
    return false;
  }
  return true;
}

std::size_t blocking_pool::threads() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return threads_;
}

void blocking_pool::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (queue_.empty()) {
      ++idle_;
      bool woke = work_ready_.wait_for(lock, idle_timeout_, [this] { return !queue_.empty(); });
      --idle_;
      if (!woke) {
        --threads_;
        return;
      }
    }
    auto job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      job();
    } catch (...) {
      log_error("a blocking job threw past its own guard");
    }
    lock.lock();
  }
}

} // namespace cano::detail
