// Checkpoints — the write-ahead log that lets a run resume after a crash (cano's recovery
// contract) — and the CheckpointStore interface that keeps it.
//
//   auto store = std::make_shared<cano::MemoryCheckpointStore>();
//   auto wf = workflow.with_checkpoint_store(store);
//   rt.run(wf, S::Start, {"order-42", input});      // rows: one per state entered, before its task
//   rt.resume(wf, "order-42");                       // after a crash: continue from the last row
//
// Rows carry the state label, the task name and, for saga steps and stepped tasks, a JSON blob
// (the compensation output or the cursor). Sequences are dense per run and start at 0. A
// successful run, or a clean rollback, clears its rows.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cano/error.hpp"

namespace cano {

enum class RowKind : std::uint8_t {
  state_entry = 0,             // a state was entered; its task is about to run
  compensation_completion = 1, // a compensatable task finished; blob = its JSON output
  step_cursor = 2,             // a stepped task asked for another step; blob = its JSON cursor
};

struct CheckpointRow {
  std::uint64_t sequence = 0;
  std::string state;   // the state's label
  std::string task_id; // the task's name ("" for a split state or an exit state)
  std::optional<std::vector<std::uint8_t>> output_blob;
  RowKind kind = RowKind::state_entry;
  std::uint32_t workflow_version = 0;

  CheckpointRow() = default;
  CheckpointRow(std::uint64_t seq, std::string state_label, std::string task)
    : sequence(seq), state(std::move(state_label)), task_id(std::move(task)) {}

  /// A compensation completion row carrying `blob`.
  CheckpointRow with_output(std::vector<std::uint8_t> blob) const;
  /// A step cursor row carrying `blob`.
  CheckpointRow with_cursor(std::vector<std::uint8_t> blob) const;
  CheckpointRow with_workflow_version(std::uint32_t v) const;

  friend bool operator==(const CheckpointRow& a, const CheckpointRow& b) {
    return a.sequence == b.sequence && a.state == b.state && a.task_id == b.task_id &&
           a.output_blob == b.output_blob && a.kind == b.kind &&
           a.workflow_version == b.workflow_version;
  }
};

/// JSON text bytes, the blob encoding cano uses (serde_json::to_vec).
std::vector<std::uint8_t> to_blob(const nlohmann::json& value);
/// Parses a blob; throws nlohmann::json::exception on invalid JSON.
nlohmann::json from_blob(const std::vector<std::uint8_t>& blob);

/// Where a run stands, as recorded in its header.
enum class RunStatus : std::uint8_t { running, completed, failed, rolled_back, interrupted };
const char* to_string(RunStatus s) noexcept;

/// One run's header: enough for a new process to find and resume it.
struct RunHeader {
  std::string workflow_id;
  std::string definition;          // Workflow::with_name
  std::uint32_t workflow_version = 0;
  nlohmann::json input;
  RunStatus status = RunStatus::running;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
};

/// One write of a batch for one run, applied in this order: append `row`, then clear the run's
/// rows (`clear_run`), then store `header`. When the row fails (a conflict), the rest of the
/// write is not applied. (The engine sends a run's first row with its header, and its exit row
/// with the clear and the final header: fewer round trips.)
struct CheckpointWrite {
  std::string workflow_id;
  std::optional<CheckpointRow> row;
  bool clear_run = false;
  std::optional<RunHeader> header;
};

class CheckpointStore;
/// Applies one write through append / clear / put_run_header, in the documented order.
expected<void> apply_write(CheckpointStore& store, const CheckpointWrite& w);

/// The conflict text every store uses for a duplicate (workflow_id, sequence).
std::string checkpoint_conflict_message(const std::string& workflow_id, std::uint64_t sequence);

/// A durable home for checkpoint rows. Implementations are thread-safe and must reject a
/// duplicate (workflow_id, sequence) with checkpoint_store(checkpoint_conflict_message(...)).
class CheckpointStore {
public:
  virtual ~CheckpointStore() = default;

  /// True for stores doing I/O: the engine then writes through one checkpoint actor per store,
  /// which batches concurrent runs' rows into one append_batch (group commit).
  virtual bool is_blocking() const { return true; }

  virtual expected<void> append(const std::string& workflow_id, const CheckpointRow& row) = 0;
  /// All rows of a run, ascending by sequence; empty when unknown.
  virtual expected<std::vector<CheckpointRow>> load_run(const std::string& workflow_id) = 0;
  /// Removes a run's rows (not its header); unknown ids are fine.
  virtual expected<void> clear(const std::string& workflow_id) = 0;

  /// Writes a batch and returns one outcome per write, in order: one failing write must not
  /// fail the others. The default loops over append / put_run_header.
  virtual std::vector<expected<void>> append_batch(const std::vector<CheckpointWrite>& writes);

  /// Creates or replaces a run's header.
  virtual expected<void> put_run_header(const RunHeader& header) = 0;
  virtual expected<std::optional<RunHeader>> run_header(const std::string& workflow_id) = 0;
  /// Headers of runs that are running or interrupted (what resume_all picks up).
  virtual expected<std::vector<RunHeader>> unfinished_runs() = 0;
};

} // namespace cano
