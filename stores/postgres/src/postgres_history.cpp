// PostgresCheckpointStore's run records (issue 15): listing runs a page at a time, a run's log
// with its history, history retention's move of a cleared log, and purges.
#include <ctime>

#include "cano/detail/run_records.hpp"
#include "postgres_session.hpp"

namespace cano {

namespace {

/// A time as a timestamptz literal with all its microseconds ("2024-05-01 12:00:03.000123+00"):
/// compared exactly with stored times, unlike a float of seconds.
std::string timestamp_text(std::int64_t micros) {
  auto secs = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
  auto frac = micros - secs * 1000000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

std::string timestamp_text(std::chrono::system_clock::time_point t) { return timestamp_text(unix_micros(t)); }

std::chrono::system_clock::time_point from_epoch_seconds(double s) {
  return std::chrono::system_clock::time_point(
    std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s)));
}

} // namespace

std::string postgres_text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) {
      out.push_back(',');
    }
    out.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
      }
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out + "}";
}

void postgres_clear_runs(pqxx::work& tx, const std::string& ids, bool archive) {
  if (!archive) {
    tx.exec_prepared("cano_clear_runs", ids); // prepared on every store connection (postgres_batch.cpp)
    return;
  }
  // One statement: what is deleted is what is archived. A run without a header (a clear() by
  // hand) files its rows under the epoch.
  tx.exec_params("WITH gone AS (DELETE FROM cano_checkpoints WHERE workflow_id = ANY($1::text[]) RETURNING *) "
                 "INSERT INTO cano_checkpoint_history (workflow_id, sequence, state, task_id, output_blob, "
                 "kind, "
                 "workflow_version, created_at, run_created_at, archived_at) SELECT g.workflow_id, g.sequence, "
                 "g.state, g.task_id, g.output_blob, g.kind, g.workflow_version, g.created_at, "
                 "coalesce(r.created_at, 'epoch'::timestamptz), $2::timestamptz FROM gone g "
                 "LEFT JOIN cano_runs r ON r.workflow_id = g.workflow_id",
                 ids, timestamp_text(std::chrono::system_clock::now()));
}

std::uint64_t postgres_purge_history(pqxx::work& tx, std::chrono::system_clock::time_point before) {
  auto r =
    tx.exec_params("DELETE FROM cano_checkpoint_history WHERE archived_at < $1::timestamptz", timestamp_text(before));
  return static_cast<std::uint64_t>(r.affected_rows());
}

expected<RunPage> PostgresCheckpointStore::list_runs(const RunQuery& query) {
  auto checked = detail::check_run_query(query);
  if (!checked) {
    return checked.error();
  }
  std::vector<std::string> statuses;
  for (auto s : query.statuses) {
    statuses.emplace_back(to_string(s));
  }
  auto status_array = statuses.empty() ? std::optional<std::string>{} : postgres_text_array(statuses);
  auto text_or_null = [](const std::optional<std::string>& v) { return v ? v->c_str() : nullptr; };
  auto definition = query.definition.empty() ? std::optional<std::string>{} : query.definition;
  auto from = query.created_from ? std::optional<std::string>(timestamp_text(*query.created_from)) : std::nullopt;
  auto before = query.created_before ? std::optional<std::string>(timestamp_text(*query.created_before)) : std::nullopt;
  auto after_time = checked->after ? std::optional<std::string>(timestamp_text(checked->after->first)) : std::nullopt;
  auto after_id = checked->after ? std::optional<std::string>(checked->after->second) : std::nullopt;
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  auto read = d.with_retry<pqxx::result>("list_runs", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    // Unnamed statements are planned with their values: a filter not given folds away.
    return tx.exec_params(std::string("SELECT ") + postgres_header_columns(schema_version_) +
                            " FROM cano_runs WHERE ($1::text[] IS NULL OR status = ANY($1::text[])) "
                            "AND ($2::text IS NULL OR definition = $2::text) "
                            "AND ($3::timestamptz IS NULL OR created_at >= $3::timestamptz) "
                            "AND ($4::timestamptz IS NULL OR created_at < $4::timestamptz) "
                            "AND ($5::timestamptz IS NULL OR (created_at, workflow_id) < ($5::timestamptz, $6::text)) "
                            "ORDER BY created_at DESC, workflow_id DESC LIMIT $7",
                          text_or_null(status_array), text_or_null(definition), text_or_null(from),
                          text_or_null(before), text_or_null(after_time), text_or_null(after_id),
                          static_cast<long long>(checked->limit + 1));
  });
  if (!read) {
    return read.error();
  }
  RunPage page;
  std::size_t shown = 0;
  for (const auto& row : *read) {
    if (shown == checked->limit) {
      const auto& last = (*read)[static_cast<pqxx::result::size_type>(shown - 1)];
      page.next_cursor = "v1:" + std::to_string(last[15].as<long long>()) + ":" + last[0].as<std::string>();
      break;
    }
    ++shown;
    auto h = postgres_header_of(row);
    if (h) {
      page.runs.push_back(std::move(*h));
    } else {
      page.unreadable.push_back({row[0].as<std::string>(), h.error().message()});
    }
  }
  return page;
}

expected<std::vector<RunLogEntry>> PostgresCheckpointStore::run_log(const std::string& workflow_id) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  return d.with_retry<std::vector<RunLogEntry>>("run_log", retries_, [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params("SELECT sequence, state, task_id, output_blob, kind, workflow_version, extract(epoch from "
                            "created_at)::float8, "
                            "false FROM cano_checkpoints WHERE workflow_id = $1 UNION ALL SELECT h.sequence, h.state, "
                            "h.task_id, "
                            "h.output_blob, h.kind, h.workflow_version, extract(epoch from h.created_at)::float8, true "
                            "FROM cano_checkpoint_history h JOIN cano_runs r ON r.workflow_id = h.workflow_id "
                            "AND r.created_at = h.run_created_at WHERE h.workflow_id = $1 ORDER BY 1, 8",
                            workflow_id);
    std::vector<RunLogEntry> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      RunLogEntry e;
      e.row = postgres_row_of(row);
      e.written_at = from_epoch_seconds(row[6].as<double>());
      e.archived = row[7].as<bool>();
      out.push_back(std::move(e));
    }
    return out;
  });
}

expected<PurgeCounts> PostgresCheckpointStore::purge_runs(std::chrono::system_clock::time_point finished_before) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  auto before = timestamp_text(finished_before);
  return d.with_retry<PurgeCounts>("purge_runs", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    // One statement sees one snapshot: the logs deleted are exactly those of the headers deleted.
    auto r =
      tx.exec_params(std::string("WITH old AS (DELETE FROM cano_runs WHERE status IN ") + postgres_final_statuses +
                       " AND updated_at < $1::timestamptz RETURNING workflow_id), "
                       "live AS (DELETE FROM cano_checkpoints c USING old WHERE c.workflow_id = "
                       "old.workflow_id RETURNING 1), "
                       "hist AS (DELETE FROM cano_checkpoint_history h USING old WHERE h.workflow_id = "
                       "old.workflow_id RETURNING 1) "
                       "SELECT (SELECT count(*) FROM old), (SELECT count(*) FROM live) + (SELECT count(*) "
                       "FROM hist)",
                     before);
    PurgeCounts out;
    out.runs = r[0][0].as<std::uint64_t>();
    out.rows = r[0][1].as<std::uint64_t>();
    out.rows += postgres_purge_history(tx, finished_before);
    tx.commit();
    return out;
  });
}

expected<std::uint64_t> PostgresCheckpointStore::purge_history(std::chrono::system_clock::time_point archived_before) {
  auto& d = *impl_;
  std::lock_guard<std::mutex> guard(d.mutex);
  return d.with_retry<std::uint64_t>("purge_history", retries_, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto n = postgres_purge_history(tx, archived_before);
    tx.commit();
    return n;
  });
}

} // namespace cano
