#include "membership.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "../postgres_array.hpp"
#include "../postgres_dsn.hpp"

namespace cano::detail {

namespace {

constexpr const char* unfinished = "status NOT IN ('completed', 'failed', 'rolled_back')";

std::string interval(std::chrono::milliseconds d) { return std::to_string(d.count()) + " milliseconds"; }

std::string definitions_json(const std::vector<served_definition>& served) {
  auto all = nlohmann::json::array();
  for (const auto& d : served) {
    all.push_back({{"name", d.name}, {"version", d.version}});
  }
  return all.dump();
}

/// The served definitions as two parallel arrays (names, versions) for `unnest($1, $2)`.
std::pair<array_literal, array_literal> served_arrays(const std::vector<served_definition>& served) {
  array_literal names, versions;
  for (const auto& d : served) {
    names.add(d.name);
    versions.add(std::to_string(d.version));
  }
  return {std::move(names), std::move(versions)};
}

/// Rows of (workflow_id, definition, workflow_version) as runs to resume.
std::vector<claimed_run> runs_of(const pqxx::result& r) {
  std::vector<claimed_run> out;
  for (const auto& row : r) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::uint32_t>()});
  }
  return out;
}

} // namespace

std::string node_owner(const std::string& node_id, std::uint64_t incarnation) {
  return node_id + "#" + std::to_string(incarnation);
}

membership::membership(std::string dsn, std::string node_id, std::chrono::milliseconds lease)
  : dsn_(std::move(dsn)),
    node_id_(std::move(node_id)),
    lease_(lease) {}

pqxx::connection& membership::connection() {
  if (!conn_ || !conn_->is_open()) {
    conn_.reset();
    conn_ = std::make_unique<pqxx::connection>(detail::with_default_connect_timeout(dsn_));
    lock_lost_ = incarnation_ != 0; // a session lock dies with its session
    pqxx::nontransaction tx(*conn_);
    // Operators (and tests) can tell a node's membership session in pg_stat_activity.
    tx.exec("SET application_name = " + tx.quote("cano-membership:" + owner()));
    // A membership transaction never outlives a lease. A node paused inside one (its lease
    // UPDATE done, its COMMIT not sent) holds its own row, which peers skip when they expire
    // leases (FOR UPDATE SKIP LOCKED): it would stay undeclared for as long as it sleeps. The
    // server ends such a session instead, which frees its row and its advisory lock: peers
    // declare it dead, and when it wakes it finds its lock lost and rejoins.
    tx.exec("SET idle_in_transaction_session_timeout = " + tx.quote(std::to_string(lease_.count()) + "ms"));
    reconnected_at_ = tx.exec("SELECT now()::text")[0][0].as<std::string>();
  }
  return *conn_;
}

std::uint64_t membership::join(const std::string& address, const std::vector<served_definition>& served) {
  auto& c = connection();
  {
    pqxx::nontransaction tx(c);
    tx.exec("SELECT pg_advisory_unlock_all()"); // a previous incarnation's lock, if any
  }
  pqxx::work tx(c);
  // One incarnation at a time per node id: serialise joins of the same name.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended('cano_join:' || $1, 0))", node_id_);
  if (incarnation_ == 0) {
    // A new process: refused while another one serves this node id (its session lock is held).
    // A rejoin skips this: its old lock may be held for a moment by a peer's claim.
    auto alive =
      tx.exec_params("SELECT incarnation, address FROM cano_nodes WHERE node_id = $1 AND state <> 'dead' "
                     "AND NOT pg_try_advisory_xact_lock(hashtextextended(node_id || '#' || incarnation::text, 0)) "
                     "ORDER BY incarnation DESC LIMIT 1",
                     node_id_);
    if (!alive.empty()) {
      throw node_id_in_use("node id \"" + node_id_ + "\" is in use: incarnation " +
                           node_owner(node_id_, alive[0][0].as<std::uint64_t>()) + " at " +
                           alive[0][1].as<std::string>() +
                           " is alive (it holds its session lock); stop it first, or give this node another id");
    }
  }
  auto r =
    tx.exec_params("INSERT INTO cano_nodes (node_id, incarnation, address, definitions, state, lease_until) "
                   "SELECT $1, coalesce(max(incarnation), 0) + 1, $2, $3::jsonb, 'joining', now() + $4::interval "
                   "FROM cano_nodes WHERE node_id = $1 RETURNING incarnation",
                   node_id_, address, definitions_json(served), interval(lease_));
  tx.commit();
  incarnation_ = r[0][0].as<std::uint64_t>();
  pqxx::nontransaction lock(c);
  lock.exec_params("SELECT pg_advisory_lock(hashtextextended($1, 0))", owner());
  lock.exec("SET application_name = " + lock.quote("cano-membership:" + owner()));
  lock_lost_ = false;
  return incarnation_;
}

void membership::activate(const std::string& address, const std::vector<served_definition>& served) {
  pqxx::work tx(connection());
  tx.exec_params("UPDATE cano_nodes SET state = 'active', address = $3, definitions = $4::jsonb, "
                 "lease_until = now() + $5::interval WHERE node_id = $1 AND incarnation = $2 AND state <> 'dead'",
                 node_id_, static_cast<long long>(incarnation_), address, definitions_json(served), interval(lease_));
  tx.commit();
}

bool membership::renew() {
  auto& c = connection();
  if (lock_lost_) {
    // Back after a lost connection: our lock went with it. If another session holds it now, a
    // peer is declaring us dead: stop and rejoin.
    pqxx::nontransaction tx(c);
    if (!tx.exec_params("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", owner())[0][0].as<bool>()) {
      return false;
    }
    lock_lost_ = false;
  }
  pqxx::work tx(c);
  auto r = tx.exec_params("UPDATE cano_nodes SET lease_until = now() + $3::interval "
                          "WHERE node_id = $1 AND incarnation = $2 AND state <> 'dead' RETURNING 1",
                          node_id_, static_cast<long long>(incarnation_), interval(lease_));
  tx.commit();
  return !r.empty();
}

std::vector<peer> membership::peers() {
  pqxx::read_transaction tx(connection());
  auto r =
    tx.exec_params("SELECT node_id, incarnation, address FROM cano_nodes "
                   "WHERE state IN ('joining', 'active', 'draining') AND NOT (node_id = $1 AND incarnation = $2)",
                   node_id_, static_cast<long long>(incarnation_));
  std::vector<peer> out;
  for (const auto& row : r) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::uint64_t>(), row[2].as<std::string>()});
  }
  return out;
}

void membership::orphan_runs_of(pqxx::work& tx, const std::string& owner) {
  // A dead process may hold a transaction open (paused inside a batch, or a flow's fire): end its
  // sessions, so its locks go and its open batch rolls back — it reconnects, if it lives, to find itself
  // fenced. Then wait for its batch in flight, if any (it holds the owner's row FOR SHARE): its
  // next batch sees the new epoch, re-reads its runs' owners and is refused.
  tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE application_name IN ($1, $2, $3) AND pid <> pg_backend_pid()",
                 "cano:" + owner, "cano-membership:" + owner, "cano-flows:" + owner);
  tx.exec("SET LOCAL lock_timeout = '5s'"); // never stuck behind a session that will not go
  tx.exec_params("UPDATE cano_owners SET epoch = epoch + 1 WHERE owner = $1", owner);
  tx.exec_params(
    std::string("UPDATE cano_runs SET owner = 'orphan', fence = fence + 1 WHERE owner = $1 AND ") + unfinished, owner);
}

void membership::bury(pqxx::work& tx, const std::vector<std::pair<std::string, std::uint64_t>>& dead) {
  for (const auto& [id, incarnation] : dead) {
    tx.exec_params("UPDATE cano_nodes SET state = 'dead' WHERE node_id = $1 AND incarnation = $2", id,
                   static_cast<long long>(incarnation));
    orphan_runs_of(tx, node_owner(id, incarnation));
  }
}

std::vector<std::string> membership::expire_leases() {
  pqxx::work tx(connection());
  auto r = tx.exec_params("SELECT node_id, incarnation FROM cano_nodes WHERE state <> 'dead' AND lease_until < now() "
                          "AND pg_postmaster_start_time() < now() - $3::interval "
                          "AND ($4 = '' OR $4::timestamptz < now() - $3::interval) "
                          "AND NOT (node_id = $1 AND incarnation = $2) FOR UPDATE SKIP LOCKED",
                          node_id_, static_cast<long long>(incarnation_), interval(lease_), reconnected_at_);
  std::vector<std::pair<std::string, std::uint64_t>> dead;
  std::vector<std::string> owners;
  for (const auto& row : r) {
    dead.emplace_back(row[0].as<std::string>(), row[1].as<std::uint64_t>());
    owners.push_back(node_owner(dead.back().first, dead.back().second));
  }
  bury(tx, dead);
  tx.commit();
  return owners;
}

membership::probe_result membership::probe_dead(const std::string& node_id, std::uint64_t incarnation) {
  pqxx::work tx(connection());
  auto state = tx.exec_params("SELECT state FROM cano_nodes WHERE node_id = $1 AND incarnation = $2 FOR UPDATE",
                              node_id, static_cast<long long>(incarnation));
  if (state.empty()) {
    return probe_result::alive;
  }
  if (state[0][0].as<std::string>() == "dead") {
    return probe_result::already_dead;
  }
  // Its session's lock is free only when its session is gone: the process (or its database
  // connection) is dead, and CAF saw it go. Held: alive, or partitioned — the lease will tell.
  auto free =
    tx.exec_params("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", node_owner(node_id, incarnation))[0][0]
      .as<bool>();
  if (!free) {
    return probe_result::alive;
  }
  bury(tx, {{node_id, incarnation}});
  tx.commit();
  return probe_result::declared;
}

std::vector<claimed_run> membership::claim_orphans(const std::vector<served_definition>& served) {
  if (served.empty()) {
    return {};
  }
  pqxx::work tx(connection());
  // Only a live incarnation claims: one that woke up dead (a paused process) rejoins first. Its
  // row is held until the claim commits, so a burial racing it orphans what it claimed.
  auto alive = tx.exec_params("SELECT 1 FROM cano_nodes WHERE node_id = $1 AND incarnation = $2 AND state <> 'dead' "
                              "FOR SHARE",
                              node_id_, static_cast<long long>(incarnation_));
  if (alive.empty()) {
    return {};
  }
  // A dead incarnation may still have made runs between its burial and noticing it (a paused
  // process that woke): hand those over too, fencing it as the burial did.
  auto stragglers = tx.exec(std::string("SELECT DISTINCT r.owner FROM cano_runs r JOIN cano_nodes n ON r.owner = "
                                        "n.node_id || '#' || n.incarnation WHERE n.state = 'dead' AND r.") +
                            unfinished);
  for (const auto& row : stragglers) {
    orphan_runs_of(tx, row[0].as<std::string>());
  }
  auto counts = tx.exec(std::string("SELECT (SELECT count(*) FROM cano_runs WHERE owner = 'orphan' AND ") + unfinished +
                        "), (SELECT count(*) FROM cano_nodes WHERE state = 'active' AND lease_until > now())");
  auto orphans = counts[0][0].as<long long>();
  if (orphans == 0) {
    return {};
  }
  auto live = std::max<long long>(1, counts[0][1].as<long long>());
  auto share = (orphans + live - 1) / live; // spread over the live nodes
  auto [names, versions] = served_arrays(served);
  auto r = tx.exec_params(
    std::string("WITH c AS (SELECT r.workflow_id FROM cano_runs r "
                "JOIN unnest($1::text[], $2::bigint[]) AS s(name, version) "
                "ON r.definition = s.name AND r.workflow_version = s.version "
                "WHERE r.owner = 'orphan' AND r.") +
      unfinished +
      " ORDER BY r.created_at LIMIT $3 FOR UPDATE OF r SKIP LOCKED) "
      "UPDATE cano_runs r SET owner = $4, fence = r.fence + 1 FROM c WHERE r.workflow_id = c.workflow_id "
      "RETURNING r.workflow_id, r.definition, r.workflow_version",
    names.text(), versions.text(), share, owner());
  tx.commit();
  return runs_of(r);
}

std::vector<claimed_run> membership::quiet_runs(const std::vector<served_definition>& served,
                                                std::chrono::milliseconds quiet_for, std::size_t limit) {
  if (served.empty()) {
    return {};
  }
  auto [names, versions] = served_arrays(served);
  pqxx::read_transaction tx(connection());
  auto r = tx.exec_params(
    std::string("SELECT r.workflow_id, r.definition, r.workflow_version FROM cano_runs r "
                "JOIN unnest($1::text[], $2::bigint[]) AS s(name, version) "
                "ON r.definition = s.name AND r.workflow_version = s.version "
                "WHERE r.owner = $3 AND r.") +
      unfinished +
      " AND r.updated_at < now() - $4::interval "
      "AND EXISTS (SELECT 1 FROM cano_nodes n WHERE n.node_id = $5 AND n.incarnation = $6 AND n.state <> 'dead') "
      "ORDER BY r.updated_at LIMIT $7",
    names.text(), versions.text(), owner(), interval(quiet_for), node_id_, static_cast<long long>(incarnation_),
    static_cast<long long>(limit));
  return runs_of(r);
}

void membership::leave() {
  pqxx::work tx(connection());
  bury(tx, {{node_id_, incarnation_}});
  tx.commit();
  pqxx::nontransaction unlock(connection());
  unlock.exec("SELECT pg_advisory_unlock_all()");
}

} // namespace cano::detail
