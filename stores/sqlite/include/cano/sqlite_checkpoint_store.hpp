// SqliteCheckpointStore — a CheckpointStore in one embedded SQLite file (ARCHITECTURE D6): WAL
// journal, synchronous=FULL by default, versioned schema (stores/sqlite/migrations/*.sql), one
// transaction per append_batch, so a group commit costs one fsync.
//
//   auto store = cano::SqliteCheckpointStore::open("/var/lib/app/checkpoints.db");
//   if (!store) { std::cerr << store.error() << '\n'; return 1; }
//   auto wf = workflow.with_checkpoint_store(*store);
//   rt.resume_all(std::vector{wf});                 // a new process picks up unfinished runs
//
// Several processes may read the file (listing runs, loading a run), but one at a time drives
// runs: the engine takes PATH.lock before its first run (acquire_driver). SQLite serialises
// writers (busy_timeout bounds the wait) and a duplicate (workflow_id, sequence) is rejected
// whoever wrote the first row.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cano/checkpoint.hpp"

namespace cano {

/// How SqliteCheckpointStore::open sets up its connection.
struct SqliteCheckpointStoreOptions {
  /// PRAGMA synchronous: "FULL" (default), "EXTRA" or "NORMAL" (in WAL mode a power loss may then
  /// lose the last commits, never corrupt the file). "OFF" is refused: no store turns fsync off.
  std::string synchronous = "FULL";
  /// How long a write waits for another connection's lock before failing as unavailable.
  std::chrono::milliseconds busy_timeout{10000};
  /// Create the file when it does not exist (tools that only read, like the cano CLI, say no:
  /// a mistyped path is then an error, not a new empty store).
  bool create = true;
  /// Open for reading only (tools that list and show runs): the file is opened read-only, nothing
  /// is migrated or written, and `create` is ignored. The schema must be there: a file without
  /// one fails with "no cano schema in this file (nothing has run here)", one older than this
  /// build names the migration it lacks. Writes fail with SQLite's read-only error.
  bool read_only = false;
};

class SqliteCheckpointStore : public CheckpointStore {
public:
  using Options = SqliteCheckpointStoreOptions;

  /// The schema version this build creates and understands (PRAGMA user_version).
  static constexpr int schema_version = 4;

  /// Opens (creating if needed) the database at `path` and brings its schema up to date.
  /// Errors are checkpoint_store("sqlite: <what> (<path>): <sqlite message>").
  static expected<std::shared_ptr<SqliteCheckpointStore>> open(const std::string& path, Options opts = {});

private:
  struct impl;
  struct passkey {
    explicit passkey() = default;
  };

public:
  /// Use open(); the key keeps this constructor to it (and to std::make_shared).
  SqliteCheckpointStore(passkey, std::unique_ptr<impl> p);
  ~SqliteCheckpointStore() override;
  SqliteCheckpointStore(const SqliteCheckpointStore&) = delete;
  SqliteCheckpointStore& operator=(const SqliteCheckpointStore&) = delete;

  /// Every call does file I/O: the engine writes through a checkpoint actor.
  bool is_blocking() const override { return true; }

  expected<void> append(const std::string& workflow_id, const CheckpointRow& row) override;
  expected<std::vector<CheckpointRow>> load_run(const std::string& workflow_id) override;
  expected<void> clear(const std::string& workflow_id) override;
  /// One transaction for the whole batch; each write applies its row, clear and header in that
  /// order. A conflicting row fails only its own write (whose clear and header are then skipped);
  /// when the
  /// transaction itself fails every write gets that error, marked store_unavailable() when the
  /// failure is transient (busy or locked past busy_timeout, I/O error, disk full).
  std::vector<expected<void>> append_batch(const std::vector<CheckpointWrite>& writes) override;
  /// Creates or updates a header; an update keeps the first non-zero created_at.
  expected<void> put_run_header(const RunHeader& header) override;
  expected<std::optional<RunHeader>> run_header(const std::string& workflow_id) override;
  /// Headers of unfinished runs (running, interrupted, compensating), ordered by workflow id.
  expected<std::vector<RunHeader>> unfinished_runs() override;
  /// The same, with the headers that cannot be read (by id and why) instead of an error.
  expected<RunListing> list_unfinished() override;
  /// One process drives the runs of a SQLite file (ARCHITECTURE D8): takes an exclusive flock on
  /// PATH.lock (freed by the kernel when the process dies) and writes its pid there. Another
  /// process gets checkpoint_store("sqlite: another process drives the runs of PATH (pid N holds
  /// PATH.lock) ..."). Reading (listing, load_run, run_header) never takes it.
  expected<void> acquire_driver() override;
  /// A durable cancel request (CheckpointStore::request_cancel): one UPDATE of the run's header,
  /// from any process, without PATH.lock.
  expected<void> request_cancel(const std::string& workflow_id) override;
  /// Unfinished runs with a cancel request: one indexed query.
  expected<std::vector<std::string>> cancel_requests() override;

  /// Every run, newest first (an index on created_at, workflow_id), with headers it cannot
  /// read reported by id in their place. Cursors carry whole milliseconds.
  expected<RunPage> list_runs(const RunQuery& query) override;
  /// Live rows and the history of the run's current header, with the times they were written.
  expected<std::vector<RunLogEntry>> run_log(const std::string& workflow_id) override;
  /// One transaction; compares with the headers' updated_at (the clock of their writer).
  expected<PurgeCounts> purge_runs(std::chrono::system_clock::time_point finished_before) override;
  expected<std::uint64_t> purge_history(std::chrono::system_clock::time_point archived_before) override;
  /// History lives in the table cano_checkpoint_history of the same file.
  bool keeps_history() const override { return true; }

  /// The path given to open().
  const std::string& path() const noexcept;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace cano
