// MemoryCheckpointStore — an in-memory CheckpointStore for tests and single-process use,
// with an audit trail of every row ever appended (it survives clear), so applications' own
// tests can check what a run wrote.
//
//   auto store = std::make_shared<cano::MemoryCheckpointStore>();
//   ... run ...
//   auto written = store->audit_rows("order-42");   // every row, in append order
//   auto live = store->rows("order-42");            // what is left (empty after success)
//
// It lists runs (list_runs) and keeps history (with_history_retention) like the durable stores;
// it does not record when rows were written (run_log leaves written_at at the epoch).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cano/checkpoint.hpp"

namespace cano {

class MemoryCheckpointStore : public CheckpointStore {
public:
  struct options {
    bool audit = true;                 // keep every appended row (audit_rows)
    bool keep_finished_headers = true; // keep headers of completed / rolled back runs
  };
  MemoryCheckpointStore() = default;
  explicit MemoryCheckpointStore(options opts) : opts_(opts) {}

  /// Never blocks: the engine appends from the run's own actor, without a checkpoint actor.
  bool is_blocking() const override { return false; }

  expected<void> append(const std::string& workflow_id, const CheckpointRow& row) override;
  expected<std::vector<CheckpointRow>> load_run(const std::string& workflow_id) override;
  expected<void> clear(const std::string& workflow_id) override;
  expected<void> put_run_header(const RunHeader& header) override;
  expected<std::optional<RunHeader>> run_header(const std::string& workflow_id) override;
  expected<std::vector<RunHeader>> unfinished_runs() override;
  std::vector<expected<void>> append_batch(const std::vector<CheckpointWrite>& writes) override;
  /// Records a cancel request in the run's header (see CheckpointStore::request_cancel).
  expected<void> request_cancel(const std::string& workflow_id) override;
  /// Unfinished runs with a cancel request.
  expected<std::vector<std::string>> cancel_requests() override;
  expected<RunPage> list_runs(const RunQuery& query) override;
  expected<std::vector<RunLogEntry>> run_log(const std::string& workflow_id) override;
  expected<PurgeCounts> purge_runs(std::chrono::system_clock::time_point finished_before) override;
  expected<std::uint64_t> purge_history(std::chrono::system_clock::time_point archived_before) override;
  bool keeps_history() const override { return true; }

  /// Live rows of a run, ascending by sequence.
  std::vector<CheckpointRow> rows(const std::string& workflow_id) const;
  /// Every row ever appended for a run, in append order (survives clear).
  std::vector<CheckpointRow> audit_rows(const std::string& workflow_id) const;
  /// (sequence, state) of audit_rows.
  std::vector<std::pair<std::uint64_t, std::string>> audit_states(const std::string& workflow_id) const;
  /// How many rows were ever appended (all runs).
  std::size_t rows_appended() const;
  /// How many appends were made (each row of a batch counts as one).
  std::size_t store_calls() const;

private:
  expected<void> append_locked(const std::string& workflow_id, const CheckpointRow& row);
  expected<void> apply(const CheckpointWrite& w);
  void put_header_locked(const RunHeader& header, bool replace); // replace: a new run of the id
  /// Clears a run's live rows: notes its last state (unless `completed`, whose exit state says
  /// it) and, with history retention, moves them to the history of its run (created `run_at`).
  void clear_locked(const std::string& workflow_id, bool completed,
                    std::optional<std::chrono::system_clock::time_point> run_at);
  RunHeader filled_locked(RunHeader h) const; // with last_state
  std::uint64_t purge_history_locked(std::chrono::system_clock::time_point archived_before);

  struct archived_row {
    CheckpointRow row;
    std::chrono::system_clock::time_point run_created_at; // which run of the id it belongs to
    std::chrono::system_clock::time_point archived_at;
  };

  options opts_;
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::uint64_t, CheckpointRow>> live_;
  std::vector<std::pair<std::string, CheckpointRow>> audit_;
  std::map<std::string, RunHeader> headers_;
  std::map<std::string, std::string> noted_last_state_; // when a run's log was cleared
  std::map<std::string, std::vector<archived_row>> history_;
  std::set<std::string> cancel_requested_; // unfinished runs with a cancel request
  std::size_t calls_ = 0;
  std::size_t rows_total_ = 0;
};

} // namespace cano
