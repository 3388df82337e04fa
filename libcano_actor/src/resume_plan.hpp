// Where a resumed run continues, worked out from its checkpoint rows (cano's resume_from,
// §2.5 of the spec): the state of the last row, the next sequence, the saga steps to undo on
// a later failure, and the stepped tasks' last cursors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cano/checkpoint.hpp"
#include "cano/detail/definition.hpp"

namespace cano::detail {

/// A completed saga step, undone (in reverse) if the run fails.
using stacked_step = RollbackRecord::Entry;

/// A stepped task's last persisted cursor.
struct saved_cursor {
  std::vector<std::uint8_t> blob;
  std::uint64_t sequence = 0;
};

struct resume_plan {
  state_code state = 0;
  std::uint64_t last_sequence = 0;
  /// The sequence of the resumed state's own entry row: the step its re-run continues
  /// (task_context::idempotency_key stays the same across the resume).
  std::uint64_t resume_step = 0;
  std::vector<stacked_step> stack;
  std::unordered_map<std::string, saved_cursor> cursors; // by state label
  /// The last row when it is a saga step's completion: the resumed state runs again and writes a
  /// completion of its own, so the resume's entry row names this one as superseded (D7: a later
  /// resume must not undo that step twice). Rows alone cannot tell a re-run from a state that
  /// loops to itself, hence the mark.
  std::optional<std::uint64_t> superseded;
};

/// The output blob of an entry row written by a resume that re-runs a completed saga step:
/// names the completion row (by sequence) the re-run replaces.
std::vector<std::uint8_t> supersede_mark(std::uint64_t completion_sequence);

/// The plan, or cano's errors: no rows, a version mismatch, an unknown state label.
expected<resume_plan> plan_resume(const definition& def, const std::string& workflow_id,
                                  const std::vector<CheckpointRow>& rows);

/// What a resume does with a run, from its rows and header (§2.5, ARCHITECTURE D6, D7).
struct resume_start {
  enum class path {
    forward, // continue from the last row (cano's resume_from), or start a placed run
    drain,   // a rollback began (header compensating): continue the drain, never go forward
    refuse,  // cannot be resumed (rolled back, no rows, wrong version, ...): report `failure`
    close,   // an unfinished header without rows (left by an older version): end it as failed
  };
  path how = path::forward;
  resume_plan plan;             // forward; `last_sequence` also for drain
  RollbackRecord rollback;      // drain
  std::optional<error> failure; // refuse, close
  bool fresh = false;           // forward from a placed run's first state: sequences start at 0
  std::optional<RunHeader> header;
};
/// `start_if_empty`: where a run with an unfinished header and no rows yet starts (a run placed
/// on a node, not started) — otherwise such a run is closed.
resume_start decide_resume(const definition& def, const std::string& workflow_id,
                           const std::vector<CheckpointRow>& rows, std::optional<RunHeader> header,
                           std::optional<state_code> start_if_empty = std::nullopt);

/// " (workflow_id=\"id\", sequence=n)": where a corrupt blob was found.
std::string blob_location(const std::string& workflow_id, std::uint64_t sequence);

} // namespace cano::detail
