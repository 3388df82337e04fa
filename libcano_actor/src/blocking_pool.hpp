// The engine's pool of plain threads for blocking task bodies (ARCHITECTURE D1).
//
// Up to `core_threads` threads start as soon as work waits; beyond that the pool grows one
// thread per `injection_delay` while work keeps waiting (so a burst of short calls does not
// create a thread per call, yet bodies that really block get their threads), up to
// `max_threads`; at the cap with every thread busy, posting fails. A thread that finished a job
// lingers for `linger` looking for the next one before it sleeps, so that a steady stream of
// short jobs is handed over without a futex wake-up; an idle pool sleeps (no spinning) and its
// threads exit after `idle_timeout`. Threads are detached and own the pool, so a body that never returns cannot
// stall shutdown or leave a dangling pointer: it is simply abandoned.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cano::detail {

class logger;

/// One pause of a spin-wait (lets a sibling hyper-thread run; a no-op elsewhere).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct pool_config {
  std::size_t max_threads = 1024;
  std::size_t core_threads = 8;
  std::chrono::milliseconds idle_timeout{5000};
  std::chrono::microseconds injection_delay{1000};
  std::chrono::microseconds linger{50};
  std::shared_ptr<const logger> log; // null: the default logger
};

/// The pool's threads right now (for the runtime's gauges).
struct pool_counts {
  std::size_t busy = 0;
  std::size_t idle = 0;      // asleep or lingering for the next job
  std::size_t abandoned = 0; // busy with a call whose stop flag is set (its attempt was given up)
};

class blocking_pool : public std::enable_shared_from_this<blocking_pool> {
public:
  static std::shared_ptr<blocking_pool> make(pool_config config);
  explicit blocking_pool(pool_config config) : config_(config) {}

  /// Runs `job` on a pool thread; false when every thread up to the cap is busy. `stop`, when
  /// given, is the flag that tells the job its attempt was given up: a thread still running a
  /// job whose flag is set counts as abandoned. `taken_now` (optional) says whether a lingering
  /// thread takes the job at once (so its result is likely to come within microseconds; no
  /// thread had to be woken).
  bool try_post(std::function<void()> job, std::shared_ptr<const std::atomic<bool>> stop = nullptr,
                bool* taken_now = nullptr);

  std::size_t threads() const;
  pool_counts counts() const;
  /// Idle threads exit now, busy ones after their job; later posts fail.
  void stop();
  std::size_t max_threads() const noexcept { return config_.max_threads; }

private:
  using clock = std::chrono::steady_clock;
  struct queued {
    std::function<void()> job;
    clock::time_point since;
    std::shared_ptr<const std::atomic<bool>> stop;
  };

  void start_thread_locked();
  void diagnose(const std::string& text) const;
  void worker_loop();
  /// Waits up to `linger` for a job with the lock released; returns with it held.
  void linger_locked(std::unique_lock<std::mutex>& lock);
  void injector_loop();

  const pool_config config_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable injector_wake_;
  std::deque<queued> queue_;
  std::vector<std::shared_ptr<const std::atomic<bool>>> running_stops_; // of jobs running now
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
  std::size_t lingering_ = 0;          // threads looking for work before they sleep
  std::atomic<std::size_t> queued_{0}; // queue_.size(), for lingering threads to read unlocked
  bool injector_running_ = false;
  bool stopped_ = false;
};

} // namespace cano::detail
