// What PostgresCheckpointStore's parts share: its connection, its retry policy, its owner
// identity and the fences it holds, and how errors are worded (never with the password).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pqxx/pqxx>

#include "cano/postgres_checkpoint_store.hpp"
#include "postgres_dsn.hpp"

namespace cano {

/// Prepares the statements of append_batch on a new connection (postgres_batch.cpp).
void prepare_postgres_batch_statements(pqxx::connection& conn);

/// A failure that means "the server or the connection is gone", worth a retry.
bool is_postgres_connection_failure(const std::exception& e);

struct PostgresCheckpointStore::impl {
  PostgresOptions options;
  detail::dsn_secrets secrets; // the DSN's password, in every spelling (postgres_dsn.hpp)
  std::mutex mutex;            // `conn`, used by one caller at a time; guards the owner and `fences` too
  std::unique_ptr<pqxx::connection> conn;
  /// The fence this store holds for a run it started, claimed or adopted (D8), and this owner's
  /// epoch when that was last known true (-1: not known). While the epoch stays, no run of this
  /// store was taken over, and a batch need not read the run's header.
  struct held_fence {
    std::uint64_t fence = 0;
    std::int64_t epoch = -1;
  };
  std::unordered_map<std::string, held_fence> fences;
  /// Moves when the owner identity changes (set_owner): a batch begun under an older identity
  /// records no fence, and a batch connection opened under it reconnects with the new name.
  std::uint64_t generation = 0;

  /// A connection that commits batches, one at a time (PostgresOptions::batch_connections):
  /// batches on different slots run at once, each guarded by its slot's mutex alone.
  struct batch_slot {
    std::mutex mutex;
    std::unique_ptr<pqxx::connection> conn;
    std::uint64_t generation = 0; // of the owner name its session carries
  };
  std::vector<std::unique_ptr<batch_slot>> batch_slots;
  std::atomic<std::size_t> next_batch_slot{0};

  /// A free batch slot, locked; when every slot is busy, waits for the next one in turn.
  std::pair<batch_slot*, std::unique_lock<std::mutex>> acquire_batch_slot() {
    for (auto& s : batch_slots) {
      std::unique_lock<std::mutex> lock(s->mutex, std::try_to_lock);
      if (lock.owns_lock()) {
        return {s.get(), std::move(lock)};
      }
    }
    auto& s = batch_slots[next_batch_slot.fetch_add(1) % batch_slots.size()];
    return {s.get(), std::unique_lock<std::mutex>(s->mutex)};
  }

  std::string scrub(std::string message) const;

  error store_error(const std::string& what, const std::exception& e) const {
    return error::checkpoint_store("postgres: " + what + ": " + scrub(e.what()));
  }

  /// The shared connection (callers hold `mutex`).
  pqxx::connection& connection() { return connect(conn, options.owner); }

  /// `slot`'s connection, opened when there is none (or it broke) as a session of `owner`.
  pqxx::connection& connect(std::unique_ptr<pqxx::connection>& slot, const std::string& owner) {
    if (!slot || !slot->is_open()) {
      slot.reset();
      slot = std::make_unique<pqxx::connection>(detail::with_default_connect_timeout(options.dsn));
      {
        // Whose session this is, for operators — and for a cluster that ends a dead owner's
        // sessions (cluster/membership.cpp).
        pqxx::nontransaction tx(*slot);
        tx.exec("SET application_name = " + tx.quote("cano:" + owner));
        if (options.read_only) {
          tx.exec("SET default_transaction_read_only = on"); // a reader never writes by mistake
        }
      }
      prepare_postgres_batch_statements(*slot);
    }
    return *slot;
  }

  /// Runs `fn(connection)` and retries it with backoff while the server is unreachable, until
  /// the deadline; then the error is marked store_unavailable. Other errors return at once.
  template <class T, class F>
  expected<T> with_retry(const std::string& what, std::atomic<std::uint64_t>& retries, F fn) {
    return with_retry_on<T>(conn, options.owner, what, retries, fn);
  }

  /// with_retry on `slot`'s connection, a session of `owner`.
  template <class T, class F>
  expected<T> with_retry_on(std::unique_ptr<pqxx::connection>& slot, const std::string& owner, const std::string& what,
                            std::atomic<std::uint64_t>& retries, F fn) {
    auto deadline = std::chrono::steady_clock::now() + options.retry_deadline;
    auto backoff = options.initial_backoff;
    for (;;) {
      try {
        return fn(connect(slot, owner));
      } catch (const std::exception& e) {
        if (!is_postgres_connection_failure(e)) {
          return store_error(what, e);
        }
        slot.reset();
        if (std::chrono::steady_clock::now() + backoff > deadline) {
          return error::checkpoint_store("postgres unavailable: " + what + ": " + scrub(e.what())).store_unavailable();
        }
      }
      retries.fetch_add(1);
      std::this_thread::sleep_for(backoff); // on the checkpoint actor's own thread, never a worker
      backoff = std::min(backoff * 2, options.max_backoff);
    }
  }
};

/// The statuses that end a run, as SQL text for `status IN (...)`.
inline constexpr const char* postgres_final_statuses = "('completed', 'failed', 'rolled_back')";

/// The columns of a header query (`SELECT <these> FROM cano_runs ...`) on a schema at
/// `schema_version`, and a row of it as a header (or why it cannot be read).
std::string postgres_header_columns(int schema_version);
expected<RunHeader> postgres_header_of(const pqxx::row& row);
/// A row of `SELECT sequence, state, task_id, output_blob, kind, workflow_version ...`; throws
/// std::out_of_range for a version out of u32 range.
CheckpointRow postgres_row_of(const pqxx::row& row);

// -- history retention (issue 15; postgres_history.cpp)
// --------------------------------------------

/// A PostgreSQL array literal of texts ({"a","b"}), for one text[] parameter.
std::string postgres_text_array(const std::vector<std::string>& values);

/// Deletes the rows of the runs in `ids` (a text[] literal) in `tx`; with `archive`, moves them
/// to cano_checkpoint_history of the runs' current headers instead. (A trigger notes each run's
/// last state, migration 0004.)
void postgres_clear_runs(pqxx::work& tx, const std::string& ids, bool archive);

/// Deletes history rows archived before `before`; returns how many.
std::uint64_t postgres_purge_history(pqxx::work& tx, std::chrono::system_clock::time_point before);

} // namespace cano
