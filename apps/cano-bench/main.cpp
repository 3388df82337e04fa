// cano-bench: prints figures, asserts nothing. Each workload runs in a child process of its own
// so that one workload's memory and threads never colour another's figures.
//
//   cano-bench --workload linear10 --seconds 5 --json
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "child_process.hpp"
#include "cli.hpp"
#include "workload.hpp"

namespace bench {
std::map<std::string, workload_fn>& workloads() {
  static std::map<std::string, workload_fn> all;
  return all;
}
} // namespace bench

namespace {

// Runs one workload in a child (this binary with --child) and returns its JSON line.
std::string run_in_child(const std::string& name, double seconds) {
  cano_apps::child_process child(
    {"/proc/self/exe", "--child", "--workload", name, "--seconds", std::to_string(seconds)});
  if (!child.started()) {
    return {};
  }
  std::string out = child.read_to_end();
  child.wait_exit();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
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
  cano_apps::add_version_and_exit_codes(app, "cano-bench",
                                        {{0, "every workload printed its figures"},
                                         {1, "a workload printed no figures (its child process failed)"},
                                         {2, "bad arguments, or an unknown workload"}});
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cano_apps::exit_after_parse(app, e);
  }

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
    std::cout << all[names.front()](seconds).dump() << std::endl;
    return 0;
  }
  int rc = 0;
  for (const auto& n : names) {
    auto line = run_in_child(n, seconds);
    if (line.empty()) {
      std::cerr << "cano-bench: workload " << n << " produced no figures\n";
      rc = 1;
      continue;
    }
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
