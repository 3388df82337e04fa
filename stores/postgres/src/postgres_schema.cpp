#include "postgres_schema.hpp"

#include <string>
#include <vector>

namespace cano::detail {

namespace {

// Keep in step with config/schema.sql. Never edit an applied migration: add a new one.
const std::vector<std::string> migrations = {
  // 1: checkpoint rows (cano-e2e's columns and types, plus created_at and append_token), run
  //    headers, and the commit marks that resolve in-doubt commits.
  R"sql(
CREATE TABLE cano_checkpoints (
  workflow_id      text        NOT NULL,
  sequence         bigint      NOT NULL,
  state            text        NOT NULL,
  task_id          text        NOT NULL,
  output_blob      bytea,
  kind             smallint    NOT NULL DEFAULT 0,
  workflow_version bigint      NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  append_token     text        NOT NULL,
  PRIMARY KEY (workflow_id, sequence)
);
CREATE TABLE cano_runs (
  workflow_id      text        PRIMARY KEY,
  definition       text        NOT NULL,
  workflow_version bigint      NOT NULL,
  input            jsonb       NOT NULL,
  status           text        NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX cano_runs_unfinished ON cano_runs (status) WHERE status IN ('running', 'interrupted');
CREATE TABLE cano_commit_marks (
  token      text        PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
)sql",
  // 2: cano_checkpoints is a queue (rows are inserted, then deleted when their run ends): vacuum
  //    and analyze it after a small fraction of churn, not the default 20 %.
  R"sql(
ALTER TABLE cano_checkpoints SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE cano_commit_marks SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
)sql",
};

constexpr long long migration_lock_key = 0x63616e6f5f6d6967; // "cano_mig"

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
  for (int v = applied + 1; v <= static_cast<int>(migrations.size()); ++v) {
    tx.exec(migrations[static_cast<std::size_t>(v - 1)]);
    tx.exec_params("INSERT INTO cano_schema_migrations (version) VALUES ($1)", v);
  }
  tx.commit();
  return static_cast<int>(migrations.size());
}

} // namespace cano::detail
