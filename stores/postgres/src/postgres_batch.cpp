// PostgresCheckpointStore::append_batch — group commit: one transaction for a whole batch of
// many runs' writes, a handful of set-based statements whatever its size, one outcome per write.
//
// Each phase of a batch runs, in order: the creates of new runs (D9: refused when the id is
// unfinished or has rows), the ownership check of every other write (D8: owner and fence, with
// the headers held FOR SHARE), one multi-row INSERT of rows, one upsert of headers, one DELETE of
// cleared logs. A write whose row did not land applies nothing else; a write refused by its
// fence gets a `fenced` error. A commit lost with its connection is resolved by the batch's
// commit mark and the rows' tokens. A batch runs on one of the store's batch connections while
// others run on the rest (the runtime sends every write of one run to the same lane, so a run's
// writes never race each other); what they learn about fences is shared under the store's mutex.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "cano/detail/random_token.hpp"
#include "postgres_array.hpp"
#include "postgres_session.hpp"

namespace cano {
using detail::array_literal;

namespace {

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

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

/// One row of a batch, as bound parameters.
struct row_params {
  std::string workflow_id, sequence, state, task_id, blob, kind, version, token;
  bool has_blob = false;
};

bool is_final(RunStatus s) { return !is_unfinished(s); }

/// The columns of a header as array parameters, in the order the statements below bind them.
struct header_arrays {
  array_literal ids, defs, versions, inputs, statuses, created, updated, final_states, attempts, failures, rollbacks;
  void add(const RunHeader& h) {
    ids.add(h.workflow_id);
    defs.add(h.definition);
    versions.add(std::to_string(h.workflow_version));
    inputs.add(h.input.dump());
    statuses.add(to_string(h.status));
    created.add(std::to_string(seconds_since_epoch(h.created_at)));
    updated.add(std::to_string(seconds_since_epoch(h.updated_at)));
    final_states.add(h.final_state);
    attempts.add(std::to_string(h.attempts));
    failures.add_optional(h.failure ? std::optional<std::string>(nlohmann::json(*h.failure).dump()) : std::nullopt);
    rollbacks.add_optional(h.rollback ? std::optional<std::string>(nlohmann::json(*h.rollback).dump()) : std::nullopt);
  }
};

constexpr const char* header_unnest =
  "unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[], $5::text[], $6::float8[], $7::float8[], $8::text[], "
  "$9::integer[], $10::jsonb[], $11::jsonb[]) AS h(id, def, v, inp, st, cr, up, fs, att, fail, rb)";

constexpr const char* header_update_set =
  "definition = EXCLUDED.definition, workflow_version = EXCLUDED.workflow_version, input = EXCLUDED.input, "
  "status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, final_state = EXCLUDED.final_state, "
  "attempts = EXCLUDED.attempts, failure = EXCLUDED.failure, rollback = EXCLUDED.rollback";

/// The statements of a batch, prepared once per connection (parsed and planned once: a batch's
/// own time is mostly these statements). Array parameters keep their text whatever the size.
const std::vector<std::pair<const char*, std::string>>& batch_statements() {
  static const std::vector<std::pair<const char*, std::string>> all = {
    // Creates (D9): fence 1, or the old fence + 1 when a finished run is replaced; nothing when
    // the id is unfinished or still has rows. The scalar subquery runs as one index probe per new
    // run; NOT EXISTS may be planned as an anti-join over the whole queue table (measured: up
    // to 20 ms a batch).
    {"cano_create_runs",
     std::string("INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, created_at, "
                 "updated_at, final_state, attempts, failure, rollback, owner, fence) "
                 "SELECT id, def, v, inp, st, to_timestamp(cr), to_timestamp(up), fs, att, fail, rb, $12, 1 FROM ") +
       header_unnest +
       " WHERE (SELECT c.sequence FROM cano_checkpoints c WHERE c.workflow_id = h.id LIMIT 1) IS NULL "
       "ON CONFLICT (workflow_id) DO UPDATE SET " +
       header_update_set +
       ", created_at = EXCLUDED.created_at, owner = EXCLUDED.owner, fence = cano_runs.fence + 1, "
       "cancel_requested_at = NULL " // a new run of the id: the old run's cancel request is not its
       "WHERE cano_runs.status IN " +
       postgres_final_statuses + " RETURNING workflow_id, fence"},
    {"cano_refused_status", "SELECT workflow_id, status FROM cano_runs WHERE workflow_id = ANY($1::text[])"},
    {"cano_fences", "SELECT workflow_id, owner, fence FROM cano_runs WHERE workflow_id = ANY($1::text[]) FOR SHARE"},
    // Rows: a plain INSERT first (measured: a third cheaper than ON CONFLICT's speculative
    // insertion); when a row is taken it aborts the batch, which runs again with the second form.
    {"cano_insert_rows",
     "INSERT INTO cano_checkpoints (workflow_id, sequence, state, task_id, output_blob, kind, workflow_version, "
     "append_token) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], "
     "$6::smallint[], $7::bigint[], $8::text[])"},
    {"cano_insert_rows_untaken",
     "INSERT INTO cano_checkpoints (workflow_id, sequence, state, task_id, output_blob, kind, workflow_version, "
     "append_token) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bytea[], "
     "$6::smallint[], $7::bigint[], $8::text[]) ON CONFLICT DO NOTHING RETURNING workflow_id, sequence"},
    // Headers of runs already created: created_at, owner and fence stay as they are.
    {"cano_upsert_headers",
     std::string("INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, created_at, "
                 "updated_at, final_state, attempts, failure, rollback) "
                 "SELECT id, def, v, inp, st, to_timestamp(cr), to_timestamp(up), fs, att, fail, rb FROM ") +
       header_unnest + " ON CONFLICT (workflow_id) DO UPDATE SET " + header_update_set},
    {"cano_clear_runs", "DELETE FROM cano_checkpoints WHERE workflow_id = ANY($1::text[])"},
    {"cano_owner_epoch", "SELECT epoch FROM cano_owners WHERE owner = $1 FOR SHARE"},
    {"cano_commit_mark", "INSERT INTO cano_commit_marks (token) VALUES ($1)"},
  };
  return all;
}

} // namespace

void prepare_postgres_batch_statements(pqxx::connection& conn) {
  for (const auto& [name, sql] : batch_statements()) {
    conn.prepare(name, sql);
  }
}

std::vector<expected<void>> PostgresCheckpointStore::append_batch(const std::vector<CheckpointWrite>& writes) {
  auto& d = *impl_;
  // A connection of its own: batches on the store's other batch connections run meanwhile.
  auto acquired = d.acquire_batch_slot(); // held until the batch returns
  auto* slot = acquired.first;
  std::string me;
  std::uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> guard(d.mutex);
    me = d.options.owner;
    generation = d.generation;
  }
  if (slot->generation != generation) {
    slot->conn.reset(); // opened under the previous owner name
    slot->generation = generation;
  }
  const std::size_t n = writes.size();
  const bool archive = history_retention().has_value();
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
    p.token = me + "/" + detail::random_token(); // whose row it is, for audits (and in-doubt commits)
  }
  const std::string mark = detail::random_token();
  std::vector<expected<void>> outcomes(n);
  std::map<std::string, std::uint64_t> created; // fences of this batch's creates (valid once committed)

  auto ok = [&](std::size_t j) { return outcomes[j].has_value(); };

  // Creates (D9): a new header owned by this store (fence 1, or the old fence + 1 when it
  // replaces a finished run), unless the id is unfinished or still has rows.
  auto create_runs = [&](pqxx::work& tx, const std::vector<std::size_t>& which) {
    header_arrays h;
    std::vector<std::size_t> asked;
    for (auto j : which) {
      if (!writes[j].header) {
        outcomes[j] = error::checkpoint_store("postgres: a write that creates run " + writes[j].workflow_id +
                                              " must carry its header");
        continue;
      }
      h.add(*writes[j].header);
      asked.push_back(j);
    }
    if (asked.empty()) {
      return;
    }
    auto r = tx.exec_prepared("cano_create_runs", h.ids.text(), h.defs.text(), h.versions.text(), h.inputs.text(),
                              h.statuses.text(), h.created.text(), h.updated.text(), h.final_states.text(),
                              h.attempts.text(), h.failures.text(), h.rollbacks.text(), me);
    for (const auto& row : r) {
      created[row[0].as<std::string>()] = row[1].as<std::uint64_t>();
    }
    array_literal refused;
    for (auto j : asked) {
      if (created.count(writes[j].workflow_id) == 0) {
        refused.add(writes[j].workflow_id);
      }
    }
    if (refused.text() == "{}") {
      return;
    }
    // Say why: the unfinished run's status, or the rows that are still there.
    std::map<std::string, std::string> status_of;
    for (const auto& row : tx.exec_prepared("cano_refused_status", refused.text())) {
      status_of[row[0].as<std::string>()] = row[1].as<std::string>();
    }
    for (auto j : asked) {
      const auto& id = writes[j].workflow_id;
      if (created.count(id) != 0) {
        continue;
      }
      auto st = status_of.find(id);
      auto status = st == status_of.end() ? std::nullopt : run_status_from_string(st->second);
      outcomes[j] = error::checkpoint_store(status && is_unfinished(*status) ? run_conflict_message(id, *status)
                                                                             : checkpoint_conflict_message(id, 0));
    }
  };

  // Ownership (D8): a run's writes pass when its header names this store with the fence it
  // holds (or it has no owner yet). The batch holds this owner's epoch row FOR SHARE, so no run
  // of ours can be claimed while it runs, and a claim moves the epoch. A fence we hold as of
  // this very epoch therefore still holds, and the run's writes need no read; any other run is
  // read (FOR SHARE): one whose fence we last knew at an older epoch, or one we hold no fence
  // for — a fenced driver, or one left over from this process's previous owner name (a node
  // that rejoined), which never passes. Batches on other connections run at the same time:
  // each records what it learnt once committed, stamped with the epoch it saw.
  std::int64_t epoch = 0;
  std::map<std::string, std::uint64_t> verified; // read in this attempt and found ours: the fence
  std::map<std::string, std::uint64_t> held;     // the fence we held for a run read (lost: dropped)
  auto check_fences = [&](pqxx::work& tx, std::vector<std::size_t> which) {
    {
      std::lock_guard<std::mutex> guard(d.mutex);
      which.erase(std::remove_if(which.begin(), which.end(),
                                 [&](std::size_t j) {
                                   const auto& id = writes[j].workflow_id;
                                   if (created.count(id) != 0 || verified.count(id) != 0) {
                                     return true;
                                   }
                                   auto f = d.fences.find(id);
                                   if (f == d.fences.end()) {
                                     return false;
                                   }
                                   if (epoch >= 0 && f->second.epoch == epoch) {
                                     return true;
                                   }
                                   held[id] = f->second.fence;
                                   return false;
                                 }),
                  which.end());
    }
    if (which.empty()) {
      return;
    }
    array_literal ids;
    for (auto j : which) {
      ids.add(writes[j].workflow_id);
    }
    std::map<std::string, std::pair<std::string, std::uint64_t>> holder;
    for (const auto& row : tx.exec_prepared("cano_fences", ids.text())) {
      holder[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::uint64_t>()};
    }
    for (auto j : which) {
      const auto& id = writes[j].workflow_id;
      auto h = holder.find(id);
      if (h == holder.end() || h->second.first.empty()) {
        continue; // no header, or one nobody owns (written before ownership existed)
      }
      auto mine = held.find(id);
      if (h->second.first == me && mine != held.end() && mine->second == h->second.second) {
        verified[id] = mine->second;
        continue;
      }
      outcomes[j] = fenced_error(id, "owner " + h->second.first + ", fence " + std::to_string(h->second.second) +
                                       "; this store is " + me + " holding none");
    }
  };

  // One INSERT … SELECT FROM unnest(arrays): eight array parameters whatever the batch size
  // (cheap to parse and plan). Plain first: every row lands, or one taken row aborts the
  // transaction (`rows_taken`) and the batch runs again with ON CONFLICT DO NOTHING RETURNING,
  // where rows not returned were taken. A taken row is rare (two drivers of one run).
  bool rows_taken = false;  // in an earlier attempt of this batch
  bool taking_rows = false; // the plain INSERT is the statement running
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
    if (k > 0 && !rows_taken) {
      taking_rows = true;
      tx.exec_prepared("cano_insert_rows", ids.text(), seqs.text(), states.text(), tasks.text(), blobs.text(),
                       kinds.text(), versions.text(), tokens.text());
      taking_rows = false;
      for (auto j : which) {
        if (duplicate[j]) {
          outcomes[j] =
            error::checkpoint_store(checkpoint_conflict_message(writes[j].workflow_id, writes[j].row->sequence));
        }
      }
      return;
    }
    if (k > 0) {
      auto r = tx.exec_prepared("cano_insert_rows_untaken", ids.text(), seqs.text(), states.text(), tasks.text(),
                                blobs.text(), kinds.text(), versions.text(), tokens.text());
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

  // One upsert of every header in the phase (the last of a run wins); created_at, owner and
  // fence stay as they are.
  auto upsert_headers = [&](pqxx::work& tx, const std::vector<std::size_t>& which) {
    std::map<std::string, std::size_t> last;
    for (auto j : which) {
      last[writes[j].workflow_id] = j;
    }
    if (last.empty()) {
      return;
    }
    header_arrays h;
    for (const auto& kv : last) {
      h.add(*writes[kv.second].header);
    }
    tx.exec_prepared("cano_upsert_headers", h.ids.text(), h.defs.text(), h.versions.text(), h.inputs.text(),
                     h.statuses.text(), h.created.text(), h.updated.text(), h.final_states.text(), h.attempts.text(),
                     h.failures.text(), h.rollbacks.text());
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
    postgres_clear_runs(tx, ids.text(), archive); // history retention: moved, not deleted
  };

  // Runs the batch in one transaction; returns whether it committed (false: retry it). A row
  // for a run already cleared in this phase starts a new phase (a new run reusing the id), which
  // keeps the batch's order where it matters.
  auto run_batch = [&](pqxx::connection& c) -> bool {
    pqxx::work tx(c);
    created.clear();
    verified.clear();
    held.clear();
    taking_rows = false;
    // Deleting the rows of many runs by id must use the primary key: with the dead rows a
    // queue table carries, a misestimated sequential scan gets slower with every batch. Then
    // this owner's epoch, its row held FOR SHARE until the commit.
    tx.exec("SET LOCAL enable_seqscan = off");
    auto owner_row = tx.exec_prepared("cano_owner_epoch", me);
    epoch = owner_row.empty() ? -1 : owner_row[0][0].as<std::int64_t>(); // no row: check every run
    std::size_t i = 0;
    while (i < n) {
      std::vector<std::size_t> phase;
      std::set<std::string> cleared;
      for (; i < n; ++i) {
        const auto& w = writes[i];
        if ((w.row || w.create) && cleared.count(w.workflow_id) != 0) {
          break; // the phase ends before this write
        }
        outcomes[i] = expected<void>{};
        phase.push_back(i);
        if (w.clear_run) {
          cleared.insert(w.workflow_id);
        }
      }
      auto select = [&](auto pred) {
        std::vector<std::size_t> out;
        for (auto j : phase) {
          if (ok(j) && pred(writes[j])) {
            out.push_back(j);
          }
        }
        return out;
      };
      create_runs(tx, select([](const CheckpointWrite& w) { return w.create; }));
      check_fences(tx, select([](const CheckpointWrite& w) { return !w.create; }));
      insert_rows(tx, select([](const CheckpointWrite& w) { return w.row.has_value(); }));
      // The clear and header of a write apply only when its row landed.
      upsert_headers(tx, select([](const CheckpointWrite& w) { return w.header && !w.create; }));
      delete_runs(tx, select([](const CheckpointWrite& w) { return w.clear_run; }));
    }
    tx.exec_prepared("cano_commit_mark", mark);
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
  // tells success (ours) from conflict (another writer's), and each header its owner.
  auto resolve = [&](pqxx::connection& c) -> bool {
    pqxx::work tx(c);
    auto marked = tx.exec_params("SELECT 1 FROM cano_commit_marks WHERE token = $1", mark);
    if (marked.empty()) {
      return false; // not committed: run the batch again
    }
    created.clear();
    verified.clear();
    epoch = -1; // what the lost batch saw is unknown: the next one checks every run
    for (std::size_t i = 0; i < n; ++i) {
      const auto& w = writes[i];
      const auto& id = w.workflow_id;
      outcomes[i] = expected<void>{};
      if (w.row) {
        const auto& r = *w.row;
        auto got = tx.exec_params("SELECT append_token FROM cano_checkpoints WHERE workflow_id = $1 AND sequence = $2",
                                  id, static_cast<long long>(r.sequence));
        bool other_writer = duplicate[i] || (!got.empty() && got[0][0].as<std::string>() != params[i].token);
        if (other_writer) {
          outcomes[i] = error::checkpoint_store(checkpoint_conflict_message(id, r.sequence));
          continue;
        }
      }
      if (w.create || !w.row) {
        auto h = tx.exec_params("SELECT owner, fence FROM cano_runs WHERE workflow_id = $1", id);
        if (!h.empty() && !h[0][0].as<std::string>().empty() && h[0][0].as<std::string>() != me) {
          outcomes[i] = w.create ? error::checkpoint_store(checkpoint_conflict_message(id, 0))
                                 : fenced_error(id, "owner " + h[0][0].as<std::string>());
        } else if (w.create && !h.empty()) {
          created[id] = h[0][1].as<std::uint64_t>();
        }
      }
    }
    tx.commit();
    return true;
  };

  bool in_doubt = false;
  auto done = d.with_retry_on<bool>(slot->conn, me, "append batch", retries_, [&](pqxx::connection& c) -> bool {
    if (in_doubt && resolve(c)) {
      return true;
    }
    in_doubt = false;
    for (;;) {
      try {
        return run_batch(c);
      } catch (const pqxx::in_doubt_error&) {
        in_doubt = true;
        throw;
      } catch (const pqxx::unique_violation&) {
        if (!taking_rows || rows_taken) {
          throw;
        }
        taking_rows = false;
        rows_taken = true; // the transaction is rolled back: again, telling taken rows apart
      }
    }
  });
  if (!done) {
    for (auto& o : outcomes) {
      o = done.error();
    }
    return outcomes;
  }
  // The fences this store now holds, unless its owner name changed meanwhile (then it holds
  // none): finished runs and runs found taken over out (a fence we no longer hold must never
  // let a later batch skip the check; one a claim gave us meanwhile stays), then new runs in
  // (a run replacing a finished one of its id in this batch keeps its new fence), and the runs
  // read and found ours restamped — all with the epoch this batch held (-1: unknown, read again).
  {
    std::lock_guard<std::mutex> guard(d.mutex);
    if (generation == d.generation) {
      for (std::size_t i = 0; i < n; ++i) {
        const auto& id = writes[i].workflow_id;
        const bool finished = outcomes[i] && writes[i].header && is_final(writes[i].header->status);
        const bool lost = !outcomes[i] && outcomes[i].error().code() == errc::fenced;
        auto f = d.fences.find(id);
        auto h = held.find(id);
        if (f != d.fences.end() && (finished || (lost && h != held.end() && h->second == f->second.fence))) {
          d.fences.erase(f);
        }
      }
      for (const auto& kv : created) {
        d.fences[kv.first] = {kv.second, epoch};
      }
      for (const auto& kv : verified) {
        auto f = d.fences.find(kv.first);
        if (f != d.fences.end() && f->second.fence == kv.second) {
          f->second.epoch = epoch;
        }
      }
    }
  }
  // Marks are only needed while a commit may be in doubt: prune old ones now and then.
  static thread_local unsigned prune_counter = 0;
  if (++prune_counter % 1024 == 0) {
    try {
      pqxx::nontransaction tx(d.connect(slot->conn, me));
      tx.exec("DELETE FROM cano_commit_marks WHERE created_at < now() - interval '1 hour'");
    } catch (const std::exception&) {
      slot->conn.reset();
    }
  }
  // History retention: history past it goes now and then (best effort; tried again later).
  if (history_purge_due()) {
    try {
      pqxx::work tx(d.connect(slot->conn, me));
      postgres_purge_history(tx, std::chrono::system_clock::now() - *history_retention());
      tx.commit();
    } catch (const std::exception&) {
      slot->conn.reset();
    }
  }
  return outcomes;
}

} // namespace cano
