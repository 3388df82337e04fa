// `cano runs list`: a page of runs, newest first, as a table or one JSON object per line.
#include <algorithm>
#include <ostream>

#include "cano/debug_quote.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "run_views.hpp"
#include "text_table.hpp"
#include "time_text.hpp"

namespace cano_cli {

namespace {

/// A workflow id as the table shows it: as it is, or quoted like Rust's `{:?}` when it holds a
/// character a terminal would not show as itself (a newline, an escape), so it can be told apart.
std::string shown_id(const std::string& id) {
  bool plain = std::none_of(id.begin(), id.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
  return plain ? id : cano::debug_quote(id);
}

/// The statuses named by `--status` values: names, "unfinished", "finished", comma lists.
cano::expected<std::vector<cano::RunStatus>> statuses_of(const std::vector<std::string>& values) {
  std::vector<cano::RunStatus> out;
  auto add = [&out](cano::RunStatus s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(s);
    }
  };
  for (const auto& value : values) {
    std::size_t start = 0;
    while (start <= value.size()) {
      auto end = value.find(',', start);
      auto name = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (name == "unfinished") {
        add(cano::RunStatus::running);
        add(cano::RunStatus::interrupted);
        add(cano::RunStatus::compensating);
      } else if (name == "finished") {
        add(cano::RunStatus::completed);
        add(cano::RunStatus::failed);
        add(cano::RunStatus::rolled_back);
      } else if (auto s = cano::run_status_from_string(name)) {
        add(*s);
      } else {
        return cano::error::configuration("--status: \"" + name +
                                          "\" is not a status; use running, completed, failed, rolled_back, "
                                          "interrupted, compensating, unfinished or finished");
      }
      if (end == std::string::npos) {
        break;
      }
      start = end + 1;
    }
  }
  return out;
}

/// `text` quoted for a POSIX shell.
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

} // namespace

int runs_list(const context& ctx, const list_args& args) {
  cano::RunQuery q;
  auto statuses = statuses_of(args.statuses);
  if (!statuses) {
    ctx.err << "cano: " << statuses.error().message() << "\n";
    return exit_bad_arguments;
  }
  q.statuses = std::move(*statuses);
  q.definition = args.definition;
  auto now = clock::now();
  for (auto [text, slot, flag] : {std::make_tuple(&args.since, &q.created_from, "--since"),
                                  std::make_tuple(&args.until, &q.created_before, "--until")}) {
    if (text->empty()) {
      continue;
    }
    auto t = parse_time(*text, now);
    if (!t) {
      ctx.err << "cano: " << flag << ": " << t.error().message() << "\n";
      return exit_bad_arguments;
    }
    *slot = *t;
  }
  q.limit = args.limit;
  q.cursor = args.cursor;

  auto store = open_store(ctx.store, store_access::read);
  if (!store) {
    ctx.err << "cano: " << store.error().message() << "\n";
    return exit_failed;
  }
  auto page = (*store)->list_runs(q);
  if (!page) {
    const auto& e = page.error();
    ctx.err << "cano: " << scrub(e.message(), ctx.store) << "\n";
    return e.code() == cano::errc::configuration ? exit_bad_arguments : exit_failed;
  }
  if (ctx.json) {
    for (const auto& u : page->unreadable) {
      ctx.out << nlohmann::json{{"workflow_id", u.workflow_id}, {"unreadable", u.reason}}.dump() << "\n";
    }
    for (const auto& h : page->runs) {
      ctx.out << header_json(h).dump() << "\n";
    }
  } else if (page->runs.empty() && page->unreadable.empty()) {
    ctx.out << "No runs match.\n";
  } else {
    text_table table({{"WORKFLOW ID", 8, false, true},
                      {"DEFINITION", 6},
                      {"STATUS", 12},
                      {"LAST STATE", 6},
                      {"ATT", 3, true},
                      {"STARTED (UTC)", 19}});
    for (const auto& u : page->unreadable) {
      table.add({{shown_id(u.workflow_id)}, {"?"}, {"unreadable"}, {"?"}, {"?"}, {"?"}});
    }
    for (const auto& h : page->runs) {
      table.add({{shown_id(h.workflow_id)},
                 {h.definition},
                 {cano::to_string(h.status)},
                 {h.last_state.empty() ? "-" : h.last_state},
                 {std::to_string(h.attempts)},
                 {format_seconds(h.created_at)}});
    }
    ctx.out << table.render(output_width(ctx.width));
  }
  for (const auto& u : page->unreadable) {
    ctx.err << "cano: the header of run " << cano::debug_quote(u.workflow_id)
            << " cannot be read: " << printable(u.reason) << "\n";
  }
  if (!page->next_cursor.empty()) {
    ctx.err << "more runs: add --cursor " << shell_quote(page->next_cursor) << "\n";
  }
  return exit_ok;
}

} // namespace cano_cli
