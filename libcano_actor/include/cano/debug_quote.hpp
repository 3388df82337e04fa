// A string quoted the way Rust's `{:?}` prints it, as cano's messages quote ids and labels
// (ARCHITECTURE D3): for tools that show ids which may hold control characters.
//
//   cano::debug_quote("order-1")  == "\"order-1\""
//   cano::debug_quote("a\nb\x1b") == "\"a\\nb\\u{1b}\""
#pragma once

#include <string>

namespace cano {

/// `s` in double quotes; `\0 \t \r \n \" \\` escaped, other control, separator, format and
/// private-use characters as `\u{1b}` (lowercase hex), bytes that are not UTF-8 as `\xFF`.
std::string debug_quote(const std::string& s);

} // namespace cano
