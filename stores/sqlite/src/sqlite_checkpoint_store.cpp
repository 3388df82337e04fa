#include "cano/sqlite_checkpoint_store.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <mutex>
#include <random>
#include <utility>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include "cano/detail/random_token.hpp"
#include "cano/detail/run_records.hpp"

namespace cano {

namespace detail::sqlite {
/// Migration n is [n - 1], applied inside the BEGIN IMMEDIATE transaction that read
/// PRAGMA user_version, so concurrent openers apply each step exactly once. Defined in the file
/// generated from stores/sqlite/migrations/*.sql (never edit an applied migration: add one).
const std::vector<const char*>& migrations();
} // namespace detail::sqlite

namespace {

constexpr const char* insert_row_sql =
  "INSERT INTO cano_checkpoints (workflow_id, sequence, state, task_id, output_blob, kind, "
  "workflow_version, created_at, append_token) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
  "ON CONFLICT (workflow_id, sequence) DO NOTHING";
constexpr const char* select_rows_sql =
  "SELECT sequence, state, task_id, output_blob, kind, workflow_version FROM cano_checkpoints "
  "WHERE workflow_id = ?1 ORDER BY sequence ASC";
constexpr const char* delete_rows_sql = "DELETE FROM cano_checkpoints WHERE workflow_id = ?1";
// ?14 = 1 replaces a finished run's header (a new run of the id, D9): its creation time and cancel
// request too; otherwise a cancel request stays unless the header brings one.
constexpr const char* upsert_header_sql =
  "INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, created_at, "
  "updated_at, final_state, attempts, failure, rollback, owner, fence, cancel_requested_at) "
  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?15) "
  "ON CONFLICT (workflow_id) DO UPDATE SET definition = excluded.definition, "
  "workflow_version = excluded.workflow_version, input = excluded.input, status = excluded.status, "
  "created_at = CASE WHEN ?14 = 1 OR cano_runs.created_at = 0 THEN excluded.created_at "
  "ELSE cano_runs.created_at END, "
  "updated_at = excluded.updated_at, final_state = excluded.final_state, attempts = "
  "excluded.attempts, "
  "failure = excluded.failure, rollback = excluded.rollback, owner = excluded.owner, fence = "
  "excluded.fence, "
  "last_state = CASE WHEN ?14 = 1 THEN '' ELSE cano_runs.last_state END, "
  "cancel_requested_at = CASE WHEN ?14 = 1 THEN excluded.cancel_requested_at "
  "ELSE coalesce(excluded.cancel_requested_at, cano_runs.cancel_requested_at) END";
// Columns 13 and 14 say the run's last state: the label noted when its log was cleared, and the
// newest state entry of its live log (NULL when it has none); 15: when a cancel was requested
// (unix ms; NULL when none was).
constexpr const char* header_columns_sql =
  "SELECT workflow_id, definition, workflow_version, input, status, created_at, updated_at, "
  "final_state, "
  "attempts, failure, rollback, owner, fence, last_state, (SELECT c.state FROM cano_checkpoints c "
  "WHERE c.workflow_id = cano_runs.workflow_id AND c.kind = 0 ORDER BY c.sequence DESC LIMIT 1), "
  "cancel_requested_at FROM cano_runs ";
// A cancel request (cano 0.15 §4.3) touches one column of an unfinished run's header: the first
// request's time stays.
constexpr const char* request_cancel_sql =
  "UPDATE cano_runs SET cancel_requested_at = coalesce(cancel_requested_at, ?2) "
  "WHERE workflow_id = ?1 AND status NOT IN ('completed', 'failed', 'rolled_back')";
constexpr const char* cancel_requests_sql =
  "SELECT workflow_id FROM cano_runs WHERE cancel_requested_at IS NOT NULL "
  "AND status NOT IN ('completed', 'failed', 'rolled_back') ORDER BY workflow_id";
constexpr const char* select_header_where = "WHERE workflow_id = ?1";
constexpr const char* select_status_sql = "SELECT status FROM cano_runs WHERE workflow_id = ?1";
// Before a clear: the newest state entry of the log becomes the header's last state.
constexpr const char* note_last_state_sql = "UPDATE cano_runs SET last_state = (SELECT state FROM "
                                            "cano_checkpoints WHERE workflow_id = ?1 AND kind = 0 "
                                            "ORDER BY sequence DESC LIMIT 1) WHERE workflow_id = "
                                            "?1 AND EXISTS (SELECT 1 FROM cano_checkpoints "
                                            "WHERE workflow_id = ?1 AND kind = 0)";
// History retention: a cleared log moves here. ?2: the created_at of the run's header, or NULL
// to read it from the header (0 without one); ?3: now. A row the history already has for the
// same run (a log cleared by hand, rows appended again and cleared again) is replaced.
constexpr const char* archive_rows_sql =
  "INSERT OR REPLACE INTO cano_checkpoint_history (workflow_id, sequence, state, task_id, output_blob, kind, "
  "workflow_version, created_at, run_created_at, archived_at) SELECT workflow_id, sequence, state, "
  "task_id, "
  "output_blob, kind, workflow_version, created_at, coalesce(?2, (SELECT r.created_at FROM "
  "cano_runs r WHERE "
  "r.workflow_id = ?1), 0), ?3 FROM cano_checkpoints WHERE workflow_id = ?1";
// A run's log for people: live rows, then (same sequence) the history of its current run.
constexpr const char* select_log_sql =
  "SELECT sequence, state, task_id, output_blob, kind, workflow_version, created_at, 0 FROM "
  "cano_checkpoints "
  "WHERE workflow_id = ?1 UNION ALL SELECT h.sequence, h.state, h.task_id, h.output_blob, h.kind, "
  "h.workflow_version, h.created_at, 1 FROM cano_checkpoint_history h JOIN cano_runs r ON "
  "r.workflow_id = "
  "h.workflow_id AND r.created_at = h.run_created_at WHERE h.workflow_id = ?1 ORDER BY 1, 8 DESC";
constexpr const char* final_statuses_sql = "('completed', 'failed', 'rolled_back')";
// Any status that is not final, known or not: an unknown one is reported, never skipped.
constexpr const char* select_unfinished_where =
  "WHERE status NOT IN ('completed', 'failed', 'rolled_back') ORDER BY workflow_id";
constexpr const char* has_rows_sql = "SELECT min(sequence) FROM cano_checkpoints WHERE workflow_id = ?1";

/// Busy, locked, I/O and disk-full failures say the store is unreachable for now, not that a
/// write is wrong: the engine then interrupts the run instead of compensating (D6).
bool transient(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PROTOCOL: return true;
    default: return false;
  }
}

/// A prepared statement, finalized when it goes.
class statement {
public:
  statement() = default;
  explicit statement(sqlite3_stmt* s) : s_(s) {}
  statement(statement&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  statement& operator=(statement&& other) noexcept {
    if (this != &other) {
      sqlite3_finalize(s_);
      s_ = std::exchange(other.s_, nullptr);
    }
    return *this;
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() const noexcept { return s_; }

private:
  sqlite3_stmt* s_ = nullptr;
};

/// Resets a cached statement and drops its bindings at the end of a scope, so it can be reused
/// and holds no read snapshot or pointer to the caller's data.
class reset_on_exit {
public:
  explicit reset_on_exit(sqlite3_stmt* s) : s_(s) {}
  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;
  ~reset_on_exit() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

private:
  sqlite3_stmt* s_;
};

struct db_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_unix_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(
    std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(ms)));
}

/// The PRAGMA for a synchronous setting, or nullptr when it is not allowed (OFF never is).
const char* synchronous_pragma(const std::string& value) {
  std::string v = value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (v == "NORMAL" || v == "1") {
    return "PRAGMA synchronous = NORMAL";
  }
  if (v == "FULL" || v == "2") {
    return "PRAGMA synchronous = FULL";
  }
  if (v == "EXTRA" || v == "3") {
    return "PRAGMA synchronous = EXTRA";
  }
  return nullptr;
}

std::string column_text(sqlite3_stmt* s, int col) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  auto n = sqlite3_column_bytes(s, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

int bind_text(sqlite3_stmt* s, int col, const std::string& v) {
  return sqlite3_bind_text64(s, col, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}

} // namespace

struct SqliteCheckpointStore::impl {
  std::string path;
  Options opts;
  std::mutex mutex;
  db_handle db; // declared before the statements: they are finalized first
  statement begin;
  statement commit;
  statement rollback;
  statement insert_row;
  statement select_rows;
  statement delete_rows;
  statement upsert_header;
  statement select_header;
  statement select_unfinished;
  statement has_rows;
  statement select_status;
  statement note_last_state;
  statement archive_rows;
  statement select_log;
  statement request_cancel;
  statement cancel_requests;
  int lock_fd = -1; // PATH.lock, held once this process drives runs (D8)

  /// Brings the schema up to this build's version (one write transaction).
  expected<void> migrate();
  /// For a read-only open: the schema is this build's, or an error saying what is missing.
  expected<void> check_schema();

  /// checkpoint_store("sqlite: <what> (<path>): <sqlite message>"), marked unavailable when the
  /// failure is transient. Call right after the failing call (the message is the connection's).
  error failure(const std::string& what, int rc) const {
    std::string message = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    auto e = error::checkpoint_store("sqlite: " + what + " (" + path + "): " + message);
    if (transient(rc)) {
      return std::move(e).store_unavailable();
    }
    return e;
  }

  error invalid(const std::string& what, const std::string& why) const {
    return error::checkpoint_store("sqlite: " + what + " (" + path + "): " + why);
  }

  expected<statement> prepare(const std::string& what, const char* sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(s);
      return failure(what, rc);
    }
    return statement(s);
  }

  /// Runs every statement of a fixed script (no parameters), discarding result rows.
  expected<void> run_script(const std::string& what, const char* sql) {
    const char* tail = sql;
    while (tail != nullptr && *tail != '\0') {
      sqlite3_stmt* raw = nullptr;
      int rc = sqlite3_prepare_v2(db.get(), tail, -1, &raw, &tail);
      statement s(raw);
      if (rc != SQLITE_OK) {
        return failure(what, rc);
      }
      if (raw == nullptr) { // whitespace or a comment
        continue;
      }
      while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) {
        return failure(what, rc);
      }
    }
    return {};
  }

  /// PRAGMA journal_mode=WAL. Switching a file to WAL takes an exclusive lock without calling
  /// the busy handler, so openers racing on a new file can see "database is locked": retry
  /// then, with a growing pause, until busy_timeout has passed.
  expected<void> enable_wal() {
    const char* what = "set journal_mode=WAL";
    auto deadline = std::chrono::steady_clock::now() + opts.busy_timeout;
    int pause_ms = 1;
    for (;;) {
      auto wal = prepare(what, "PRAGMA journal_mode = WAL");
      if (!wal) {
        return wal.error();
      }
      int rc = sqlite3_step(wal->get());
      if (rc == SQLITE_ROW) {
        auto mode = column_text(wal->get(), 0);
        if (mode != "wal" && mode != "memory") { // "memory" for an in-memory database
          return invalid(what, "the database stayed in journal mode " + mode);
        }
        return {};
      }
      auto e = failure(what, rc);
      int primary = rc & 0xFF;
      if ((primary != SQLITE_BUSY && primary != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) {
        return e;
      }
      *wal = statement{};
      sqlite3_sleep(pause_ms);
      pause_ms = std::min(pause_ms * 2, 50);
    }
  }

  /// Steps a cached statement that returns no rows.
  int step_once(const statement& s) {
    reset_on_exit guard(s.get());
    return sqlite3_step(s.get());
  }

  /// After a failed statement inside a transaction: must the whole transaction go? Yes when
  /// SQLite already rolled it back, or for the errors SQLite says to answer with ROLLBACK (busy,
  /// I/O, disk full, out of memory); a plain statement error (a constraint, a value too big)
  /// undid only that statement.
  bool aborts_transaction(int rc) const {
    return transient(rc) || (rc & 0xFF) == SQLITE_NOMEM || sqlite3_get_autocommit(db.get()) != 0;
  }

  void rollback_if_open() {
    if (sqlite3_get_autocommit(db.get()) == 0) {
      step_once(rollback);
    }
  }

  /// Inserts a row unless (id, sequence) exists. True when inserted, false on a conflict.
  /// `fatal` is set when the failure ends the enclosing transaction (aborts_transaction).
  expected<bool> insert(const std::string& id, const CheckpointRow& row, bool& fatal) {
    const char* what = "append";
    if (row.sequence > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return invalid(what, "sequence " + std::to_string(row.sequence) + " is out of SQLite's INTEGER range");
    }
    std::string token = detail::random_token();
    auto* s = insert_row.get();
    reset_on_exit guard(s); // declared after the bound strings: it unbinds before they go
    int rc = bind_text(s, 1, id);
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 2, static_cast<std::int64_t>(row.sequence));
    }
    if (rc == SQLITE_OK) {
      rc = bind_text(s, 3, row.state);
    }
    if (rc == SQLITE_OK) {
      rc = bind_text(s, 4, row.task_id);
    }
    if (rc == SQLITE_OK) {
      if (!row.output_blob) {
        rc = sqlite3_bind_null(s, 5);
      } else if (row.output_blob->empty()) {
        rc = sqlite3_bind_zeroblob(s, 5, 0); // an empty blob, not NULL
      } else {
        rc = sqlite3_bind_blob64(s, 5, row.output_blob->data(), row.output_blob->size(), SQLITE_STATIC);
      }
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int(s, 6, static_cast<int>(row.kind));
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 7, static_cast<std::int64_t>(row.workflow_version));
    }
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 8, unix_ms(std::chrono::system_clock::now()));
    }
    if (rc == SQLITE_OK) {
      rc = bind_text(s, 9, token);
    }
    if (rc != SQLITE_OK) {
      return failure(what, rc); // a bind failure (e.g. too big) leaves the transaction intact
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      fatal = aborts_transaction(rc);
      return failure(what, rc);
    }
    return sqlite3_changes(db.get()) != 0;
  }

  expected<void> append_row(const std::string& id, const CheckpointRow& row, bool& fatal) {
    auto inserted = insert(id, row, fatal);
    if (!inserted) {
      return inserted.error();
    }
    if (!*inserted) {
      return error::checkpoint_store(checkpoint_conflict_message(id, row.sequence));
    }
    return {};
  }

  /// Clears a run's rows. Unless it `completed` (its exit state says where it ended), the
  /// header notes its last state first; with `archive`, the rows move to the history of the run
  /// created at `run_created_ms` (nothing: the header's).
  expected<void> delete_run(const std::string& id, bool& fatal, bool completed = false, bool archive = false,
                            std::optional<std::int64_t> run_created_ms = std::nullopt) {
    auto run = [&](const statement& st, auto bind) -> expected<void> {
      auto* s = st.get();
      reset_on_exit guard(s);
      int rc = bind(s);
      if (rc != SQLITE_OK) {
        return failure("clear", rc);
      }
      rc = sqlite3_step(s);
      if (rc != SQLITE_DONE) {
        fatal = aborts_transaction(rc);
        return failure("clear", rc);
      }
      return {};
    };
    auto by_id = [&](sqlite3_stmt* s) { return bind_text(s, 1, id); };
    if (!completed) {
      if (auto r = run(note_last_state, by_id); !r) {
        return r;
      }
    }
    if (archive) {
      auto r = run(archive_rows, [&](sqlite3_stmt* s) {
        int rc = bind_text(s, 1, id);
        if (rc == SQLITE_OK) {
          rc = run_created_ms ? sqlite3_bind_int64(s, 2, *run_created_ms) : sqlite3_bind_null(s, 2);
        }
        if (rc == SQLITE_OK) {
          rc = sqlite3_bind_int64(s, 3, unix_ms(std::chrono::system_clock::now()));
        }
        return rc;
      });
      if (!r) {
        return r;
      }
    }
    return run(delete_rows, by_id);
  }

  /// Creates or updates a header; `replace` (a new run of a finished id) resets its creation time.
  expected<void> upsert(const RunHeader& h, bool replace, bool& fatal) {
    const char* what = "put_run_header";
    std::string input, failure_json, rollback_json;
    try {
      input = h.input.dump();
      if (h.failure) {
        failure_json = nlohmann::json(*h.failure).dump();
      }
      if (h.rollback) {
        rollback_json = nlohmann::json(*h.rollback).dump();
      }
    } catch (const std::exception& e) {
      return invalid(what, std::string("encode run header: ") + e.what());
    }
    if (h.fence > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return invalid(what, "fence " + std::to_string(h.fence) + " is out of SQLite's INTEGER range");
    }
    std::string status = to_string(h.status);
    auto* s = upsert_header.get();
    reset_on_exit guard(s);
    int rc = bind_text(s, 1, h.workflow_id);
    auto more = [&](auto bind) {
      if (rc == SQLITE_OK) {
        rc = bind();
      }
    };
    more([&] { return bind_text(s, 2, h.definition); });
    more([&] { return sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(h.workflow_version)); });
    more([&] { return bind_text(s, 4, input); });
    more([&] { return bind_text(s, 5, status); });
    more([&] { return sqlite3_bind_int64(s, 6, unix_ms(h.created_at)); });
    more([&] { return sqlite3_bind_int64(s, 7, unix_ms(h.updated_at)); });
    more([&] { return bind_text(s, 8, h.final_state); });
    more([&] { return sqlite3_bind_int64(s, 9, static_cast<std::int64_t>(h.attempts)); });
    more([&] { return h.failure ? bind_text(s, 10, failure_json) : sqlite3_bind_null(s, 10); });
    more([&] { return h.rollback ? bind_text(s, 11, rollback_json) : sqlite3_bind_null(s, 11); });
    more([&] { return bind_text(s, 12, h.owner); });
    more([&] { return sqlite3_bind_int64(s, 13, static_cast<std::int64_t>(h.fence)); });
    more([&] { return sqlite3_bind_int(s, 14, replace ? 1 : 0); });
    more([&] {
      return h.cancel_requested_at ? sqlite3_bind_int64(s, 15, unix_ms(*h.cancel_requested_at))
                                   : sqlite3_bind_null(s, 15);
    });
    if (rc != SQLITE_OK) {
      return failure(what, rc);
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      fatal = aborts_transaction(rc);
      return failure(what, rc);
    }
    return {};
  }

  /// Reads the header at the current row of a header query, or why it cannot be read (a value
  /// out of range, JSON that does not parse, a status this version does not know).
  expected<RunHeader> read_header(sqlite3_stmt* s, const char* what) const {
    RunHeader h;
    h.workflow_id = column_text(s, 0);
    auto bad = [&](const std::string& why) { return invalid(what, "run \"" + h.workflow_id + "\": " + why); };
    h.definition = column_text(s, 1);
    auto version = sqlite3_column_int64(s, 2);
    if (version < 0 || version > static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max())) {
      return bad("workflow_version " + std::to_string(version) + " out of u32 range");
    }
    h.workflow_version = static_cast<std::uint32_t>(version);
    try {
      h.input = nlohmann::json::parse(column_text(s, 3));
    } catch (const std::exception& e) {
      return bad(std::string("decode its input: ") + e.what());
    }
    auto status_text = column_text(s, 4);
    auto status = run_status_from_string(status_text);
    if (!status) {
      return bad("unknown status \"" + status_text + "\"");
    }
    h.status = *status;
    h.created_at = from_unix_ms(sqlite3_column_int64(s, 5));
    h.updated_at = from_unix_ms(sqlite3_column_int64(s, 6));
    h.final_state = column_text(s, 7);
    auto attempts = sqlite3_column_int64(s, 8);
    if (attempts < 0 || attempts > static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max())) {
      return bad("attempts " + std::to_string(attempts) + " out of range");
    }
    h.attempts = static_cast<std::uint32_t>(attempts);
    try {
      if (sqlite3_column_type(s, 9) != SQLITE_NULL) {
        h.failure = nlohmann::json::parse(column_text(s, 9)).get<error>();
      }
      if (sqlite3_column_type(s, 10) != SQLITE_NULL) {
        h.rollback = nlohmann::json::parse(column_text(s, 10)).get<RollbackRecord>();
      }
    } catch (const std::exception& e) {
      return bad(std::string("decode its failure or rollback record: ") + e.what());
    }
    h.owner = column_text(s, 11);
    auto fence = sqlite3_column_int64(s, 12);
    if (fence < 0) {
      return bad("negative fence " + std::to_string(fence));
    }
    h.fence = static_cast<std::uint64_t>(fence);
    h.last_state = detail::last_state_of(h, column_text(s, 14), column_text(s, 13));
    if (sqlite3_column_type(s, 15) != SQLITE_NULL) {
      h.cancel_requested_at = from_unix_ms(sqlite3_column_int64(s, 15));
    }
    return h;
  }

  /// The row at the current row of a query selecting sequence, state, task_id, output_blob,
  /// kind and workflow_version as its first columns, or why it cannot be read.
  expected<CheckpointRow> read_row(sqlite3_stmt* s, const char* what, const std::string& workflow_id) const {
    auto sequence = sqlite3_column_int64(s, 0);
    if (sequence < 0) {
      return invalid(what, "negative sequence " + std::to_string(sequence) + " in run \"" + workflow_id + "\"");
    }
    CheckpointRow row(static_cast<std::uint64_t>(sequence), column_text(s, 1), column_text(s, 2));
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
      const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 3));
      auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, 3));
      row.output_blob = data == nullptr ? std::vector<std::uint8_t>{} : std::vector<std::uint8_t>(data, data + n);
    }
    row.kind = row_kind_from_code(sqlite3_column_int64(s, 4));
    auto version = sqlite3_column_int64(s, 5);
    if (version < 0 || version > static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max())) {
      return invalid(what, "workflow_version " + std::to_string(version) + " out of u32 range");
    }
    row.workflow_version = static_cast<std::uint32_t>(version);
    return row;
  }

  /// D9: a new run may not take the id of an unfinished run, or of one whose log is still there.
  expected<void> check_create(const std::string& id) {
    {
      auto* s = select_status.get();
      reset_on_exit reset(s);
      int rc = bind_text(s, 1, id);
      if (rc != SQLITE_OK) {
        return failure("create run", rc);
      }
      rc = sqlite3_step(s);
      if (rc == SQLITE_ROW) {
        auto status = run_status_from_string(column_text(s, 0));
        if (!status || is_unfinished(*status)) {
          return error::checkpoint_store(run_conflict_message(id, status.value_or(RunStatus::running)));
        }
      } else if (rc != SQLITE_DONE) {
        return failure("create run", rc);
      }
    }
    auto* s = has_rows.get();
    reset_on_exit reset(s);
    int rc = bind_text(s, 1, id);
    if (rc != SQLITE_OK) {
      return failure("create run", rc);
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
      return failure("create run", rc);
    }
    if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
      return error::checkpoint_store(
        checkpoint_conflict_message(id, static_cast<std::uint64_t>(sqlite3_column_int64(s, 0))));
    }
    return {};
  }

  /// One write of a batch, inside the open transaction, in CheckpointWrite's order: the row,
  /// then the clear, then the header; nothing after a row that did not land.
  expected<void> write_one(const CheckpointWrite& w, bool& fatal) {
    if (w.create) {
      if (auto r = check_create(w.workflow_id); !r) {
        return r;
      }
    }
    if (w.row) {
      if (auto r = append_row(w.workflow_id, *w.row, fatal); !r) {
        return r;
      }
    }
    if (w.clear_run) {
      bool completed = w.header && w.header->status == RunStatus::completed;
      // A write that starts a run names the run its rows belong to; otherwise its header does.
      auto run_created =
        w.create && w.header ? std::optional<std::int64_t>(unix_ms(w.header->created_at)) : std::nullopt;
      if (auto r = delete_run(w.workflow_id, fatal, completed, archive, run_created); !r) {
        return r;
      }
    }
    if (w.header) {
      return upsert(*w.header, w.create, fatal);
    }
    return {};
  }

  bool archive = false; // history retention is on: set by append_batch and clear for their call
};

SqliteCheckpointStore::SqliteCheckpointStore(passkey, std::unique_ptr<impl> p) : impl_(std::move(p)) {}

SqliteCheckpointStore::~SqliteCheckpointStore() {
  if (impl_ && impl_->lock_fd >= 0) {
    ::close(impl_->lock_fd); // frees the driver lock
  }
}

const std::string& SqliteCheckpointStore::path() const noexcept { return impl_->path; }

expected<void> SqliteCheckpointStore::impl::migrate() {
  // Migrations, in one write transaction: of several openers of a new file only the first
  // to get the write lock migrates; the others then read the new version and do nothing.
  int rc = step_once(begin);
  if (rc != SQLITE_DONE) {
    return failure("begin schema migration", rc);
  }
  {
    auto version_stmt = prepare("read PRAGMA user_version", "PRAGMA user_version");
    if (!version_stmt) {
      rollback_if_open();
      return version_stmt.error();
    }
    rc = sqlite3_step(version_stmt->get());
    if (rc != SQLITE_ROW) {
      auto e = failure("read PRAGMA user_version", rc);
      rollback_if_open();
      return e;
    }
    auto version = sqlite3_column_int(version_stmt->get(), 0);
    version_stmt = statement{}; // finalized before the DDL below
    const auto& all = detail::sqlite::migrations();
    if (all.size() != static_cast<std::size_t>(schema_version)) {
      rollback_if_open();
      return invalid("open", "this build has " + std::to_string(all.size()) + " migrations but schema_version " +
                               std::to_string(schema_version));
    }
    if (version < 0 || version > schema_version) {
      rollback_if_open();
      return invalid("open", "schema version " + std::to_string(version) +
                               " is not one this build knows (it knows 0 to " + std::to_string(schema_version) + ")");
    }
    for (int v = version; v < schema_version; ++v) {
      auto what = "migrate schema to version " + std::to_string(v + 1);
      if (auto r = run_script(what, all[static_cast<std::size_t>(v)]); !r) {
        rollback_if_open();
        return r.error();
      }
      // The version is set here, not in the file (PRAGMA takes no parameters: fixed text).
      auto set_version = "PRAGMA user_version = " + std::to_string(v + 1);
      if (auto r = run_script(what, set_version.c_str()); !r) {
        rollback_if_open();
        return r.error();
      }
    }
  }
  rc = step_once(commit);
  if (rc != SQLITE_DONE) {
    auto e = failure("commit schema migration", rc);
    rollback_if_open();
    return e;
  }
  return {};
}

expected<void> SqliteCheckpointStore::impl::check_schema() {
  auto version_stmt = prepare("read PRAGMA user_version", "PRAGMA user_version");
  if (!version_stmt) {
    return version_stmt.error();
  }
  int rc = sqlite3_step(version_stmt->get());
  if (rc != SQLITE_ROW) {
    return failure("read PRAGMA user_version", rc);
  }
  auto version = sqlite3_column_int(version_stmt->get(), 0);
  if (version == 0) {
    return invalid("open", "no cano schema in this file (nothing has run here)");
  }
  if (version < schema_version) {
    // Readers query the newest columns and tables: an older schema is migrated by a writer.
    return invalid("open", "the cano schema in this file is at version " + std::to_string(version) +
                             ", this build reads version " + std::to_string(schema_version) + ": migration " +
                             std::to_string(version + 1) +
                             " is missing (any cano process that writes applies it when it opens the store)");
  }
  if (version > schema_version) {
    return invalid("open", "schema version " + std::to_string(version) +
                             " is not one this build knows (it knows 0 to " + std::to_string(schema_version) + ")");
  }
  return {};
}

expected<std::shared_ptr<SqliteCheckpointStore>> SqliteCheckpointStore::open(const std::string& path, Options opts) {
  auto p = std::make_unique<impl>();
  p->path = path;
  p->opts = opts;
  const char* sync = synchronous_pragma(opts.synchronous);
  if (sync == nullptr) {
    return p->invalid("open", "synchronous=" + opts.synchronous +
                                " is not allowed (use NORMAL, FULL or EXTRA; a checkpoint store "
                                "never turns fsync off)");
  }
  sqlite3* raw = nullptr;
  int flags = opts.read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX
                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (opts.create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  p->db.reset(raw); // closed on every path out, even when the open failed
  if (rc != SQLITE_OK) {
    if ((!opts.create || opts.read_only) && (rc & 0xFF) == SQLITE_CANTOPEN) {
      p->db.reset();
      return p->invalid("open", "no such store (the file does not exist or cannot be opened)");
    }
    return p->failure("open", rc);
  }
  sqlite3_extended_result_codes(raw, 1);
  auto timeout = std::min<std::chrono::milliseconds::rep>(
    std::max<std::chrono::milliseconds::rep>(opts.busy_timeout.count(), 0), INT_MAX);
  sqlite3_busy_timeout(raw, static_cast<int>(timeout));

  if (!opts.read_only) {
    if (auto r = p->enable_wal(); !r) {
      return r.error();
    }
    if (auto r = p->run_script("set synchronous", sync); !r) {
      return r.error();
    }
  }

  auto cache = [&p](std::initializer_list<std::pair<statement*, const char*>> list) -> expected<void> {
    for (const auto& [slot, sql] : list) {
      auto st = p->prepare("prepare", sql);
      if (!st) {
        return st.error();
      }
      *slot = std::move(*st);
    }
    return {};
  };
  if (auto r = cache({{&p->begin, "BEGIN IMMEDIATE"}, {&p->commit, "COMMIT"}, {&p->rollback, "ROLLBACK"}}); !r) {
    return r.error();
  }

  if (opts.read_only) {
    if (auto r = p->check_schema(); !r) {
      return r.error();
    }
  } else if (auto r = p->migrate(); !r) {
    return r.error();
  }

  // Prepared only now: a statement naming a table fails to prepare before the migration made it.
  const std::string select_header_sql = std::string(header_columns_sql) + select_header_where;
  const std::string select_unfinished_sql = std::string(header_columns_sql) + select_unfinished_where;
  if (auto r = cache({{&p->insert_row, insert_row_sql},
                      {&p->select_rows, select_rows_sql},
                      {&p->delete_rows, delete_rows_sql},
                      {&p->upsert_header, upsert_header_sql},
                      {&p->select_header, select_header_sql.c_str()},
                      {&p->select_unfinished, select_unfinished_sql.c_str()},
                      {&p->has_rows, has_rows_sql},
                      {&p->select_status, select_status_sql},
                      {&p->note_last_state, note_last_state_sql},
                      {&p->archive_rows, archive_rows_sql},
                      {&p->select_log, select_log_sql},
                      {&p->request_cancel, request_cancel_sql},
                      {&p->cancel_requests, cancel_requests_sql}});
      !r) {
    return r.error();
  }
  return std::make_shared<SqliteCheckpointStore>(passkey{}, std::move(p));
}

expected<void> SqliteCheckpointStore::append(const std::string& workflow_id, const CheckpointRow& row) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  bool fatal = false;
  return impl_->append_row(workflow_id, row, fatal); // one statement: its own transaction
}

std::vector<expected<void>> SqliteCheckpointStore::append_batch(const std::vector<CheckpointWrite>& writes) {
  std::vector<expected<void>> out;
  if (writes.empty()) {
    return out;
  }
  auto& d = *impl_;
  std::unique_lock<std::mutex> guard(d.mutex);
  d.archive = history_retention().has_value();
  int rc = d.step_once(d.begin);
  if (rc != SQLITE_DONE) {
    auto e = d.failure("begin append_batch", rc);
    d.rollback_if_open();
    out.assign(writes.size(), e);
    return out;
  }
  out.reserve(writes.size());
  for (const auto& w : writes) {
    bool fatal = false;
    auto r = d.write_one(w, fatal);
    if (fatal) {
      // The transaction is lost: nothing of the batch is kept, so no write succeeded.
      auto e = r.error();
      d.rollback_if_open();
      out.assign(writes.size(), e);
      return out;
    }
    out.push_back(std::move(r));
  }
  rc = d.step_once(d.commit);
  if (rc != SQLITE_DONE) {
    auto e = d.failure("commit append_batch", rc);
    d.rollback_if_open();
    out.assign(writes.size(), e);
    return out;
  }
  guard.unlock();
  if (history_purge_due()) {
    // Best effort: a failed purge is tried again at the next slot; the batch has committed.
    (void)purge_history(std::chrono::system_clock::now() - *history_retention());
  }
  return out;
}

expected<std::vector<CheckpointRow>> SqliteCheckpointStore::load_run(const std::string& workflow_id) {
  auto& d = *impl_;
  const char* what = "load_run";
  std::lock_guard<std::mutex> guard(d.mutex);
  auto* s = d.select_rows.get();
  reset_on_exit reset(s);
  int rc = bind_text(s, 1, workflow_id);
  if (rc != SQLITE_OK) {
    return d.failure(what, rc);
  }
  std::vector<CheckpointRow> rows;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto row = d.read_row(s, what, workflow_id);
    if (!row) {
      return row.error();
    }
    rows.push_back(std::move(*row));
  }
  if (rc != SQLITE_DONE) {
    return d.failure(what, rc);
  }
  return rows;
}

expected<void> SqliteCheckpointStore::clear(const std::string& workflow_id) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  // Noting the last state, archiving and deleting go together or not at all.
  int rc = d.step_once(d.begin);
  if (rc != SQLITE_DONE) {
    auto e = d.failure("begin clear", rc);
    d.rollback_if_open();
    return e;
  }
  bool fatal = false;
  auto r = d.delete_run(workflow_id, fatal, false, history_retention().has_value());
  if (!r) {
    d.rollback_if_open();
    return r;
  }
  rc = d.step_once(d.commit);
  if (rc != SQLITE_DONE) {
    auto e = d.failure("commit clear", rc);
    d.rollback_if_open();
    return e;
  }
  return {};
}

expected<void> SqliteCheckpointStore::put_run_header(const RunHeader& header) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  bool fatal = false;
  return impl_->upsert(header, false, fatal);
}

expected<std::optional<RunHeader>> SqliteCheckpointStore::run_header(const std::string& workflow_id) {
  auto& d = *impl_;
  const char* what = "run_header";
  std::lock_guard<std::mutex> guard(d.mutex);
  auto* s = d.select_header.get();
  reset_on_exit reset(s);
  int rc = bind_text(s, 1, workflow_id);
  if (rc != SQLITE_OK) {
    return d.failure(what, rc);
  }
  rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    return std::optional<RunHeader>{};
  }
  if (rc != SQLITE_ROW) {
    return d.failure(what, rc);
  }
  auto h = d.read_header(s, what);
  if (!h) {
    return h.error();
  }
  return std::optional<RunHeader>{std::move(*h)};
}

expected<RunListing> SqliteCheckpointStore::list_unfinished() {
  auto& d = *impl_;
  const char* what = "unfinished_runs";
  std::lock_guard<std::mutex> guard(d.mutex);
  auto* s = d.select_unfinished.get();
  reset_on_exit reset(s);
  RunListing out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto h = d.read_header(s, what);
    if (h) {
      out.runs.push_back(std::move(*h));
    } else {
      // One bad header never hides the others: it is reported by id, left as it is.
      out.unreadable.push_back({column_text(s, 0), h.error().message()});
    }
  }
  if (rc != SQLITE_DONE) {
    return d.failure(what, rc);
  }
  return out;
}

expected<std::vector<RunHeader>> SqliteCheckpointStore::unfinished_runs() {
  auto listing = list_unfinished();
  if (!listing) {
    return listing.error();
  }
  return std::move(listing->runs);
}

expected<void> SqliteCheckpointStore::request_cancel(const std::string& workflow_id) {
  auto& d = *impl_;
  const char* what = "request_cancel";
  std::lock_guard<std::mutex> guard(d.mutex);
  {
    auto* s = d.request_cancel.get();
    reset_on_exit reset(s);
    int rc = bind_text(s, 1, workflow_id);
    if (rc == SQLITE_OK) {
      rc = sqlite3_bind_int64(s, 2, unix_ms(std::chrono::system_clock::now()));
    }
    if (rc != SQLITE_OK) {
      return d.failure(what, rc);
    }
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
      return d.failure(what, rc);
    }
    if (sqlite3_changes(d.db.get()) != 0) {
      return {};
    }
  }
  // Nothing changed: say why (no such run, or one that has ended).
  auto* s = d.select_header.get();
  reset_on_exit reset(s);
  int rc = bind_text(s, 1, workflow_id);
  if (rc != SQLITE_OK) {
    return d.failure(what, rc);
  }
  rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    return no_run_to_cancel(workflow_id);
  }
  if (rc != SQLITE_ROW) {
    return d.failure(what, rc);
  }
  auto status = run_status_from_string(column_text(s, 4));
  if (!status) {
    return d.invalid(what, "run \"" + workflow_id + "\" has an unknown status \"" + column_text(s, 4) + "\"");
  }
  return run_already_ended(workflow_id, *status);
}

expected<std::vector<std::string>> SqliteCheckpointStore::cancel_requests() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  auto* s = d.cancel_requests.get();
  reset_on_exit reset(s);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.push_back(column_text(s, 0));
  }
  if (rc != SQLITE_DONE) {
    return d.failure("cancel_requests", rc);
  }
  return out;
}

expected<void> SqliteCheckpointStore::acquire_driver() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  if (d.lock_fd >= 0 || d.path.empty() || d.path == ":memory:" || d.path.rfind("file:", 0) == 0) {
    return {};
  }
  const auto lock_path = d.path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return d.invalid("take the driver lock", "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char text[32] = {0};
    auto n = ::pread(fd, text, sizeof(text) - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : std::string("unknown");
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
      holder.pop_back();
    }
    if (err == EWOULDBLOCK) {
      return error::checkpoint_store("sqlite: another process drives the runs of " + d.path + " (pid " + holder +
                                     " holds " + lock_path +
                                     "); one process at a time may drive runs of a SQLite store (ARCHITECTURE D8)");
    }
    return d.invalid("take the driver lock", "flock " + lock_path + ": " + std::strerror(err));
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock is held all the same; only the name of the holder is missing.
  }
  d.lock_fd = fd; // released by the kernel when the process dies, or when the store closes
  return {};
}

} // namespace cano

namespace cano {

expected<RunPage> SqliteCheckpointStore::list_runs(const RunQuery& query) {
  auto checked = detail::check_run_query(query);
  if (!checked) {
    return checked.error();
  }
  auto& d = *impl_;
  const char* what = "list_runs";
  // Built per call from fixed pieces; every value is a bound parameter.
  std::string sql = header_columns_sql;
  std::vector<std::string> where;
  int next = 1;
  auto param = [&next] { return "?" + std::to_string(next++); };
  std::string statuses;
  for (std::size_t i = 0; i < query.statuses.size(); ++i) {
    statuses += (i == 0 ? "" : ", ") + param();
  }
  if (!statuses.empty()) {
    where.push_back("status IN (" + statuses + ")");
  }
  int definition_at = 0, from_at = 0, before_at = 0, after_at = 0;
  if (!query.definition.empty()) {
    definition_at = next;
    where.push_back("definition = " + param());
  }
  if (query.created_from) {
    from_at = next;
    where.push_back("created_at >= " + param());
  }
  if (query.created_before) {
    before_at = next;
    where.push_back("created_at < " + param());
  }
  if (checked->after) {
    after_at = next;
    auto t = param();
    auto id = param();
    where.push_back("(created_at < " + t + " OR (created_at = " + t + " AND workflow_id < " + id + "))");
  }
  for (std::size_t i = 0; i < where.size(); ++i) {
    sql += (i == 0 ? "WHERE " : " AND ") + where[i];
  }
  // One more than the page: whether another page follows.
  sql += " ORDER BY created_at DESC, workflow_id DESC LIMIT " + std::to_string(checked->limit + 1);

  std::lock_guard<std::mutex> guard(d.mutex);
  auto st = d.prepare(what, sql.c_str());
  if (!st) {
    return st.error();
  }
  auto* s = st->get();
  std::vector<std::string> status_texts;
  for (auto status : query.statuses) {
    status_texts.emplace_back(to_string(status));
  }
  int rc = SQLITE_OK;
  for (std::size_t i = 0; i < status_texts.size() && rc == SQLITE_OK; ++i) {
    rc = bind_text(s, static_cast<int>(i) + 1, status_texts[i]);
  }
  if (rc == SQLITE_OK && definition_at != 0) {
    rc = bind_text(s, definition_at, query.definition);
  }
  if (rc == SQLITE_OK && from_at != 0) {
    rc = sqlite3_bind_int64(s, from_at, unix_ms(*query.created_from));
  }
  if (rc == SQLITE_OK && before_at != 0) {
    rc = sqlite3_bind_int64(s, before_at, unix_ms(*query.created_before));
  }
  if (rc == SQLITE_OK && after_at != 0) {
    // Cursors of this store carry whole milliseconds; a finer one rounds down.
    auto micros = checked->after->first;
    auto ms = micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000);
    rc = sqlite3_bind_int64(s, after_at, ms);
    if (rc == SQLITE_OK) {
      rc = bind_text(s, after_at + 1, checked->after->second);
    }
  }
  if (rc != SQLITE_OK) {
    return d.failure(what, rc);
  }
  RunPage page;
  std::size_t shown = 0;
  std::int64_t last_ms = 0;
  std::string last_id;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (shown == checked->limit) {
      page.next_cursor = "v1:" + std::to_string(last_ms * 1000) + ":" + last_id;
      break;
    }
    ++shown;
    last_id = column_text(s, 0);
    last_ms = sqlite3_column_int64(s, 5);
    auto h = d.read_header(s, what);
    if (h) {
      page.runs.push_back(std::move(*h));
    } else {
      page.unreadable.push_back({last_id, h.error().message()});
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return d.failure(what, rc);
  }
  return page;
}

expected<std::vector<RunLogEntry>> SqliteCheckpointStore::run_log(const std::string& workflow_id) {
  auto& d = *impl_;
  const char* what = "run_log";
  std::lock_guard<std::mutex> guard(d.mutex);
  auto* s = d.select_log.get();
  reset_on_exit reset(s);
  int rc = bind_text(s, 1, workflow_id);
  if (rc != SQLITE_OK) {
    return d.failure(what, rc);
  }
  std::vector<RunLogEntry> out;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto row = d.read_row(s, what, workflow_id);
    if (!row) {
      return row.error();
    }
    out.push_back(
      RunLogEntry{std::move(*row), from_unix_ms(sqlite3_column_int64(s, 6)), sqlite3_column_int64(s, 7) != 0});
  }
  if (rc != SQLITE_DONE) {
    return d.failure(what, rc);
  }
  return out;
}

expected<PurgeCounts> SqliteCheckpointStore::purge_runs(std::chrono::system_clock::time_point finished_before) {
  auto& d = *impl_;
  const char* what = "purge_runs";
  const std::string old_runs =
    std::string("SELECT workflow_id FROM cano_runs WHERE status IN ") + final_statuses_sql + " AND updated_at < ?1";
  const std::string steps[] = {
    "DELETE FROM cano_checkpoints WHERE workflow_id IN (" + old_runs + ")",
    "DELETE FROM cano_checkpoint_history WHERE workflow_id IN (" + old_runs + ")",
    std::string("DELETE FROM cano_runs WHERE status IN ") + final_statuses_sql + " AND updated_at < ?1",
    "DELETE FROM cano_checkpoint_history WHERE archived_at < ?1",
  };
  std::lock_guard<std::mutex> guard(d.mutex);
  int rc = d.step_once(d.begin);
  if (rc != SQLITE_DONE) {
    auto e = d.failure("begin purge_runs", rc);
    d.rollback_if_open();
    return e;
  }
  PurgeCounts out;
  for (std::size_t i = 0; i < std::size(steps); ++i) {
    auto st = d.prepare(what, steps[i].c_str());
    if (!st) {
      d.rollback_if_open();
      return st.error();
    }
    rc = sqlite3_bind_int64(st->get(), 1, unix_ms(finished_before));
    if (rc == SQLITE_OK) {
      rc = sqlite3_step(st->get());
    }
    if (rc != SQLITE_DONE) {
      auto e = d.failure(what, rc);
      d.rollback_if_open();
      return e;
    }
    auto n = static_cast<std::uint64_t>(sqlite3_changes(d.db.get()));
    (i == 2 ? out.runs : out.rows) += n;
  }
  rc = d.step_once(d.commit);
  if (rc != SQLITE_DONE) {
    auto e = d.failure("commit purge_runs", rc);
    d.rollback_if_open();
    return e;
  }
  return out;
}

expected<std::uint64_t> SqliteCheckpointStore::purge_history(std::chrono::system_clock::time_point archived_before) {
  auto& d = *impl_;
  const char* what = "purge_history";
  std::lock_guard<std::mutex> guard(d.mutex);
  auto st = d.prepare(what, "DELETE FROM cano_checkpoint_history WHERE archived_at < ?1");
  if (!st) {
    return st.error();
  }
  int rc = sqlite3_bind_int64(st->get(), 1, unix_ms(archived_before));
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st->get());
  }
  if (rc != SQLITE_DONE) {
    return d.failure(what, rc);
  }
  return static_cast<std::uint64_t>(sqlite3_changes(d.db.get()));
}

} // namespace cano
