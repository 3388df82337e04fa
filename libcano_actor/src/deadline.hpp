// Deadlines and delays that saturate. Every timer and timed wait of the engine (attempt,
// workflow, join and compensation timeouts, retry and poll delays, the breaker's reset, the
// blocking pool's waits, the shutdown deadline) goes through here, so that a duration too long
// to add to a clock — `milliseconds::max()`, a backoff that grew past it — means "effectively
// never" instead of overflowing into the past and firing at once.
//
// The rule: a duration of `never_after` (ten years) or more is never. No timer is scheduled for
// it (a pending timer would hold its actor in memory for as long), a deadline built from it is
// the clock's maximum, a wait on it waits for its condition alone. A negative duration is zero.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include <caf/event_based_actor.hpp>

namespace cano::detail {

/// Durations at or past this are "effectively never" (about ten years).
constexpr std::chrono::milliseconds never_after{std::chrono::hours(24 * 3653)};

/// True when waiting `d` means waiting forever (`d >= never_after`).
template <class Rep, class Period>
constexpr bool is_never(std::chrono::duration<Rep, Period> d) {
  // never_after in d's own unit: ten years fit every standard unit down to nanoseconds.
  return d >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(never_after);
}

/// `d` clamped to [0, never_after], for an API that needs a duration (a timer scheduled with it
/// still fires after ten years; prefer `delayed_self_send`, which schedules none).
std::chrono::milliseconds timer_delay(std::chrono::milliseconds d) noexcept;

/// `now + d` on `Clock`, saturated: the clock's maximum when `d` is never, `now` when `d` < 0.
template <class Clock, class Rep, class Period>
typename Clock::time_point deadline_after(typename Clock::time_point now, std::chrono::duration<Rep, Period> d) {
  if (is_never(d)) {
    return Clock::time_point::max();
  }
  if (d <= d.zero()) {
    return now;
  }
  auto step = std::chrono::duration_cast<typename Clock::duration>(d);
  if (now.time_since_epoch().count() > 0 && step > Clock::time_point::max() - now) {
    return Clock::time_point::max();
  }
  return now + step;
}

/// Sends `xs...` to `self` after `d` (at once when `d` <= 0); sends nothing when `d` is never,
/// so the event never comes. Returns whether a timer was scheduled.
template <class Self, class... Ts>
bool delayed_self_send(Self* self, std::chrono::milliseconds d, Ts&&... xs) {
  if (is_never(d)) {
    return false;
  }
  self->delayed_send(self, timer_delay(d), std::forward<Ts>(xs)...);
  return true;
}

/// `cv.wait_for(lock, d, pred)` where a never `d` waits for `pred` alone. Returns `pred()`.
template <class Rep, class Period, class Pred>
bool wait_up_to(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, std::chrono::duration<Rep, Period> d,
                Pred pred) {
  if (is_never(d)) {
    cv.wait(lock, pred);
    return true;
  }
  return cv.wait_until(lock, deadline_after<std::chrono::steady_clock>(std::chrono::steady_clock::now(), d), pred);
}

/// `cv.wait_for(lock, d)` where a never `d` waits for a notification alone.
template <class Rep, class Period>
void wait_up_to(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, std::chrono::duration<Rep, Period> d) {
  if (is_never(d)) {
    cv.wait(lock);
    return;
  }
  cv.wait_until(lock, deadline_after<std::chrono::steady_clock>(std::chrono::steady_clock::now(), d));
}

} // namespace cano::detail
