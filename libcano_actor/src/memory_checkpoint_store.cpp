#include "cano/memory_checkpoint_store.hpp"

namespace cano {

expected<void> MemoryCheckpointStore::append(const std::string& workflow_id,
                                             const CheckpointRow& row) {
  std::lock_guard<std::mutex> guard(mutex_);
  ++calls_;
  return append_locked(workflow_id, row);
}

std::vector<expected<void>> MemoryCheckpointStore::append_batch(const std::vector<CheckpointWrite>& writes) {
  std::vector<expected<void>> out;
  out.reserve(writes.size());
  for (const auto& w : writes) {
    out.push_back(apply(w));
  }
  return out;
}

expected<void> MemoryCheckpointStore::apply(const CheckpointWrite& w) {
  if (w.create) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto h = headers_.find(w.workflow_id);
    if (h != headers_.end() && is_unfinished(h->second.status)) {
      return error::checkpoint_store(run_conflict_message(w.workflow_id, h->second.status));
    }
    auto rows = live_.find(w.workflow_id);
    if (rows != live_.end() && !rows->second.empty()) {
      return error::checkpoint_store(checkpoint_conflict_message(w.workflow_id, rows->second.begin()->first));
    }
  }
  if (w.row) {
    // Through the virtual append, so a subclass sees every row (and two racing starts of one
    // id are told apart by the row at sequence 0, which only one of them can append).
    if (auto r = append(w.workflow_id, *w.row); !r) {
      return r; // nothing else of the write applies
    }
  }
  std::lock_guard<std::mutex> guard(mutex_);
  if (w.clear_run) {
    live_.erase(w.workflow_id);
  }
  if (w.header) {
    put_header_locked(*w.header, w.create);
  }
  return {};
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
  put_header_locked(header, false);
  return {};
}

void MemoryCheckpointStore::put_header_locked(const RunHeader& header, bool replace) {
  if (replace || !is_unfinished(header.status)) {
    cancel_requested_.erase(header.workflow_id); // nothing left to cancel, or a new run of the id
  } else if (header.cancel_requested_at) {
    cancel_requested_.insert(header.workflow_id);
  }
  bool finished = header.status == RunStatus::completed || header.status == RunStatus::rolled_back;
  if (finished && !opts_.keep_finished_headers) {
    headers_.erase(header.workflow_id);
    return;
  }
  auto& slot = headers_[header.workflow_id];
  auto created = slot.created_at;
  auto cancel_requested = slot.cancel_requested_at;
  slot = header;
  if (!replace && created != std::chrono::system_clock::time_point{}) {
    slot.created_at = created; // a header keeps the time its run was first recorded
  }
  if (!replace && !slot.cancel_requested_at) {
    slot.cancel_requested_at = cancel_requested; // and a cancel request, until a new run of the id
  }
}

expected<void> MemoryCheckpointStore::request_cancel(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = headers_.find(workflow_id);
  if (it == headers_.end()) {
    return no_run_to_cancel(workflow_id);
  }
  if (!is_unfinished(it->second.status)) {
    return run_already_ended(workflow_id, it->second.status);
  }
  if (!it->second.cancel_requested_at) {
    it->second.cancel_requested_at = std::chrono::system_clock::now();
  }
  cancel_requested_.insert(workflow_id);
  return {};
}

expected<std::vector<std::string>> MemoryCheckpointStore::cancel_requests() {
  std::lock_guard<std::mutex> guard(mutex_);
  return std::vector<std::string>(cancel_requested_.begin(), cancel_requested_.end());
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
    if (is_unfinished(kv.second.status)) {
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
