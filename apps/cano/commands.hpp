// The commands of `cano`, each returning its exit code (exit_codes.hpp). main.cpp parses the
// command line and calls them.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "store_access.hpp"

namespace cano_cli {

/// What every command is given: the store (unopened), the output mode, where to write.
struct context {
  store_spec store;
  bool json = false;     // one JSON object per line instead of tables
  std::size_t width = 0; // 0: the terminal's (output_width)
  std::ostream& out;
  std::ostream& err;
};

struct list_args {
  std::vector<std::string> statuses; // status names, "unfinished", or comma-separated lists of them
  std::string definition;
  std::string since; // a time or a duration ago (time_text.hpp); empty: no bound
  std::string until;
  std::size_t limit = 20;
  std::string cursor;
};

/// `cano runs list`: one page of runs, newest first; the next page's cursor goes to stderr.
int runs_list(const context& ctx, const list_args& args);
/// `cano runs show ID`: the header, its failure and rollback, then its log as a table.
int runs_show(const context& ctx, const std::string& id);
/// `cano runs resume ID`: drives the run on with a definition compiled in. `force` allows a
/// PostgreSQL run whose header says running (its driver may be alive).
int runs_resume(const context& ctx, const std::string& id, bool force);
/// `cano runs cancel ID`: a durable cancel request in the run's header, which the run's driver
/// (any process, any node) picks up within about a second, or a resume honours. With a `wait`
/// (a duration; empty: none), waits until the run has ended and prints how.
int runs_cancel(const context& ctx, const std::string& id, const std::string& wait);
/// `cano runs purge --older-than D`: removes finished runs last written more than D ago.
int runs_purge(const context& ctx, const std::string& older_than);

/// `cano graph NAME --format dot|mermaid|svg`: to `output` (a file) or ctx.out. svg runs
/// Graphviz's `dot`.
int graph(std::ostream& out, std::ostream& err, const std::string& name, const std::string& format,
          const std::string& output);

} // namespace cano_cli
