// What the stores share to answer CheckpointStore::list_runs and to say a run's last state
// (issue 15). Not part of the API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cano/checkpoint.hpp"

namespace cano::detail {

/// A validated RunQuery: its limit, and the position its cursor names (created_at in
/// microseconds, workflow id), if any. Errors: a limit of 0, a cursor that is not one.
struct checked_run_query {
  std::size_t limit = 0;
  std::optional<std::pair<std::int64_t, std::string>> after;
};
expected<checked_run_query> check_run_query(const RunQuery& query);

/// The last state of a run as RunHeader::last_state defines it, from what a store has: the
/// label of the newest state-entry row of its live log (empty when it has none) and the label
/// the store noted when it cleared the log.
std::string last_state_of(const RunHeader& header, const std::string& newest_live_entry,
                          const std::string& noted_at_clear);

/// A page of `headers` (any order): those matching `query` (statuses, definition, times),
/// newest first from its cursor on, at most its limit. Unreadable headers are reported on the
/// first page only (their times are unknown). For stores that hold their headers in memory.
expected<RunPage> page_of_runs(std::vector<RunHeader> headers, std::vector<UnreadableRun> unreadable,
                               const RunQuery& query);

} // namespace cano::detail
