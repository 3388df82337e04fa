// Migrations only add (ARCHITECTURE D10): a store written by the first milestone's schema — SQLite
// version 1, PostgreSQL migrations 1 and 2, headers without results or owners — opens under this
// version, is migrated in place, and its unfinished runs resume to their end.
#include <algorithm>
#include <fstream>
#include <sstream>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

std::string migration(const std::string& store, const std::string& file) {
  std::ifstream in(std::string(CANO_SOURCE_DIR) + "/stores/" + store + "/migrations/" + file);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) {
    throw std::runtime_error("cannot read migration " + file);
  }
  return text.str();
}

cano::Workflow<State> upgraded(std::shared_ptr<cano::CheckpointStore> store) {
  return cano::Workflow<State>{}
    .with_name("legacy")
    .register_task(State::Start, "start", [] { return State::Process; })
    .register_task(State::Process, "process", [] { return State::Complete; })
    .add_exit_state(State::Complete)
    .with_checkpoint_store(std::move(store))
    .with_timeout(std::chrono::seconds(60));
}

void resumes_to_its_end(const std::shared_ptr<cano::CheckpointStore>& store, const std::string& id) {
  test_system ts;
  auto results = ts.rt->resume_all(std::vector<cano::Workflow<State>>{upgraded(store)});
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results[0].first == id);
  BOOST_REQUIRE_MESSAGE(results[0].second.has_value(),
                        (results[0].second ? "" : results[0].second.error().to_string()));
  BOOST_TEST(*results[0].second == State::Complete);
  auto h = store->run_header(id);
  BOOST_REQUIRE(h.has_value() && h->has_value());
  BOOST_TEST(to_string((*h)->status) == std::string("completed"));
  BOOST_TEST((*h)->final_state == "Complete");
  BOOST_TEST((*h)->input == (nlohmann::json{{"sku", "KB-42"}}));
  BOOST_TEST(store->load_run(id)->empty());
}

} // namespace

BOOST_AUTO_TEST_SUITE(schema_upgrade_test)

BOOST_AUTO_TEST_CASE(a_sqlite_file_of_schema_version_1_opens_and_its_runs_resume) {
  temp_dir dir;
  auto path = dir.file("old.db");
  {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    auto script = "PRAGMA journal_mode = WAL;" + migration("sqlite", "0001_checkpoints_and_runs.sql") +
                  "PRAGMA user_version = 1;"
                  "INSERT INTO cano_checkpoints VALUES ('old-1', 0, 'Start', 'start', NULL, 0, 0, 1700000000000, 't0');"
                  "INSERT INTO cano_runs VALUES ('old-1', 'legacy', 0, '{\"sku\":\"KB-42\"}', 'running', "
                  "1700000000000, 1700000000000);";
    char* message = nullptr;
    BOOST_REQUIRE_MESSAGE(sqlite3_exec(db, script.c_str(), nullptr, nullptr, &message) == SQLITE_OK,
                          (message ? message : ""));
    sqlite3_close(db);
  }
  auto store = cano::SqliteCheckpointStore::open(path);
  BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().to_string()));
  resumes_to_its_end(*store, "old-1");
}

BOOST_AUTO_TEST_CASE(a_postgres_database_of_migration_2_opens_and_its_runs_resume,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto db = unique_id("cano_old");
  std::replace(db.begin(), db.end(), '-', '_');
  {
    pqxx::connection admin(pg_dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + tx.quote_name(db));
  }
  auto dsn = pg_dsn() + " dbname=" + db;
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    tx.exec("CREATE TABLE cano_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL "
            "DEFAULT now())");
    tx.exec(migration("postgres", "0001_checkpoints_and_runs.sql"));
    tx.exec(migration("postgres", "0002_queue_vacuum.sql"));
    tx.exec("INSERT INTO cano_schema_migrations (version) VALUES (1), (2)");
    tx.exec(
      "INSERT INTO cano_checkpoints (workflow_id, sequence, state, task_id, kind, workflow_version, append_token) "
      "VALUES ('old-1', 0, 'Start', 'start', 0, 0, 't0')");
    tx.exec("INSERT INTO cano_runs VALUES ('old-1', 'legacy', 0, '{\"sku\": \"KB-42\"}', 'running', now(), now())");
    tx.commit();
  }
  {
    cano::PostgresOptions options;
    options.dsn = dsn;
    auto store = cano::PostgresCheckpointStore::open(options);
    BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().to_string()));
    BOOST_TEST((*store)->schema_version() >= 3);
    resumes_to_its_end(*store, "old-1");
  }
  pqxx::connection admin(pg_dsn());
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE " + tx.quote_name(db) + " WITH (FORCE)");
}

BOOST_AUTO_TEST_SUITE_END()
