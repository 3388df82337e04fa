// Latches and counters for ordering events in tests without sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace test {

/// A gate that blocks waiters until opened (a one-shot latch).
class gate {
public:
  void open() {
    std::lock_guard<std::mutex> g(m_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [this] { return open_; });
  }
  bool wait_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(m_);
    return cv_.wait_for(l, d, [this] { return open_; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

/// Counts arrivals; tests wait until a number has arrived (bounded).
class counter {
public:
  void arrive() {
    std::lock_guard<std::mutex> g(m_);
    ++n_;
    cv_.notify_all();
  }
  bool wait_for_at_least(std::size_t n, std::chrono::milliseconds d = std::chrono::seconds(60)) {
    std::unique_lock<std::mutex> l(m_);
    return cv_.wait_for(l, d, [&] { return n_ >= n; });
  }
  std::size_t value() {
    std::lock_guard<std::mutex> g(m_);
    return n_;
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t n_ = 0;
};

/// A reusable barrier for `parties` threads (C++17 has no std::barrier).
class barrier {
public:
  explicit barrier(std::size_t parties) : parties_(parties) {}
  /// False when the barrier did not fill within `d`.
  bool arrive_and_wait(std::chrono::milliseconds d = std::chrono::seconds(120)) {
    std::unique_lock<std::mutex> l(m_);
    if (++arrived_ >= parties_) {
      cv_.notify_all();
      return true;
    }
    return cv_.wait_for(l, d, [this] { return arrived_ >= parties_; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t parties_;
  std::size_t arrived_ = 0;
};

} // namespace test
