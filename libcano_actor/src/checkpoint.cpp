#include "cano/checkpoint.hpp"

#include "format.hpp"

namespace cano {

CheckpointRow CheckpointRow::with_output(std::vector<std::uint8_t> blob) const {
  CheckpointRow r = *this;
  r.output_blob = std::move(blob);
  r.kind = RowKind::compensation_completion;
  return r;
}

CheckpointRow CheckpointRow::with_cursor(std::vector<std::uint8_t> blob) const {
  CheckpointRow r = *this;
  r.output_blob = std::move(blob);
  r.kind = RowKind::step_cursor;
  return r;
}

CheckpointRow CheckpointRow::with_workflow_version(std::uint32_t v) const {
  CheckpointRow r = *this;
  r.workflow_version = v;
  return r;
}

std::vector<std::uint8_t> to_blob(const nlohmann::json& value) {
  auto text = value.dump();
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

nlohmann::json from_blob(const std::vector<std::uint8_t>& blob) {
  return nlohmann::json::parse(blob.begin(), blob.end());
}

const char* to_string(RunStatus s) noexcept {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::completed: return "completed";
    case RunStatus::failed: return "failed";
    case RunStatus::rolled_back: return "rolled_back";
    case RunStatus::interrupted: return "interrupted";
  }
  return "running";
}

std::string checkpoint_conflict_message(const std::string& workflow_id, std::uint64_t sequence) {
  return "checkpoint conflict: workflow " + detail::debug_quote(workflow_id) +
         " already has a row at sequence " + std::to_string(sequence) +
         "; resume the existing run or clear it first";
}

expected<void> apply_write(CheckpointStore& store, const CheckpointWrite& w) {
  if (w.row) {
    auto r = store.append(w.workflow_id, *w.row);
    if (!r) {
      return r; // the rest of the write applies only when its row landed
    }
  }
  if (w.clear_run) {
    auto r = store.clear(w.workflow_id);
    if (!r) {
      return r;
    }
  }
  if (w.header) {
    return store.put_run_header(*w.header);
  }
  return {};
}

std::vector<expected<void>> CheckpointStore::append_batch(const std::vector<CheckpointWrite>& writes) {
  std::vector<expected<void>> out;
  out.reserve(writes.size());
  for (const auto& w : writes) {
    out.push_back(apply_write(*this, w));
  }
  return out;
}

} // namespace cano
