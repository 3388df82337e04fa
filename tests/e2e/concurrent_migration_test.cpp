// Eight processes opening one new database at the same moment apply each migration exactly
// once, for both stores (the store migrates on open).
#include <algorithm>
#include <vector>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <memory>
#include <pqxx/pqxx>
#include <sqlite3.h>
#include <stdlib.h>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "child_process.hpp"
#include "support/postgres.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;

namespace {

/// Starts eight openers back to back and returns how many succeeded.
int eight_openers(const std::string& kind, const std::string& where) {
  std::vector<std::unique_ptr<child_process>> children;
  for (int i = 0; i < 8; ++i) {
    children.push_back(
      std::make_unique<child_process>(std::vector<std::string>{CANO_CRASH_WORKER, kind, where, "open"}));
  }
  int ok = 0;
  for (auto& c : children) {
    auto l = c->read_line(60s);
    auto status = c->wait_exit();
    ok += (l && *l == "OPENED" && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 1 : 0;
  }
  return ok;
}

} // namespace

BOOST_AUTO_TEST_SUITE(concurrent_migration_test)

BOOST_AUTO_TEST_CASE(eight_processes_migrate_a_new_sqlite_file_once) {
  char tmpl[] = "/tmp/cano-mig.XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto file = dir + "/new.db";
  BOOST_TEST(eight_openers("sqlite", file) == 8);
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  BOOST_TEST(sqlite3_column_int(st, 0) == cano::SqliteCheckpointStore::schema_version);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'cano_checkpoints'", -1, &st, nullptr);
  BOOST_REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  BOOST_TEST(sqlite3_column_int(st, 0) == 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::system(("rm -rf '" + dir + "'").c_str());
}

BOOST_AUTO_TEST_CASE(eight_processes_migrate_a_new_postgres_database_once,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto db = unique_id("cano_mig_proc");
  std::replace(db.begin(), db.end(), '-', '_');
  {
    pqxx::connection admin(pg_dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + tx.quote_name(db));
  }
  auto dsn = pg_dsn() + " dbname=" + db;
  BOOST_TEST(eight_openers("postgres", dsn) == 8);
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    auto migrations = (*cano::PostgresCheckpointStore::open({dsn}))->schema_version();
    BOOST_TEST(tx.exec("SELECT count(*) FROM cano_schema_migrations")[0][0].as<int>() == migrations);
    BOOST_TEST(tx.exec("SELECT count(DISTINCT version) FROM cano_schema_migrations")[0][0].as<int>() == migrations);
  }
  pqxx::connection admin(pg_dsn());
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE " + tx.quote_name(db));
}

BOOST_AUTO_TEST_SUITE_END()
