// `cano runs resume ID`: drives an unfinished (or failed) run on with a definition compiled into
// this binary, in this process: the runtime takes the SQLite driver lock, or claims the
// PostgreSQL run (fence + 1), like any resuming process (ARCHITECTURE D8).
#include <ostream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "known_definitions.hpp"
#include "run_views.hpp"
#include "text_table.hpp"

namespace cano_cli {

int runs_resume(const context& ctx, const std::string& id, bool force) {
  auto store = open_store(ctx.store, store_access::write);
  if (!store) {
    ctx.err << "cano: " << store.error().message() << "\n";
    return exit_failed;
  }
  auto header = (*store)->run_header(id);
  if (!header) {
    ctx.err << "cano: " << scrub(header.error().message(), ctx.store) << "\n";
    return exit_failed;
  }
  const auto quoted = "\"" + printable(id) + "\"";
  if (!*header) {
    ctx.err << "cano: no run with workflow id " << quoted << " in " << ctx.store.shown << "\n";
    return exit_not_found;
  }
  const auto& h = **header;
  const auto* def = find_definition(h.definition);
  if (def == nullptr) {
    ctx.err << "cano: run " << quoted << " is of definition \"" << printable(h.definition) << "\" (version "
            << h.workflow_version << "), which this binary does not have (it has " << known_definition_names()
            << "); resume it from the application that defines it (runtime::resume or resume_all)\n";
    return exit_cannot_resume;
  }
  if (def->version != h.workflow_version) {
    ctx.err << "cano: run " << quoted << " was written by version " << h.workflow_version << " of \"" << def->name
            << "\"; this binary has version " << def->version << "\n";
    return exit_cannot_resume;
  }
  if (h.status == cano::RunStatus::completed) {
    ctx.err << "cano: run " << quoted << " already completed (in state " << printable(h.final_state)
            << "); there is nothing to resume\n";
    return exit_cannot_resume;
  }
  if (h.status == cano::RunStatus::rolled_back) {
    ctx.err << "cano: run " << quoted
            << " was rolled back (its compensations ran); a rolled-back run is never resumed\n";
    return exit_cannot_resume;
  }
  if (h.status == cano::RunStatus::running && ctx.store.type == store_spec::kind::postgres && !force) {
    ctx.err << "cano: run " << quoted << " is running" << (h.owner.empty() ? "" : " (owner " + printable(h.owner) + ")")
            << ": its driver may still be alive. When it is gone, resume with --force (the claim's "
               "fence then "
               "refuses the old driver's writes)\n";
    return exit_cannot_resume;
  }

  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg);
  caf::actor_system sys{cfg};
  cano::expected<std::string> end = std::string();
  {
    cano::runtime rt{sys};
    // What the tasks report goes with the human output; with --json it stays off stdout.
    end = def->resume(rt, *store, id, ctx.json ? ctx.err : ctx.out);
  }
  auto after = (*store)->run_header(id);
  auto status = after && *after ? cano::to_string((*after)->status) : "unknown";
  if (end) {
    if (ctx.json) {
      ctx.out << nlohmann::json{{"workflow_id", id}, {"status", status}, {"final_state", *end}}.dump() << "\n";
    } else {
      ctx.out << "Run " << quoted << " completed in state " << *end << ".\n";
    }
    return exit_ok;
  }
  const auto& e = end.error();
  bool ended = after && *after && !cano::is_unfinished((*after)->status);
  if (ctx.json) {
    ctx.out << nlohmann::json{{"workflow_id", id}, {"status", status}, {"failure", e}}.dump() << "\n";
  }
  if (ended) {
    ctx.err << "cano: run " << quoted << " ended " << status << ":\n";
    for (const auto& line : error_lines(e)) {
      ctx.err << "  " << printable(scrub(line, ctx.store)) << "\n";
    }
    return exit_run_failed;
  }
  ctx.err << "cano: cannot resume run " << quoted << ": " << printable(scrub(e.message(), ctx.store)) << "\n";
  return exit_failed;
}

} // namespace cano_cli
