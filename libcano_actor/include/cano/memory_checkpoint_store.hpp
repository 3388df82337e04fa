// MemoryCheckpointStore — an in-memory CheckpointStore for tests and single-process use,
// with an audit trail of every row ever appended (it survives clear), so applications' own
// tests can check what a run wrote.
//
//   auto store = std::make_shared<cano::MemoryCheckpointStore>();
//   ... run ...
//   auto written = store->audit_rows("order-42");   // every row, in append order
//   auto live = store->rows("order-42");            // what is left (empty after success)
#pragma once

#include <map>
#include <mutex>
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

  options opts_;
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::uint64_t, CheckpointRow>> live_;
  std::vector<std::pair<std::string, CheckpointRow>> audit_;
  std::map<std::string, RunHeader> headers_;
  std::set<std::string> cancel_requested_; // unfinished runs with a cancel request
  std::size_t calls_ = 0;
  std::size_t rows_total_ = 0;
};

} // namespace cano
