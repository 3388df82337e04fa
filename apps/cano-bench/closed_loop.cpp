#include "closed_loop.hpp"

#include <chrono>
#include <future>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "cano/actor_api.hpp"
#include "memory.hpp"

namespace bench {

namespace {

using clock = std::chrono::steady_clock;

struct driver_state {
  std::function<void(caf::local_actor*)> start_one;
  clock::time_point window_start;
  clock::time_point window_end;
  std::size_t outstanding = 0;
  loop_figures figures;
  std::promise<loop_figures>* done = nullptr;
};

caf::behavior driver(caf::stateful_actor<driver_state>* self, std::size_t in_flight,
                     std::function<void(caf::local_actor*)> start_one, double warmup,
                     double seconds, std::promise<loop_figures>* done) {
  auto& st = self->state;
  st.start_one = std::move(start_one);
  st.done = done;
  auto now = clock::now();
  st.window_start = now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(warmup));
  st.window_end = st.window_start +
                  std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  for (std::size_t i = 0; i < in_flight; ++i) {
    st.start_one(self);
    ++st.outstanding;
  }
  return {
    [self](cano::run_result& r) {
      auto& s = self->state;
      --s.outstanding;
      auto t = clock::now();
      if (t >= s.window_start && t < s.window_end) {
        ++s.figures.runs;
        if (!r.ok()) {
          ++s.figures.failures;
        }
      }
      if (t < s.window_end) {
        s.start_one(self);
        ++s.outstanding;
      } else if (s.figures.rss_at_end == 0) {
        s.figures.rss_at_end = rss_bytes(); // measured while the last runs are still in flight
      }
      if (s.outstanding == 0) {
        s.figures.seconds =
          std::chrono::duration<double>(s.window_end - s.window_start).count();
        s.done->set_value(s.figures);
        self->quit();
      }
    },
  };
}

} // namespace

loop_figures run_closed_loop(caf::actor_system& sys, std::size_t in_flight, double warmup_seconds,
                             double seconds, std::function<void(caf::local_actor*)> start_one) {
  std::promise<loop_figures> done;
  auto result = done.get_future();
  sys.spawn(driver, in_flight, std::move(start_one), warmup_seconds, seconds, &done);
  return result.get();
}

} // namespace bench
