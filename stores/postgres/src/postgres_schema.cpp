#include "postgres_schema.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace cano::detail {

namespace postgres {
/// Migration n is [n - 1]; defined in the file generated from stores/postgres/migrations/*.sql
/// (never edit an applied migration: add a new one).
const std::vector<const char*>& migrations();
} // namespace postgres

namespace {

constexpr long long migration_lock_key = 0x63616e6f5f6d6967; // "cano_mig"

/// The oldest schema a reader can use: headers read owner and fence (3) and last_state, and logs
/// read the history table (4). Migrations 5 and 6 add only the cluster's tables (membership, flows).
constexpr int reader_minimum_version = 4;

} // namespace

int apply_postgres_migrations(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
  // Only DDL when something is missing: an application role without CREATE rights can use a
  // schema an administrator migrated.
  if (tx.exec("SELECT to_regclass('cano_schema_migrations') IS NULL")[0][0].as<bool>()) {
    tx.exec("CREATE TABLE cano_schema_migrations ("
            "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
  }
  auto r = tx.exec("SELECT coalesce(max(version), 0) FROM cano_schema_migrations");
  int applied = r[0][0].as<int>();
  const auto& all = postgres::migrations();
  for (int v = applied + 1; v <= static_cast<int>(all.size()); ++v) {
    tx.exec(all[static_cast<std::size_t>(v - 1)]);
    tx.exec_params("INSERT INTO cano_schema_migrations (version) VALUES ($1)", v);
  }
  tx.commit();
  return static_cast<int>(all.size());
}

int check_postgres_schema(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  if (tx.exec("SELECT to_regclass('cano_schema_migrations') IS NULL")[0][0].as<bool>()) {
    throw std::runtime_error("no cano schema in this database (nothing has run here)");
  }
  int applied = tx.exec("SELECT coalesce(max(version), 0) FROM cano_schema_migrations")[0][0].as<int>();
  if (applied < reader_minimum_version) {
    throw std::runtime_error("the cano schema in this database is at version " + std::to_string(applied) +
                             "; reading runs needs version " + std::to_string(reader_minimum_version) + ": migration " +
                             std::to_string(applied + 1) +
                             " is missing (any cano process with write rights applies it when it opens the store)");
  }
  return applied;
}

} // namespace cano::detail
