// cano-bench: prints figures, asserts nothing. Each workload runs in a child process of its own
// so that one workload's memory and threads never colour another's figures.
//
//   cano-bench --workload linear10 --seconds 5 --json
//
// A workload that fails (no server, an exception, a crash) prints {"workload", "error"} in place
// of its figures, says so on stderr, and the exit status is 1.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "child_process.hpp"
#include "cli.hpp"
#include "workload.hpp"
#ifdef CANO_BENCH_CLUSTER
#include "cluster_workloads.hpp"
#endif

namespace bench {
std::map<std::string, workload_fn>& workloads() {
  static std::map<std::string, workload_fn> all;
  return all;
}
} // namespace bench

namespace {

/// What a child left behind: its JSON line and how it ended.
struct child_outcome {
  std::string line;
  int status = 0;
};

/// The figures of one workload, or {"workload", "error"} when it threw: never an escaped
/// exception, so no workload can end the process without saying why.
nlohmann::json run_workload(const std::string& name, const bench::workload_fn& fn, double seconds) {
  try {
    return fn(seconds);
  } catch (const std::exception& e) {
    return {{"workload", name}, {"error", std::string("the workload threw: ") + e.what()}};
  } catch (...) {
    return {{"workload", name}, {"error", "the workload threw an exception of a non-standard type"}};
  }
}

/// Why a child's figures are missing or failed, or "" when they are fine.
std::string failure_of(const child_outcome& out) {
  if (out.status == -1) {
    return "the workload process could not be started";
  }
  nlohmann::json j = nlohmann::json::parse(out.line, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    return j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
  }
  if (WIFSIGNALED(out.status)) {
    return "the workload process was killed by signal " + std::to_string(WTERMSIG(out.status));
  }
  if (WIFEXITED(out.status) && WEXITSTATUS(out.status) != 0) {
    return "the workload process exited with status " + std::to_string(WEXITSTATUS(out.status));
  }
  if (out.line.empty() || !j.is_object()) {
    return "the workload printed no figures";
  }
  return {};
}

// Runs one workload in a child (this binary with --child); only its last line counts (a library
// may have printed notices before it).
child_outcome run_in_child(const std::string& name, double seconds) {
  cano_apps::child_process child(
    {"/proc/self/exe", "--child", "--workload", name, "--seconds", std::to_string(seconds)});
  if (!child.started()) {
    return {{}, -1};
  }
  std::string out = child.read_to_end();
  int status = child.wait_exit();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  auto nl = out.rfind('\n');
  return {nl == std::string::npos ? out : out.substr(nl + 1), status};
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"cano-bench: workflow engine benchmarks (figures only, no assertions)"};
  std::vector<std::string> names;
  double seconds = 3.0;
  bool json = false;
  bool child = false;
  app.add_option("--workload,-w", names, "workload(s) to run (default: all)");
  app.add_option("--seconds,-s", seconds, "measured seconds per workload")->check(CLI::Range(0.001, 86400.0));
  app.add_flag("--json", json, "one JSON object per line");
  app.add_flag("--child", child, "internal: run one workload in this process")->group("");
  std::string node_role, node_id, definition;
  int lease_ms = 3000, load = 0;
  app.add_option("--node-role", node_role, "internal: a node process of a cluster workload")->group("");
  app.add_option("--node-id", node_id, "internal")->group("");
  app.add_option("--definition", definition, "internal")->group("");
  app.add_option("--lease-ms", lease_ms, "internal")->group("");
  app.add_option("--load", load, "internal")->group("");
  cano_apps::add_version_and_exit_codes(
    app, "cano-bench",
    {{0, "every workload printed its figures"},
     {1, "a workload failed: it printed {\"workload\", \"error\"} in place of its figures"},
     {2, "bad arguments, or an unknown workload"}});
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cano_apps::exit_after_parse(app, e);
  }

#ifdef CANO_BENCH_CLUSTER
  if (!node_role.empty()) {
    return bench::run_node_role(node_role, node_id, definition, lease_ms, load, seconds);
  }
#endif
  auto& all = bench::workloads();
  if (names.empty()) {
    for (const auto& kv : all) {
      names.push_back(kv.first);
    }
  }
  for (const auto& n : names) {
    if (all.count(n) == 0) {
      std::cerr << "cano-bench: unknown workload \"" << n << "\"; known:";
      for (const auto& kv : all) {
        std::cerr << ' ' << kv.first;
      }
      std::cerr << '\n';
      return 2;
    }
  }
  if (child) {
    auto figures = run_workload(names.front(), all[names.front()], seconds);
    std::cout << figures.dump() << std::endl;
    return figures.contains("error") ? 1 : 0;
  }
  int rc = 0;
  for (const auto& n : names) {
    auto out = run_in_child(n, seconds);
    auto failure = failure_of(out);
    if (!failure.empty()) {
      std::cerr << "cano-bench: workload " << n << " failed: " << failure << '\n';
      rc = 1;
      nlohmann::json j{{"workload", n}, {"error", failure}};
      std::cout << (json ? j.dump() : n + ": error=" + j["error"].dump()) << std::endl;
      continue;
    }
    const auto& line = out.line;
    if (json) {
      std::cout << line << std::endl;
    } else {
      auto j = nlohmann::json::parse(line);
      std::cout << n << ":";
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() != "workload") {
          std::cout << ' ' << it.key() << '=' << it.value().dump();
        }
      }
      std::cout << std::endl;
    }
  }
  return rc;
}
