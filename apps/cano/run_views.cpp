#include "run_views.hpp"

#include <sstream>

#include "time_text.hpp"

namespace cano_cli {

namespace {

nlohmann::json blob_json(const std::vector<std::uint8_t>& blob) {
  try {
    return cano::from_blob(blob);
  } catch (const std::exception&) {
    static const char* hex = "0123456789abcdef";
    std::string text;
    for (auto b : blob) {
      text.push_back(hex[b >> 4]);
      text.push_back(hex[b & 0xf]);
    }
    return nlohmann::json{{"hex", text}};
  }
}

} // namespace

nlohmann::json header_json(const cano::RunHeader& h) {
  nlohmann::json j{{"workflow_id", h.workflow_id},
                   {"definition", h.definition},
                   {"workflow_version", h.workflow_version},
                   {"status", cano::to_string(h.status)},
                   {"last_state", h.last_state},
                   {"final_state", h.final_state},
                   {"attempts", h.attempts},
                   {"created_at", format_iso(h.created_at)},
                   {"updated_at", format_iso(h.updated_at)},
                   {"input", h.input}};
  j["failure"] = h.failure ? nlohmann::json(*h.failure) : nlohmann::json(nullptr);
  if (h.rollback) {
    auto stack = nlohmann::json::array();
    for (const auto& e : h.rollback->stack) {
      stack.push_back({{"task_id", e.task_id}, {"sequence", e.sequence}, {"output", blob_json(e.output)}});
    }
    j["rollback"] = {{"stack", stack}, {"undone", h.rollback->undone}, {"errors", h.rollback->errors}};
  } else {
    j["rollback"] = nullptr;
  }
  if (!h.owner.empty()) {
    j["owner"] = h.owner;
    j["fence"] = h.fence;
  }
  if (h.cancel_requested_at) {
    j["cancel_requested_at"] = format_iso(*h.cancel_requested_at);
  }
  return j;
}

nlohmann::json log_entry_json(const cano::RunLogEntry& e) {
  nlohmann::json j{{"sequence", e.row.sequence},
                   {"kind", kind_name(e.row.kind)},
                   {"state", e.row.state},
                   {"task_id", e.row.task_id},
                   {"workflow_version", e.row.workflow_version},
                   {"archived", e.archived}};
  j["written_at"] = e.written_at == std::chrono::system_clock::time_point{} ? nlohmann::json(nullptr)
                                                                            : nlohmann::json(format_iso(e.written_at));
  j["blob"] = e.row.output_blob ? blob_json(*e.row.output_blob) : nlohmann::json(nullptr);
  return j;
}

const char* kind_name(cano::RowKind kind) {
  switch (kind) {
    case cano::RowKind::state_entry: return "entry";
    case cano::RowKind::compensation_completion: return "output";
    case cano::RowKind::step_cursor: return "cursor";
  }
  return "entry";
}

std::vector<std::string> blob_lines(const std::vector<std::uint8_t>& blob, std::size_t max_lines) {
  std::string text;
  try {
    text = cano::from_blob(blob).dump(2);
  } catch (const std::exception&) {
    return {"(" + std::to_string(blob.size()) + " bytes, not JSON)"};
  }
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  if (lines.size() > max_lines && max_lines > 1) {
    auto more = lines.size() - (max_lines - 1);
    lines.resize(max_lines - 1);
    lines.push_back("\xE2\x80\xA6 " + std::to_string(more) + " more lines (--json shows all)");
  }
  return lines;
}

std::vector<std::string> error_lines(const cano::error& e) {
  std::vector<std::string> out;
  if (e.code() == cano::errc::compensation_failed) {
    // The first nested error started the rollback; the others are the undos that failed.
    const auto& nested = e.nested();
    auto failed_undos = nested.empty() ? 0 : nested.size() - 1;
    out.push_back(std::string(e.category()) + ": " + std::to_string(failed_undos) +
                  (failed_undos == 1 ? " undo failed" : " undos failed"));
    for (std::size_t k = 0; k < nested.size(); ++k) {
      auto inner = error_lines(nested[k]);
      if (k == 0 && !inner.empty()) {
        inner[0] += " (started the rollback)";
      }
      for (std::size_t i = 0; i < inner.size(); ++i) {
        out.push_back((i == 0 ? "  - " : "    ") + inner[i]);
      }
    }
    return out;
  }
  out.push_back(std::string(e.category()) + ": " + e.message());
  return out;
}

} // namespace cano_cli
