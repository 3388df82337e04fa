// The engine's pool of plain threads for blocking task bodies (ARCHITECTURE D1).
//
// It grows on demand up to a cap and idle threads exit after a while. Threads are detached and
// own the pool through shared ownership, so a body that never returns cannot stall shutdown or
// leave a dangling pointer: it is simply abandoned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace cano::detail {

class blocking_pool : public std::enable_shared_from_this<blocking_pool> {
public:
  static std::shared_ptr<blocking_pool> make(std::size_t max_threads,
                                             std::chrono::milliseconds idle_timeout);

  /// Runs `job` on a pool thread; false when every thread up to the cap is busy.
  bool try_post(std::function<void()> job);

  std::size_t threads() const;
  std::size_t max_threads() const noexcept { return max_threads_; }

  blocking_pool(std::size_t max_threads, std::chrono::milliseconds idle_timeout)
    : max_threads_(max_threads), idle_timeout_(idle_timeout) {}

private:
  void worker_loop();

  const std::size_t max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::deque<std::function<void()>> queue_;
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
};

} // namespace cano::detail
