// The command-line contract shared by the binaries in apps/: CLI11 parsing, `--help` listing the
// exit codes, `--version`, and exit code 2 with CLI11's message for bad arguments.
//
//   CLI::App app{"cano-demo: ..."};
//   cano_apps::add_version_and_exit_codes(app, "cano-demo", {{0, "done"}, {2, "bad arguments"}});
//   try { app.parse(argc, argv); } catch (const CLI::ParseError& e) { return cano_apps::exit_after_parse(app, e); }
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#ifndef CANO_ACTOR_VERSION
#error "CANO_ACTOR_VERSION must be defined by the build (apps/CMakeLists.txt)"
#endif

namespace cano_apps {

/// Exit code for arguments CLI11 rejects (unknown option, missing or invalid value).
inline constexpr int exit_bad_arguments = 2;

/// Adds `--version` ("<name> <version>") and an "Exit codes:" section to `--help`.
inline void add_version_and_exit_codes(CLI::App& app, const std::string& name,
                                       const std::vector<std::pair<int, std::string>>& codes) {
  app.set_version_flag("--version", name + " " + CANO_ACTOR_VERSION, "print the version and exit");
  std::string footer = "Exit codes:";
  for (const auto& c : codes) {
    footer += "\n  " + std::to_string(c.first) + "  " + c.second;
  }
  app.footer(footer);
}

/// After a CLI::ParseError: --help and --version print and give 0; an error prints CLI11's
/// message (naming the bad argument) and a hint to stderr, and gives exit_bad_arguments.
inline int exit_after_parse(const CLI::App& app, const CLI::ParseError& e) {
  int rc = app.exit(e);
  return rc == 0 ? 0 : exit_bad_arguments;
}

} // namespace cano_apps
