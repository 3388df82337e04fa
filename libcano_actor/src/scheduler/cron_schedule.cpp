// Parsing cron expressions with the rules of cano's `cron` crate 0.16, and finding their next
// fire time in UTC. See cano/cron.hpp for the rules; the crate's own parser is not ported, only
// its accepted language and its meaning.
#include "cano/cron.hpp"

#include <array>
#include <cctype>
#include <cstring>
#include <vector>

#include "civil_time.hpp"

namespace cano {

namespace {

using detail::civil_from_days;
using detail::days_from_civil;
using detail::days_in_month;
using detail::floor_div;

constexpr int first_year = 1970;
constexpr int last_year = 2100;

struct field_spec {
  const char* name;
  unsigned min;
  unsigned max;
  bool takes_names;
  bool takes_any; // "?" (only the two day fields)
};

// In expression order (seconds first).
constexpr std::array<field_spec, 7> fields{{
  {"seconds", 0, 59, false, false},
  {"minutes", 0, 59, false, false},
  {"hours", 0, 23, false, false},
  {"day-of-month", 1, 31, false, true},
  {"month", 1, 12, true, false},
  {"day-of-week", 1, 7, true, true},
  {"year", first_year, last_year, false, false},
}};
constexpr std::size_t month_field = 4;
constexpr std::size_t weekday_field = 5;

struct named_value {
  const char* name;
  unsigned value;
};

// The crate's tables: three-letter names, a few four-letter ones, and the full names.
constexpr named_value weekday_names[] = {
  {"sun", 1},     {"sunday", 1}, {"mon", 2},       {"monday", 2},   {"tue", 3},   {"tues", 3},
  {"tuesday", 3}, {"wed", 4},    {"wednesday", 4}, {"thu", 5},      {"thurs", 5}, {"thursday", 5},
  {"fri", 6},     {"friday", 6}, {"sat", 7},       {"saturday", 7},
};
constexpr named_value month_names[] = {
  {"jan", 1},      {"january", 1}, {"feb", 2},       {"february", 2}, {"mar", 3},       {"march", 3},
  {"apr", 4},      {"april", 4},   {"may", 5},       {"jun", 6},      {"june", 6},      {"jul", 7},
  {"july", 7},     {"aug", 8},     {"august", 8},    {"sep", 9},      {"september", 9}, {"oct", 10},
  {"october", 10}, {"nov", 11},    {"november", 11}, {"dec", 12},     {"december", 12},
};

bool all_digits(const std::string& s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

bool all_letters(const std::string& s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

/// 1 = Sunday … 7 = Saturday (1970-01-01 was a Thursday).
unsigned cron_weekday(std::int64_t days) {
  auto w = (days + 4) % 7;
  return static_cast<unsigned>(w < 0 ? w + 7 : w) + 1;
}

/// The lowest set bit of `mask` at or above `from`, or -1.
int next_bit(std::uint64_t mask, unsigned from) {
  if (from >= 64) {
    return -1;
  }
  auto rest = mask >> from;
  if (rest == 0) {
    return -1;
  }
  return static_cast<int>(from) + __builtin_ctzll(rest);
}

} // namespace

/// Reads one expression into a CronSchedule; every error names the field and the text at fault.
struct cron_parser {
  using values = std::vector<bool>; // index: value - field min

  static expected<CronSchedule> parse(const std::string& expression) {
    CronSchedule out;
    out.expression_ = expression;
    std::vector<std::string> parts;
    std::string cur;
    for (char c : expression) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!cur.empty()) {
          parts.push_back(cur);
          cur.clear();
        }
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) {
      parts.push_back(cur);
    }
    if (parts.size() == 1 && parts[0][0] == '@') {
      return shorthand(std::move(out), parts[0]);
    }
    std::size_t first = 0; // index into `fields` of parts[0]
    if (parts.size() == 5) {
      first = 1; // our 5-field extension: no seconds field, seconds = 0
      out.seconds_ = 1;
    } else if (parts.size() != 6 && parts.size() != 7) {
      return invalid(quoted(expression) + " has " + std::to_string(parts.size()) +
                     " fields; expected 6 or 7 (seconds minutes hours day-of-month month "
                     "day-of-week [year]) or 5 (minutes hours day-of-month month day-of-week)");
    }
    out.years_.set(); // no year field: every year
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const std::size_t f = first + i;
      values set;
      if (auto failed = parse_field(f, parts[i], set)) {
        return invalid(std::string(fields[f].name) + " " + quoted(parts[i]) + ": " + *failed);
      }
      store(out, f, set);
    }
    return out;
  }

  static error invalid(const std::string& why) { return error::configuration("Invalid cron expression: " + why); }

  static expected<CronSchedule> shorthand(CronSchedule out, const std::string& word) {
    // seconds minutes hours day-of-month month day-of-week
    const char* expansion = nullptr;
    if (word == "@yearly") {
      expansion = "0 0 0 1 1 *";
    } else if (word == "@monthly") {
      expansion = "0 0 0 1 * *";
    } else if (word == "@weekly") {
      expansion = "0 0 0 * * 1";
    } else if (word == "@daily") {
      expansion = "0 0 0 * * *";
    } else if (word == "@hourly") {
      expansion = "0 0 * * * *";
    } else {
      return invalid("unknown shorthand " + quoted(word) + " (known: @yearly, @monthly, @weekly, @daily, @hourly)");
    }
    auto parsed = parse(expansion);
    if (!parsed) {
      return parsed;
    }
    parsed->expression_ = out.expression_;
    return parsed;
  }

  static void store(CronSchedule& out, std::size_t f, const values& set) {
    const auto& spec = fields[f];
    for (unsigned v = spec.min; v <= spec.max; ++v) {
      if (!set[v - spec.min]) {
        continue;
      }
      switch (f) {
        case 0: out.seconds_ |= std::uint64_t{1} << v; break;
        case 1: out.minutes_ |= std::uint64_t{1} << v; break;
        case 2: out.hours_ |= std::uint32_t{1} << v; break;
        case 3: out.days_of_month_ |= std::uint32_t{1} << v; break;
        case 4: out.months_ = static_cast<std::uint16_t>(out.months_ | (1u << v)); break;
        case 5: out.days_of_week_ = static_cast<std::uint8_t>(out.days_of_week_ | (1u << v)); break;
        default: break;
      }
    }
    if (f == 6) {
      out.years_.reset();
      for (unsigned v = spec.min; v <= spec.max; ++v) {
        if (set[v - spec.min]) {
          out.years_.set(v - spec.min);
        }
      }
    }
  }

  /// Fills `set` from one field's text; returns the reason when it is invalid.
  static std::optional<std::string> parse_field(std::size_t f, const std::string& text, values& set) {
    const auto& spec = fields[f];
    set.assign(spec.max - spec.min + 1, false);
    for (const auto& item : split(text, ',')) {
      if (item.empty()) {
        return std::string("empty item in the list");
      }
      if (auto failed = parse_item(f, item, set)) {
        return failed;
      }
    }
    return std::nullopt;
  }

  static std::optional<std::string> parse_item(std::size_t f, const std::string& item, values& set) {
    const auto& spec = fields[f];
    unsigned lo = spec.min;
    unsigned hi = spec.max;
    unsigned step = 1;
    std::string base = item;
    auto slash = item.find('/');
    if (slash != std::string::npos) {
      base = item.substr(0, slash);
      auto step_text = item.substr(slash + 1);
      if (!all_digits(step_text)) {
        return "step " + quoted(step_text) + " is not a number";
      }
      auto parsed = number(step_text);
      if (!parsed || *parsed < 1 || *parsed > spec.max) {
        return "step " + step_text + " is outside 1-" + std::to_string(spec.max);
      }
      step = *parsed;
      if (base.empty() || all_letters(base)) {
        return "a step needs \"*\", a range or a number before \"/\", not " + quoted(base);
      }
    }
    if (base == "*" || base == "?") {
      if (base == "?" && !spec.takes_any) {
        return std::string("\"?\" is only allowed in day-of-month and day-of-week");
      }
      // lo, hi: the whole field
    } else if (auto dash = base.find('-'); dash != std::string::npos) {
      auto a = base.substr(0, dash);
      auto b = base.substr(dash + 1);
      bool numbers = all_digits(a) && all_digits(b);
      bool names = all_letters(a) && all_letters(b);
      if (!numbers && !names) {
        return quoted(base) + " is not a range of two numbers or two names";
      }
      auto from = value(f, a);
      if (!from) {
        return from.error().message();
      }
      auto to = value(f, b);
      if (!to) {
        return to.error().message();
      }
      if (*from > *to) {
        return "range " + base + " ends before it starts";
      }
      lo = *from;
      hi = *to;
    } else {
      if (!all_digits(base) && !all_letters(base)) {
        return quoted(base) + " is not a number, a name, a range or a step";
      }
      auto v = value(f, base);
      if (!v) {
        return v.error().message();
      }
      lo = *v;
      hi = slash != std::string::npos ? spec.max : *v; // "N/K" runs from N to the maximum
    }
    for (unsigned v = lo; v <= hi; v += step) {
      set[v - spec.min] = true;
    }
    return std::nullopt;
  }

  /// A number or (in month and day-of-week) a name, checked against the field's bounds. The
  /// error's message is the reason only.
  static expected<unsigned> value(std::size_t f, const std::string& token) {
    const auto& spec = fields[f];
    if (all_letters(token)) {
      if (!spec.takes_names) {
        return error::configuration("names are only allowed in month and day-of-week, not " + quoted(token));
      }
      auto key = lower(token);
      if (f == weekday_field) {
        for (const auto& n : weekday_names) {
          if (key == n.name) {
            return n.value;
          }
        }
        return error::configuration(quoted(token) + " is not a day of the week (SUN … SAT)");
      }
      if (f == month_field) {
        for (const auto& n : month_names) {
          if (key == n.name) {
            return n.value;
          }
        }
        return error::configuration(quoted(token) + " is not a month (JAN … DEC)");
      }
    }
    auto n = number(token);
    if (!n || *n < spec.min || *n > spec.max) {
      return error::configuration(token + " is outside " + std::to_string(spec.min) + "-" + std::to_string(spec.max));
    }
    return *n;
  }

  /// Decimal digits as a number; nothing when it does not fit (then it is out of every range).
  static std::optional<unsigned> number(const std::string& digits) {
    if (digits.size() > 9) {
      return std::nullopt;
    }
    return static_cast<unsigned>(std::stoul(digits));
  }
};

expected<CronSchedule> CronSchedule::parse(const std::string& expression) { return cron_parser::parse(expression); }

std::optional<CronSchedule::time_point> CronSchedule::next_after(time_point t) const {
  using namespace std::chrono;
  // The crate starts from t + 1 s and keeps whole seconds: the first matching second after t's.
  const std::int64_t start = floor<seconds>(t.time_since_epoch()).count() + 1;
  std::int64_t days = floor_div(start, 86400);
  auto rem = static_cast<unsigned>(start - days * 86400);
  std::int64_t y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  civil_from_days(days, y, mo, d);
  unsigned h = rem / 3600;
  unsigned mi = rem % 3600 / 60;
  unsigned s = rem % 60;
  if (y < first_year) {
    y = first_year;
    mo = 1;
    d = 1;
    h = mi = s = 0;
  }
  auto next_day = [&] {
    ++d;
    h = mi = s = 0;
  };
  while (y <= last_year) {
    if (!years_.test(static_cast<std::size_t>(y - first_year))) {
      ++y;
      mo = d = 1;
      h = mi = s = 0;
      continue;
    }
    if (mo > 12) {
      ++y;
      mo = d = 1;
      h = mi = s = 0;
      continue;
    }
    if ((months_ >> mo & 1u) == 0) {
      ++mo;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    if (d > days_in_month(y, mo)) {
      ++mo;
      d = 1;
      h = mi = s = 0;
      continue;
    }
    days = days_from_civil(y, mo, d);
    if ((days_of_month_ >> d & 1u) == 0 || (days_of_week_ >> cron_weekday(days) & 1u) == 0) {
      next_day();
      continue;
    }
    int nh = next_bit(hours_, h);
    if (nh < 0) {
      next_day();
      continue;
    }
    if (static_cast<unsigned>(nh) != h) {
      h = static_cast<unsigned>(nh);
      mi = s = 0;
    }
    int nm = next_bit(minutes_, mi);
    if (nm < 0) {
      ++h;
      mi = s = 0;
      if (h > 23) {
        next_day();
      }
      continue;
    }
    if (static_cast<unsigned>(nm) != mi) {
      mi = static_cast<unsigned>(nm);
      s = 0;
    }
    int ns = next_bit(seconds_, s);
    if (ns < 0) {
      ++mi;
      s = 0;
      if (mi > 59) {
        mi = 0;
        ++h;
        if (h > 23) {
          next_day();
        }
      }
      continue;
    }
    s = static_cast<unsigned>(ns);
    auto secs = days * 86400 + static_cast<std::int64_t>(h * 3600 + mi * 60 + s);
    return time_point(duration_cast<system_clock::duration>(seconds(secs)));
  }
  return std::nullopt;
}

bool CronSchedule::includes(time_point t) const {
  using namespace std::chrono;
  const std::int64_t secs = floor<seconds>(t.time_since_epoch()).count();
  const std::int64_t days = floor_div(secs, 86400);
  auto rem = static_cast<unsigned>(secs - days * 86400);
  std::int64_t y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  civil_from_days(days, y, mo, d);
  if (y < first_year || y > last_year) {
    return false;
  }
  return years_.test(static_cast<std::size_t>(y - first_year)) && (months_ >> mo & 1u) != 0 &&
         (days_of_month_ >> d & 1u) != 0 && (days_of_week_ >> cron_weekday(days) & 1u) != 0 &&
         (hours_ >> (rem / 3600) & 1u) != 0 && (minutes_ >> (rem % 3600 / 60) & 1u) != 0 &&
         (seconds_ >> (rem % 60) & 1u) != 0;
}

} // namespace cano
