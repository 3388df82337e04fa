#include "time_text.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <limits>

namespace cano_cli {

namespace {

std::string bad_duration(const std::string& text) {
  return "\"" + text + "\" is not a duration: write numbers with units ms, s, m, h, d or w (e.g. 90s, 1h30m, 7d)";
}

struct civil {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  long long micros = 0;
};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
long long days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

civil to_civil(clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  auto secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  civil c;
  c.micros = us - secs * 1000000;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  c.year = tm.tm_year + 1900;
  c.month = tm.tm_mon + 1;
  c.day = tm.tm_mday;
  c.hour = tm.tm_hour;
  c.minute = tm.tm_min;
  c.second = tm.tm_sec;
  return c;
}

/// Reads exactly `n` digits at `i`.
bool digits(const std::string& s, std::size_t& i, std::size_t n, int& out) {
  if (i + n > s.size()) {
    return false;
  }
  out = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[i + k]))) {
      return false;
    }
    out = out * 10 + (s[i + k] - '0');
  }
  i += n;
  return true;
}

} // namespace

cano::expected<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) {
    return cano::error::configuration(bad_duration(text));
  }
  long double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    auto start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      ++i;
    }
    if (i == start) {
      return cano::error::configuration(bad_duration(text));
    }
    long double number = 0;
    try {
      number = std::stold(text.substr(start, i - start));
    } catch (const std::exception&) {
      return cano::error::configuration(bad_duration(text));
    }
    auto unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    auto unit = text.substr(unit_start, i - unit_start);
    long double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60e3L;
    } else if (unit == "h") {
      scale = 3600e3L;
    } else if (unit == "d") {
      scale = 86400e3L;
    } else if (unit == "w") {
      scale = 7 * 86400e3L;
    } else {
      return cano::error::configuration(bad_duration(text));
    }
    total_ms += number * scale;
  }
  // Up to about 100 years: enough for any retention, far from overflowing a time_point.
  if (total_ms > 3.2e12L) {
    return cano::error::configuration("\"" + text + "\" is longer than any duration cano works with (100 years)");
  }
  return std::chrono::milliseconds(static_cast<long long>(total_ms));
}

cano::expected<clock::time_point> parse_time(const std::string& text, clock::time_point now) {
  auto bad = [&] {
    return cano::error::configuration("\"" + text +
                                      "\" is not a time: write a UTC date or date-time (2024-05-01, "
                                      "2024-05-01T12:00:00Z, 2024-05-01 12:00+02:00) or a duration ago (2h, 7d)");
  };
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) && text.find('-') == std::string::npos) {
    auto d = parse_duration(text);
    if (!d) {
      return bad();
    }
    return now - *d;
  }
  civil c;
  std::size_t i = 0;
  if (!digits(text, i, 4, c.year) || i >= text.size() || text[i++] != '-' || !digits(text, i, 2, c.month) ||
      i >= text.size() || text[i++] != '-' || !digits(text, i, 2, c.day)) {
    return bad();
  }
  int offset_minutes = 0;
  if (i < text.size()) {
    if (text[i] != 'T' && text[i] != ' ') {
      return bad();
    }
    ++i;
    if (!digits(text, i, 2, c.hour) || i >= text.size() || text[i++] != ':' || !digits(text, i, 2, c.minute)) {
      return bad();
    }
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!digits(text, i, 2, c.second)) {
        return bad();
      }
      if (i < text.size() && text[i] == '.') {
        ++i;
        long long scale = 100000;
        auto start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
          c.micros += (text[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
        if (i == start) {
          return bad();
        }
      }
    }
    if (i < text.size() && text[i] == 'Z') {
      ++i;
    } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      int sign = text[i++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!digits(text, i, 2, oh) || i >= text.size() || text[i++] != ':' || !digits(text, i, 2, om)) {
        return bad();
      }
      offset_minutes = sign * (oh * 60 + om);
    }
    if (i != text.size()) {
      return bad();
    }
  }
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31 || c.hour > 23 || c.minute > 59 || c.second > 60) {
    return bad();
  }
  if (c.year < 1971 || c.year > 2261) { // system_clock (nanoseconds) ends in 2262
    return cano::error::configuration("\"" + text + "\" is out of the range of times cano records (1971 to 2261)");
  }
  auto days = days_from_civil(c.year, c.month, c.day);
  long long secs = days * 86400 + c.hour * 3600 + c.minute * 60 + c.second - offset_minutes * 60;
  return clock::time_point(
    std::chrono::duration_cast<clock::duration>(std::chrono::seconds(secs) + std::chrono::microseconds(c.micros)));
}

std::string format_seconds(clock::time_point t) {
  auto c = to_civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

std::string format_millis(clock::time_point t) {
  auto c = to_civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03lld UTC", c.year, c.month, c.day, c.hour, c.minute,
                c.second, c.micros / 1000);
  return buf;
}

std::string format_time_of_day(clock::time_point t) {
  auto c = to_civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03lld", c.hour, c.minute, c.second, c.micros / 1000);
  return buf;
}

std::string format_iso(clock::time_point t) {
  auto c = to_civil(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second, c.micros / 1000);
  return buf;
}

} // namespace cano_cli
