// Times and durations as `cano` reads and prints them: UTC everywhere.
//
//   parse_duration("1h30m")          -> 5400 s
//   parse_time("2024-05-01T12:00Z")  -> that instant;  parse_time("2h") -> two hours ago
#pragma once

#include <chrono>
#include <string>

#include "cano/error.hpp"

namespace cano_cli {

using clock = std::chrono::system_clock;

/// A duration written as numbers with units, e.g. "90s", "15m", "1h30m", "7d", "2w", "500ms".
/// Errors (configuration) name the text and the units.
cano::expected<std::chrono::milliseconds> parse_duration(const std::string& text);
/// An instant: a UTC date or date-time ("2024-05-01", "2024-05-01T12:00", "2024-05-01 12:00:03",
/// fractions of seconds, a trailing Z or an offset like +02:00), or a duration meaning that long
/// before `now`.
cano::expected<clock::time_point> parse_time(const std::string& text, clock::time_point now);

/// "2024-05-01 12:00:03" (UTC, whole seconds).
std::string format_seconds(clock::time_point t);
/// "2024-05-01 12:00:03.123 UTC".
std::string format_millis(clock::time_point t);
/// "12:00:03.123" (UTC).
std::string format_time_of_day(clock::time_point t);
/// "2024-05-01T12:00:03.123Z", for JSON.
std::string format_iso(clock::time_point t);

} // namespace cano_cli
