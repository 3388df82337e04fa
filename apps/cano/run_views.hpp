// How `cano` shows a run: its header and log rows as JSON objects (--json) and as text.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cano/checkpoint.hpp"

namespace cano_cli {

/// A header as one JSON object: ids, status, last state, attempts, times (ISO 8601, UTC),
/// input, failure and rollback as stored, and when a cancel was requested (if one was).
nlohmann::json header_json(const cano::RunHeader& h);
/// A log row as one JSON object; its blob as JSON when it parses, else as {"hex": "..."}.
nlohmann::json log_entry_json(const cano::RunLogEntry& e);

/// "entry", "output" or "cursor".
const char* kind_name(cano::RowKind kind);
/// A blob for people: pretty-printed JSON, at most `max_lines` lines (the rest summed up), or
/// "(N bytes, not JSON)".
std::vector<std::string> blob_lines(const std::vector<std::uint8_t>& blob, std::size_t max_lines);
/// An error for people: "category: message", a compensation failure's errors indented below.
std::vector<std::string> error_lines(const cano::error& e);

} // namespace cano_cli
