// membership — a node's view of cano_nodes and the claims it makes (ARCHITECTURE D8), over one
// connection of its own that holds the node's session advisory lock. Used by one thread at a time
// (node::open, then the node's membership actor). Every judgement of time is the server's now().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "cano/error.hpp"

namespace cano::detail {

/// "<node_id>#<incarnation>": the owner identity of a node incarnation.
std::string node_owner(const std::string& node_id, std::uint64_t incarnation);

struct peer {
  std::string node_id;
  std::uint64_t incarnation = 0;
  std::string address; // host:port
  std::string owner() const { return node_owner(node_id, incarnation); }
};

/// A definition a node serves: runs of it may be claimed by that node.
struct served_definition {
  std::string name;
  std::uint32_t version = 0;
};

/// A run this node took over: resume it.
struct claimed_run {
  std::string workflow_id;
  std::string definition;
  std::uint32_t version = 0;
};

/// Thrown by membership::join when another process serves the node id: an incarnation of it
/// holds its session lock.
struct node_id_in_use : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class membership {
public:
  membership(std::string dsn, std::string node_id, std::chrono::milliseconds lease);

  /// Registers a new incarnation (state joining, lease running) and takes its advisory lock.
  /// Returns the incarnation. Throws pqxx/std exceptions (the caller words them).
  /// A first join (not a rejoin) throws node_id_in_use while a live incarnation of the node id
  /// holds its session lock: two processes never serve one node id.
  std::uint64_t join(const std::string& address, const std::vector<served_definition>& served);
  /// State active (after the node actor is published).
  void activate(const std::string& address, const std::vector<served_definition>& served);

  /// Renews the lease; false when this incarnation was declared dead (or its lock is held by
  /// another session after a reconnect): the node must stop driving and rejoin.
  bool renew();
  /// The other live incarnations (joining, active, draining).
  std::vector<peer> peers();
  /// Declares dead every incarnation whose lease ran out — unless the server started less than a
  /// lease ago, or this node reconnected less than a lease ago — and hands their unfinished runs
  /// to "orphan" (fence + 1) in the same transaction. Returns the owners declared dead.
  std::vector<std::string> expire_leases();
  /// What probe_dead found.
  enum class probe_result {
    alive,        // its lock is held (alive, or partitioned: its lease will tell)
    already_dead, // declared dead before (by a lease, a peer, or its own leave): not ours to count
    declared,     // its lock was free: this call declared it dead
  };
  /// A peer's node actor went down: dead now if its advisory lock is free (its session is gone),
  /// probed inside the transaction that declares it.
  probe_result probe_dead(const std::string& node_id, std::uint64_t incarnation);
  /// Claims this node's fair share of orphaned runs of the served definitions (one winner each:
  /// SKIP LOCKED), fence + 1, owner = this incarnation; nothing while this incarnation is dead.
  std::vector<claimed_run> claim_orphans(const std::vector<served_definition>& served);
  /// This incarnation's unfinished runs of the served definitions whose header has not changed
  /// for `quiet_for` (oldest first, at most `limit`): the node resumes those its runtime does not
  /// drive. Nothing while this incarnation is dead.
  std::vector<claimed_run> quiet_runs(const std::vector<served_definition>& served, std::chrono::milliseconds quiet_for,
                                      std::size_t limit);
  /// Leaves: this incarnation's unfinished runs go to "orphan", its row dead.
  void leave();

  std::uint64_t incarnation() const noexcept { return incarnation_; }
  std::string owner() const { return node_owner(node_id_, incarnation_); }
  const std::string& node_id() const noexcept { return node_id_; }

private:
  pqxx::connection& connection();
  /// Marks `dead` incarnations dead and orphans their runs, inside `tx`.
  void bury(pqxx::work& tx, const std::vector<std::pair<std::string, std::uint64_t>>& dead);
  /// Hands `owner`'s unfinished runs to "orphan" (fence + 1) and moves its epoch (fencing it).
  void orphan_runs_of(pqxx::work& tx, const std::string& owner);

  std::string dsn_;
  std::string node_id_;
  std::chrono::milliseconds lease_;
  std::uint64_t incarnation_ = 0;
  std::unique_ptr<pqxx::connection> conn_;
  bool lock_lost_ = false;     // the connection dropped: re-take the lock before renewing
  std::string reconnected_at_; // server time of this node's last reconnect ("" = never)
};

} // namespace cano::detail
