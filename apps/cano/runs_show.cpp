// `cano runs show ID`: a run's header, its failure and rollback, then its log (live rows, or
// the history a store with retention kept) as a table fitted to the terminal.
#include <ostream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "run_views.hpp"
#include "text_table.hpp"
#include "time_text.hpp"

namespace cano_cli {

namespace {

constexpr std::size_t label_width = 12;
constexpr std::size_t max_blob_lines = 12;

/// "Label       value" lines; continuation lines indented under the value; cut to `width`.
void field(std::ostream& out, std::size_t width, const std::string& label, const std::vector<std::string>& lines) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string head = i == 0 ? label : "";
    head.resize(label_width, ' ');
    auto room = width > label_width ? width - label_width : 1;
    out << head << cut_to(printable(lines[i]), room) << "\n";
  }
}

std::string rollback_text(const cano::RollbackRecord& r) {
  std::string out = std::to_string(r.undone) + " of " + std::to_string(r.stack.size()) + " steps undone";
  std::string undone;
  // Undone from the top of the stack (the back) down.
  for (std::size_t k = 0; k < r.undone && k < r.stack.size(); ++k) {
    const auto& e = r.stack[r.stack.size() - 1 - k];
    undone += (undone.empty() ? "" : ", ") + e.task_id + " (row " + std::to_string(e.sequence) + ")";
  }
  if (!undone.empty()) {
    out += ": " + undone;
  }
  if (!r.finished()) {
    out += "; next: " + r.stack[r.stack.size() - 1 - r.undone].task_id;
  }
  return out;
}

std::string history_title(const std::vector<cano::RunLogEntry>& log) {
  std::size_t archived = 0;
  for (const auto& e : log) {
    archived += e.archived ? 1 : 0;
  }
  auto rows = std::to_string(log.size()) + (log.size() == 1 ? " row" : " rows");
  if (archived == 0) {
    return "History: " + rows + " (live log)";
  }
  if (archived == log.size()) {
    return "History: " + rows + " (moved to the store's history when the run finished)";
  }
  return "History: " + rows + " (" + std::to_string(log.size() - archived) + " live, " + std::to_string(archived) +
         " from the store's history)";
}

} // namespace

int runs_show(const context& ctx, const std::string& id) {
  auto store = open_store(ctx.store, store_access::read);
  if (!store) {
    ctx.err << "cano: " << store.error().message() << "\n";
    return exit_failed;
  }
  auto header = (*store)->run_header(id);
  if (!header) {
    ctx.err << "cano: " << scrub(header.error().message(), ctx.store) << "\n";
    return exit_failed;
  }
  auto log = (*store)->run_log(id);
  if (!log) {
    ctx.err << "cano: " << scrub(log.error().message(), ctx.store) << "\n";
    return exit_failed;
  }
  if (!*header && log->empty()) {
    ctx.err << "cano: no run with workflow id \"" << printable(id) << "\" in " << ctx.store.shown << "\n";
    return exit_not_found;
  }
  if (ctx.json) {
    auto j = *header ? header_json(**header) : nlohmann::json{{"workflow_id", id}, {"header", nullptr}};
    auto rows = nlohmann::json::array();
    for (const auto& e : *log) {
      rows.push_back(log_entry_json(e));
    }
    j["history"] = std::move(rows);
    ctx.out << j.dump() << "\n";
    return exit_ok;
  }
  auto width = output_width(ctx.width);
  auto& out = ctx.out;
  if (!*header) {
    field(out, width, "Run", {id});
    field(out, width, "Header", {"none (rows without a header: written by hand or by an older version)"});
  } else {
    const auto& h = **header;
    field(out, width, "Run", {h.workflow_id});
    field(out, width, "Definition", {h.definition + " (version " + std::to_string(h.workflow_version) + ")"});
    field(out, width, "Status", {cano::to_string(h.status)});
    field(out, width, "Last state", {h.last_state.empty() ? "-" : h.last_state});
    if (h.status == cano::RunStatus::completed) {
      field(out, width, "Final state", {h.final_state});
    }
    field(out, width, "Attempts", {std::to_string(h.attempts)});
    field(out, width, "Started", {format_millis(h.created_at)});
    field(out, width, "Updated", {format_millis(h.updated_at)});
    if (!h.owner.empty()) {
      field(out, width, "Owner", {h.owner + " (fence " + std::to_string(h.fence) + ")"});
    }
    if (h.cancel_requested_at) {
      field(out, width, "Cancel", {"requested " + format_millis(*h.cancel_requested_at)});
    }
    field(out, width, "Input", {h.input.dump()});
    if (h.failure) {
      field(out, width, "Failure", error_lines(*h.failure));
    }
    if (h.rollback) {
      std::vector<std::string> lines{rollback_text(*h.rollback)};
      // errors[0] started the rollback (shown as the failure); the rest are undos that failed.
      for (std::size_t k = 1; k < h.rollback->errors.size(); ++k) {
        for (const auto& l : error_lines(h.rollback->errors[k])) {
          lines.push_back("undo failed: " + l);
        }
      }
      field(out, width, "Rollback", lines);
    }
  }
  out << "\n";
  if (log->empty()) {
    out << cut_to("History: none (the log was cleared when the run ended; a store with history "
                  "retention keeps it)",
                  width)
        << "\n";
    return exit_ok;
  }
  out << cut_to(history_title(*log), width) << "\n";
  text_table table(
    {{"SEQ", 3, true}, {"KIND", 6}, {"STATE", 6}, {"TASK", 6}, {"VER", 3, true}, {"TIME (UTC)", 12}, {"BLOB", 8}});
  for (const auto& e : *log) {
    auto time =
      e.written_at == std::chrono::system_clock::time_point{} ? std::string("-") : format_time_of_day(e.written_at);
    table.add({{std::to_string(e.row.sequence)},
               {kind_name(e.row.kind)},
               {e.row.state},
               {e.row.task_id.empty() ? "-" : e.row.task_id},
               {std::to_string(e.row.workflow_version)},
               {time},
               e.row.output_blob ? blob_lines(*e.row.output_blob, max_blob_lines) : std::vector<std::string>{""}});
  }
  out << table.render(width);
  return exit_ok;
}

} // namespace cano_cli
