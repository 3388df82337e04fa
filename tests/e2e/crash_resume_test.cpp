// Crash and resume across processes (spec §7): a worker process runs a checkpointed workflow
// (plain step, saga step, stepped task); the test SIGKILLs it once the saga's completion row and
// at least three cursor rows are durable, reads the log back, and a new process resumes the run.
// The history must be exact and dense, no state before the resume point may run again, the
// stepped task must go on from its last cursor, and every side effect must have a durable row.
#include <fstream>
#include <sstream>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <stdlib.h>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "child_process.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) {
    out.push_back(l);
  }
  return out;
}

/// The checkpoint history in "<seq> <state> <kind>" form.
std::vector<std::string> history(const std::vector<cano::CheckpointRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) {
    const char* kind = r.kind == cano::RowKind::state_entry               ? "entry"
                       : r.kind == cano::RowKind::compensation_completion ? "output"
                                                                          : "cursor";
    out.push_back(std::to_string(r.sequence) + " " + r.state + " " + kind);
  }
  return out;
}

void crash_then_resume(const std::string& kind, const std::string& file,
                       std::function<std::vector<cano::CheckpointRow>(const std::string&)> load) {
  temp_dir dir;
  auto id = unique_id("crash");
  auto fx = dir.file("side-effects.txt");
  std::vector<cano::CheckpointRow> before;
  {
    child_process worker({CANO_CRASH_WORKER, kind, file, id, "fresh", fx});
    BOOST_REQUIRE(worker.started());
    // Rows: 0 Start, 1 Reserve, 2 Reserve output, 3 Crunch, 4.. cursors; seq 6 is the third cursor.
    auto third_cursor = worker.read_until([](const std::string& l) { return l == "CHECKPOINT Crunch 6"; }, 60s);
    BOOST_REQUIRE_MESSAGE(third_cursor.has_value(), "the worker never wrote its third cursor row");
    worker.sigkill();
    auto status = worker.wait_exit();
    BOOST_TEST((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    before = load(id);
  }
  BOOST_REQUIRE(before.size() >= 7u);
  auto effects_before = read_lines(fx);
  // The last cursor that made it to the log: the resumed task must start from it.
  int last_cursor = -1;
  for (const auto& r : before) {
    if (r.kind == cano::RowKind::step_cursor) {
      last_cursor = std::stoi(std::string(r.output_blob->begin(), r.output_blob->end()));
    }
  }
  BOOST_REQUIRE(last_cursor >= 3);

  child_process resumer({CANO_CRASH_WORKER, kind, file, id, "resume", fx});
  BOOST_REQUIRE(resumer.started());
  auto done =
    resumer.read_until([](const std::string& l) { return l.rfind("DONE", 0) == 0 || l.rfind("FAILED", 0) == 0; }, 120s);
  auto status = resumer.wait_exit();
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(*done == "DONE Done");
  BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0));

  // The history: the rows read before, then exactly the rows the resume reported, densely.
  auto hist = history(before);
  auto last_seq = before.back().sequence;
  std::vector<std::string> resumed_rows;
  bool saw_resume = false;
  bool saw_resumed_cursor = false;
  for (const auto& l : resumer.lines()) {
    if (l == "RESUME " + id + " " + std::to_string(last_seq)) {
      saw_resume = true;
    }
    if (l == "RESUMED cursor=" + std::to_string(last_cursor)) {
      saw_resumed_cursor = true;
    }
    if (l.rfind("CHECKPOINT ", 0) == 0) {
      resumed_rows.push_back(l.substr(11));
    }
  }
  BOOST_TEST(saw_resume);
  BOOST_TEST(saw_resumed_cursor); // the stepped task went on from its last cursor
  // Resumed rows: the Crunch entry again, the remaining cursors, then Done.
  std::vector<std::string> expected_resumed{"Crunch " + std::to_string(last_seq + 1)};
  std::uint64_t seq = last_seq + 2;
  for (int c = last_cursor + 1; c < 10; ++c) {
    expected_resumed.push_back("Crunch " + std::to_string(seq++));
  }
  expected_resumed.push_back("Done " + std::to_string(seq));
  BOOST_TEST(resumed_rows == expected_resumed, boost::test_tools::per_element());
  for (std::size_t i = 0; i < before.size(); ++i) {
    BOOST_TEST(before[i].sequence == i); // dense from 0
  }
  BOOST_TEST(hist[0] == "0 Start entry");
  BOOST_TEST(hist[1] == "1 Reserve entry");
  BOOST_TEST(hist[2] == "2 Reserve output");
  BOOST_TEST(hist[3] == "3 Crunch entry");
  BOOST_TEST(load(id).empty()); // a finished run leaves no log

  // Side effects: Start and Reserve once (never re-run), then steps from the last cursor on.
  auto effects = read_lines(fx);
  BOOST_TEST(std::count(effects.begin(), effects.end(), "Start") == 1);
  BOOST_TEST(std::count(effects.begin(), effects.end(), "Reserve") == 1);
  BOOST_TEST(std::count(effects.begin(), effects.end(), "Release") == 0);
  std::vector<std::string> after(effects.begin() + static_cast<std::ptrdiff_t>(effects_before.size()), effects.end());
  std::vector<std::string> expected_after;
  for (int c = last_cursor; c < 10; ++c) {
    expected_after.push_back("step " + std::to_string(c));
  }
  BOOST_TEST(after == expected_after, boost::test_tools::per_element());
  // Every side effect before the crash has its durable row: "step n" needs cursor row n.
  for (const auto& e : effects_before) {
    if (e.rfind("step ", 0) == 0 && e != "step none") {
      BOOST_TEST(std::stoi(e.substr(5)) <= last_cursor, e);
    }
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(crash_resume_test)

BOOST_AUTO_TEST_CASE(a_sigkilled_sqlite_worker_is_resumed_by_a_new_process) {
  temp_dir db_dir;
  auto file = db_dir.file("checkpoints.db");
  crash_then_resume("sqlite", file, [&](const std::string& id) {
    auto store = cano::SqliteCheckpointStore::open(file);
    BOOST_REQUIRE(store.has_value());
    return *(*store)->load_run(id);
  });
}

BOOST_AUTO_TEST_CASE(a_sigkilled_postgres_worker_is_resumed_by_a_new_process,
                     *boost::unit_test::precondition(postgres_configured())) {
  crash_then_resume("postgres", "-", [](const std::string& id) {
    auto store = cano::PostgresCheckpointStore::open();
    BOOST_REQUIRE(store.has_value());
    return *(*store)->load_run(id);
  });
}

BOOST_AUTO_TEST_SUITE_END()
