#include "durable.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>
#include <pqxx/pqxx>
#include <sqlite3.h>
#include <stdlib.h>

#include "closed_loop.hpp"
#include "linear_workflow.hpp"

namespace bench {

namespace {

using clock = std::chrono::steady_clock;

constexpr int rows_per_txn = 100;

std::string token(std::uint64_t n) {
  auto s = std::to_string(n);
  return std::string(32 - std::min<std::size_t>(32, s.size()), '0') + s;
}

} // namespace

std::string bench_temp_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/cano-bench.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      throw std::runtime_error(std::string("cannot create a directory under /tmp: ") + std::strerror(errno));
    }
    return std::string(tmpl);
  }();
  // Registered once `dir` exists, so it runs before `dir` is destroyed.
  static const bool cleanup_registered =
    std::atexit([] { std::system(("rm -rf '" + bench_temp_dir() + "'").c_str()); }) == 0;
  (void)cleanup_registered;
  return dir;
}

nlohmann::json pg_raw_ceiling(double seconds) {
  const char* dsn = std::getenv("CANO_PG_DSN");
  if (dsn == nullptr) {
    return {{"workload", "pg_raw_ceiling"}, {"skipped", "CANO_PG_DSN is not set"}};
  }
  pqxx::connection c(dsn);
  std::string sql = "INSERT INTO cano_checkpoints (workflow_id, sequence, state, task_id, output_blob, kind, "
                    "workflow_version, append_token) VALUES ";
  for (int i = 0; i < rows_per_txn; ++i) {
    int b = i * 3;
    sql += (i == 0 ? "" : ",") + std::string("($") + std::to_string(b + 1) + ",$" + std::to_string(b + 2) +
           "::bigint,'3','step3',NULL,0,0,$" + std::to_string(b + 3) + ")";
  }
  c.prepare("raw_insert", sql);
  std::string fsync, sync_commit;
  {
    pqxx::nontransaction tx(c);
    fsync = tx.exec("SHOW fsync")[0][0].as<std::string>();
    sync_commit = tx.exec("SHOW synchronous_commit")[0][0].as<std::string>();
  }
  std::uint64_t rows = 0;
  std::uint64_t n = 0;
  auto start = clock::now();
  auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::string> values(static_cast<std::size_t>(rows_per_txn) * 3);
  while (clock::now() < end) {
    for (int i = 0; i < rows_per_txn; ++i) {
      values[static_cast<std::size_t>(i) * 3] = "raw-ceiling-" + std::to_string(n);
      values[static_cast<std::size_t>(i) * 3 + 1] = "0";
      values[static_cast<std::size_t>(i) * 3 + 2] = token(n);
      ++n;
    }
    pqxx::work tx(c);
    tx.exec_prepared("raw_insert", pqxx::prepare::make_dynamic_params(values));
    tx.commit();
    rows += rows_per_txn;
  }
  double elapsed = std::chrono::duration<double>(clock::now() - start).count();
  {
    pqxx::work tx(c);
    tx.exec("DELETE FROM cano_checkpoints WHERE workflow_id LIKE 'raw-ceiling-%'");
    tx.commit();
  }
  return {{"workload", "pg_raw_ceiling"},
          {"rows_per_sec", static_cast<double>(rows) / elapsed},
          {"rows_per_commit", rows_per_txn},
          {"seconds", elapsed},
          {"fsync", fsync},
          {"synchronous_commit", sync_commit}};
}

nlohmann::json sqlite_raw_ceiling(const std::string& path, double seconds) {
  sqlite3* db = nullptr;
  // Every call is checked: a failure ends the workload with SQLite's own message.
  auto check = [&](int rc, const char* what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
      std::string msg = std::string("SQLite raw ceiling on ") + path + ": " + what + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
      sqlite3_close_v2(db); // deferred until its statement is finalized
      throw std::runtime_error(msg);
    }
  };
  check(sqlite3_open(path.c_str(), &db), "open");
  check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", nullptr, nullptr, nullptr), "pragmas");
  check(sqlite3_exec(
          db,
          "CREATE TABLE IF NOT EXISTS raw_rows (workflow_id TEXT NOT NULL, sequence INTEGER NOT NULL, state TEXT "
          "NOT NULL, task_id TEXT NOT NULL, output_blob BLOB, kind INTEGER NOT NULL, workflow_version INTEGER NOT "
          "NULL, created_at INTEGER NOT NULL, append_token TEXT NOT NULL, PRIMARY KEY (workflow_id, sequence)) "
          "WITHOUT ROWID",
          nullptr, nullptr, nullptr),
        "create table");
  std::string sql = "INSERT INTO raw_rows VALUES ";
  for (int i = 0; i < rows_per_txn; ++i) {
    sql += (i == 0 ? "" : ",") + std::string("(?,0,'3','step3',NULL,0,0,0,?)");
  }
  sqlite3_stmt* stmt = nullptr;
  check(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), "prepare");
  std::uint64_t rows = 0;
  std::uint64_t n = 0;
  auto start = clock::now();
  auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::string> ids(rows_per_txn);
  std::vector<std::string> toks(rows_per_txn);
  while (clock::now() < end) {
    check(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), "begin");
    for (int i = 0; i < rows_per_txn; ++i) {
      ids[static_cast<std::size_t>(i)] = "raw-" + std::to_string(n);
      toks[static_cast<std::size_t>(i)] = token(n);
      ++n;
      sqlite3_bind_text(stmt, i * 2 + 1, ids[static_cast<std::size_t>(i)].c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(stmt, i * 2 + 2, toks[static_cast<std::size_t>(i)].c_str(), -1, SQLITE_STATIC);
    }
    int step = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (step != SQLITE_DONE) {
      sqlite3_finalize(stmt);
      check(step, "insert");
    }
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), "commit");
    rows += rows_per_txn;
  }
  double elapsed = std::chrono::duration<double>(clock::now() - start).count();
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return {{"workload", "sqlite_raw_ceiling"},
          {"rows_per_sec", static_cast<double>(rows) / elapsed},
          {"rows_per_commit", rows_per_txn},
          {"seconds", elapsed},
          {"synchronous", "FULL"}};
}

nlohmann::json measure_durable(const std::string& name, std::shared_ptr<cano::CheckpointStore> store,
                               std::size_t in_flight, double seconds) {
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto wf = linear_workflow(false).with_checkpoint_store(store);
  std::atomic<std::uint64_t> next_id{0};
  auto prefix = name + "-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-";
  double warmup = 1.0;
  bool reset = false;
  auto figures = run_closed_loop(sys, in_flight, warmup, seconds, [&](caf::local_actor* self) {
    if (!reset && next_id.load() > in_flight) {
      rt.checkpoint_statistics(true); // the measured window starts after the first wave
      reset = true;
    }
    return rt.start(wf, 0, {prefix + std::to_string(next_id++), nullptr}, caf::actor_cast<caf::actor>(self));
  });
  auto stats = rt.checkpoint_statistics();
  double runs = static_cast<double>(figures.runs);
  double rows = runs * (linear_states + 1); // one entry row per state, the exit included
  return {
    {"workload", name},
    {"in_flight", in_flight},
    {"runs", figures.runs},
    {"failures", figures.failures},
    {"seconds", figures.seconds},
    {"runs_per_sec", runs / figures.seconds},
    {"rows_per_sec", rows / figures.seconds},
    {"rows_per_commit", stats.batches > 0 ? static_cast<double>(stats.rows) / static_cast<double>(stats.batches) : 0.0},
    {"writes_per_commit",
     stats.batches > 0 ? static_cast<double>(stats.writes) / static_cast<double>(stats.batches) : 0.0},
    {"p50_append_ms", stats.p50_append_ms},
    {"p99_append_ms", stats.p99_append_ms},
  };
}

} // namespace bench
