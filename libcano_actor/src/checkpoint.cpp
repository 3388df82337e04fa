#include "cano/checkpoint.hpp"

#include <stdexcept>

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
    case RunStatus::compensating: return "compensating";
  }
  return "running";
}

std::optional<RunStatus> run_status_from_string(const std::string& text) noexcept {
  for (auto s : {RunStatus::running, RunStatus::completed, RunStatus::failed, RunStatus::rolled_back,
                 RunStatus::interrupted, RunStatus::compensating}) {
    if (text == to_string(s)) {
      return s;
    }
  }
  return std::nullopt;
}

bool is_unfinished(RunStatus s) noexcept {
  return s == RunStatus::running || s == RunStatus::interrupted || s == RunStatus::compensating;
}

RowKind row_kind_from_code(std::int64_t code) noexcept {
  switch (code) {
    case 1: return RowKind::compensation_completion;
    case 2: return RowKind::step_cursor;
    default: return RowKind::state_entry;
  }
}

namespace {

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

std::vector<std::uint8_t> from_hex(const std::string& text) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    throw std::invalid_argument(std::string("not a hex digit: ") + c);
  };
  if (text.size() % 2 != 0) {
    throw std::invalid_argument("hex text of odd length");
  }
  std::vector<std::uint8_t> out(text.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(nibble(text[2 * i]) * 16 + nibble(text[2 * i + 1]));
  }
  return out;
}

errc errc_from_string(const std::string& text) {
  for (int c = 0; c <= static_cast<int>(last_errc); ++c) {
    auto code = static_cast<errc>(c);
    if (text == to_string(code)) {
      return code;
    }
  }
  throw std::invalid_argument("unknown error category " + detail::debug_quote(text));
}

void error_to_json(nlohmann::json& j, const error& e) {
  j = nlohmann::json{{"category", e.category()}};
  if (e.code() == errc::compensation_failed) {
    j["nested"] = e.nested();
  } else if (e.code() == errc::workflow_version_mismatch) {
    j["stored"] = e.stored_version();
    j["expected"] = e.expected_version();
  } else {
    j["message"] = e.message(); // for the new categories a text for people: their fields follow
  }
  if (e.code() == errc::workflow_timeout) {
    j["elapsed_ns"] = e.elapsed().count();
    j["limit_ns"] = e.limit().count();
  } else if (e.code() == errc::orphaned_compensation) {
    j["task_id"] = e.task_id();
    j["output_blob"] = to_hex(e.output_blob());
  }
  if (e.is_permanent()) {
    j["permanent"] = true;
  }
  if (e.is_store_unavailable()) {
    j["store_unavailable"] = true;
  }
}

error error_from_json(const nlohmann::json& j) {
  error e{errc::generic, {}};
  auto code = errc_from_string(j.at("category").get<std::string>());
  if (code == errc::compensation_failed) {
    e = error::compensation_failed(j.at("nested").get<std::vector<error>>());
  } else if (code == errc::workflow_version_mismatch) {
    e = error::workflow_version_mismatch(j.at("stored").get<std::uint32_t>(),
                                         j.at("expected").get<std::uint32_t>());
  } else if (code == errc::cancelled) {
    e = error::cancelled();
  } else if (code == errc::workflow_timeout) {
    e = error::workflow_timeout(std::chrono::nanoseconds(j.at("elapsed_ns").get<std::int64_t>()),
                                std::chrono::nanoseconds(j.at("limit_ns").get<std::int64_t>()));
  } else if (code == errc::orphaned_compensation) {
    e = error::orphaned_compensation(j.at("task_id").get<std::string>(), from_hex(j.at("output_blob").get<std::string>()));
  } else {
    e = error(code, j.at("message").get<std::string>());
  }
  if (j.value("permanent", false)) {
    e.mark_permanent();
  }
  if (j.value("store_unavailable", false)) {
    e = std::move(e).store_unavailable();
  }
  return e;
}

} // namespace

void to_json(nlohmann::json& j, const RollbackRecord& r) {
  auto stack = nlohmann::json::array();
  for (const auto& entry : r.stack) {
    stack.push_back({{"task_id", entry.task_id}, {"output", to_hex(entry.output)}, {"sequence", entry.sequence}});
  }
  j = nlohmann::json{{"stack", std::move(stack)}, {"undone", r.undone}, {"errors", r.errors}};
}

void from_json(const nlohmann::json& j, RollbackRecord& r) {
  r.stack.clear();
  for (const auto& entry : j.at("stack")) {
    r.stack.push_back({entry.at("task_id").get<std::string>(), from_hex(entry.at("output").get<std::string>()),
                       entry.at("sequence").get<std::uint64_t>()});
  }
  r.undone = j.at("undone").get<std::size_t>();
  if (r.undone > r.stack.size()) {
    throw std::invalid_argument("rollback record: undone " + std::to_string(r.undone) + " exceeds its stack of " +
                                std::to_string(r.stack.size()));
  }
  r.errors = j.at("errors").get<std::vector<error>>();
}

std::string checkpoint_conflict_message(const std::string& workflow_id, std::uint64_t sequence) {
  return "checkpoint conflict: workflow " + detail::debug_quote(workflow_id) +
         " already has a row at sequence " + std::to_string(sequence) +
         "; resume the existing run or clear it first";
}

std::string run_conflict_message(const std::string& workflow_id, RunStatus status) {
  return "checkpoint conflict: workflow " + detail::debug_quote(workflow_id) + " is an unfinished run (status " +
         to_string(status) + "); resume the existing run or wait for it to finish";
}

error fenced_error(const std::string& workflow_id, const std::string& detail) {
  return error::fenced("run " + detail::debug_quote(workflow_id) + " was taken over by another driver (" + detail +
                       "); this driver stopped writing it");
}

expected<void> apply_write(CheckpointStore& store, const CheckpointWrite& w) {
  if (w.create) {
    // D9: a start may not take the id of a run that is unfinished or still has rows.
    auto header = store.run_header(w.workflow_id);
    if (!header) {
      return header.error_value();
    }
    if (*header && is_unfinished((*header)->status)) {
      return error::checkpoint_store(run_conflict_message(w.workflow_id, (*header)->status));
    }
    if (!w.row) { // a row at sequence 0 conflicts by itself when rows exist
      auto rows = store.load_run(w.workflow_id);
      if (!rows) {
        return rows.error_value();
      }
      if (!rows->empty()) {
        return error::checkpoint_store(checkpoint_conflict_message(w.workflow_id, rows->front().sequence));
      }
    }
  }
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

expected<RunListing> CheckpointStore::list_unfinished() {
  auto runs = unfinished_runs();
  if (!runs) {
    return runs.error_value();
  }
  return RunListing{std::move(*runs), {}};
}

expected<void> CheckpointStore::claim_run(const std::string&) { return {}; }

expected<void> CheckpointStore::request_cancel(const std::string&) {
  return error::configuration("this checkpoint store does not support cancel requests");
}

expected<std::vector<std::string>> CheckpointStore::cancel_requests() { return std::vector<std::string>{}; }

error no_run_to_cancel(const std::string& workflow_id) {
  return error::workflow("no run with workflow id " + detail::debug_quote(workflow_id));
}

error run_already_ended(const std::string& workflow_id, RunStatus status) {
  return error::workflow("run " + detail::debug_quote(workflow_id) + " already ended (status " + to_string(status) +
                         "); there is nothing to cancel");
}

} // namespace cano

namespace nlohmann {
void adl_serializer<cano::error>::to_json(json& j, const cano::error& e) { cano::error_to_json(j, e); }
cano::error adl_serializer<cano::error>::from_json(const json& j) { return cano::error_from_json(j); }
} // namespace nlohmann
