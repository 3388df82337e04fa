// Text helpers that reproduce Rust's Debug output in cano's messages.
#pragma once

#include <chrono>
#include <string>

namespace cano::detail {

/// A string as Rust's `{:?}` prints it (ARCHITECTURE D3): quoted; `\0 \t \r \n \" \\` escaped;
/// control, separator, format and private-use characters as `\u{1b}` (lowercase hex); bytes that
/// are not UTF-8 as `\xFF`, like Rust's Debug of lossy bytes.
std::string debug_quote(const std::string& s);
/// `s` with the same escapes for everything but `"` and `\`, which stay: one safe log line.
std::string escape_controls(const std::string& s);
/// A duration as Rust's Debug prints it: "50ms", "1.5s", "0ns".
std::string debug_duration(std::chrono::nanoseconds d);
/// A float in shortest round-trip form, as Rust's Display prints it: "1.5", "NaN", "inf".
std::string display_float(double v);
/// A float as Rust's Debug prints it: like Display, but whole numbers keep ".0" ("1.0").
std::string debug_float(double v);

} // namespace cano::detail
