// linear10_ckpt_pg_c{1,100,1000} and linear10_ckpt_sqlite_c{1,100,1000}, each with its
// database's raw ceiling (and, for PostgreSQL, the server's fsync and synchronous_commit);
// pg_raw_ceiling and sqlite_raw_ceiling on their own.
#include <cstdlib>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "durable.hpp"
#include "workload.hpp"

namespace {

nlohmann::json with_ceiling(nlohmann::json figures, const nlohmann::json& ceiling) {
  figures["raw_ceiling_rows_per_sec"] = ceiling.value("rows_per_sec", 0.0);
  for (const char* key : {"fsync", "synchronous_commit", "synchronous"}) {
    if (ceiling.contains(key)) {
      figures[key] = ceiling[key];
    }
  }
  if (figures.value("raw_ceiling_rows_per_sec", 0.0) > 0) {
    figures["share_of_ceiling"] =
      figures.value("rows_per_sec", 0.0) / figures["raw_ceiling_rows_per_sec"].get<double>();
  }
  return figures;
}

nlohmann::json pg_workload(const std::string& name, std::size_t in_flight, double seconds) {
  if (std::getenv("CANO_PG_DSN") == nullptr) {
    return {{"workload", name}, {"skipped", "CANO_PG_DSN is not set (scripts/bench.sh starts a server)"}};
  }
  auto store = cano::PostgresCheckpointStore::open();
  if (!store) {
    return {{"workload", name}, {"error", store.error().to_string()}};
  }
  auto ceiling = bench::pg_raw_ceiling(2.0);
  return with_ceiling(bench::measure_durable(name, *store, in_flight, seconds), ceiling);
}

nlohmann::json sqlite_workload(const std::string& name, std::size_t in_flight, double seconds) {
  auto dir = bench::bench_temp_dir();
  auto store = cano::SqliteCheckpointStore::open(dir + "/" + name + ".db");
  if (!store) {
    return {{"workload", name}, {"error", store.error().to_string()}};
  }
  auto ceiling = bench::sqlite_raw_ceiling(dir + "/" + name + "-raw.db", 2.0);
  return with_ceiling(bench::measure_durable(name, *store, in_flight, seconds), ceiling);
}

bench::register_workload pg1{"linear10_ckpt_pg_c1", [](double s) { return pg_workload("linear10_ckpt_pg_c1", 1, s); }};
bench::register_workload pg100{"linear10_ckpt_pg_c100",
                               [](double s) { return pg_workload("linear10_ckpt_pg_c100", 100, s); }};
bench::register_workload pg1000{"linear10_ckpt_pg_c1000",
                                [](double s) { return pg_workload("linear10_ckpt_pg_c1000", 1000, s); }};
bench::register_workload pg_raw{
  "pg_raw_ceiling", [](double s) {
    if (std::getenv("CANO_PG_DSN") == nullptr) {
      return nlohmann::json{{"workload", "pg_raw_ceiling"}, {"skipped", "CANO_PG_DSN is not set"}};
    }
    // Migrates the schema, and says clearly (password hidden) why it cannot.
    auto store = cano::PostgresCheckpointStore::open();
    if (!store) {
      return nlohmann::json{{"workload", "pg_raw_ceiling"}, {"error", store.error().to_string()}};
    }
    return bench::pg_raw_ceiling(s);
  }};
bench::register_workload sq1{"linear10_ckpt_sqlite_c1",
                             [](double s) { return sqlite_workload("linear10_ckpt_sqlite_c1", 1, s); }};
bench::register_workload sq100{"linear10_ckpt_sqlite_c100",
                               [](double s) { return sqlite_workload("linear10_ckpt_sqlite_c100", 100, s); }};
bench::register_workload sq1000{"linear10_ckpt_sqlite_c1000",
                                [](double s) { return sqlite_workload("linear10_ckpt_sqlite_c1000", 1000, s); }};
bench::register_workload sq_raw{
  "sqlite_raw_ceiling", [](double s) { return bench::sqlite_raw_ceiling(bench::bench_temp_dir() + "/raw.db", s); }};

} // namespace
