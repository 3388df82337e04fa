#include "cano/postgres_checkpoint_store.hpp"

#include <cstdlib>
#include <limits>
#include <utility>

#include "cano/detail/random_token.hpp"
#include "cano/detail/run_records.hpp"
#include "postgres_schema.hpp"
#include "postgres_session.hpp"

namespace cano {

/// A failure that means "the server or the connection is gone", worth a retry.
bool is_postgres_connection_failure(const std::exception& e) {
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

std::string PostgresCheckpointStore::impl::scrub(std::string message) const {
  message = secrets.scrub(std::move(message));
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return message;
}

namespace {

std::chrono::system_clock::time_point from_epoch_seconds(double s) {
  return std::chrono::system_clock::time_point(
    std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s)));
}

/// The migration that added cano_runs.cancel_requested_at.
constexpr int cancel_requests_migration = 7;

} // namespace

// Columns 13 to 15: the label noted when the log was cleared, the newest state entry of the live
// log (NULL without one), and created_at in whole microseconds (list_runs' cursors); 16: when a
// cancel was requested (NULL when none was).
std::string postgres_header_columns(int schema_version) {
  std::string columns =
    "workflow_id, definition, workflow_version, input::text, status, extract(epoch from "
    "created_at)::float8, "
    "extract(epoch from updated_at)::float8, final_state, attempts, failure::text, rollback::text, "
    "owner, fence, "
    "last_state, (SELECT c.state FROM cano_checkpoints c WHERE c.workflow_id = cano_runs.workflow_id "
    "AND c.kind = 0 "
    "ORDER BY c.sequence DESC LIMIT 1), (extract(epoch from created_at) * 1000000)::bigint, ";
  // A reader of an older schema (read-only opens read one from migration 4 on) reads no request.
  columns +=
    schema_version >= cancel_requests_migration ? "extract(epoch from cancel_requested_at)::float8" : "NULL::float8";
  return columns;
}

/// A header row as the store wrote it, or why it cannot be read (a value out of range, JSON
/// that does not parse, a status this version does not know): never a value silently changed.
expected<RunHeader> postgres_header_of(const pqxx::row& row) {
  RunHeader h;
  h.workflow_id = row[0].as<std::string>();
  try {
    h.definition = row[1].as<std::string>();
    auto version = row[2].as<long long>();
    if (version < 0 || version > static_cast<long long>(std::numeric_limits<std::uint32_t>::max())) {
      return error::checkpoint_store("workflow_version " + std::to_string(version) + " out of u32 range");
    }
    h.workflow_version = static_cast<std::uint32_t>(version);
    h.input = nlohmann::json::parse(row[3].as<std::string>());
    auto status_text = row[4].as<std::string>();
    auto status = run_status_from_string(status_text);
    if (!status) {
      return error::checkpoint_store("unknown status \"" + status_text + "\"");
    }
    h.status = *status;
    h.created_at = from_epoch_seconds(row[5].as<double>());
    h.updated_at = from_epoch_seconds(row[6].as<double>());
    h.final_state = row[7].as<std::string>();
    auto attempts = row[8].as<long long>();
    if (attempts < 0 || attempts > static_cast<long long>(std::numeric_limits<std::uint32_t>::max())) {
      return error::checkpoint_store("attempts " + std::to_string(attempts) + " out of range");
    }
    h.attempts = static_cast<std::uint32_t>(attempts);
    if (!row[9].is_null()) {
      h.failure = nlohmann::json::parse(row[9].as<std::string>()).get<error>();
    }
    if (!row[10].is_null()) {
      h.rollback = nlohmann::json::parse(row[10].as<std::string>()).get<RollbackRecord>();
    }
    h.owner = row[11].as<std::string>();
    h.fence = row[12].as<std::uint64_t>();
    h.last_state = detail::last_state_of(h, row[14].is_null() ? std::string() : row[14].as<std::string>(),
                                         row[13].as<std::string>());
    if (!row[16].is_null()) {
      h.cancel_requested_at = from_epoch_seconds(row[16].as<double>());
    }
  } catch (const std::exception& e) {
    return error::checkpoint_store(std::string("cannot read the header: ") + e.what());
  }
  return h;
}

CheckpointRow postgres_row_of(const pqxx::row& row) {
  CheckpointRow out(row[0].as<std::uint64_t>(), row[1].as<std::string>(), row[2].as<std::string>());
  if (!row[3].is_null()) {
    pqxx::binarystring blob(row[3]);
    out.output_blob = std::vector<std::uint8_t>(blob.data(), blob.data() + blob.size());
  }
  out.kind = row_kind_from_code(row[4].as<int>());
  auto version = row[5].as<long long>();
  if (version < 0 || version > static_cast<long long>(UINT32_MAX)) {
    throw std::out_of_range("workflow_version " + std::to_string(version) + " out of u32 range");
  }
  out.workflow_version = static_cast<std::uint32_t>(version);
  return out;
}

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
  if (options.owner.empty()) {
    options.owner = "store-" + detail::random_token().substr(0, 16);
  }
  if (options.batch_connections < 1 || options.batch_connections > 8) {
    return error::configuration("postgres: batch_connections must be 1 to 8, not " +
                                std::to_string(options.batch_connections));
  }
  auto p = std::make_unique<impl>();
  p->options = options;
  for (std::size_t i = 0; i < options.batch_connections; ++i) {
    p->batch_slots.push_back(std::make_unique<impl::batch_slot>());
  }
  p->secrets = detail::dsn_secrets::of(options.dsn);
  int version = 0;
  try {
    if (options.read_only) {
      version = detail::check_postgres_schema(p->connection());
    } else {
      version = detail::apply_postgres_migrations(p->connection());
      pqxx::work tx(p->connection());
      tx.exec_params("INSERT INTO cano_owners (owner) VALUES ($1) ON CONFLICT DO NOTHING", options.owner);
      tx.commit();
    }
  } catch (const std::exception& e) {
    return p->store_error(options.read_only ? "cannot connect or read the schema" : "cannot connect or migrate", e);
  }
  auto store = std::make_shared<PostgresCheckpointStore>(std::move(p));
  store->schema_version_ = version;
  return store;
}

namespace {

/// Where in `j` a string or a key holds U+0000 (a JSON pointer, "" for the top), if anywhere.
std::optional<std::string> nul_at(const nlohmann::json& j, const std::string& at) {
  if (j.is_string()) {
    if (j.get_ref<const std::string&>().find('\0') != std::string::npos) {
      return at;
    }
  } else if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      auto here = at + "/";
      for (char c : key) { // JSON pointer escapes (RFC 6901)
        here += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
      }
      if (key.find('\0') != std::string::npos) {
        return here;
      }
      if (auto found = nul_at(value, here)) {
        return found;
      }
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (auto found = nul_at(j[i], at + "/" + std::to_string(i))) {
        return found;
      }
    }
  }
  return std::nullopt;
}

} // namespace

expected<void> PostgresCheckpointStore::check_input(const nlohmann::json& input) const {
  if (auto at = nul_at(input, "")) {
    return error::configuration("run input: the string at " + (at->empty() ? std::string("the top") : *at) +
                                " holds the character U+0000 (\\u0000), which PostgreSQL's jsonb cannot store");
  }
  return {};
}

std::size_t PostgresCheckpointStore::batch_lanes() const { return impl_->batch_slots.size(); }

std::string PostgresCheckpointStore::owner() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->options.owner;
}

expected<void> PostgresCheckpointStore::set_owner(std::string owner) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  auto registered = d.with_retry<void>("set_owner", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO cano_owners (owner) VALUES ($1) ON CONFLICT DO NOTHING", owner);
    tx.commit();
    return expected<void>{};
  });
  if (!registered) {
    return registered;
  }
  d.options.owner = std::move(owner);
  d.fences.clear();
  ++d.generation; // batch connections reconnect under the new name, batches in flight record nothing
  d.conn.reset(); // the next session carries the new name
  return {};
}

expected<void> PostgresCheckpointStore::append(const std::string& workflow_id, const CheckpointRow& row) {
  CheckpointWrite w;
  w.workflow_id = workflow_id;
  w.row = row;
  return std::move(append_batch({w}).front());
}

expected<void> PostgresCheckpointStore::clear(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  const bool archive = history_retention().has_value();
  return impl_->with_retry<void>("clear", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    postgres_clear_runs(tx, postgres_text_array({workflow_id}), archive);
    tx.commit();
    return expected<void>{};
  });
}

expected<void> PostgresCheckpointStore::put_run_header(const RunHeader& h) {
  // An administrator's write: the header as given, owner and fence included (no fence check).
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->with_retry<void>("put_run_header", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto failure = h.failure ? std::optional<std::string>(nlohmann::json(*h.failure).dump()) : std::nullopt;
    auto rollback = h.rollback ? std::optional<std::string>(nlohmann::json(*h.rollback).dump()) : std::nullopt;
    auto seconds = [](std::chrono::system_clock::time_point t) {
      return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    // A cancel request stays unless the header brings one (header writes never clear it).
    std::optional<std::string> cancel_at;
    if (h.cancel_requested_at) {
      cancel_at = std::to_string(seconds(*h.cancel_requested_at));
    }
    tx.exec_params(
      "INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, created_at, updated_at, "
      "final_state, attempts, failure, rollback, owner, fence, cancel_requested_at) VALUES ($1, $2, $3, $4::jsonb, $5, "
      "to_timestamp($6), to_timestamp($7), $8, $9, $10::jsonb, $11::jsonb, $12, $13, to_timestamp($14::float8)) "
      "ON CONFLICT (workflow_id) DO UPDATE SET "
      "definition = EXCLUDED.definition, workflow_version = EXCLUDED.workflow_version, input = EXCLUDED.input, "
      "status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, final_state = EXCLUDED.final_state, "
      "attempts = EXCLUDED.attempts, failure = EXCLUDED.failure, rollback = EXCLUDED.rollback, "
      "owner = EXCLUDED.owner, fence = EXCLUDED.fence, "
      "cancel_requested_at = coalesce(EXCLUDED.cancel_requested_at, cano_runs.cancel_requested_at)",
      h.workflow_id, h.definition, static_cast<long long>(h.workflow_version), h.input.dump(), to_string(h.status),
      seconds(h.created_at), seconds(h.updated_at), h.final_state, static_cast<long long>(h.attempts),
      failure ? failure->c_str() : nullptr, rollback ? rollback->c_str() : nullptr, h.owner,
      static_cast<long long>(h.fence), cancel_at ? cancel_at->c_str() : nullptr);
    tx.commit();
    return expected<void>{};
  });
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
      rows.push_back(postgres_row_of(row));
    }
    return rows;
  });
}

expected<std::optional<RunHeader>> PostgresCheckpointStore::run_header(const std::string& workflow_id) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  auto read = impl_->with_retry<std::optional<pqxx::result>>("run_header", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params(std::string("SELECT ") + postgres_header_columns(schema_version_) +
                              " FROM cano_runs WHERE workflow_id = $1",
                            workflow_id);
    return r.empty() ? std::optional<pqxx::result>{} : std::optional<pqxx::result>{r};
  });
  if (!read) {
    return read.error();
  }
  if (!*read) {
    return std::optional<RunHeader>{};
  }
  auto h = postgres_header_of((**read)[0]);
  if (!h) {
    return error::checkpoint_store("postgres: run_header of \"" + workflow_id + "\": " + h.error().message());
  }
  return std::optional<RunHeader>{std::move(*h)};
}

expected<RunListing> PostgresCheckpointStore::list_unfinished() {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  auto read = impl_->with_retry<pqxx::result>("unfinished_runs", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    // Any status that is not final, known or not: an unknown one is reported, never skipped.
    return tx.exec(std::string("SELECT ") + postgres_header_columns(schema_version_) +
                   " FROM cano_runs WHERE status NOT IN " + postgres_final_statuses + " ORDER BY created_at");
  });
  if (!read) {
    return read.error();
  }
  RunListing out;
  for (const auto& row : *read) {
    auto h = postgres_header_of(row);
    if (h) {
      out.runs.push_back(std::move(*h));
    } else {
      out.unreadable.push_back({row[0].as<std::string>(), h.error().message()});
    }
  }
  return out;
}

expected<std::vector<RunHeader>> PostgresCheckpointStore::unfinished_runs() {
  auto listing = list_unfinished();
  if (!listing) {
    return listing.error();
  }
  return std::move(listing->runs);
}

expected<void> PostgresCheckpointStore::request_cancel(const std::string& workflow_id) {
  // A request, not a write into the run: no owner or fence check (D8), only this column.
  std::lock_guard<std::mutex> guard(impl_->mutex);
  auto status = impl_->with_retry<std::optional<std::string>>("request_cancel", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto set = tx.exec_params(std::string("UPDATE cano_runs SET cancel_requested_at = coalesce(cancel_requested_at, "
                                          "now()) WHERE workflow_id = $1 AND status NOT IN ") +
                                postgres_final_statuses + " RETURNING status",
                              workflow_id);
    std::optional<std::string> out;
    if (set.empty()) { // say why: no such run, or one that has ended
      auto why = tx.exec_params("SELECT status FROM cano_runs WHERE workflow_id = $1", workflow_id);
      out = why.empty() ? std::string() : why[0][0].as<std::string>();
    }
    tx.commit();
    return out;
  });
  if (!status) {
    return status.error();
  }
  if (!*status) {
    return {};
  }
  if ((*status)->empty()) {
    return no_run_to_cancel(workflow_id);
  }
  auto s = run_status_from_string(**status);
  if (!s) {
    return error::checkpoint_store("postgres: request_cancel: run \"" + workflow_id + "\" has an unknown status \"" +
                                   **status + "\"");
  }
  return run_already_ended(workflow_id, *s);
}

expected<std::vector<std::string>> PostgresCheckpointStore::cancel_requests() {
  // Asked every interval while runs of this store are driven: one attempt, no retry loop (the
  // next interval asks again), so it never holds the connection through an outage.
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  try {
    pqxx::read_transaction tx(d.connection());
    auto r = tx.exec_params(std::string("SELECT workflow_id FROM cano_runs WHERE owner = $1 AND cancel_requested_at IS "
                                        "NOT NULL AND status NOT IN ") +
                              postgres_final_statuses,
                            d.options.owner);
    std::vector<std::string> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  } catch (const std::exception& e) {
    if (is_postgres_connection_failure(e)) {
      d.conn.reset();
      return error::checkpoint_store("postgres unavailable: cancel_requests: " + d.scrub(e.what())).store_unavailable();
    }
    return d.store_error("cancel_requests", e);
  }
}

expected<void> PostgresCheckpointStore::claim_run(const std::string& workflow_id) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  auto fence = d.with_retry<std::optional<std::uint64_t>>("claim_run", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto held = tx.exec_params("SELECT owner FROM cano_runs WHERE workflow_id = $1 FOR UPDATE", workflow_id);
    if (!held.empty() && !held[0][0].as<std::string>().empty() && held[0][0].as<std::string>() != d.options.owner) {
      // Moving the previous owner's epoch waits for its batch in flight (which holds the row
      // FOR SHARE); its next batch sees the move, re-reads its runs' owners and is refused.
      tx.exec_params("UPDATE cano_owners SET epoch = epoch + 1 WHERE owner = $1", held[0][0].as<std::string>());
    }
    auto r = tx.exec_params("UPDATE cano_runs SET owner = $2, fence = fence + 1 WHERE workflow_id = $1 RETURNING fence",
                            workflow_id, d.options.owner);
    tx.commit();
    return r.empty() ? std::optional<std::uint64_t>{} : std::optional<std::uint64_t>{r[0][0].as<std::uint64_t>()};
  });
  if (!fence) {
    return fence.error();
  }
  if (*fence) {
    d.fences[workflow_id] = {**fence, -1}; // the next batch of the run reads its header once
  } else {
    d.fences.erase(workflow_id);
  }
  return {};
}

expected<void> PostgresCheckpointStore::adopt_run(const std::string& workflow_id) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  auto held =
    d.with_retry<std::optional<std::pair<std::string, std::uint64_t>>>("adopt_run", retries_, [&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      auto r = tx.exec_params("SELECT owner, fence FROM cano_runs WHERE workflow_id = $1", workflow_id);
      return r.empty() ? std::optional<std::pair<std::string, std::uint64_t>>{}
                       : std::optional<std::pair<std::string, std::uint64_t>>{
                           {r[0][0].as<std::string>(), r[0][1].as<std::uint64_t>()}};
    });
  if (!held) {
    return held.error();
  }
  if (!*held) {
    return {}; // no header: nothing is owned, nothing to adopt
  }
  if ((*held)->first != d.options.owner) {
    return fenced_error(workflow_id, "it is with " + (*held)->first + ", not " + d.options.owner);
  }
  d.fences[workflow_id] = {(*held)->second, -1}; // the next batch of the run reads its header once
  return {};
}

} // namespace cano
