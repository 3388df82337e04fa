// PostgresCheckpointStore — the cluster-wide checkpoint log (ARCHITECTURE D6).
//
//   auto store = cano::PostgresCheckpointStore::open({/*dsn*/ ""});  // "" → $CANO_PG_DSN
//   if (!store) { std::cerr << store.error() << "\n"; return 1; }
//   auto wf = workflow.with_checkpoint_store(*store);
//
// Rows go to `cano_checkpoints` (cano-e2e's columns plus created_at and append_token), run
// headers to `cano_runs`; versioned migrations create both (once, even when many processes start
// together). The engine's checkpoint actor hands it batches: each becomes one transaction with a
// multi-row INSERT … ON CONFLICT DO NOTHING RETURNING, so a conflicting row fails only its run.
// A dropped connection or a restarting server is retried with backoff up to `retry_deadline`;
// an in-doubt commit is resolved by reading the batch's commit mark and row tokens back. Past
// the deadline writes fail as "store unavailable": the engine interrupts those runs (no
// rollback) and resume_all picks them up later. Passwords never appear in errors.
//
// Ownership (ARCHITECTURE D8): each store instance is one owner identity. A run's header records
// its owner and a fencing token; starting a run makes this store its owner, `claim_run` (called
// before every resume) takes a run over with fence + 1, and every batch checks owner and fence of
// the runs it writes in the same transaction, holding their header rows FOR SHARE, so a claim
// waits for a batch in flight and a previous owner's later writes are refused (category fenced).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "cano/checkpoint.hpp"

namespace cano {

/// `text` with the password of the libpq connection string `dsn` replaced by `***`, in every
/// spelling a DSN or libpq's messages may give it: key/value (`password=p`, `password='p \'q'`
/// quoted with escapes) or URI (`postgres://u:p@h/db`, `?password=p`, percent-encoded). For
/// printing a DSN, or a message about one; option names and other values are left as they are.
std::string mask_dsn_password(const std::string& dsn, std::string text);

struct PostgresOptions {
  /// libpq connection string, key/value or URI; empty means $CANO_PG_DSN. Every connection the
  /// stores and the cluster open gets libpq's `connect_timeout=10` (seconds) unless this DSN or
  /// $PGCONNECT_TIMEOUT sets one, so a server that accepts TCP and never answers fails the
  /// connection instead of hanging it.
  std::string dsn;
  /// How long a batch is retried while the server is unreachable.
  std::chrono::milliseconds retry_deadline{30000};
  std::chrono::milliseconds initial_backoff{20};
  std::chrono::milliseconds max_backoff{1000};
  /// This store's identity as a run owner (D8), e.g. "node-3#7"; empty: a random one.
  std::string owner{};
  /// Open for reading only (tools that list and show runs): no migration, no owner row, and the
  /// session's transactions are read-only, so a role with SELECT rights alone can read. The
  /// schema must be there: a database without one fails with "no cano schema in this database
  /// (nothing has run here)", one too old to read (before migration 4) names the migration it
  /// lacks; a newer or slightly older one is read as it is. Writes
  /// fail with the server's read-only error.
  bool read_only = false;
  /// Connections that commit checkpoint batches at once, 1 to 8 (else open() fails with a
  /// configuration error): while one batch commits, the next fills and commits on another
  /// connection. The runtime gives each its own checkpoint actor and sends every write of one run
  /// to the same one, so a run's rows still commit in order (batch_lanes()).
  std::size_t batch_connections = 2;
};

class PostgresCheckpointStore : public CheckpointStore {
public:
  /// Connects and applies migrations (with `read_only`: checks the schema instead); errors name
  /// the problem, never the password.
  static expected<std::shared_ptr<PostgresCheckpointStore>> open(PostgresOptions options = {});
  ~PostgresCheckpointStore() override;

  bool is_blocking() const override { return true; }
  /// PostgresOptions::batch_connections.
  std::size_t batch_lanes() const override;
  expected<void> append(const std::string& workflow_id, const CheckpointRow& row) override;
  expected<std::vector<CheckpointRow>> load_run(const std::string& workflow_id) override;
  expected<void> clear(const std::string& workflow_id) override;
  std::vector<expected<void>> append_batch(const std::vector<CheckpointWrite>& writes) override;
  /// Refuses (configuration error) an input holding the character U+0000 in a string or a key:
  /// PostgreSQL's jsonb, where run inputs are kept, cannot store it.
  expected<void> check_input(const nlohmann::json& input) const override;
  expected<void> put_run_header(const RunHeader& header) override;
  expected<std::optional<RunHeader>> run_header(const std::string& workflow_id) override;
  expected<std::vector<RunHeader>> unfinished_runs() override;
  expected<RunListing> list_unfinished() override;
  /// Makes this store the run's owner and increments its fence (waits for batches in flight).
  /// A run without a header has no owner to take over: nothing to do.
  expected<void> claim_run(const std::string& workflow_id) override;
  /// Drives a run owned by this store (placed on its node) with the fence it has; fenced when
  /// the run's owner is another one (it was placed elsewhere since).
  expected<void> adopt_run(const std::string& workflow_id) override;

  /// Every run, newest first (an index on created_at, workflow_id), with headers it cannot
  /// read reported by id in their place; cursors carry whole microseconds.
  expected<RunPage> list_runs(const RunQuery& query) override;
  /// Live rows and the history of the run's current header, with the times they were written.
  expected<std::vector<RunLogEntry>> run_log(const std::string& workflow_id) override;
  /// One transaction; compares with the headers' updated_at (the clock of their writer).
  expected<PurgeCounts> purge_runs(std::chrono::system_clock::time_point finished_before) override;
  expected<std::uint64_t> purge_history(std::chrono::system_clock::time_point archived_before) override;
  /// History lives in the table cano_checkpoint_history; a cleared log moves there in the
  /// statement that deletes it.
  bool keeps_history() const override { return true; }
  /// A durable cancel request (CheckpointStore::request_cancel): one UPDATE of the run's header,
  /// from any process, with no owner or fence check (a request, not a write into the run).
  expected<void> request_cancel(const std::string& workflow_id) override;
  /// Unfinished runs this store owns that have a cancel request: one indexed query, one attempt
  /// (a connection failure fails it as unavailable; the engine asks again next interval).
  expected<std::vector<std::string>> cancel_requests() override;

  /// This store's owner identity.
  std::string owner() const;
  /// Becomes another owner identity (a cluster node rejoining under a new incarnation): the runs
  /// held under the old one are no longer this store's, and their next writes are fenced.
  expected<void> set_owner(std::string owner);

  /// Batches (or calls) that had to be retried after a connection failure.
  std::uint64_t retries() const noexcept { return retries_.load(); }
  /// The schema version after migrations.
  int schema_version() const noexcept { return schema_version_; }

  struct impl;
  explicit PostgresCheckpointStore(std::unique_ptr<impl> p);

private:
  std::unique_ptr<impl> impl_;
  std::atomic<std::uint64_t> retries_{0};
  int schema_version_ = 0;
};

} // namespace cano
