// CronSchedule — a cron expression read the way cano's `cron` crate (0.16) reads it, and the
// calculator of its fire times in UTC. The scheduler's `cron` flows use it; it works on its own:
//
//   auto s = cano::CronSchedule::parse("0 30 9 * * MON-FRI"); // 09:30:00 UTC on weekdays
//   if (!s) { std::cerr << s.error() << "\n"; }          // "… Invalid cron expression: …"
//   auto next = s->next_after(std::chrono::system_clock::now()); // optional<time_point>
//
// Fields, separated by whitespace (cano spec §1.20, the crate's rules):
//
//   seconds  minutes  hours  day-of-month  month  day-of-week  [year]
//   0-59     0-59     0-23   1-31          1-12   1-7          1970-2100
//
// - day-of-week counts 1 = Sunday … 7 = Saturday (not classic cron's 0/1 = Sunday/Monday);
//   names SUN, MON, TUE/TUES, WED, THU/THURS, FRI, SAT and the full names, any case. Months take
//   JAN … DEC and full names. No other field takes names.
// - each field is a comma-separated list of `*`, `N`, `NAME`, `A-B` (both numbers or both names,
//   A ≤ B, never wrapping), or a step `BASE/K` where BASE is `*`, `A-B` or `N` (meaning N to the
//   field's maximum) and K is 1 … the field's maximum. `?` means `*` in the two day fields only.
// - day-of-month and day-of-week must BOTH match (no classic-cron "either" rule).
// - the year is optional; past 2100 nothing fires. `@yearly`, `@monthly`, `@weekly` (Sunday),
//   `@daily` and `@hourly` stand for the usual whole expressions.
// - evaluated in UTC, to the whole second: `next_after(t)` is the first matching second after t.
//
// Our extension: a 5-field expression `minutes hours day-of-month month day-of-week` is read as
// seconds = 0 followed by those fields, with the rules above (so its day-of-week 1 is Sunday).
// Our restriction: a field holds no spaces ("0,30", not "0, 30"); the crate tolerates some.
// An invalid expression is `Configuration("Invalid cron expression: <field> \"<text>\": <why>")`.
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cano/error.hpp"

namespace cano {

class CronSchedule {
public:
  using time_point = std::chrono::system_clock::time_point;

  /// Parses `expression`; on failure a configuration error naming the bad field and value.
  static expected<CronSchedule> parse(const std::string& expression);

  /// The first fire time strictly after `t`, a whole UTC second, or nothing when the schedule
  /// never fires again before the end of 2100 (e.g. "0 0 0 30 2 *").
  std::optional<time_point> next_after(time_point t) const;

  /// True when the whole second containing `t` matches every field.
  bool includes(time_point t) const;

  /// The expression as given.
  const std::string& expression() const noexcept { return expression_; }

private:
  CronSchedule() = default;
  friend struct cron_parser;

  std::string expression_;
  std::uint64_t seconds_ = 0;       // bit n: second n
  std::uint64_t minutes_ = 0;       // bit n: minute n
  std::uint32_t hours_ = 0;         // bit n: hour n
  std::uint32_t days_of_month_ = 0; // bit n: day n (1-31)
  std::uint16_t months_ = 0;        // bit n: month n (1-12)
  std::uint8_t days_of_week_ = 0;   // bit n: day n (1 = Sunday … 7 = Saturday)
  std::bitset<131> years_;          // bit n: year 1970 + n
};

} // namespace cano
