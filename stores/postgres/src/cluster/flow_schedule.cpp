#include "flow_schedule.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace cano {

const char* to_string(flow_trigger t) noexcept {
  switch (t) {
    case flow_trigger::every: return "every";
    case flow_trigger::cron: return "cron";
    case flow_trigger::manual: return "manual";
  }
  return "?";
}

expected<void> check_flow(const cluster_flow& flow) {
  if (flow.id.empty()) {
    return error::configuration("a flow needs an id");
  }
  for (unsigned char c : flow.id) {
    if (std::isspace(c) || std::iscntrl(c)) {
      return error::configuration("Flow '" + flow.id + "': an id has no spaces or control characters");
    }
  }
  if (flow.definition.empty()) {
    return error::configuration("Flow '" + flow.id + "' names no workflow");
  }
  if (flow.trigger != flow_trigger::cron && !flow.cron.empty()) {
    return error::configuration("Flow '" + flow.id + "' is " + to_string(flow.trigger) + " but has a cron expression");
  }
  switch (flow.trigger) {
    case flow_trigger::every:
      if (auto ok = detail::check_interval(flow.id, flow.interval); !ok) {
        return ok;
      }
      if (flow.interval.count() == 0) {
        return error::configuration("Flow '" + flow.id + "' needs a positive interval (0ms would fire without pause)");
      }
      break;
    case flow_trigger::cron:
      if (auto parsed = CronSchedule::parse(flow.cron); !parsed) {
        return parsed.error();
      }
      break;
    case flow_trigger::manual: break;
  }
  return {};
}

std::string flow_run_id(const std::string& flow_id, std::chrono::system_clock::time_point tick) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(tick.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  auto frac = ms - static_cast<long long>(secs) * 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[128]; // room for any int the format may meet
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(frac));
  return flow_id + "@" + buf;
}

namespace detail {

namespace {

/// A whole number of the largest unit that fits, in CAF's syntax (so the text reads back).
std::string duration_text(std::chrono::milliseconds d) {
  auto n = d.count();
  if (n != 0 && n % 3600000 == 0) {
    return std::to_string(n / 3600000) + "h";
  }
  if (n != 0 && n % 60000 == 0) {
    return std::to_string(n / 60000) + "min";
  }
  if (n != 0 && n % 1000 == 0) {
    return std::to_string(n / 1000) + "s";
  }
  return std::to_string(n) + "ms";
}

/// t + d, saturating at time_point::max (a huge delay means "effectively never").
flow_time later(flow_time t, std::chrono::nanoseconds d) {
  auto room = flow_time::max() - t;
  auto step = std::chrono::duration_cast<flow_time::duration>(d);
  return step > room ? flow_time::max() : t + step;
}

/// The first fire time at or after `t` (fire times are whole seconds).
std::optional<flow_time> fire_at_or_after(const CronSchedule& cron, flow_time t) {
  return cron.next_after(t - std::chrono::nanoseconds(1));
}

/// The next fire time after `now` that is not inside the window ending at `eligible`.
std::optional<flow_time> next_fire(const CronSchedule& cron, flow_time now, const std::optional<flow_time>& eligible) {
  auto next = cron.next_after(now);
  if (next && eligible && *next < *eligible) {
    next = fire_at_or_after(cron, *eligible);
  }
  return next;
}

constexpr flow_time never = flow_time::max();

} // namespace

expected<flow_plan> flow_plan::of(cluster_flow flow) {
  if (auto ok = check_flow(flow); !ok) {
    return ok.error();
  }
  flow_plan p;
  if (flow.trigger == flow_trigger::cron) {
    p.cron = *CronSchedule::parse(flow.cron);
  }
  p.flow = std::move(flow);
  return p;
}

std::string flow_plan::schedule_text() const {
  switch (flow.trigger) {
    case flow_trigger::every: return "every " + duration_text(flow.interval);
    case flow_trigger::cron: return "cron " + flow.cron;
    case flow_trigger::manual: return "manual";
  }
  return "?";
}

flow_time to_millis(flow_time t) {
  return flow_time(std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()));
}

std::optional<flow_time> first_tick(const flow_plan& plan, flow_time now) {
  switch (plan.flow.trigger) {
    case flow_trigger::every: return to_millis(now);
    case flow_trigger::cron: return plan.cron->next_after(now);
    case flow_trigger::manual: return std::nullopt;
  }
  return std::nullopt;
}

tick_decision decide_tick(const flow_plan& plan, const flow_row& row, flow_time now, std::chrono::milliseconds grace) {
  using action = tick_decision::action;
  if (row.status == FlowStatus::kind::tripped || plan.flow.trigger == flow_trigger::manual) {
    return {action::wait, never, {}};
  }
  if (!row.next_tick) {
    auto first = first_tick(plan, now);
    if (!first) {
      return {action::wait, never, {}}; // a cron expression that never fires again
    }
    return {action::reschedule, *first, "no tick was set"};
  }
  if (now < *row.next_tick) {
    return {action::wait, *row.next_tick, {}};
  }
  if (plan.flow.trigger == flow_trigger::every) {
    if (row.last_tick && *row.last_tick >= *row.next_tick) {
      // A triggered run was dispatched at or after this tick: cano's loop would have found the
      // flow running and waited another interval.
      auto next = later(to_millis(now), plan.flow.interval);
      if (row.next_eligible && *row.next_eligible > next) {
        next = *row.next_eligible;
      }
      return {action::reschedule, next, "a triggered run took that tick"};
    }
    return {action::fire, *row.next_tick, {}}; // late or not, once: an every-flow loses no tick
  }
  // Cron: the latest fire time from next_tick to now. Older ones are never caught up (cano).
  const auto& cron = *plan.cron;
  auto oldest = *row.next_tick;
  if (now - grace > oldest) {
    auto in_grace = fire_at_or_after(cron, now - grace);
    oldest = in_grace && *in_grace <= now ? *in_grace : now + std::chrono::milliseconds(1);
  }
  std::optional<flow_time> latest;
  for (auto t = std::optional<flow_time>(oldest); t && *t <= now; t = cron.next_after(*t)) {
    latest = t;
  }
  auto skip = [&](std::string why) {
    auto next = next_fire(cron, now, std::nullopt);
    return tick_decision{action::reschedule, next ? *next : never, std::move(why)};
  };
  if (!latest) {
    return skip("its fire time passed more than the misfire grace ago (no node led it then)");
  }
  if (row.last_tick && *latest <= *row.last_tick) {
    return skip("that fire time has fired already");
  }
  if (row.next_eligible && *latest < *row.next_eligible) {
    return skip("inside the backoff window"); // cano: "suppressed by backoff window"
  }
  return {action::fire, *latest, {}};
}

std::optional<flow_time> tick_while_running(const flow_plan& plan, const flow_row& row, flow_time now) {
  if (row.fired_by != fired_by_trigger || !row.next_tick || now < *row.next_tick) {
    return std::nullopt;
  }
  switch (plan.flow.trigger) {
    case flow_trigger::every: {
      auto next = later(to_millis(now), plan.flow.interval);
      if (row.next_eligible && *row.next_eligible > next) {
        next = *row.next_eligible;
      }
      return next;
    }
    case flow_trigger::cron: {
      auto next = plan.cron->next_after(now);
      return next ? *next : never;
    }
    case flow_trigger::manual: return std::nullopt;
  }
  return std::nullopt;
}

void apply_outcome(const flow_plan& plan, flow_row& row, const std::optional<error>& failure, flow_time now) {
  now = to_millis(now);
  if (!failure) {
    row.status = FlowStatus::kind::completed;
    row.streak = 0;
    row.last_error.clear();
    row.next_eligible.reset();
  } else if (failure->code() == errc::cancelled) {
    // A deliberate cancel (cluster_client::cancel, cano runs cancel) is no failure: streak,
    // window and last error stay as they were (cano 0.15 judges by the category).
    row.status = FlowStatus::kind::idle;
  } else {
    row.last_error = failure->to_string();
    if (row.streak < UINT32_MAX) {
      ++row.streak;
    }
    if (plan.flow.backoff.is_tripped(row.streak)) {
      row.status = FlowStatus::kind::tripped;
      row.next_eligible.reset();
    } else {
      row.status = FlowStatus::kind::backoff;
      row.next_eligible = to_millis(later(now, plan.flow.backoff.compute_delay(row.streak)));
    }
  }
  if (row.fired_by != fired_by_schedule) {
    return; // a triggered run leaves the schedule where it was (cano's loops wait on their own)
  }
  switch (plan.flow.trigger) {
    case flow_trigger::every: {
      auto next = later(now, plan.flow.interval);
      if (row.next_eligible && *row.next_eligible > next) {
        next = *row.next_eligible;
      }
      row.next_tick = next;
      break;
    }
    case flow_trigger::cron: {
      auto next = next_fire(*plan.cron, now, row.next_eligible);
      row.next_tick = next ? *next : never;
      break;
    }
    case flow_trigger::manual: row.next_tick.reset(); break;
  }
}

void reset(flow_row& row) {
  row.streak = 0;
  row.next_eligible.reset();
  row.last_error.clear();
  if (row.status != FlowStatus::kind::running) {
    row.status = FlowStatus::kind::idle;
  }
}

} // namespace detail
} // namespace cano
