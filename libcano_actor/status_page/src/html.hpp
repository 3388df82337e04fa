// Text for HTML pages: escaping of everything that comes from runs and users, query strings and
// times. One rule: a value goes into a page only through esc() (text and attribute values) or
// query() (URLs, whose result is escaped again by the caller that puts it into an attribute).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace cano::detail::html {

/// `text` with & < > " ' escaped, and bytes that are not valid UTF-8 or are control characters
/// (other than tab and newline) shown as U+FFFD: safe as element text and as a quoted attribute.
std::string esc(const std::string& text);

/// application/x-www-form-urlencoded percent-encoding of one value (space as %20).
std::string url_encode(const std::string& value);

/// "?k1=v1&k2=v2" with each key and value encoded; empty for no pairs.
std::string query(const std::vector<std::pair<std::string, std::string>>& pairs);

/// "2024-05-01 12:34:56.789 UTC"; "—" for the epoch (a time the store does not know).
std::string utc(std::chrono::system_clock::time_point t);

/// `text` cut to `max` bytes at a UTF-8 boundary, "…" appended when cut.
std::string cut(const std::string& text, std::size_t max);

} // namespace cano::detail::html
