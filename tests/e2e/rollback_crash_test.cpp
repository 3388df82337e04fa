// A process killed in the middle of a rollback (ARCHITECTURE D7), on SQLite and on PostgreSQL:
// the next process continues the drain where it stopped, never runs a forward state again, and
// undoes each saga step once; a rollback's end is one atomic write. Real processes
// (tests/e2e/saga_worker.cpp), SIGKILLed at chosen points, reaped by PID.
#include <algorithm>
#include <optional>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "child_process.hpp"
#include "e2e/worker_target.hpp"
#include "support/postgres.hpp"
#include "support/saga_ledger.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;

namespace {

/// Runs the worker with `env` set and returns its output lines (until it ends or is killed at
/// the line `kill_on`).
std::vector<std::string> run_worker(const target& t, const std::string& ledger, std::vector<std::string> args,
                                    const std::vector<std::pair<std::string, std::string>>& env,
                                    const std::string& kill_on = "") {
  for (const auto& [k, v] : env) {
    setenv(k.c_str(), v.c_str(), 1);
  }
  std::vector<std::string> argv{CANO_SAGA_WORKER, t.kind, t.file, ledger};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process worker(argv);
  for (const auto& kv : env) {
    unsetenv(kv.first.c_str());
  }
  BOOST_REQUIRE(worker.started());
  if (!kill_on.empty()) {
    auto seen = worker.read_until([&](const std::string& l) { return l == kill_on; }, 120s);
    BOOST_REQUIRE_MESSAGE(seen.has_value(), "the worker never printed " << kill_on);
    worker.sigkill();
  } else {
    worker.read_until([](const std::string&) { return false; }, 120s);
  }
  worker.wait_exit();
  return worker.lines();
}

std::string result_line(const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    if (l.rfind("RESULT ", 0) == 0) {
      return l;
    }
  }
  return "";
}

/// The failing saga's undos: Charge and Reserve, each once; nothing forward after the first.
void check_once_each(const std::string& ledger, const std::string& id) {
  auto verdict = check_ledger(read_ledger(ledger), [](const std::string&) {
    return std::vector<std::string>{"Reserve", "Charge"};
  });
  for (const auto& [kind, n] : verdict.violations) {
    BOOST_TEST(n == 0, kind << ": " << verdict.examples[kind]);
  }
  auto entries = read_ledger(ledger);
  auto undos = std::count_if(entries.begin(), entries.end(),
                             [&](const ledger_entry& e) { return e.run == id && e.kind == "UNDO"; });
  BOOST_TEST(undos == 2);
}

void expect_rolled_back(const target& t, const std::string& id) {
  auto store = t.open();
  auto h = *store->run_header(id);
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_REQUIRE(h->failure.has_value());
  BOOST_TEST(h->failure->message() == "the carrier refused " + id);
  BOOST_TEST(store->load_run(id)->empty());
  auto unfinished = *store->unfinished_runs();
  BOOST_TEST(
    std::none_of(unfinished.begin(), unfinished.end(), [&](const cano::RunHeader& u) { return u.workflow_id == id; }));
}

void killed_after_the_first_of_two_undos(const target& t, const temp_dir& dir) {
  auto id = unique_id("fail-first-undo");
  auto ledger = dir.file("ledger-1");
  // Charge is undone (and recorded); the worker dies as Reserve's undo begins.
  run_worker(t, ledger, {"run", id}, {{"CANO_TEST_BLOCK_UNDO", "Reserve"}}, "UNDO-BLOCKED Reserve");
  auto header = *t.open()->run_header(id);
  BOOST_REQUIRE(header.has_value());
  BOOST_TEST(to_string(header->status) == std::string("compensating"));
  BOOST_REQUIRE(header->rollback.has_value());
  BOOST_TEST(header->rollback->undone == 1u);
  auto lines = run_worker(t, ledger, {"resume", id}, {});
  BOOST_TEST(result_line(lines) == "RESULT " + id + " FAILED Task execution error: the carrier refused " + id);
  check_once_each(ledger, id);
  expect_rolled_back(t, id);
}

void killed_after_the_last_undo_before_the_final_write(const target& t, const temp_dir& dir) {
  auto id = unique_id("fail-last-undo");
  auto ledger = dir.file("ledger-2");
  auto lines = run_worker(t, ledger, {"run", id}, {{"CANO_TEST_KILL_AT", "final"}});
  BOOST_TEST(result_line(lines).empty(), "it died first, yet said: " << result_line(lines));
  auto header = *t.open()->run_header(id);
  BOOST_REQUIRE(header.has_value());
  BOOST_TEST(to_string(header->status) == std::string("compensating"));
  BOOST_TEST(header->rollback->undone == 2u);
  lines = run_worker(t, ledger, {"resume", id}, {});
  BOOST_TEST(result_line(lines) == "RESULT " + id + " FAILED Task execution error: the carrier refused " + id);
  check_once_each(ledger, id);
  expect_rolled_back(t, id);
}

void killed_right_after_the_log_was_cleared(const target& t, const temp_dir& dir) {
  auto id = unique_id("fail-cleared");
  auto ledger = dir.file("ledger-3");
  auto lines = run_worker(t, ledger, {"run", id}, {{"CANO_TEST_KILL_AT", "after-clear"}});
  // It died right after the commit that cleared the log.
  BOOST_TEST(result_line(lines).empty(), "it died, yet said: " << result_line(lines));
  // That commit held the final header too: nothing is left to resume, the result is readable.
  check_once_each(ledger, id);
  expect_rolled_back(t, id);
}

void all_crash_points(const target& t, const temp_dir& dir) {
  killed_after_the_first_of_two_undos(t, dir);
  killed_after_the_last_undo_before_the_final_write(t, dir);
  killed_right_after_the_log_was_cleared(t, dir);
}

} // namespace

BOOST_AUTO_TEST_SUITE(rollback_crash_test)

BOOST_AUTO_TEST_CASE(a_rollback_cut_by_sigkill_finishes_once_on_sqlite) {
  temp_dir dir;
  all_crash_points({"sqlite", dir.file("saga.db")}, dir);
}

BOOST_AUTO_TEST_CASE(a_rollback_cut_by_sigkill_finishes_once_on_postgres,
                     *boost::unit_test::precondition(postgres_configured())) {
  temp_dir dir;
  all_crash_points({"postgres", "-"}, dir);
}

BOOST_AUTO_TEST_SUITE_END()
