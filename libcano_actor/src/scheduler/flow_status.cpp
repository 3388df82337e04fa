// Printing a flow's status the way cano's Debug does (tests and logs read it).
#include <cstdio>

#include "../format.hpp"
#include "cano/scheduler.hpp"
#include "civil_time.hpp"

namespace cano {

namespace detail {

std::string format_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  const std::int64_t secs = floor_div(ns, 1000000000);
  const std::int64_t frac = ns - secs * 1000000000;
  const std::int64_t days = floor_div(secs, 86400);
  const std::int64_t rem = secs - days * 86400;
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem % 3600 / 60),
                static_cast<long long>(rem % 60));
  std::string out = buf;
  if (frac != 0) {
    // chrono shows 3, 6 or 9 digits, whichever keeps the value exact.
    if (frac % 1000000 == 0) {
      std::snprintf(buf, sizeof(buf), ".%03lld", static_cast<long long>(frac / 1000000));
    } else if (frac % 1000 == 0) {
      std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac / 1000));
    } else {
      std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(frac));
    }
    out += buf;
  }
  return out + "Z";
}

} // namespace detail

std::ostream& operator<<(std::ostream& os, FlowStatus::kind k) {
  switch (k) {
    case FlowStatus::kind::idle: return os << "Idle";
    case FlowStatus::kind::running: return os << "Running";
    case FlowStatus::kind::completed: return os << "Completed";
    case FlowStatus::kind::backoff: return os << "Backoff";
    case FlowStatus::kind::tripped: return os << "Tripped";
  }
  return os;
}

std::ostream& operator<<(std::ostream& os, const FlowStatus& s) {
  switch (s.state()) {
    case FlowStatus::kind::idle:
    case FlowStatus::kind::running:
    case FlowStatus::kind::completed: return os << s.state();
    case FlowStatus::kind::backoff:
      return os << "Backoff { until: " << detail::format_utc(s.until()) << ", streak: " << s.streak()
                << ", last_error: " << detail::debug_quote(s.last_error()) << " }";
    case FlowStatus::kind::tripped:
      return os << "Tripped { streak: " << s.streak() << ", last_error: " << detail::debug_quote(s.last_error())
                << " }";
  }
  return os;
}

} // namespace cano
