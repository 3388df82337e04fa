#include "closed_loop.hpp"

#include <array>
#include <chrono>
#include <future>
#include <vector>

#include <time.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "cano/actor_api.hpp"
#include "memory.hpp"

namespace bench {

namespace {

using clock = std::chrono::steady_clock;

/// Run latencies in a log-linear histogram: 64 buckets per power of two of nanoseconds (about
/// 1.6 % resolution), 20 KB in all, so that recording costs neither time nor growing memory.
class latency_histogram {
public:
  void add(clock::duration d) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    ++buckets_[index(ns < 1 ? 1 : static_cast<std::uint64_t>(ns))];
    ++total_;
  }
  /// The `q` quantile in microseconds (its bucket's upper edge), 0 when empty.
  double quantile_us(double q) const {
    if (total_ == 0) {
      return 0;
    }
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= rank) {
        return static_cast<double>(upper_edge(i)) / 1000.0;
      }
    }
    return 0;
  }

private:
  static constexpr unsigned sub_bits = 6; // 64 buckets per power of two
  static std::size_t index(std::uint64_t ns) {
    if (ns < (1U << sub_bits)) {
      return static_cast<std::size_t>(ns);
    }
    unsigned power = 63U - static_cast<unsigned>(__builtin_clzll(ns)); // >= sub_bits
    auto sub = (ns >> (power - sub_bits)) & ((1U << sub_bits) - 1);
    return ((power - sub_bits + 1) << sub_bits) + static_cast<std::size_t>(sub);
  }
  static std::uint64_t upper_edge(std::size_t i) {
    if (i < (1U << sub_bits)) {
      return i + 1;
    }
    auto power = (i >> sub_bits) + sub_bits - 1;
    auto sub = i & ((1U << sub_bits) - 1);
    return ((std::uint64_t{1} << sub_bits) + sub + 1) << (power - sub_bits);
  }
  std::array<std::uint64_t, (64 - sub_bits + 1) << sub_bits> buckets_{};
  std::uint64_t total_ = 0;
};

/// When each outstanding run started, by run id: ids are dense, so a ring of slots does (256 KB;
/// a slot reused before its run ended is detected by its id, and that sample is skipped).
struct start_times {
  static constexpr std::size_t slots = 1 << 14;
  std::vector<std::pair<std::uint64_t, clock::time_point>> ring =
    std::vector<std::pair<std::uint64_t, clock::time_point>>(slots);
  void started(std::uint64_t id, clock::time_point t) { ring[id % slots] = {id, t}; }
  bool lookup(std::uint64_t id, clock::time_point& t) const {
    const auto& slot = ring[id % slots];
    t = slot.second;
    return slot.first == id;
  }
};

struct driver_state {
  std::function<std::uint64_t(caf::local_actor*)> start_one;
  clock::time_point window_start;
  clock::time_point window_end;
  std::size_t outstanding = 0;
  bool window_open = false;
  double cpu_at_start = 0;
  loop_figures figures;
  latency_histogram latencies;
  start_times starts;
  std::promise<loop_figures>* done = nullptr;

  void start(caf::local_actor* self) {
    auto t = clock::now();
    starts.started(start_one(self), t);
    ++outstanding;
  }
};

caf::behavior driver(caf::stateful_actor<driver_state>* self, std::size_t in_flight,
                     std::function<std::uint64_t(caf::local_actor*)> start_one, double warmup, double seconds,
                     std::promise<loop_figures>* done) {
  auto& st = self->state;
  st.start_one = std::move(start_one);
  st.done = done;
  auto now = clock::now();
  st.window_start = now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(warmup));
  st.window_end = st.window_start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  for (std::size_t i = 0; i < in_flight; ++i) {
    st.start(self);
  }
  return {
    [self](cano::run_result& r) {
      auto& s = self->state;
      --s.outstanding;
      auto t = clock::now();
      if (t >= s.window_start && t < s.window_end) {
        if (!s.window_open) {
          s.window_open = true;
          s.cpu_at_start = process_cpu_seconds();
        }
        ++s.figures.runs;
        if (!r.ok()) {
          ++s.figures.failures;
        }
        clock::time_point started;
        if (s.starts.lookup(r.run_id, started)) {
          s.latencies.add(t - started);
        }
      }
      if (t < s.window_end) {
        s.start(self);
      } else if (s.figures.rss_at_end == 0) {
        s.figures.rss_at_end = rss_bytes(); // measured while the last runs are still in flight
        s.figures.cpu_seconds = s.window_open ? process_cpu_seconds() - s.cpu_at_start : 0;
        s.figures.p99_run_latency_us = s.latencies.quantile_us(0.99);
      }
      if (s.outstanding == 0) {
        s.figures.seconds = std::chrono::duration<double>(s.window_end - s.window_start).count();
        s.done->set_value(s.figures);
        self->quit();
      }
    },
  };
}

} // namespace

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

loop_figures run_closed_loop(caf::actor_system& sys, std::size_t in_flight, double warmup_seconds, double seconds,
                             std::function<std::uint64_t(caf::local_actor*)> start_one) {
  std::promise<loop_figures> done;
  auto result = done.get_future();
  sys.spawn(driver, in_flight, std::move(start_one), warmup_seconds, seconds, &done);
  return result.get();
}

} // namespace bench
