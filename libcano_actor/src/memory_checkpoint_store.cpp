#include "cano/memory_checkpoint_store.hpp"

#include <algorithm>

#include "cano/detail/run_records.hpp"

namespace cano {

expected<void> MemoryCheckpointStore::append(const std::string& workflow_id, const CheckpointRow& row) {
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
    bool completed = w.header && w.header->status == RunStatus::completed;
    // A write that starts a run names the run its rows belong to; otherwise the header does.
    clear_locked(w.workflow_id, completed,
                 w.create && w.header ? std::optional<std::chrono::system_clock::time_point>(w.header->created_at)
                                      : std::nullopt);
  }
  if (w.header) {
    put_header_locked(*w.header, w.create);
  }
  if (history_purge_due()) {
    purge_history_locked(std::chrono::system_clock::now() - *history_retention());
  }
  return {};
}

void MemoryCheckpointStore::clear_locked(const std::string& workflow_id, bool completed,
                                         std::optional<std::chrono::system_clock::time_point> run_at) {
  auto it = live_.find(workflow_id);
  if (it == live_.end()) {
    return;
  }
  if (!completed) {
    for (auto r = it->second.rbegin(); r != it->second.rend(); ++r) {
      if (r->second.kind == RowKind::state_entry) {
        noted_last_state_[workflow_id] = r->second.state;
        break;
      }
    }
  }
  if (history_retention()) {
    if (!run_at) {
      auto h = headers_.find(workflow_id);
      run_at = h == headers_.end() ? std::chrono::system_clock::time_point{} : h->second.created_at;
    }
    auto now = std::chrono::system_clock::now();
    auto& archive = history_[workflow_id];
    for (auto& kv : it->second) {
      archive.push_back({std::move(kv.second), *run_at, now});
    }
  }
  live_.erase(it);
}

expected<void> MemoryCheckpointStore::append_locked(const std::string& workflow_id, const CheckpointRow& row) {
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
  clear_locked(workflow_id, false, std::nullopt);
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
    noted_last_state_.erase(header.workflow_id);
    return;
  }
  if (replace) {
    noted_last_state_.erase(header.workflow_id); // it was the previous run's
  }
  auto& slot = headers_[header.workflow_id];
  auto created = slot.created_at;
  auto cancel_requested = slot.cancel_requested_at;
  slot = header;
  slot.last_state.clear(); // the store's to say (filled_locked)
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

RunHeader MemoryCheckpointStore::filled_locked(RunHeader h) const {
  std::string live;
  if (auto rows = live_.find(h.workflow_id); rows != live_.end()) {
    for (auto r = rows->second.rbegin(); r != rows->second.rend(); ++r) {
      if (r->second.kind == RowKind::state_entry) {
        live = r->second.state;
        break;
      }
    }
  }
  auto noted = noted_last_state_.find(h.workflow_id);
  h.last_state = detail::last_state_of(h, live, noted == noted_last_state_.end() ? std::string() : noted->second);
  return h;
}

expected<RunPage> MemoryCheckpointStore::list_runs(const RunQuery& query) {
  std::vector<RunHeader> all;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    all.reserve(headers_.size());
    for (const auto& kv : headers_) {
      all.push_back(filled_locked(kv.second));
    }
  }
  return detail::page_of_runs(std::move(all), {}, query);
}

expected<std::vector<RunLogEntry>> MemoryCheckpointStore::run_log(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<RunLogEntry> out;
  auto h = headers_.find(workflow_id);
  auto archive = history_.find(workflow_id);
  if (h != headers_.end() && archive != history_.end()) {
    for (const auto& a : archive->second) {
      if (a.run_created_at == h->second.created_at) {
        out.push_back(RunLogEntry{a.row, {}, true});
      }
    }
  }
  if (auto rows = live_.find(workflow_id); rows != live_.end()) {
    for (const auto& kv : rows->second) {
      out.push_back(RunLogEntry{kv.second, {}, false});
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const RunLogEntry& a, const RunLogEntry& b) { return a.row.sequence < b.row.sequence; });
  return out;
}

std::uint64_t MemoryCheckpointStore::purge_history_locked(std::chrono::system_clock::time_point archived_before) {
  std::uint64_t n = 0;
  for (auto it = history_.begin(); it != history_.end();) {
    auto& rows = it->second;
    auto old_end = rows.end();
    auto kept =
      std::remove_if(rows.begin(), rows.end(), [&](const archived_row& a) { return a.archived_at < archived_before; });
    n += static_cast<std::uint64_t>(old_end - kept);
    rows.erase(kept, old_end);
    it = rows.empty() ? history_.erase(it) : std::next(it);
  }
  return n;
}

expected<std::uint64_t> MemoryCheckpointStore::purge_history(std::chrono::system_clock::time_point archived_before) {
  std::lock_guard<std::mutex> guard(mutex_);
  return purge_history_locked(archived_before);
}

expected<PurgeCounts> MemoryCheckpointStore::purge_runs(std::chrono::system_clock::time_point finished_before) {
  std::lock_guard<std::mutex> guard(mutex_);
  PurgeCounts out;
  for (auto it = headers_.begin(); it != headers_.end();) {
    const auto& h = it->second;
    if (is_unfinished(h.status) || h.updated_at >= finished_before) {
      ++it;
      continue;
    }
    const auto& id = it->first;
    if (auto rows = live_.find(id); rows != live_.end()) {
      out.rows += rows->second.size();
      live_.erase(rows);
    }
    if (auto archive = history_.find(id); archive != history_.end()) {
      out.rows += archive->second.size();
      history_.erase(archive);
    }
    noted_last_state_.erase(id);
    ++out.runs;
    it = headers_.erase(it);
  }
  out.rows += purge_history_locked(finished_before);
  return out;
}

expected<std::optional<RunHeader>> MemoryCheckpointStore::run_header(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = headers_.find(workflow_id);
  if (it == headers_.end()) {
    return std::optional<RunHeader>{};
  }
  return std::optional<RunHeader>{filled_locked(it->second)};
}

expected<std::vector<RunHeader>> MemoryCheckpointStore::unfinished_runs() {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<RunHeader> out;
  for (const auto& kv : headers_) {
    if (is_unfinished(kv.second.status)) {
      out.push_back(filled_locked(kv.second));
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
