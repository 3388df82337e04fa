// cano: a command line over any cano-actor checkpoint store (issue 15). Lists and shows runs,
// resumes runs of the definitions compiled in, asks drivers to cancel runs, purges old runs,
// draws workflow graphs.
//
//   cano --store sqlite:/var/lib/app/checkpoints.db runs list --status unfinished
//   CANO_STORE='postgres:host=db dbname=app' cano runs show order-42
//   cano graph orders --format svg > orders.svg
//
// Reading commands (list, show) and cancel requests never take the SQLite driver lock
// (ARCHITECTURE D8): they work while a runtime drives runs. No message ever repeats a
// connection string's password.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "known_definitions.hpp"

using namespace cano_cli;

int main(int argc, char** argv) {
  CLI::App app{"cano: inspect, resume, cancel and purge the runs of a cano-actor checkpoint store; draw "
               "workflow graphs.\n"
               "Reading commands and cancel requests never take the SQLite driver lock: they work while a "
               "runtime drives runs."};
  cano_apps::add_version_and_exit_codes(app, "cano", exit_code_descriptions());
  // Subcommands are checked after parsing: an unknown option is then named in the error.
  app.require_subcommand(0, 1);
  app.fallthrough();

  std::string store_text;
  bool json = false;
  std::size_t width = 0;
  app
    .add_option("--store", store_text,
                "sqlite:PATH or postgres:DSN (key/value or postgres:// URI); default: $CANO_STORE")
    ->envname("CANO_STORE");
  app.add_flag("--json", json, "print one JSON object per line instead of tables");
  app.add_option("--width", width, "fit tables to this many columns (default: the terminal's, else 80)")
    ->check(CLI::Range(20, 1000));

  auto* runs = app.add_subcommand("runs", "list, show, resume, cancel and purge runs of the store");
  runs->require_subcommand(0, 1);
  runs->fallthrough();

  list_args list;
  auto* list_cmd = runs->add_subcommand("list", "runs newest first (the next page's cursor goes to stderr)");
  list_cmd->fallthrough();
  list_cmd->add_option("--status", list.statuses,
                       "only these statuses (repeat or comma-separate): running, completed, failed, rolled_back, "
                       "interrupted, compensating; unfinished, finished");
  list_cmd->add_option("--definition", list.definition, "only runs of this definition (Workflow::with_name)");
  list_cmd->add_option("--since", list.since,
                       "only runs started at or after T: a UTC date or date-time (2024-05-01T12:00Z) or a "
                       "duration ago (2h, 7d)");
  list_cmd->add_option("--until", list.until, "only runs started before T (same forms as --since)");
  list_cmd->add_option("--limit", list.limit, "at most N runs (default 20)")->check(CLI::Range(1, 10000));
  list_cmd->add_option("--cursor", list.cursor, "continue after the page that printed this cursor");

  std::string show_id;
  auto* show_cmd = runs->add_subcommand("show", "a run's header, failure, rollback and history");
  show_cmd->fallthrough();
  show_cmd->add_option("id", show_id, "workflow id")->required();

  std::string resume_id;
  bool force = false;
  auto* resume_cmd = runs->add_subcommand(
    "resume",
    "drive an unfinished or failed run on in this process (definitions compiled in: " + known_definition_names() + ")");
  resume_cmd->fallthrough();
  resume_cmd->add_option("id", resume_id, "workflow id")->required();
  resume_cmd->add_flag("--force", force,
                       "PostgreSQL: resume a run whose header says running (claiming it from its driver)");

  std::string cancel_id, cancel_wait;
  auto* cancel_cmd = runs->add_subcommand(
    "cancel", "ask whoever drives a run (any process, any node) to cancel it: it stops within about "
              "a second and its saga steps are undone; a run nobody drives is cancelled when "
              "resumed");
  cancel_cmd->fallthrough();
  cancel_cmd->add_option("id", cancel_id, "workflow id")->required();
  cancel_cmd->add_option("--wait", cancel_wait,
                         "then wait up to this long (30s, 5m, ...) for the run to end, and print "
                         "how it ended");

  std::string older_than;
  auto* purge_cmd =
    runs->add_subcommand("purge", "remove finished runs (headers, kept logs, history) last written before a time");
  purge_cmd->fallthrough();
  purge_cmd->add_option("--older-than", older_than, "a duration: 30d, 12h, 1h30m, ...")->required();

  std::string graph_name, format = "dot", output;
  auto* graph_cmd =
    app.add_subcommand("graph", "draw a definition compiled into this binary (" + known_definition_names() + ")");
  graph_cmd->fallthrough();
  graph_cmd->add_option("definition", graph_name, "the definition's name")->required();
  graph_cmd->add_option("--format", format, "dot (default), mermaid, or svg (needs Graphviz's dot)")
    ->check(CLI::IsMember({"dot", "mermaid", "svg"}));
  graph_cmd->add_option("--output,-o", output, "write to this file instead of stdout");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cano_apps::exit_after_parse(app, e);
  }

  if (*graph_cmd) {
    return graph(std::cout, std::cerr, graph_name, format, output);
  }
  if (!*runs || runs->get_subcommands().empty()) {
    std::cerr << "cano: name a command: " << (*runs ? "runs list, show, resume, cancel or purge" : "runs or graph")
              << "\nRun with --help for more information.\n";
    return exit_bad_arguments;
  }
  if (store_text.empty()) {
    std::cerr << "cano: no store: pass --store sqlite:PATH or --store postgres:DSN, or set CANO_STORE\n";
    return exit_bad_arguments;
  }
  auto spec = parse_store_spec(store_text);
  if (!spec) {
    std::cerr << "cano: " << spec.error().message() << "\n";
    return exit_bad_arguments;
  }
  context ctx{*spec, json, width, std::cout, std::cerr};
  if (*list_cmd) {
    return runs_list(ctx, list);
  }
  if (*show_cmd) {
    return runs_show(ctx, show_id);
  }
  if (*resume_cmd) {
    return runs_resume(ctx, resume_id, force);
  }
  if (*cancel_cmd) {
    if (cancel_cmd->get_option("--wait")->count() > 0 && cancel_wait.empty()) {
      ctx.err << "cano: --wait: an empty duration (give one such as 5s, or leave --wait out)\n";
      return exit_bad_arguments;
    }
    return runs_cancel(ctx, cancel_id, cancel_wait);
  }
  return runs_purge(ctx, older_than);
}
