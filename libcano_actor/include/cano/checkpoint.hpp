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
//
// Run headers record each run (status, result, last state, attempts, times); list_runs pages
// through them and run_log shows a run's rows with their times. A store with history retention
// moves a finished run's rows to its history instead of deleting them (with_history_retention).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
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
    : sequence(seq),
      state(std::move(state_label)),
      task_id(std::move(task)) {}

  /// A compensation completion row carrying `blob`.
  CheckpointRow with_output(std::vector<std::uint8_t> blob) const;
  /// A step cursor row carrying `blob`.
  CheckpointRow with_cursor(std::vector<std::uint8_t> blob) const;
  CheckpointRow with_workflow_version(std::uint32_t v) const;

  friend bool operator==(const CheckpointRow& a, const CheckpointRow& b) {
    return a.sequence == b.sequence && a.state == b.state && a.task_id == b.task_id && a.output_blob == b.output_blob &&
           a.kind == b.kind && a.workflow_version == b.workflow_version;
  }
};

/// JSON text bytes, the blob encoding cano uses (serde_json::to_vec).
std::vector<std::uint8_t> to_blob(const nlohmann::json& value);
/// Parses a blob; throws nlohmann::json::exception on invalid JSON.
nlohmann::json from_blob(const std::vector<std::uint8_t>& blob);

/// Where a run stands, as recorded in its header. `running`, `interrupted` and `compensating`
/// are unfinished (resume_all picks them up); the others are final.
enum class RunStatus : std::uint8_t {
  running,      // a driver walks its states (or did, until its process died)
  completed,    // reached an exit state; its log is cleared
  failed,       // failed with nothing to compensate; its log is kept (resumable by hand)
  rolled_back,  // its compensations ran (clean: log cleared; dirty: log kept), never resumed
  interrupted,  // its store was unreachable or the runtime shut down; resumable
  compensating, // a rollback began (D7): a resume continues the drain, never a forward state
};
const char* to_string(RunStatus s) noexcept;
/// The status a store wrote as text, or nothing for a text no status has.
std::optional<RunStatus> run_status_from_string(const std::string& text) noexcept;
/// True for running, interrupted and compensating.
bool is_unfinished(RunStatus s) noexcept;
/// The row kind stored as a number: 0, 1, 2; any other number reads as a state entry, as in
/// cano-e2e (§2.7).
RowKind row_kind_from_code(std::int64_t code) noexcept;

/// A saga rollback as its run header records it (ARCHITECTURE D7): the compensation stack as it
/// was when the drain began, how many entries (from the top) are undone, and the errors so far.
/// A resume continues the drain from here; it never enters a forward state again.
struct RollbackRecord {
  struct Entry {
    std::string task_id;              // the compensator's name
    std::vector<std::uint8_t> output; // the forward run's output (JSON bytes)
    std::uint64_t sequence = 0;       // of its completion row (0 when the row never landed)
    friend bool operator==(const Entry& a, const Entry& b) {
      return a.task_id == b.task_id && a.output == b.output && a.sequence == b.sequence;
    }
  };
  std::vector<Entry> stack;  // bottom first; the drain undoes from the back
  std::size_t undone = 0;    // entries undone (successfully or not), counted from the back
  std::vector<error> errors; // errors[0]: the failure that started the rollback; then failed undos

  bool finished() const noexcept { return undone >= stack.size(); }
  friend bool operator==(const RollbackRecord& a, const RollbackRecord& b) {
    return a.stack == b.stack && a.undone == b.undone && a.errors == b.errors;
  }
};

/// One run's header: enough for a new process to find and resume it, and to read its result
/// by id (D9).
struct RunHeader {
  std::string workflow_id;
  std::string definition; // Workflow::with_name
  std::uint32_t workflow_version = 0;
  nlohmann::json input;
  RunStatus status = RunStatus::running;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
  /// The exit state's label once completed; empty otherwise.
  std::string final_state{};
  /// How many times a driver started the run: 1 for a run never resumed, +1 per resume.
  std::uint32_t attempts = 0;
  /// Why the run failed, was rolled back or was interrupted (compensation_failed nests the
  /// original error and each failed undo).
  std::optional<error> failure{};
  /// The saga drain of a compensating or rolled-back run.
  std::optional<RollbackRecord> rollback{};
  /// Who drives the run and the fencing token it holds (stores with ownership, D8).
  std::string owner{};
  std::uint64_t fence = 0;
  /// The label of the last state the run entered, as the store knows it: the newest state-entry
  /// row of its log while it has one, the exit state of a completed run, and for another finished
  /// run whose log was cleared, what the store noted when it cleared it; empty when unknown.
  /// Stores fill it in when they read a header; put_run_header and writes ignore it.
  std::string last_state{};
  /// When someone asked the run's driver to cancel it (CheckpointStore::request_cancel), from any
  /// process; nothing when nobody did. A header write never clears it; a new run of the id
  /// (CheckpointWrite::create) starts without one.
  std::optional<std::chrono::system_clock::time_point> cancel_requested_at{};
};

/// Stores keep `RunHeader::rollback` (and `failure`, see the serializer of cano::error at the end
/// of this header) as this JSON; from_json throws on a malformed record.
void to_json(nlohmann::json& j, const RollbackRecord& r);
void from_json(const nlohmann::json& j, RollbackRecord& r);

/// One write of a batch for one run, applied in this order: append `row`, then clear the run's
/// rows (`clear_run`), then store `header`; all of it or none (a store applies a write in one
/// transaction). When the row fails (a conflict), the rest of the write is not applied. (The
/// engine sends a run's first row with its header, and its exit row with the clear and the
/// final header: fewer round trips, and a run's end is one atomic write.)
struct CheckpointWrite {
  std::string workflow_id;
  std::optional<CheckpointRow> row;
  bool clear_run = false;
  std::optional<RunHeader> header;
  /// This write starts the run (D9): it is refused with a conflict, and nothing of it applied,
  /// when the id belongs to a run that is unfinished (header) or still has rows.
  bool create = false;
};

/// A header a store could not read (D10 issue 10.4): reported by id, never deleted or changed.
struct UnreadableRun {
  std::string workflow_id;
  std::string reason;
};

/// The unfinished runs of a store, and the headers it could not read.
struct RunListing {
  std::vector<RunHeader> runs;
  std::vector<UnreadableRun> unreadable;
};

/// Which runs CheckpointStore::list_runs returns. Every filter is optional; the page is newest
/// first (creation time descending, then workflow id descending).
struct RunQuery {
  /// Only runs in one of these statuses; empty: any status.
  std::vector<RunStatus> statuses{};
  /// Only runs of this definition (Workflow::with_name); empty: any definition.
  std::string definition{};
  /// Only runs created at or after this time.
  std::optional<std::chrono::system_clock::time_point> created_from{};
  /// Only runs created before this time.
  std::optional<std::chrono::system_clock::time_point> created_before{};
  /// At most this many runs (and unreadable headers) per page; 0 is refused.
  std::size_t limit = 100;
  /// Where the page starts: the `next_cursor` of the previous page, as it was; empty: the newest.
  std::string cursor{};
};

/// One page of CheckpointStore::list_runs.
struct RunPage {
  std::vector<RunHeader> runs;           // newest first
  std::vector<UnreadableRun> unreadable; // headers of this page the store could not read
  /// Pass it as RunQuery::cursor for the next page; empty when this page is the last.
  std::string next_cursor;
};

/// One row of a run's log as CheckpointStore::run_log shows it: the row, when it was written and
/// whether it was moved to the store's history when its run finished (with_history_retention).
struct RunLogEntry {
  CheckpointRow row;
  /// When the store appended the row; the epoch when the store does not know.
  std::chrono::system_clock::time_point written_at{};
  bool archived = false;
};

/// What CheckpointStore::purge_runs removed.
struct PurgeCounts {
  std::uint64_t runs = 0; // run headers
  std::uint64_t rows = 0; // rows of their logs and of the history
};

/// The opaque cursor of a page that ended at (created_at, workflow_id): list_runs of the stores
/// here use it; a store of your own may use any text.
std::string run_cursor(std::chrono::system_clock::time_point created_at, const std::string& workflow_id);
/// The position a run_cursor names, with created_at in microseconds since the epoch; an error
/// naming the cursor when the text is not one.
expected<std::pair<std::int64_t, std::string>> parse_run_cursor(const std::string& cursor);
/// Microseconds since the epoch (the resolution of the stores' timestamps).
std::int64_t unix_micros(std::chrono::system_clock::time_point t) noexcept;

class CheckpointStore;
/// Applies one write through run_header / load_run / append / clear / put_run_header, in the
/// documented order (not atomically: for stores that have no transactions).
expected<void> apply_write(CheckpointStore& store, const CheckpointWrite& w);

/// The conflict text every store uses for a duplicate (workflow_id, sequence).
std::string checkpoint_conflict_message(const std::string& workflow_id, std::uint64_t sequence);
/// The conflict text for a start (CheckpointWrite::create) whose id names an unfinished run.
std::string run_conflict_message(const std::string& workflow_id, RunStatus status);
/// The error of a write refused because another driver took the run over (D8).
error fenced_error(const std::string& workflow_id, const std::string& detail);

/// A durable home for checkpoint rows. Implementations are thread-safe and must reject a
/// duplicate (workflow_id, sequence) with checkpoint_store(checkpoint_conflict_message(...)).
class CheckpointStore {
public:
  virtual ~CheckpointStore() = default;

  /// True for stores doing I/O: the engine then writes through one checkpoint actor per store,
  /// which batches concurrent runs' rows into one append_batch (group commit).
  virtual bool is_blocking() const { return true; }
  /// How many append_batch calls a blocking store runs at once (each on its own connection):
  /// the engine gives each lane its own checkpoint actor and sends every write of one run to
  /// the same lane, so the writes of a run still reach the store one after another, in order.
  /// The default, 1: one batch at a time. At most 16 are used.
  virtual std::size_t batch_lanes() const { return 1; }

  virtual expected<void> append(const std::string& workflow_id, const CheckpointRow& row) = 0;
  /// All rows of a run, ascending by sequence; empty when unknown.
  virtual expected<std::vector<CheckpointRow>> load_run(const std::string& workflow_id) = 0;
  /// Removes a run's rows (not its header); unknown ids are fine.
  virtual expected<void> clear(const std::string& workflow_id) = 0;

  /// Writes a batch and returns one outcome per write, in order: one failing write must not
  /// fail the others. The default loops over append / put_run_header.
  virtual std::vector<expected<void>> append_batch(const std::vector<CheckpointWrite>& writes);

  /// Whether this store can keep `input` as a run's input, checked when a run starts (before
  /// anything is written) and by a cluster submit, so an input the store cannot hold is refused
  /// up front as a configuration error naming the problem, not later as a database error. The
  /// default takes any JSON.
  virtual expected<void> check_input(const nlohmann::json& input) const;

  /// Creates or replaces a run's header.
  virtual expected<void> put_run_header(const RunHeader& header) = 0;
  virtual expected<std::optional<RunHeader>> run_header(const std::string& workflow_id) = 0;
  /// Headers of unfinished runs (running, interrupted, compensating): what resume_all picks up.
  virtual expected<std::vector<RunHeader>> unfinished_runs() = 0;
  /// Like unfinished_runs, but a header the store cannot read is reported in `unreadable`
  /// instead of failing the whole listing. The default wraps unfinished_runs().
  virtual expected<RunListing> list_unfinished();

  // -- one driver per run (ARCHITECTURE D8); defaults suit single-process stores -------------

  /// Called before this process drives a run of the store for the first time. A store that
  /// allows one driving process (SQLite) takes its lock here and fails naming the holder.
  virtual expected<void> acquire_driver() { return {}; }
  /// Takes over an unfinished run before a resume drives it: stores with ownership (PostgreSQL)
  /// make this store the owner and increment the fence, so the previous owner's writes are
  /// refused from then on. The default does nothing.
  virtual expected<void> claim_run(const std::string& workflow_id);

  // -- durable cancel requests (cano 0.15 §4.3, for runs driven by another process) ----------

  /// Asks whoever drives the unfinished run `workflow_id` to cancel it, from any process: sets
  /// the header's cancel_requested_at (the first request's time stays). The run's driver picks
  /// the request up within a second (runtime_config::cancel_poll_interval) and cancels the run as
  /// runtime::cancel does; a run resumed after its driver died is cancelled at its first state.
  /// It is a request, not a write into the run: it takes no driver lock (SQLite's PATH.lock) and
  /// no ownership (PostgreSQL), and a rollback already under way is not stopped. Errors:
  /// workflow("no run with workflow id \"ID\""), workflow("run \"ID\" already ended (status
  /// S); there is nothing to cancel"), the store's own; the default: configuration("this
  /// checkpoint store does not support cancel requests").
  virtual expected<void> request_cancel(const std::string& workflow_id);
  /// The ids of unfinished runs with a cancel request whose driver this store serves (PostgreSQL:
  /// the runs it owns; SQLite and memory: all, as one process drives them), in one query: the
  /// engine asks once per interval while it drives runs of the store. The default: none.
  virtual expected<std::vector<std::string>> cancel_requests();
  /// Drives a run this store already owns (one placed on it) without taking anything over:
  /// fails with `fenced` when its owner is another one. The default does nothing.
  virtual expected<void> adopt_run(const std::string& workflow_id);

  // -- run records and history (issue 15); defaults suit stores that only keep the live log ----

  /// Headers of the runs that match `query`, newest first, one page at a time. The default
  /// lists only unfinished runs (through list_unfinished), filtered and paged here; the stores of
  /// this library list every run. Errors: a limit of 0 or a cursor that is not one
  /// (configuration), the store's own.
  virtual expected<RunPage> list_runs(const RunQuery& query);
  /// A run's log for people to read: its live rows and, when the store keeps history, the rows
  /// its current run moved there when it finished, ascending by sequence. Unknown ids give an
  /// empty log. The default is load_run, with no write times.
  virtual expected<std::vector<RunLogEntry>> run_log(const std::string& workflow_id);
  /// Removes every finished run (completed, failed, rolled back) whose header was last written
  /// before `finished_before`: its header, the log a failed or dirty rollback kept, and its
  /// history; then any history row archived before that time. Unfinished runs are never touched.
  /// The default refuses (configuration error): the interface cannot delete headers.
  virtual expected<PurgeCounts> purge_runs(std::chrono::system_clock::time_point finished_before);
  /// Removes history rows archived before `archived_before` (run headers stay); returns how many.
  /// The default has no history: 0.
  virtual expected<std::uint64_t> purge_history(std::chrono::system_clock::time_point archived_before);

  /// True for stores that can keep history (with_history_retention).
  virtual bool keeps_history() const { return false; }
  /// History retention (issue 15), a setting of the store, not of a workflow: every workflow
  /// writing into the store and every tool reading it see the same history. From now on, when a
  /// run's log is cleared (a completed run, a clean rollback, clear()), its rows move to the
  /// store's history instead of being deleted: load_run and resume see an empty log exactly as
  /// cano's contract says, while run_log still shows them. The store purges history rows older
  /// than `retention` now and then (at most once a minute, after a write); purge_history and
  /// purge_runs do it on demand. Zero turns it off. Throws std::invalid_argument for a negative
  /// retention or a store that keeps no history (keeps_history() false). A store wrapping another
  /// overrides both to forward them.
  virtual CheckpointStore& with_history_retention(std::chrono::milliseconds retention);
  /// The retention set by with_history_retention, or nothing when history is off.
  virtual std::optional<std::chrono::milliseconds> history_retention() const noexcept;

protected:
  /// For stores keeping history: true (and the next time set) when an automatic purge of
  /// history older than the retention is due; call it after a write, never while it is open.
  bool history_purge_due() noexcept;

private:
  std::atomic<std::int64_t> history_retention_ms_{0};
  std::atomic<std::int64_t> next_history_purge_ms_{0};
};

/// The errors request_cancel returns for a run that does not exist or has ended (one text for
/// every store).
error no_run_to_cancel(const std::string& workflow_id);
error run_already_ended(const std::string& workflow_id, RunStatus status);

} // namespace cano

namespace nlohmann {
/// cano::error as JSON: {"category", "message"} (compensation_failed: {"category", "nested"};
/// workflow_version_mismatch: {"category", "stored", "expected"}; workflow_timeout adds
/// "elapsed_ns" and "limit_ns", orphaned_compensation "task_id" and "output_blob" as hex), plus
/// its flags when set.
/// from_json throws on an unknown category or a missing field.
template <>
struct adl_serializer<cano::error> {
  static void to_json(json& j, const cano::error& e);
  static cano::error from_json(const json& j);
};
} // namespace nlohmann
