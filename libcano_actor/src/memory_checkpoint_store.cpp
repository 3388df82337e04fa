#include "cano/memory_checkpoint_store.hpp"

namespace cano {

expected<void> MemoryCheckpointStore::append(const std::string& workflow_id,
                                             const CheckpointRow& row) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++calls_;
  return append_locked(workflow_id, row);
}

std::vector<expected<void>> MemoryCheckpointStore::append_batch(const std::vector<CheckpointWrite>& writes) {
  // One call: every row of the batch counts as one commit (for rows_per_commit figures).
  std::vector<expected<void>> out;
  out.reserve(writes.size());
  bool counted = false;
  for (const auto& w : writes) {
    if (w.row) {
      std::lock_guard<std::mutex> guard(mutex_);
      if (!counted) {
        ++calls_;
        counted = true;
      }
      auto r = append_locked(w.workflow_id, *w.row);
      if (!r) {
        out.push_back(std::move(r));
        continue;
      }
    }
    CheckpointWrite rest = w;
    rest.row.reset();
    out.push_back(apply_write(*this, rest));
  }
  return out;
}

expected<void> MemoryCheckpointStore::append_locked(const std::string& workflow_id,
                                                    const CheckpointRow& row) {
  auto& rows = live_[workflow_id];
  if (rows.count(row.sequence) != 0) {
    return error::checkpoint_store(checkpoint_conflict_message(workflow_id, row.sequence));
  }
  rows.emplace(row.sequence, row);
  ++rows_total_;
  if (opts_.audit) {
    audit_.emplace_back(workflow_id, row);
  }
  return {};
}

expected<std::vector<CheckpointRow>> MemoryCheckpointStore::load_run(const std::string& workflow_id) {
  return rows(workflow_id);
}

expected<void> MemoryCheckpointStore::clear(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  live_.erase(workflow_id);
  return {};
}

expected<void> MemoryCheckpointStore::put_run_header(const RunHeader& header) {
  std::lock_guard<std::mutex> guard(mutex_);
  bool finished = header.status == RunStatus::completed || header.status == RunStatus::rolled_back;
  if (finished && !opts_.keep_finished_headers) {
    headers_.erase(header.workflow_id);
    return {};
  }
  auto& slot = headers_[header.workflow_id];
  auto created = slot.created_at;
  slot = header;
  if (created != std::chrono::system_clock::time_point{}) {
    slot.created_at = created; // a header keeps the time its run was first recorded
  }
  return {};
}

expected<std::optional<RunHeader>> MemoryCheckpointStore::run_header(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = headers_.find(workflow_id);
  if (it == headers_.end()) {
    return std::optional<RunHeader>{};
  }
  return std::optional<RunHeader>{it->second};
}

expected<std::vector<RunHeader>> MemoryCheckpointStore::unfinished_runs() {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<RunHeader> out;
  for (const auto& kv : headers_) {
    if (kv.second.status == RunStatus::running || kv.second.status == RunStatus::interrupted) {
      out.push_back(kv.second);
    }
  }
  return out;
}

std::vector<CheckpointRow> MemoryCheckpointStore::rows(const std::string& workflow_id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<CheckpointRow> out;
  auto it = live_.find(workflow_id);
  if (it != live_.end()) {
    for (const auto& kv : it->second) {
      out.push_back(kv.second);
    }
  }
  return out;
}

std::vector<CheckpointRow> MemoryCheckpointStore::audit_rows(const std::string& workflow_id) const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<CheckpointRow> out;
  for (const auto& [id, row] : audit_) {
    if (id == workflow_id) {
      out.push_back(row);
    }
  }
  return out;
}

std::vector<std::pair<std::uint64_t, std::string>>
MemoryCheckpointStore::audit_states(const std::string& workflow_id) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const auto& r : audit_rows(workflow_id)) {
    out.emplace_back(r.sequence, r.state);
  }
  return out;
}

std::size_t MemoryCheckpointStore::rows_appended() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return rows_total_;
}

std::size_t MemoryCheckpointStore::store_calls() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return calls_;
}

} // namespace cano
