// `cano runs purge --older-than D`: finished runs last written more than D ago go, with their
// kept logs and history; unfinished runs never do.
#include <ostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "time_text.hpp"

namespace cano_cli {

int runs_purge(const context& ctx, const std::string& older_than) {
  auto age = parse_duration(older_than);
  if (!age) {
    ctx.err << "cano: --older-than: " << age.error().message() << "\n";
    return exit_bad_arguments;
  }
  auto store = open_store(ctx.store, store_access::write);
  if (!store) {
    ctx.err << "cano: " << store.error().message() << "\n";
    return exit_failed;
  }
  auto before = clock::now() - *age;
  auto purged = (*store)->purge_runs(before);
  if (!purged) {
    ctx.err << "cano: " << scrub(purged.error().message(), ctx.store) << "\n";
    return exit_failed;
  }
  if (ctx.json) {
    ctx.out << nlohmann::json{{"purged_runs", purged->runs},
                              {"purged_rows", purged->rows},
                              {"finished_before", format_iso(before)}}
                 .dump()
            << "\n";
  } else {
    ctx.out << "Purged " << purged->runs << (purged->runs == 1 ? " run" : " runs") << " (" << purged->rows
            << (purged->rows == 1 ? " row" : " rows") << ") finished before " << format_millis(before) << ".\n";
  }
  return exit_ok;
}

} // namespace cano_cli
