#include "cano/postgres_checkpoint_store.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include <pqxx/pqxx>

#include "postgres_schema.hpp"

namespace cano {

namespace {

using clock = std::chrono::steady_clock;

/// The password= value of a DSN (key/value form), to scrub it from any message.
std::string password_of(const std::string& dsn) {
  auto pos = dsn.find("password=");
  if (pos == std::string::npos) {
    return {};
  }
  auto start = pos + 9;
  if (start < dsn.size() && dsn[start] == '\'') {
    auto end = dsn.find('\'', start + 1);
    return dsn.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
  }
  auto end = dsn.find_first_of(" \t", start);
  return dsn.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string random_token() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    auto bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4) {
      out[static_cast<std::size_t>(half * 16 + i)] = hex[bits & 0xf];
    }
  }
  return out;
}

std::string to_hex_bytea(const std::vector<std::uint8_t>& blob) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + blob.size() * 2);
  for (auto b : blob) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0xf]);
  }
  return out;
}

RowKind kind_of(int k) {
  switch (k) {
    case 1: return RowKind::compensation_completion;
    case 2: return RowKind::step_cursor;
    default: return RowKind::state_entry; // unknown kinds read as entries, like cano-e2e
  }
}

RunStatus status_of(const std::string& s) {
  if (s == "completed") {
    return RunStatus::completed;
  }
  if (s == "failed") {
    return RunStatus::failed;
  }
  if (s == "rolled_back") {
    return RunStatus::rolled_back;
  }
  if (s == "interrupted") {
    return RunStatus::interrupted;
  }
  return RunStatus::running;
}

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point from_epoch_seconds(double s) {
  return std::chrono::system_clock::time_point(
    std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s)));
}

/// A failure that means "the server or the connection is gone", worth a retry.
bool is_connection_failure(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return true;
  }
  if (auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const auto& state = sql->sqlstate();
    // 08: connection exception; 57P0x: admin/crash shutdown, cannot connect now.
    return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
  }
  return false;
}

/// A PostgreSQL array literal ({"a","b",NULL}) built from values, for one array parameter:
/// the values never become SQL text, only a parameter's contents.
class array_literal {
public:
  void add(const std::string& value) {
    sep();
    text_.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') {
        text_.push_back('\\');
      }
      text_.push_back(c);
    }
    text_.push_back('"');
  }
  void add_null() {
    sep();
    text_ += "NULL";
  }
  std::string text() const { return text_ + "}"; }

private:
  void sep() {
    if (text_.size() > 1) {
      text_.push_back(',');
    }
  }
  std::string text_ = "{";
};

/// One row of a batch, as bound parameters.
struct row_params {
  std::string workflow_id, sequence, state, task_id, blob, kind, version, token;
  bool has_blob = false;
};

} // namespace

struct PostgresCheckpointStore::impl {
  PostgresOptions options;
  std::string password;
  std::mutex mutex; // one connection, used by one caller at a time
  std::unique_ptr<pqxx::connection> conn;

  std::string scrub(std::string message) const {
    if (!password.empty()) {
      for (auto pos = message.find(password); pos != std::string::npos; pos = message.find(password)) {
        message.replace(pos, password.size(), "***");
      }
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return message;
  }

  error store_error(const std::string& what, const std::exception& e) const {
    return error::checkpoint_store("postgres: " + what + ": " + scrub(e.what()));
  }

  pqxx::connection& connection() {
    if (!conn || !conn->is_open()) {
      conn.reset();
      conn = std::make_unique<pqxx::connection>(options.dsn);
    }
    return *conn;
  }

  /// Runs `fn(connection)` and retries it with backoff while the server is unreachable, until
  /// the deadline; then the error is marked store_unavailable. Other errors return at once.
  template <class T, class F>
  expected<T> with_retry(const std::string& what, std::atomic<std::uint64_t>& retries, F fn) {
    auto deadline = clock::now() + options.retry_deadline;
    auto backoff = options.initial_backoff;
    for (;;) {
      try {
        return fn(connection());
      } catch (const std::exception& e) {
        if (!is_connection_failure(e)) {
          return store_error(what, e);
        }
        conn.reset();
        if (clock::now() + backoff > deadline) {
          return error::checkpoint_store("postgres unavailable: " + what + ": " + scrub(e.what()))
            .store_unavailable();
        }
      }
      retries.fetch_add(1);
      std::this_thread::sleep_for(backoff); // on the checkpoint actor's own thread, never a worker
      backoff = std::min(backoff * 2, options.max_backoff);
    }
  }
};

PostgresCheckpointStore::PostgresCheckpointStore(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
PostgresCheckpointStore::~PostgresCheckpointStore() = default;

expected<std::shared_ptr<PostgresCheckpointStore>> PostgresCheckpointStore::open(PostgresOptions options) {
  if (options.dsn.empty()) {
    if (const char* env = std::getenv("CANO_PG_DSN")) {
      options.dsn = env;
    }
  }
  if (options.dsn.empty()) {
    return error::configuration("postgres: no connection string: set PostgresOptions::dsn or CANO_PG_DSN");
  }
  auto p = std::make_unique<impl>();
  p->options = options;
  p->password = password_of(options.dsn);
  int version = 0;
  try {
    version = detail::apply_postgres_migrations(p->connection());
  } catch (const std::exception& e) {
    return p->store_error("cannot connect or migrate", e);
  }
  auto store = std::make_shared<PostgresCheckpointStore>(std::move(p));
  store->schema_version_ = version;
  return store;
}

expected<void> PostgresCheckpointStore::append(const std::string& workflow_id, const CheckpointRow& row) {
  CheckpointWrite w;
  w.workflow_id = workflow_id;
  w.row = row;
  return std::move(append_batch({w}).front());
}

std::vector<expected<void>> PostgresCheckpointStore::append_batch(const std::vector<CheckpointWrite>& writes) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  const std::size_t n = writes.size();
  // Rows of one batch are de-duplicated first: the first (workflow_id, sequence) wins.
  std::vector<bool> duplicate(n, false);
  std::vector<row_params> params(n);
  std::set<std::pair<std::string, std::uint64_t>> seen;
  for (std::size_t i = 0; i < n; ++i) {
    if (!writes[i].row) {
      continue;
    }
    const auto& r = *writes[i].row;
    if (!seen.emplace(writes[i].workflow_id, r.sequence).second) {
      duplicate[i] = true;
      continue;
    }
    auto& p = params[i];
    p.workflow_id = writes[i].workflow_id;
    p.sequence = std::to_string(r.sequence);
    p.state = r.state;
    p.task_id = r.task_id;
    p.has_blob = r.output_blob.has_value();
    if (p.has_blob) {
      p.blob = to_hex_bytea(*r.output_blob);
    }
    p.kind = std::to_string(static_cast<int>(r.kind));
    p.version = std::to_string(r.workflow_version);
    p.token = random_token();
  }
  const std::string mark = random_token();
  std::vector<expected<void>> outcomes(n);

  // One INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING: eight array
  // parameters whatever the batch size (cheap to parse and plan); rows not returned were taken.
  auto insert_rows = [&](pqxx::work& tx, const std::vector<std::size_t>& which) {
    array_literal ids, seqs, states, tasks, blobs, kinds, versions, tokens;
    std::size_t k = 0;
    for (auto j : which) {
      if (duplicate[j]) {
        continue;
      }
      const auto& p = params[j];
      ids.add(p.workflow_id);
      seqs.add(p.sequence);
      states.add(p.state);
      tasks.add(p.task_id);
      if (p.has_blob) {
        blobs.add(p.blob);
      } else {
        blobs.add_null();
      }
      kinds.add(p.kind);
      versions.add(p.version);
      tokens.add(p.token);
      ++k;
    }
    std::set<std::pair<std::string, std::uint64_t>> inserted;
    if (k > 0) {
      auto r = tx.exec_params(
        "INSERT INTO cano_checkpoints (workflow_id, sequence, state, task_id, output_blob, kind, workflow_version, "
        "append_token) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], "
        "$6::smallint[], $7::bigint[], $8::text[]) ON CONFLICT DO NOTHING RETURNING workflow_id, sequence",
        ids.text(), seqs.text(), states.text(), tasks.text(), blobs.text(), kinds.text(), versions.text(),
        tokens.text());
      for (const auto& row : r) {
        inserted.emplace(row[0].as<std::string>(), row[1].as<std::uint64_t>());
      }
    }
    for (auto j : which) {
      const auto& r = *writes[j].row;
      if (duplicate[j] || inserted.count({writes[j].workflow_id, r.sequence}) == 0) {
        outcomes[j] = error::checkpoint_store(checkpoint_conflict_message(writes[j].workflow_id, r.sequence));
      }
    }
  };

  // One upsert of every header in the phase (the last of a run wins; created_at is kept).
  auto upsert_headers = [&](pqxx::work& tx, const std::vector<std::size_t>& which) {
    std::map<std::string, std::size_t> last;
    for (auto j : which) {
      last[writes[j].workflow_id] = j;
    }
    if (last.empty()) {
      return;
    }
    array_literal ids, defs, versions, inputs, statuses, created, updated;
    for (const auto& kv : last) {
      const auto& h = *writes[kv.second].header;
      ids.add(h.workflow_id);
      defs.add(h.definition);
      versions.add(std::to_string(h.workflow_version));
      inputs.add(h.input.dump());
      statuses.add(to_string(h.status));
      created.add(std::to_string(seconds_since_epoch(h.created_at)));
      updated.add(std::to_string(seconds_since_epoch(h.updated_at)));
    }
    tx.exec_params(
      "INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, created_at, updated_at) "
      "SELECT id, def, v, inp, st, to_timestamp(cr), to_timestamp(up) FROM unnest($1::text[], $2::text[], "
      "$3::bigint[], $4::jsonb[], $5::text[], $6::float8[], $7::float8[]) AS h(id, def, v, inp, st, cr, up) "
      "ON CONFLICT (workflow_id) DO UPDATE SET definition = EXCLUDED.definition, "
      "workflow_version = EXCLUDED.workflow_version, input = EXCLUDED.input, status = EXCLUDED.status, "
      "updated_at = EXCLUDED.updated_at",
      ids.text(), defs.text(), versions.text(), inputs.text(), statuses.text(), created.text(), updated.text());
  };

  // One DELETE for every run cleared in the phase.
  auto delete_runs = [&](pqxx::work& tx, const std::vector<std::size_t>& which) {
    if (which.empty()) {
      return;
    }
    array_literal ids;
    for (auto j : which) {
      ids.add(writes[j].workflow_id);
    }
    tx.exec_params("DELETE FROM cano_checkpoints WHERE workflow_id = ANY($1::text[])", ids.text());
  };

  // Runs the batch in one transaction; returns whether it committed (false: retry it). Writes
  // go out in phases of three statements — one multi-row INSERT of rows, one multi-row upsert of
  // headers, one DELETE of cleared runs — so a batch of thousands of writes costs a handful of
  // round trips. A row for a run already cleared in this phase starts a new phase (a new run
  // reusing the id), which keeps the batch's order where it matters.
  auto run_batch = [&](pqxx::connection& c) -> bool {
    pqxx::work tx(c);
    // Deleting the rows of many runs by id must use the primary key: with the dead rows a
    // queue table carries, a misestimated sequential scan gets slower with every batch.
    tx.exec("SET LOCAL enable_seqscan = off");
    std::size_t i = 0;
    while (i < n) {
      std::vector<std::size_t> rows, headers, clears;
      std::set<std::string> cleared;
      for (; i < n; ++i) {
        const auto& w = writes[i];
        if (w.row && cleared.count(w.workflow_id) != 0) {
          break; // the phase ends before this row
        }
        outcomes[i] = expected<void>{};
        if (w.row) {
          rows.push_back(i);
        }
        if (w.clear_run) {
          clears.push_back(i);
          cleared.insert(w.workflow_id);
        }
        if (w.header) {
          headers.push_back(i);
        }
      }
      insert_rows(tx, rows);
      // The clear and header of a write apply only when its row landed.
      auto landed = [&](std::vector<std::size_t>& which) {
        which.erase(std::remove_if(which.begin(), which.end(),
                                   [&](std::size_t j) { return writes[j].row && !outcomes[j]; }),
                    which.end());
        return which;
      };
      upsert_headers(tx, landed(headers));
      delete_runs(tx, landed(clears));
    }
    tx.exec_params("INSERT INTO cano_commit_marks (token) VALUES ($1)", mark);
    try {
      tx.commit();
    } catch (const pqxx::in_doubt_error&) {
      throw;
    } catch (const pqxx::broken_connection&) {
      throw pqxx::in_doubt_error("connection lost while committing");
    }
    return true;
  };

  // After a lost connection: did the batch commit? The commit mark says; then each row's token
  // tells success (ours) from conflict (another writer's).
  auto resolve = [&](pqxx::connection& c) -> bool {
    pqxx::work tx(c);
    auto marked = tx.exec_params("SELECT 1 FROM cano_commit_marks WHERE token = $1", mark);
    if (marked.empty()) {
      return false; // not committed: run the batch again
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!writes[i].row) {
        outcomes[i] = expected<void>{};
        continue;
      }
      const auto& r = *writes[i].row;
      if (duplicate[i]) {
        outcomes[i] = error::checkpoint_store(checkpoint_conflict_message(writes[i].workflow_id, r.sequence));
        continue;
      }
      auto got = tx.exec_params("SELECT append_token FROM cano_checkpoints WHERE workflow_id = $1 AND sequence = $2",
                                writes[i].workflow_id, static_cast<long long>(r.sequence));
      bool other_writer = !got.empty() && got[0][0].as<std::string>() != params[i].token;
      outcomes[i] = other_writer ? expected<void>{error::checkpoint_store(
                                     checkpoint_conflict_message(writes[i].workflow_id, r.sequence))}
                                 : expected<void>{}; // ours, or cleared later in the same batch
    }
    tx.commit();
    return true;
  };

  bool in_doubt = false;
  auto done = impl_->with_retry<bool>("append batch", retries_, [&](pqxx::connection& c) -> bool {
    if (in_doubt && resolve(c)) {
      return true;
    }
    in_doubt = false;
    try {
      return run_batch(c);
    } catch (const pqxx::in_doubt_error&) {
      in_doubt = true;
      throw;
    }
  });
  if (!done) {
    for (auto& o : outcomes) {
      o = done.error_value();
    }
  }
  // Marks are only needed while a commit may be in doubt: prune old ones now and then.
  static thread_local unsigned prune_counter = 0;
  if (done && ++prune_counter % 1024 == 0) {
    try {
      pqxx::nontransaction tx(impl_->connection());
      tx.exec("DELETE FROM cano_commit_marks WHERE created_at < now() - interval '1 hour'");
    } catch (const std::exception&) {
      impl_->conn.reset();
    }
  }
  return outcomes;
}

expected<std::vector<CheckpointRow>> PostgresCheckpointStore::load_run(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->with_retry<std::vector<CheckpointRow>>("load_run", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params("SELECT sequence, state, task_id, output_blob, kind, workflow_version "
                            "FROM cano_checkpoints WHERE workflow_id = $1 ORDER BY sequence ASC",
                            workflow_id);
    std::vector<CheckpointRow> rows;
    rows.reserve(r.size());
    for (const auto& row : r) {
      CheckpointRow out(row[0].as<std::uint64_t>(), row[1].as<std::string>(), row[2].as<std::string>());
      if (!row[3].is_null()) {
        pqxx::binarystring blob(row[3]);
        out.output_blob = std::vector<std::uint8_t>(blob.data(), blob.data() + blob.size());
      }
      out.kind = kind_of(row[4].as<int>());
      auto version = row[5].as<long long>();
      if (version < 0 || version > static_cast<long long>(UINT32_MAX)) {
        throw std::out_of_range("workflow_version " + std::to_string(version) + " out of u32 range");
      }
      out.workflow_version = static_cast<std::uint32_t>(version);
      rows.push_back(std::move(out));
    }
    return rows;
  });
}

expected<void> PostgresCheckpointStore::clear(const std::string& workflow_id) {
  CheckpointWrite w;
  w.workflow_id = workflow_id;
  w.clear_run = true;
  return std::move(append_batch({w}).front());
}

expected<void> PostgresCheckpointStore::put_run_header(const RunHeader& header) {
  CheckpointWrite w;
  w.workflow_id = header.workflow_id;
  w.header = header;
  return std::move(append_batch({w}).front());
}

namespace {

RunHeader header_of(const pqxx::row& row) {
  RunHeader h;
  h.workflow_id = row[0].as<std::string>();
  h.definition = row[1].as<std::string>();
  h.workflow_version = static_cast<std::uint32_t>(row[2].as<long long>());
  h.input = nlohmann::json::parse(row[3].as<std::string>());
  h.status = status_of(row[4].as<std::string>());
  h.created_at = from_epoch_seconds(row[5].as<double>());
  h.updated_at = from_epoch_seconds(row[6].as<double>());
  return h;
}

const char* header_columns = "workflow_id, definition, workflow_version, input::text, status, "
                             "extract(epoch from created_at)::float8, extract(epoch from updated_at)::float8";

} // namespace

expected<std::optional<RunHeader>> PostgresCheckpointStore::run_header(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->with_retry<std::optional<RunHeader>>("run_header", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params(std::string("SELECT ") + header_columns + " FROM cano_runs WHERE workflow_id = $1",
                            workflow_id);
    if (r.empty()) {
      return std::optional<RunHeader>{};
    }
    return std::optional<RunHeader>{header_of(r[0])};
  });
}

expected<std::vector<RunHeader>> PostgresCheckpointStore::unfinished_runs() {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->with_retry<std::vector<RunHeader>>("unfinished_runs", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec(std::string("SELECT ") + header_columns +
                     " FROM cano_runs WHERE status IN ('running', 'interrupted') ORDER BY created_at");
    std::vector<RunHeader> out;
    for (const auto& row : r) {
      out.push_back(header_of(row));
    }
    return out;
  });
}

} // namespace cano
