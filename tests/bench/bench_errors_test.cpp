// cano-bench never dies of an uncaught exception (issue 10, item 7): a workload that cannot run
// — here, PostgreSQL workloads with no server reachable — reports a clear error on stderr and in
// its JSON line, and the bench exits non-zero.
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "child_process.hpp"

namespace {

/// Nothing listens on port 1 of 127.0.0.1: connections are refused at once.
const char* unreachable_dsn = "host=127.0.0.1 port=1 user=postgres dbname=postgres connect_timeout=5";

struct bench_run {
  std::vector<std::string> lines; // stdout and stderr, interleaved
  int status = -1;
  std::string text() const {
    std::string out;
    for (const auto& l : lines) {
      out += l + "\n";
    }
    return out;
  }
};

/// Runs cano-bench with `args` and CANO_PG_DSN set to `dsn`, reading both streams (bounded).
bench_run run_bench(const std::vector<std::string>& args, const std::string& dsn) {
  const char* saved = std::getenv("CANO_PG_DSN");
  std::string restore = saved != nullptr ? saved : "";
  setenv("CANO_PG_DSN", dsn.c_str(), 1);
  std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", CANO_BENCH};
  argv.insert(argv.end(), args.begin(), args.end());
  cano_apps::child_process child(argv);
  if (saved != nullptr) {
    setenv("CANO_PG_DSN", restore.c_str(), 1);
  } else {
    unsetenv("CANO_PG_DSN");
  }
  BOOST_REQUIRE(child.started());
  bench_run out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    auto line = child.read_line(std::chrono::seconds(120));
    if (!line) {
      break;
    }
    out.lines.push_back(*line);
  }
  out.status = child.wait_exit(); // killed by the destructor first if it outlived the deadline
  return out;
}

/// The JSON line of `workload` in the bench's output, or null.
nlohmann::json json_line(const bench_run& r, const std::string& workload) {
  for (const auto& l : r.lines) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_object() && j.value("workload", "") == workload) {
      return j;
    }
  }
  return nullptr;
}

void check_clear_failure(const std::string& workload) {
  auto r = run_bench({"--workload", workload, "--seconds", "0.2", "--json"}, unreachable_dsn);
  auto text = r.text();
  BOOST_TEST(WIFEXITED(r.status), text);
  BOOST_TEST(WEXITSTATUS(r.status) == 1, text);
  BOOST_TEST(text.find("terminate called") == std::string::npos, text);
  BOOST_TEST(text.find("cano-bench: workload " + workload + " failed: ") != std::string::npos, text);
  BOOST_TEST(text.find("Connection refused") != std::string::npos, text);
  auto j = json_line(r, workload);
  BOOST_REQUIRE_MESSAGE(j.is_object(), "no JSON line for " << workload << " in:\n" << text);
  BOOST_TEST(j.contains("error"), text);
}

} // namespace

BOOST_AUTO_TEST_SUITE(bench_errors_test)

BOOST_AUTO_TEST_CASE(pg_raw_ceiling_without_a_server_reports_an_error_and_exits_non_zero) {
  check_clear_failure("pg_raw_ceiling");
}

BOOST_AUTO_TEST_CASE(a_durable_pg_workload_without_a_server_reports_an_error_and_exits_non_zero) {
  check_clear_failure("linear10_ckpt_pg_c1");
}

BOOST_AUTO_TEST_CASE(a_failing_workload_does_not_stop_the_others_but_sets_the_exit_status) {
  auto r = run_bench({"--workload", "pg_raw_ceiling", "--workload", "linear10", "--seconds", "0.2", "--json"},
                     unreachable_dsn);
  auto text = r.text();
  BOOST_TEST(WEXITSTATUS(r.status) == 1, text);
  auto ok = json_line(r, "linear10");
  BOOST_REQUIRE_MESSAGE(ok.is_object(), text);
  BOOST_TEST(ok.value("runs", 0) > 0, text);
  BOOST_TEST(!ok.contains("error"), text);
}

BOOST_AUTO_TEST_SUITE_END()
