// Cancelling a run that another process drives (cano 0.15 §4.3 across processes), on SQLite and
// on PostgreSQL: this process writes a durable request into the run's header through its own
// store — no driver lock, no ownership, as the CLI does — and the worker process driving the run
// cancels it, undoing its saga steps once; a request made after the driver was SIGKILLed is
// honoured by the process that resumes the run, which runs no forward state again. Real
// processes (tests/e2e/saga_worker.cpp), synchronised on their output lines, reaped by PID.
#include <algorithm>
#include <chrono>
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

std::unique_ptr<child_process> start_worker(const target& t, const std::string& ledger,
                                            const std::vector<std::string>& args) {
  std::vector<std::string> argv{CANO_SAGA_WORKER, t.kind, t.file, ledger};
  argv.insert(argv.end(), args.begin(), args.end());
  auto worker = std::make_unique<child_process>(argv);
  BOOST_REQUIRE(worker->started());
  return worker;
}

std::string text(const cano::expected<void>& r) { return r ? std::string("ok") : r.error().to_string(); }

std::size_t count(const std::vector<ledger_entry>& entries, const std::string& run, const std::string& kind,
                  const std::string& step) {
  return static_cast<std::size_t>(std::count_if(entries.begin(), entries.end(), [&](const ledger_entry& e) {
    return e.run == run && e.kind == kind && e.step == step;
  }));
}

void expect_cancelled_and_undone_once(const target& t, const std::string& ledger, const std::string& id) {
  auto entries = read_ledger(ledger);
  BOOST_TEST(count(entries, id, "FWD", "Ship") == 1u); // never again after the cancel
  BOOST_TEST(count(entries, id, "UNDO", "Charge") == 1u);
  BOOST_TEST(count(entries, id, "UNDO", "Reserve") == 1u);
  auto store = t.open();
  auto h = *store->run_header(id);
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_REQUIRE(h->failure.has_value());
  BOOST_TEST(h->failure->category() == std::string("cancelled"));
  BOOST_TEST(h->cancel_requested_at.has_value());
  BOOST_TEST(store->load_run(id)->empty());
}

void a_run_in_another_process_is_cancelled_by_a_request(const target& t, const temp_dir& dir) {
  auto id = unique_id("hold-live");
  auto ledger = dir.file("ledger-live");
  auto worker = start_worker(t, ledger, {"run", id});
  auto waiting = worker->read_until([&](const std::string& l) { return l == "SHIP-WAITING " + id; }, 120s);
  BOOST_REQUIRE_MESSAGE(waiting.has_value(), "the worker never reached Ship");
  // The worker drives the run (and, on SQLite, holds PATH.lock): this process only asks.
  auto asked = std::chrono::steady_clock::now();
  auto requested = t.open()->request_cancel(id);
  BOOST_REQUIRE_MESSAGE(requested.has_value(), text(requested));
  auto result = worker->read_until([&](const std::string& l) { return l.rfind("RESULT " + id, 0) == 0; }, 120s);
  auto took = std::chrono::steady_clock::now() - asked;
  worker->wait_exit();
  BOOST_REQUIRE_MESSAGE(result.has_value(), "the worker never reported the run");
  BOOST_TEST(*result == "RESULT " + id + " FAILED Workflow cancelled");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  BOOST_TEST_MESSAGE(t.kind << ": the driver honoured the request " << ms << " ms after it was written");
  BOOST_TEST(ms < 10000); // picked up within about half a second; ten times the bound of 1 s
  expect_cancelled_and_undone_once(t, ledger, id);
}

void a_request_outlives_its_killed_driver_and_the_resume_honours_it(const target& t, const temp_dir& dir) {
  auto id = unique_id("hold-killed");
  auto ledger = dir.file("ledger-killed");
  {
    auto worker = start_worker(t, ledger, {"run", id});
    auto waiting = worker->read_until([&](const std::string& l) { return l == "SHIP-WAITING " + id; }, 120s);
    BOOST_REQUIRE_MESSAGE(waiting.has_value(), "the worker never reached Ship");
    worker->sigkill();
    worker->wait_exit();
  }
  // Nobody drives the run now: the request waits in its header.
  auto requested = t.open()->request_cancel(id);
  BOOST_REQUIRE_MESSAGE(requested.has_value(), text(requested));
  auto header = *t.open()->run_header(id);
  BOOST_REQUIRE(header.has_value());
  BOOST_TEST(to_string(header->status) == std::string("running"));
  BOOST_TEST(header->cancel_requested_at.has_value());

  auto worker = start_worker(t, ledger, {"resume", id});
  auto result = worker->read_until([&](const std::string& l) { return l.rfind("RESULT " + id, 0) == 0; }, 120s);
  worker->wait_exit();
  BOOST_REQUIRE_MESSAGE(result.has_value(), "the resuming worker never reported the run");
  BOOST_TEST(*result == "RESULT " + id + " FAILED Workflow cancelled");
  auto lines = worker->lines();
  BOOST_TEST(
    std::none_of(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("SHIP-WAITING", 0) == 0; }));
  expect_cancelled_and_undone_once(t, ledger, id);
}

} // namespace

BOOST_AUTO_TEST_SUITE(cancel_e2e_test)

BOOST_AUTO_TEST_CASE(a_run_driven_by_another_process_is_cancelled_on_sqlite) {
  temp_dir dir;
  target t{"sqlite", dir.file("saga.db")};
  a_run_in_another_process_is_cancelled_by_a_request(t, dir);
  a_request_outlives_its_killed_driver_and_the_resume_honours_it(t, dir);
}

BOOST_AUTO_TEST_CASE(a_run_driven_by_another_process_is_cancelled_on_postgres,
                     *boost::unit_test::precondition(postgres_configured())) {
  temp_dir dir;
  target t{"postgres", "-"};
  a_run_in_another_process_is_cancelled_by_a_request(t, dir);
  a_request_outlives_its_killed_driver_and_the_resume_honours_it(t, dir);
}

BOOST_AUTO_TEST_SUITE_END()
