// latency_histogram — a lock-free histogram of durations in logarithmic buckets, for figures
// kept on the hot path (the checkpoint actors' write latencies). Recording is one atomic
// increment; quantiles are read as the upper bound of the bucket that holds them.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace cano::detail {

class latency_histogram {
public:
  /// Buckets grow by 2^(1/8) (about 9%) from 1 µs; the last one takes everything from ~18 min up.
  static constexpr std::size_t bucket_count = 240;

  void record(std::chrono::nanoseconds d) noexcept { counts_[bucket_of(d)].fetch_add(1, std::memory_order_relaxed); }

  using counts = std::array<std::uint64_t, bucket_count>;

  /// Adds this histogram's counts to `into`; with `reset`, they are taken out (a new window).
  void add_to(counts& into, bool reset) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) {
      into[i] += reset ? counts_[i].exchange(0, std::memory_order_relaxed) : counts_[i].load(std::memory_order_relaxed);
    }
  }

  /// Quantile `q` (0..1) of `c` in milliseconds: the upper bound of the bucket that holds it, as
  /// nth_element over the samples would pick it; 0 when empty.
  static double quantile_ms(const counts& c, double q) noexcept {
    std::uint64_t total = 0;
    for (auto n : c) {
      total += n;
    }
    if (total == 0) {
      return 0;
    }
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += c[i];
      if (seen > rank) {
        return upper_bound_ms(i);
      }
    }
    return upper_bound_ms(bucket_count - 1);
  }

  static std::size_t bucket_of(std::chrono::nanoseconds d) noexcept {
    auto us = static_cast<double>(d.count()) / 1000.0;
    if (!(us > 1.0)) {
      return 0;
    }
    auto i = static_cast<std::size_t>(std::ceil(std::log2(us) * 8.0));
    return i < bucket_count ? i : bucket_count - 1;
  }
  /// Bucket i holds durations in (2^((i-1)/8), 2^(i/8)] µs.
  static double upper_bound_ms(std::size_t i) noexcept { return std::exp2(static_cast<double>(i) / 8.0) / 1000.0; }

private:
  std::array<std::atomic<std::uint64_t>, bucket_count> counts_{};
};

} // namespace cano::detail
