// The `cano` command line end to end (issue 15), against real SQLite files and PostgreSQL
// schemas filled by real runs of the demo's order workflow and of a saga whose undo fails:
// completed, routed to review, failed, rolled back cleanly (its rows kept in history), rolled
// back with a failed undo, interrupted. Checks output shape (tables within 80 columns, one JSON
// object per line), exit codes, errors, that reading works while another process drives the
// runs (ARCHITECTURE D8), resume, cancel requests, purge, graphs, and that a DSN's password is
// never printed.
#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>
#include <pqxx/pqxx>
#include <sqlite3.h>

#include "cano/actor_api.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "order_workflow.hpp"
#include "support/command.hpp"
#include "support/headers.hpp"
#include "support/postgres.hpp"
#include "support/run_results.hpp"
#include "support/silent_listener.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

// -- running the tool -----------------------------------------------------------------------------

/// Runs `cano` with `args`; COLUMNS and CANO_STORE are unset unless `env` sets them.
command_result run_cano(const std::vector<std::string>& args,
                        std::vector<std::pair<std::string, std::string>> env = {}) {
  std::vector<std::string> argv{CANO_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, env, {"COLUMNS", "CANO_STORE"});
  BOOST_REQUIRE_MESSAGE(!r.timed_out, "cano did not finish: " << r.err);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

std::size_t columns(const std::string& line) {
  return static_cast<std::size_t>(
    std::count_if(line.begin(), line.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Every line of `text` fits `width` columns.
void fits(const std::string& text, std::size_t width = 80) {
  for (const auto& l : lines_of(text)) {
    BOOST_TEST(columns(l) <= width, "a line of " << columns(l) << " columns: " << l);
  }
}

/// The table row (a line of `text`) that starts with `id` followed by spaces.
std::string row_of(const std::string& text, const std::string& id) {
  for (const auto& l : lines_of(text)) {
    if (l.rfind(id + " ", 0) == 0) {
      return l;
    }
  }
  return "";
}

// -- the runs -------------------------------------------------------------------------------------

/// A saga step whose output is a JSON object (shown pretty-printed) and whose undo fails.
class booking : public cano::CompensatableTask<State, nlohmann::json> {
public:
  std::string name() const override { return "book-seats"; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<State>, nlohmann::json>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(State::Process),
                          nlohmann::json{{"booking", "b-17"}, {"seats", {12, 13}}, {"note", "aisle"}});
  }
  cano::expected<void> compensate(cano::task_context&, nlohmann::json) override {
    return cano::error::generic("the airline refused the cancellation");
  }
};

cano::Workflow<demo::Order> orders(std::shared_ptr<cano::CheckpointStore> store, std::shared_ptr<counter> entered,
                                   std::shared_ptr<gate> release) {
  return demo::order_workflow(
           0, [](const std::string&) {},
           [entered, release](const std::string& id) {
             if (id.rfind("order-hang", 0) == 0) { // held while shipping
               entered->arrive();
               release->wait();
             }
           })
    .with_checkpoint_store(std::move(store));
}

cano::Workflow<State> dirty_saga(std::shared_ptr<cano::CheckpointStore> store) {
  return cano::Workflow<State>{}
    .with_name("dirty-saga")
    .register_with_compensation(State::Start, std::make_shared<booking>())
    .register_task(
      State::Process, "pay", []() -> cano::expected<State> { return cano::error::task_execution("card declined"); },
      cano::TaskConfig::minimal())
    .add_exit_state(State::Done)
    .with_checkpoint_store(std::move(store));
}

const nlohmann::json full_order{{"sku", "KB-42"}, {"amount", 59.9}, {"address", "1 Main St"}};

/// Lets the clock pass the store's resolution (SQLite keeps milliseconds), so the next run starts
/// at a later time than the last one: "newest first" is then one order.
void next_tick() {
  auto until = std::chrono::system_clock::now() + 2ms;
  while (std::chrono::system_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
}

/// Fills `store` with one run of each kind; `hung` runs are left interrupted.
/// `while_driving` runs while the hung runs wait in Ship, their runtime alive.
void fill(const std::shared_ptr<cano::CheckpointStore>& store, const std::vector<std::string>& hung = {"order-hang"},
          const std::function<void()>& while_driving = {}) {
  auto entered = std::make_shared<counter>();
  auto release = std::make_shared<gate>();
  auto wf = orders(store, entered, release);
  {
    test_system ts;
    BOOST_REQUIRE(ts.rt->run(wf, demo::Order::Validate, {"order-ok", full_order}).has_value());
    next_tick();
    auto review = ts.rt->run(wf, demo::Order::Validate,
                             {"order-review", {{"sku", "TV-88"}, {"amount", 2499.0}, {"address", "2 Oak Ave"}}});
    BOOST_REQUIRE(review.has_value());
    next_tick();
    BOOST_REQUIRE(!ts.rt->run(wf, demo::Order::Validate, {"order-invalid", {{"sku", "??"}}}).has_value());
    next_tick();
    BOOST_REQUIRE(
      !ts.rt->run(wf, demo::Order::Validate, {"order-noaddr", {{"sku", "MS-7"}, {"amount", 19.5}}}).has_value());
    next_tick();
    BOOST_REQUIRE(!ts.rt->run(dirty_saga(store), State::Start, {"saga-dirty", {}}).has_value());
    next_tick();
  }
  {
    test_system ts;
    caf::scoped_actor self{*ts.sys};
    for (const auto& id : hung) {
      ts.rt->start(wf, demo::Order::Validate, {id, full_order}, caf::actor_cast<caf::actor>(self));
    }
    BOOST_REQUIRE(entered->wait_for_at_least(hung.size()));
    if (while_driving) {
      while_driving();
    }
    BOOST_TEST(!ts.rt->shutdown(10ms)); // dropped while shipping: interrupted, log kept
    BOOST_TEST(receive_results(self, hung.size()).size() == hung.size());
    release->open();
  }
}

// -- the stores -----------------------------------------------------------------------------------

/// A SQLite file with history retention, filled; the test process keeps it open (and, having
/// driven runs, holds its driver lock) until release().
struct sqlite_target {
  static constexpr const char* name = "sqlite";
  temp_dir dir;
  std::string path = dir.file("checkpoints.db");
  std::shared_ptr<cano::CheckpointStore> store;
  sqlite_target() {
    auto s = cano::SqliteCheckpointStore::open(path);
    BOOST_REQUIRE(s.has_value());
    (*s)->with_history_retention(std::chrono::hours(1));
    store = *s;
  }
  std::string spec() const { return "sqlite:" + path; }
  void release() { store.reset(); }
};

/// A PostgreSQL schema of its own with history retention, filled.
struct postgres_target {
  static constexpr const char* name = "postgres";
  std::string schema = unique_id("cano_cli");
  std::string dsn;
  std::shared_ptr<cano::CheckpointStore> store;
  postgres_target() {
    std::replace(schema.begin(), schema.end(), '-', '_');
    {
      pqxx::connection admin(pg_dsn());
      pqxx::nontransaction tx(admin);
      tx.exec("CREATE SCHEMA " + tx.quote_name(schema));
    }
    dsn = pg_dsn() + " options='-c search_path=" + schema + "'";
    cano::PostgresOptions options;
    options.dsn = dsn;
    auto s = cano::PostgresCheckpointStore::open(options);
    BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().to_string()));
    (*s)->with_history_retention(std::chrono::hours(1));
    store = *s;
  }
  ~postgres_target() {
    store.reset();
    try {
      pqxx::connection admin(pg_dsn());
      pqxx::nontransaction tx(admin);
      tx.exec("DROP SCHEMA " + tx.quote_name(schema) + " CASCADE");
    } catch (const std::exception&) {
      // a throwaway cluster: a schema left behind is harmless
    }
  }
  std::string spec() const { return "postgres:" + dsn; }
  void release() { store.reset(); }
};

struct target_available {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id id) const {
    if (std::string(CANO_CLI).empty()) {
      boost::test_tools::assertion_result r(false);
      r.message() << "the cano binary is not built (CANO_ACTOR_BUILD_APPS=OFF)";
      return r;
    }
    const auto& name = boost::unit_test::framework::get(id, boost::unit_test::TUT_ANY).p_name.get();
    return name.find("postgres") == std::string::npos ? boost::test_tools::assertion_result(true)
                                                      : postgres_configured()(id);
  }
};

using targets = boost::mpl::list<sqlite_target, postgres_target>;

#define FOR_EVERY_TARGET(name)                                                                                         \
  BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))                                            \
  BOOST_AUTO_TEST_CASE_TEMPLATE(name, Target, targets)

} // namespace

BOOST_AUTO_TEST_SUITE(cano_cli_test)

FOR_EVERY_TARGET(runs_list_shows_every_run_newest_first_in_80_columns_while_the_runs_are_driven) {
  Target t;
  // While a runtime of this process drives order-hang (SQLite: this process holds the driver
  // lock), the tool reads the store (D8).
  fill(t.store, {"order-hang"}, [&] {
    auto live = run_cano({"--store", t.spec(), "--json", "runs", "list", "--status", "running"});
    BOOST_TEST_REQUIRE(live.exit_code == 0, live.err);
    BOOST_REQUIRE(lines_of(live.out).size() == 1u);
    auto run = nlohmann::json::parse(live.out);
    BOOST_TEST(run.at("workflow_id") == "order-hang");
    BOOST_TEST(run.at("last_state") == "Ship");
    auto shown = run_cano({"--store", t.spec(), "runs", "show", "order-hang"});
    BOOST_TEST(shown.exit_code == 0, shown.err);
    BOOST_TEST(contains(shown.out, "Status      running\n"));
    BOOST_TEST(contains(shown.out, "History: 7 rows (live log)"));
  });
  auto r = run_cano({"--store", t.spec(), "runs", "list"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  fits(r.out);
  auto lines = lines_of(r.out);
  BOOST_REQUIRE(lines.size() == 7u);
  BOOST_TEST(lines[0] == "WORKFLOW ID    DEFINITION  STATUS       LAST STATE  ATT  STARTED (UTC)");
  // Newest first: the interrupted order was started last.
  BOOST_TEST(lines[1].rfind("order-hang ", 0) == 0);
  auto expect_row = [&](const std::string& id, const std::string& definition, const std::string& status,
                        const std::string& last, const std::string& attempts) {
    auto row = row_of(r.out, id);
    BOOST_TEST_REQUIRE(!row.empty(), id << " is not listed:\n" << r.out);
    std::istringstream cells(row);
    std::string got_id, got_def, got_status, got_last, got_attempts;
    cells >> got_id >> got_def >> got_status >> got_last >> got_attempts;
    BOOST_TEST(got_def == definition, id);
    BOOST_TEST(got_status == status, id);
    BOOST_TEST(got_last == last, id);
    BOOST_TEST(got_attempts == attempts, id);
  };
  expect_row("order-hang", "orders", "interrupted", "Ship", "1");
  expect_row("saga-dirty", "dirty-saga", "rolled_back", "Process", "1");
  expect_row("order-noaddr", "orders", "rolled_back", "Ship", "1");
  expect_row("order-invalid", "orders", "failed", "Validate", "1");
  expect_row("order-review", "orders", "completed", "Rejected", "1");
  expect_row("order-ok", "orders", "completed", "Done", "1");

  // --json: one object per line, each parses, same runs in the same order.
  auto j = run_cano({"--store", t.spec(), "--json", "runs", "list"});
  BOOST_TEST_REQUIRE(j.exit_code == 0, j.err);
  auto json_lines = lines_of(j.out);
  BOOST_REQUIRE(json_lines.size() == 6u);
  std::vector<std::string> ids;
  for (const auto& l : json_lines) {
    auto obj = nlohmann::json::parse(l);
    BOOST_REQUIRE(obj.is_object());
    ids.push_back(obj.at("workflow_id").template get<std::string>());
    for (const char* key : {"definition", "status", "last_state", "attempts", "created_at", "updated_at", "input",
                            "failure", "rollback"}) {
      BOOST_TEST(obj.contains(key), key << " missing in " << l);
    }
  }
  BOOST_TEST(ids == (std::vector<std::string>{"order-hang", "saga-dirty", "order-noaddr", "order-invalid",
                                              "order-review", "order-ok"}),
             boost::test_tools::per_element());
  auto dirty = nlohmann::json::parse(json_lines[1]);
  BOOST_TEST(dirty.at("failure").at("category") == "compensation_failed");

  // Filters, and a limit with its cursor on stderr.
  auto rolled = run_cano({"--store", t.spec(), "--json", "runs", "list", "--status", "rolled_back,interrupted"});
  BOOST_TEST_REQUIRE(rolled.exit_code == 0, rolled.err);
  BOOST_TEST(lines_of(rolled.out).size() == 3u);
  auto unfinished = run_cano({"--store", t.spec(), "--json", "runs", "list", "--status", "unfinished"});
  BOOST_TEST(lines_of(unfinished.out).size() == 1u);
  auto by_def = run_cano({"--store", t.spec(), "--json", "runs", "list", "--definition", "dirty-saga"});
  BOOST_TEST(lines_of(by_def.out).size() == 1u);
  auto recent = run_cano({"--store", t.spec(), "--json", "runs", "list", "--since", "1h"});
  BOOST_TEST(lines_of(recent.out).size() == 6u);
  auto future = run_cano({"--store", t.spec(), "runs", "list", "--since", "2200-01-01T00:00:00Z"});
  BOOST_TEST(future.exit_code == 0);
  BOOST_TEST(future.out == "No runs match.\n");
  auto page = run_cano({"--store", t.spec(), "--json", "runs", "list", "--limit", "4"});
  BOOST_TEST_REQUIRE(page.exit_code == 0, page.err);
  BOOST_TEST(lines_of(page.out).size() == 4u);
  auto hint = page.err.find("--cursor '");
  BOOST_REQUIRE_MESSAGE(hint != std::string::npos, "no cursor hint: " << page.err);
  auto start = hint + 10;
  auto cursor = page.err.substr(start, page.err.find('\'', start) - start);
  auto rest = run_cano({"--store", t.spec(), "--json", "runs", "list", "--limit", "4", "--cursor", cursor});
  BOOST_TEST_REQUIRE(rest.exit_code == 0, rest.err);
  BOOST_TEST(lines_of(rest.out).size() == 2u);
  BOOST_TEST(!contains(rest.err, "--cursor"));
}

FOR_EVERY_TARGET(runs_show_prints_the_header_failure_rollback_and_history) {
  Target t;
  fill(t.store);
  // A completed run with retention on: its rows come from the history.
  auto ok = run_cano({"--store", t.spec(), "runs", "show", "order-ok"});
  BOOST_TEST_REQUIRE(ok.exit_code == 0, ok.err);
  fits(ok.out);
  BOOST_TEST(contains(ok.out, "Run         order-ok\n"));
  BOOST_TEST(contains(ok.out, "Status      completed\n"));
  BOOST_TEST(contains(ok.out, "Final state Done\n"));
  BOOST_TEST(contains(ok.out, "History: 8 rows (moved to the store's history when the run finished)"));
  BOOST_TEST(contains(ok.out, "SEQ  KIND    STATE     TASK      VER  TIME (UTC)    BLOB\n"));
  auto reserve = row_of(ok.out, "  3");
  BOOST_TEST(contains(reserve, "output  Reserve   reserve     0"));
  BOOST_TEST(contains(reserve, "\"rsv-order-ok\""));
  BOOST_TEST(contains(ok.out, "  7  entry   Done      -"));

  // The saga whose undo failed: the failure with its nested errors, the rollback, the live log,
  // and its JSON output pretty-printed over several lines of the table.
  auto dirty = run_cano({"--store", t.spec(), "runs", "show", "saga-dirty"});
  BOOST_TEST_REQUIRE(dirty.exit_code == 0, dirty.err);
  fits(dirty.out);
  BOOST_TEST(contains(dirty.out, "Failure     compensation_failed: 1 undo failed\n"
                                 "              - task_execution: card declined (started the rollback)\n"
                                 "              - generic: the airline refused the cancellation\n"));
  BOOST_TEST(contains(dirty.out, "Rollback    1 of 1 steps undone: book-seats (row 1)\n"));
  BOOST_TEST(contains(dirty.out, "undo failed: generic: the airline refused the cancellation"));
  BOOST_TEST(contains(dirty.out, "History: 3 rows (live log)"));
  BOOST_TEST(contains(dirty.out, "{\n"));
  BOOST_TEST(contains(dirty.out, "  \"booking\": \"b-17\",\n"));
  BOOST_TEST(contains(dirty.out, "    12,\n"));

  // Narrower: still within the width asked for.
  auto narrow = run_cano({"--store", t.spec(), "--width", "50", "runs", "show", "order-ok"});
  BOOST_TEST(narrow.exit_code == 0);
  fits(narrow.out, 50);
  auto wide = run_cano({"--store", t.spec(), "runs", "show", "order-ok"}, {{"COLUMNS", "120"}});
  BOOST_TEST(wide.exit_code == 0);
  fits(wide.out, 120);

  // --json: one object, its history with the blobs as JSON.
  auto j = run_cano({"--store", t.spec(), "--json", "runs", "show", "saga-dirty"});
  BOOST_TEST_REQUIRE(j.exit_code == 0, j.err);
  BOOST_REQUIRE(lines_of(j.out).size() == 1u);
  auto obj = nlohmann::json::parse(j.out);
  BOOST_TEST(obj.at("status") == "rolled_back");
  BOOST_REQUIRE(obj.at("history").size() == 3u);
  BOOST_TEST(obj.at("history")[1].at("kind") == "output");
  BOOST_TEST(obj.at("history")[1].at("blob").at("seats")[1] == 13);
  BOOST_TEST(obj.at("history")[1].at("archived") == false);
  BOOST_TEST(obj.at("failure").at("nested").size() == 2u);

  // An unknown id: exit 3, named.
  auto none = run_cano({"--store", t.spec(), "runs", "show", "order-nope"});
  BOOST_TEST(none.exit_code == 3);
  BOOST_TEST(contains(none.err, "no run with workflow id \"order-nope\""));
  BOOST_TEST(none.out.empty());
}

FOR_EVERY_TARGET(runs_resume_drives_an_interrupted_order_and_refuses_what_it_cannot_resume) {
  Target t;
  fill(t.store);
  auto resume = [&](const std::string& id, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"--store", t.spec(), "runs", "resume", id};
    args.insert(args.end(), more.begin(), more.end());
    return run_cano(args);
  };
  auto finished = resume("order-ok");
  BOOST_TEST(finished.exit_code == 4);
  BOOST_TEST(contains(finished.err, "run \"order-ok\" already completed (in state Done)"));
  auto rolled = resume("order-noaddr");
  BOOST_TEST(rolled.exit_code == 4);
  BOOST_TEST(contains(rolled.err, "was rolled back"));
  auto foreign = resume("saga-dirty");
  BOOST_TEST(foreign.exit_code == 4);
  BOOST_TEST(contains(foreign.err, "is of definition \"dirty-saga\" (version 0), which this binary does not have"));
  BOOST_TEST(contains(foreign.err, "orders (version 0)"));
  auto unknown = resume("order-nope");
  BOOST_TEST(unknown.exit_code == 3);

  if (std::string(Target::name) == "sqlite") {
    // This process still drives the file's runs: the tool may read, not drive (D8).
    auto locked = resume("order-hang");
    BOOST_TEST(locked.exit_code == 1);
    BOOST_TEST(contains(locked.err, "another process drives the runs of"), locked.err);
    auto still = run_cano({"--store", t.spec(), "--json", "runs", "show", "order-hang"});
    BOOST_TEST(nlohmann::json::parse(still.out).at("status") == "interrupted");
    t.release();
  }
  auto done = resume("order-hang");
  BOOST_TEST_REQUIRE(done.exit_code == 0, done.out << done.err);
  BOOST_TEST(contains(done.out, "shipped to 1 Main St"));
  BOOST_TEST(contains(done.out, "Run \"order-hang\" completed in state Done.\n"));
  auto after = run_cano({"--store", t.spec(), "--json", "runs", "show", "order-hang"});
  auto obj = nlohmann::json::parse(after.out);
  BOOST_TEST(obj.at("status") == "completed");
  BOOST_TEST(obj.at("attempts") == 2);
  BOOST_TEST(obj.at("last_state") == "Done");

  // A failed run keeps its log and may be resumed by hand: it fails again the same way (exit 5).
  auto again = run_cano({"--store", t.spec(), "--json", "runs", "resume", "order-invalid"});
  BOOST_TEST(again.exit_code == 5);
  BOOST_TEST(contains(again.err, "ended failed"));
  BOOST_TEST(contains(again.err, "order has no positive amount"));
  auto failed = nlohmann::json::parse(again.out);
  BOOST_TEST(failed.at("failure").at("message") == "order has no positive amount");
}

FOR_EVERY_TARGET(runs_cancel_asks_the_driver_of_a_live_run_and_a_resume_honours_it) {
  Target t;
  fill(t.store); // order-hang is left interrupted, the other runs have ended
  auto cancel = [&](const std::string& id, std::vector<std::string> more = {}) {
    std::vector<std::string> args{"--store", t.spec(), "runs", "cancel", id};
    args.insert(args.end(), more.begin(), more.end());
    return run_cano(args);
  };
  auto ended = cancel("order-ok");
  BOOST_TEST(ended.exit_code == 6);
  BOOST_TEST(contains(ended.err, "run \"order-ok\" already ended (status completed); there is "
                                 "nothing to cancel"),
             ended.err);
  auto ended_json = run_cano({"--store", t.spec(), "--json", "runs", "cancel", "order-ok"});
  BOOST_TEST(ended_json.exit_code == 6);
  auto ended_shown = nlohmann::json::parse(ended_json.out, nullptr, false);
  BOOST_TEST(
    (ended_shown.is_object() && ended_shown["status"] == "completed" && ended_shown["workflow_id"] == "order-ok"),
    ended_json.out);
  auto unknown = cancel("order-nope");
  BOOST_TEST(unknown.exit_code == 3);
  BOOST_TEST(contains(unknown.err, "no run with workflow id \"order-nope\""), unknown.err);
  auto bad = cancel("order-hang", {"--wait", "soon"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, "--wait: \"soon\" is not a duration"), bad.err);
  auto empty_wait = cancel("order-hang", {"--wait", ""});
  BOOST_TEST(empty_wait.exit_code == 2);
  BOOST_TEST(contains(empty_wait.err, "--wait: an empty duration"), empty_wait.err);

  // A run this process drives, held in Ship: the tool asks from another process, through the
  // store only; the driver picks the request up, drops Ship (a plain task) and undoes Charge and
  // Reserve. The tool waits for the end and says how the run ended.
  {
    auto entered = std::make_shared<counter>();
    auto release = std::make_shared<gate>();
    auto wf = orders(t.store, entered, release);
    test_system ts;
    caf::scoped_actor self{*ts.sys};
    ts.rt->start(wf, demo::Order::Validate, {"order-hang-live", full_order}, caf::actor_cast<caf::actor>(self));
    BOOST_REQUIRE(entered->wait_for_at_least(1));
    auto asked = cancel("order-hang-live", {"--wait", "2m"});
    BOOST_TEST_REQUIRE(asked.exit_code == 0, asked.out << asked.err);
    BOOST_TEST(contains(asked.out, "Run \"order-hang-live\" ended rolled_back:\n"
                                   "  cancelled: workflow cancelled\n"),
               asked.out);
    auto results = receive_results(self, 1);
    BOOST_REQUIRE(results.size() == 1u);
    BOOST_REQUIRE(results[0].failure.has_value());
    BOOST_TEST(results[0].failure->to_string() == "Workflow cancelled");
    release->open();
  }
  auto live = nlohmann::json::parse(run_cano({"--store", t.spec(), "--json", "runs", "show", "order-hang-live"}).out);
  BOOST_TEST(live.at("status") == "rolled_back");
  BOOST_TEST(live.contains("cancel_requested_at"));
  BOOST_TEST(live.at("rollback").at("undone") == 2);

  // A run nobody drives: the request waits in its header, and the next resume cancels it at its
  // first state (Ship does not run again).
  if (std::string(Target::name) == "sqlite") {
    t.release(); // this process drove the file's runs: let the tool's resume drive them
  }
  auto idle = cancel("order-hang", {});
  BOOST_TEST_REQUIRE(idle.exit_code == 0, idle.err);
  BOOST_TEST(contains(idle.out, "(status interrupted): nobody drives it now"), idle.out);
  auto again = run_cano({"--store", t.spec(), "--json", "runs", "cancel", "order-hang"});
  BOOST_TEST(again.exit_code == 0); // idempotent: the first request's time stays
  auto requested = nlohmann::json::parse(again.out);
  BOOST_TEST(requested.at("status") == "interrupted");
  auto shown = run_cano({"--store", t.spec(), "runs", "show", "order-hang"});
  BOOST_TEST(contains(shown.out, "Cancel      requested "), shown.out);
  BOOST_TEST(contains(shown.out, requested.at("cancel_requested_at").template get<std::string>().substr(0, 10)));
  auto resumed = run_cano({"--store", t.spec(), "runs", "resume", "order-hang"});
  BOOST_TEST(resumed.exit_code == 5, resumed.out << resumed.err);
  BOOST_TEST(contains(resumed.err, "ended rolled_back"), resumed.err);
  BOOST_TEST(contains(resumed.err, "cancelled: workflow cancelled"), resumed.err);
  BOOST_TEST(!contains(resumed.out, "shipped to"));
  auto late = cancel("order-hang", {"--wait", "1s"});
  BOOST_TEST(late.exit_code == 6);
}

FOR_EVERY_TARGET(runs_purge_removes_old_finished_runs_and_keeps_unfinished_ones) {
  Target t;
  fill(t.store);
  auto young = run_cano({"--store", t.spec(), "--json", "runs", "purge", "--older-than", "1h"});
  BOOST_TEST_REQUIRE(young.exit_code == 0, young.err);
  BOOST_TEST(nlohmann::json::parse(young.out).at("purged_runs") == 0);
  auto all = run_cano({"--store", t.spec(), "runs", "purge", "--older-than", "0s"});
  BOOST_TEST_REQUIRE(all.exit_code == 0, all.err);
  BOOST_TEST(contains(all.out, "Purged 5 runs ("), all.out);
  auto left = run_cano({"--store", t.spec(), "--json", "runs", "list"});
  BOOST_REQUIRE(lines_of(left.out).size() == 1u);
  BOOST_TEST(nlohmann::json::parse(left.out).at("status") == "interrupted");
  auto gone = run_cano({"--store", t.spec(), "runs", "show", "order-ok"});
  BOOST_TEST(gone.exit_code == 3);
  auto bad = run_cano({"--store", t.spec(), "runs", "purge", "--older-than", "soon"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, "\"soon\" is not a duration"));
}

FOR_EVERY_TARGET(bad_arguments_exit_2_with_a_message_naming_them) {
  Target t;
  auto status = run_cano({"--store", t.spec(), "runs", "list", "--status", "stuck"});
  BOOST_TEST(status.exit_code == 2);
  BOOST_TEST(contains(status.err, "\"stuck\" is not a status"));
  auto since = run_cano({"--store", t.spec(), "runs", "list", "--since", "yesterday"});
  BOOST_TEST(since.exit_code == 2);
  BOOST_TEST(contains(since.err, "--since: \"yesterday\" is not a time"));
  auto far = run_cano({"--store", t.spec(), "runs", "list", "--until", "2999-01-01"});
  BOOST_TEST(far.exit_code == 2);
  BOOST_TEST(contains(far.err, "--until: \"2999-01-01\" is out of the range"));
  auto no_command = run_cano({"--store", t.spec(), "runs"});
  BOOST_TEST(no_command.exit_code == 2);
  BOOST_TEST(contains(no_command.err, "name a command: runs list, show, resume, cancel or purge"));
  auto cursor = run_cano({"--store", t.spec(), "runs", "list", "--cursor", "page-2"});
  BOOST_TEST(cursor.exit_code == 2);
  BOOST_TEST(contains(cursor.err, "\"page-2\" is not a cursor"));
  auto limit = run_cano({"--store", t.spec(), "runs", "list", "--limit", "0"});
  BOOST_TEST(limit.exit_code == 2);
  BOOST_TEST(contains(limit.err, "--limit"));
  auto missing = run_cano({"--store", t.spec(), "runs", "show"});
  BOOST_TEST(missing.exit_code == 2);
  BOOST_TEST(contains(missing.err, "id is required"));
  // CANO_STORE stands in for --store.
  auto env = run_cano({"runs", "list"}, {{"CANO_STORE", t.spec()}});
  BOOST_TEST(env.exit_code == 0, env.err);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(an_unreadable_header_is_listed_by_id_with_why_and_left_alone) {
  sqlite_target t;
  fill(t.store);
  t.release();
  {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(t.path.c_str(), &db) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_exec(db, "UPDATE cano_runs SET status = 'sideways' WHERE workflow_id = 'order-review'",
                               nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto r = run_cano({"--store", t.spec(), "runs", "list"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(row_of(r.out, "order-review"), "unreadable"));
  BOOST_TEST(lines_of(r.out).size() == 7u); // the other runs are all there
  BOOST_TEST(contains(r.err, "the header of run \"order-review\" cannot be read"));
  BOOST_TEST(contains(r.err, "unknown status \"sideways\""));
  auto j = run_cano({"--store", t.spec(), "--json", "runs", "list"});
  bool reported = false;
  for (const auto& l : lines_of(j.out)) {
    auto obj = nlohmann::json::parse(l);
    reported = reported || (obj.at("workflow_id") == "order-review" && obj.contains("unreadable"));
  }
  BOOST_TEST(reported);
  auto show = run_cano({"--store", t.spec(), "runs", "show", "order-review"});
  BOOST_TEST(show.exit_code == 1);
  BOOST_TEST(contains(show.err, "unknown status \"sideways\""));
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(store_errors_name_the_store_and_exit_1_or_2) {
  auto no_store = run_cano({"runs", "list"});
  BOOST_TEST(no_store.exit_code == 2);
  BOOST_TEST(contains(no_store.err, "no store: pass --store"));
  auto kind = run_cano({"--store", "mysql:password=hunter2", "runs", "list"});
  BOOST_TEST(kind.exit_code == 2);
  BOOST_TEST(contains(kind.err, "unknown kind of store \"mysql\""));
  BOOST_TEST(!contains(kind.err, "hunter2"));
  temp_dir dir;
  auto typo = run_cano({"--store", "sqlite:" + dir.file("typo.db"), "runs", "list"});
  BOOST_TEST(typo.exit_code == 1);
  BOOST_TEST(contains(typo.err, "cannot open the store sqlite:" + dir.file("typo.db")));
  BOOST_TEST(contains(typo.err, "no such store"));
  BOOST_TEST(!std::ifstream(dir.file("typo.db")).good()); // nothing created
  auto not_db = dir.file("notes.txt");
  std::ofstream(not_db) << "not a database\n";
  auto garbage = run_cano({"--store", "sqlite:" + not_db, "runs", "list"});
  BOOST_TEST(garbage.exit_code == 1);
  BOOST_TEST(contains(garbage.err, "cannot open the store"));
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()) *
                     boost::unit_test::precondition(postgres_configured()))
BOOST_AUTO_TEST_CASE(a_postgres_password_is_never_printed) {
  const std::string password = env_or_empty("CANO_PG_AUTH_PASSWORD");
  const std::string auth_dsn = env_or_empty("CANO_PG_AUTH_DSN");
  BOOST_REQUIRE_MESSAGE(!password.empty() && !auth_dsn.empty(),
                        "CANO_PG_AUTH_DSN / CANO_PG_AUTH_PASSWORD are not set (scripts/test.sh sets them)");
  auto never = [&](const command_result& r, const std::string& what) {
    BOOST_TEST(!contains(r.out, password), what << " printed the password on stdout");
    BOOST_TEST(!contains(r.err, password), what << " printed the password on stderr: " << r.err);
  };
  {
    // Reading never creates the schema: a writer does (as an application would).
    cano::PostgresOptions options;
    options.dsn = auth_dsn + " password=" + password;
    auto writer = cano::PostgresCheckpointStore::open(options);
    BOOST_REQUIRE_MESSAGE(writer.has_value(), (writer ? "" : writer.error().to_string()));
  }
  // The right password: it works, and says nothing of it.
  auto ok = run_cano({"--store", "postgres:" + auth_dsn + " password=" + password, "runs", "list"});
  BOOST_TEST(ok.exit_code == 0, ok.err);
  never(ok, "a listing");
  auto show = run_cano({"--store", "postgres:" + auth_dsn + " password=" + password, "runs", "show", "nope"});
  BOOST_TEST(show.exit_code == 3);
  BOOST_TEST(contains(show.err, "password=***"));
  never(show, "an unknown id");
  // A wrong password, an unreachable server (key/value and URI forms), a quoted password.
  auto wrong = run_cano({"--store", "postgres:" + auth_dsn + " password=" + password + "-wrong", "runs", "list"});
  BOOST_TEST(wrong.exit_code == 1);
  BOOST_TEST(contains(wrong.err, "cannot open the store"));
  never(wrong, "a wrong password");
  auto closed =
    run_cano({"--store", "postgres:host=127.0.0.1 port=1 user=cano_auth password=" + password, "runs", "list"});
  BOOST_TEST(closed.exit_code == 1);
  BOOST_TEST(contains(closed.err, "password=***"));
  never(closed, "an unreachable server");
  auto uri = run_cano({"--store", "postgresql://cano_auth:" + password + "@127.0.0.1:1/cano_auth", "runs", "list"});
  BOOST_TEST(uri.exit_code == 1);
  never(uri, "a URI");
  auto quoted =
    run_cano({"--store", "postgres:host=127.0.0.1 port=1 password='" + password + "'", "runs", "show", "x"});
  BOOST_TEST(quoted.exit_code == 1);
  never(quoted, "a quoted password");
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(listed_ids_are_never_cut_and_control_characters_are_quoted) {
  sqlite_target t;
  const std::string long_id = "order-" + std::string(90, 'x') + "-end";
  const std::string odd_id = "line\nbreak\x1b";
  auto now = std::chrono::system_clock::now();
  BOOST_REQUIRE(t.store->put_run_header(make_header(long_id, "orders", 0, nullptr, cano::RunStatus::completed, now)));
  BOOST_REQUIRE(t.store->put_run_header(make_header(odd_id, "orders", 0, nullptr, cano::RunStatus::completed, now)));
  t.release();
  auto list = run_cano({"--store", t.spec(), "runs", "list"}); // stdout is a pipe
  BOOST_TEST(list.exit_code == 0, list.err);
  BOOST_TEST(contains(list.out, long_id), list.out);
  BOOST_TEST(contains(list.out, "\"line\\nbreak\\u{1b}\""), list.out);
  BOOST_TEST(!contains(list.out, "line break"), list.out);
  auto narrow = run_cano({"--store", t.spec(), "--width", "40", "runs", "list"});
  BOOST_TEST(contains(narrow.out, long_id), narrow.out); // the other columns shrink, the id stays
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(the_store_address_in_an_error_hides_every_spelling_of_the_password) {
  // Nothing listens on port 1: each open fails and the message names the store.
  auto escaped =
    run_cano({"--store", "postgres:host=127.0.0.1 port=1 user=u dbname=d password='SECRET\\'Q5'", "runs", "list"});
  BOOST_TEST(escaped.exit_code == 1);
  BOOST_TEST(contains(escaped.err, "cannot open the store postgres:host=127.0.0.1 port=1"), escaped.err);
  BOOST_TEST(contains(escaped.err, "password=***"), escaped.err);
  BOOST_TEST(!contains(escaped.err, "SECRET"), escaped.err);
  BOOST_TEST(!contains(escaped.err, "Q5"), escaped.err);
  auto query =
    run_cano({"--store", "postgres://u:SECRETQ7@127.0.0.1:1/d?password=SECRETQ8&sslmode=disable", "runs", "list"});
  BOOST_TEST(query.exit_code == 1);
  BOOST_TEST(contains(query.err, "cannot open the store postgres://u:***@127.0.0.1:1/d?password=***&sslmode=disable"),
             query.err);
  BOOST_TEST(!contains(query.err, "SECRETQ"), query.err);
  // An unknown option is named; only the password is hidden.
  auto bogus = run_cano({"--store", "postgres:host=127.0.0.1 port=1 bogusopt=1 password=SECRETQ9", "runs", "list"});
  BOOST_TEST(bogus.exit_code == 1);
  BOOST_TEST(contains(bogus.err, "invalid connection option \"bogusopt\""), bogus.err);
  BOOST_TEST(!contains(bogus.err, "SECRETQ9"), bogus.err);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(a_database_that_never_answers_fails_the_command_instead_of_hanging) {
  silent_listener db;
  BOOST_REQUIRE(db.port() != 0);
  auto start = std::chrono::steady_clock::now();
  auto r = run_cano({"--store", "postgres:host=127.0.0.1 port=" + db.port_text() + " user=u dbname=d", "runs", "list"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "timeout expired"), r.err);
  BOOST_CHECK(std::chrono::steady_clock::now() - start < 90s);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()) *
                     boost::unit_test::precondition(postgres_configured()))
BOOST_AUTO_TEST_CASE(reading_a_postgres_store_needs_only_select_rights_and_creates_nothing) {
  postgres_target t;
  fill(t.store);
  auto reader = "cano_reader_" + t.schema.substr(9);
  pqxx::connection admin(pg_dsn());
  auto sql = [&](const std::string& text) {
    pqxx::nontransaction tx(admin);
    return tx.exec(text);
  };
  sql("CREATE ROLE " + reader + " LOGIN");
  sql("GRANT USAGE ON SCHEMA " + t.schema + " TO " + reader);
  sql("GRANT SELECT ON ALL TABLES IN SCHEMA " + t.schema + " TO " + reader);
  auto as_reader = "postgres:" + t.dsn + " user=" + reader;
  auto list = run_cano({"--store", as_reader, "--json", "runs", "list"});
  BOOST_TEST(list.exit_code == 0, list.err);
  BOOST_TEST(contains(list.out, "order-ok"), list.out);
  auto show = run_cano({"--store", as_reader, "runs", "show", "order-ok"});
  BOOST_TEST(show.exit_code == 0, show.err);
  BOOST_TEST(sql("SELECT count(*) FROM " + t.schema + ".cano_owners WHERE owner LIKE 'store-%'")[0][0].as<int>() == 1);

  // A schema with no cano tables: said so, and left empty (by the administrator, too).
  auto empty = t.schema + "_empty";
  sql("CREATE SCHEMA " + empty);
  auto in_empty = "postgres:" + pg_dsn() + " options='-c search_path=" + empty + "'";
  for (const auto& command : std::vector<std::vector<std::string>>{{"runs", "list"}, {"runs", "show", "x"}}) {
    std::vector<std::string> args{"--store", in_empty};
    args.insert(args.end(), command.begin(), command.end());
    auto r = run_cano(args);
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(contains(r.err, "no cano schema in this database (nothing has run here)"), r.err);
  }
  BOOST_TEST(sql("SELECT count(*) FROM pg_tables WHERE schemaname = '" + empty + "'")[0][0].as<int>() == 0);

  // An older schema is read when it has what reading uses (migrations 5 and 6 only add the cluster's
  // tables, 7 the cancel requests' column, read as none without it); one older still names the
  // migration it lacks.
  sql("DELETE FROM " + t.schema + ".cano_schema_migrations WHERE version >= 5");
  sql("ALTER TABLE " + t.schema + ".cano_runs DROP COLUMN cancel_requested_at");
  auto older = run_cano({"--store", as_reader, "runs", "show", "order-ok"});
  BOOST_TEST(older.exit_code == 0, older.err);
  sql("DELETE FROM " + t.schema + ".cano_schema_migrations WHERE version >= 4");
  auto too_old = run_cano({"--store", as_reader, "runs", "list"});
  BOOST_TEST(too_old.exit_code == 1);
  BOOST_TEST(contains(too_old.err, "migration 4 is missing"), too_old.err);
  sql("DROP SCHEMA " + empty);
  sql("DROP OWNED BY " + reader);
  sql("DROP ROLE " + reader);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(reading_a_sqlite_store_writes_nothing_to_the_file) {
  temp_dir dir;
  auto blank = dir.file("blank.db");
  std::ofstream(blank).close(); // an existing file without a schema
  auto r = run_cano({"--store", "sqlite:" + blank, "runs", "list"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.err, "no cano schema in this file (nothing has run here)"), r.err);
  std::ifstream in(blank, std::ios::binary | std::ios::ate);
  BOOST_TEST(static_cast<long>(in.tellg()) == 0); // still empty: no schema, no WAL switch

  sqlite_target t;
  t.release();
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(t.path.c_str(), &db) == SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 2", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto older = run_cano({"--store", t.spec(), "runs", "show", "x"});
  BOOST_TEST(older.exit_code == 1);
  BOOST_TEST(contains(older.err, "migration 3 is missing"), older.err);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()) *
                     boost::unit_test::precondition(postgres_configured()))
BOOST_AUTO_TEST_CASE(a_postgres_run_still_marked_running_is_resumed_only_with_force) {
  postgres_target t;
  fill(t.store, {"order-hang", "order-hang-2"});
  auto h = t.store->run_header("order-hang-2");
  BOOST_REQUIRE(h.has_value() && h->has_value());
  auto running = **h;
  running.status = cano::RunStatus::running; // as a live driver's header looks
  BOOST_REQUIRE(t.store->put_run_header(running).has_value());
  auto refused = run_cano({"--store", t.spec(), "runs", "resume", "order-hang-2"});
  BOOST_TEST(refused.exit_code == 4);
  BOOST_TEST(contains(refused.err, "is running"));
  BOOST_TEST(contains(refused.err, "--force"));
  auto forced = run_cano({"--store", t.spec(), "runs", "resume", "order-hang-2", "--force"});
  BOOST_TEST(forced.exit_code == 0, forced.err);
  BOOST_TEST(contains(forced.out, "completed in state Done"));
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(graph_prints_the_demo_workflow_as_dot_mermaid_and_svg) {
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  auto dot = run_cano({"graph", "orders", "--format", "dot"});
  BOOST_TEST(dot.exit_code == 0);
  BOOST_TEST(dot.out == read(CANO_TEST_EXPECTED_DIR "/orders.dot"));
  auto plain = run_cano({"graph", "orders"});
  BOOST_TEST(plain.out == dot.out); // dot is the default
  auto mermaid = run_cano({"graph", "orders", "--format", "mermaid"});
  BOOST_TEST(mermaid.exit_code == 0);
  BOOST_TEST(mermaid.out == read(CANO_TEST_EXPECTED_DIR "/orders.mmd"));
  auto svg = run_cano({"graph", "orders", "--format", "svg"});
  BOOST_TEST_REQUIRE(svg.exit_code == 0, svg.err);
  BOOST_TEST(contains(svg.out, "<svg"));
  BOOST_TEST(contains(svg.out, "Reserve"));
  BOOST_TEST(contains(svg.out, "join Quorum(2) of 3, timeout 2s"));
  temp_dir dir;
  auto to_file = run_cano({"graph", "orders", "--format", "svg", "-o", dir.file("orders.svg")});
  BOOST_TEST(to_file.exit_code == 0);
  BOOST_TEST(read(dir.file("orders.svg")) == svg.out);
  // Without Graphviz: a clear message, exit 1.
  auto no_dot = run_cano({"graph", "orders", "--format", "svg"}, {{"PATH", dir.path()}});
  BOOST_TEST(no_dot.exit_code == 1);
  BOOST_TEST(contains(no_dot.err, "Graphviz is not installed"));
  BOOST_TEST(no_dot.out.empty());
  auto unknown = run_cano({"graph", "invoices"});
  BOOST_TEST(unknown.exit_code == 3);
  BOOST_TEST(contains(unknown.err, "no definition \"invoices\" in this binary; it has orders (version 0)"));
  auto format = run_cano({"graph", "orders", "--format", "png"});
  BOOST_TEST(format.exit_code == 2);
  BOOST_TEST(contains(format.err, "png"));
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(target_available()))
BOOST_AUTO_TEST_CASE(help_lists_the_commands_and_exit_codes_and_version_prints_it) {
  auto help = run_cano({"--help"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(contains(help.out, "runs"));
  BOOST_TEST(contains(help.out, "graph"));
  BOOST_TEST(contains(help.out, "Exit codes:\n  0  done"));
  BOOST_TEST(contains(help.out, "3  no run with that workflow id"));
  auto list_help = run_cano({"runs", "list", "--help"});
  BOOST_TEST(list_help.exit_code == 0);
  BOOST_TEST(contains(list_help.out, "--status"));
  BOOST_TEST(contains(list_help.out, "Exit codes:"));
  auto version = run_cano({"--version"});
  BOOST_TEST(version.exit_code == 0);
  BOOST_TEST(version.out.rfind("cano ", 0) == 0);
  auto bogus = run_cano({"--bogus"});
  BOOST_TEST(bogus.exit_code == 2);
  BOOST_TEST(contains(bogus.err, "--bogus"));
}

BOOST_AUTO_TEST_SUITE_END()
