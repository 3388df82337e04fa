// cano::node — one process of a cano-actor cluster: runs survive the death of the node that drove
// them. Nodes share one PostgreSQL database (the truth: run logs, headers, ownership, membership)
// and talk over CAF's middleman (the fast signal: a peer's connection dropping).
//
//   caf::actor_system_config cfg;
//   cano::node::configure(cfg);                 // loads CAF's middleman, heartbeats on
//   caf::actor_system sys{cfg};
//   cano::runtime rt{sys};
//   auto n = cano::node::open(sys, rt, {"node-a"});          // $CANO_PG_DSN; port 0 = any
//   if (!n) { std::cerr << n.error() << "\n"; return 1; }
//   auto orders = (*n)->serve(order_workflow);  // bound to the node's store; claims may resume it
//   (*n)->start();                               // joins: publishes, leases, takes over orphans
//   rt.start(orders, Order::Validate, {"order-7", input}, self);
//
// Membership (ARCHITECTURE D8): each node incarnation has a row in cano_nodes with a lease it
// renews every `renew_every`, judged by the server's clock, and holds a session advisory lock
// keyed by its owner identity "<node_id>#<incarnation>" on its membership connection. A peer is
// dead at once when CAF reports its node actor down AND its advisory lock is free (probed inside
// the transaction that declares it dead); otherwise when its lease expired — never within one
// lease of the server's start or of the observer's own reconnect. Declaring a node dead hands its
// unfinished runs to the owner "orphan" with fence + 1 (so the dead node's later writes are
// refused, `fenced`), and live nodes that serve a run's definition and version claim their share
// of orphans (one winner each) and resume them from the log; a compensating run continues its
// drain (D7). A node that finds its own lease or lock taken stops driving (its store's owner
// changes, so its runs' next writes are fenced) and rejoins under a new incarnation.
//
// Scheduled flows (cano/cluster_flow.hpp): node->add_flow(...) before start(); each flow is fired
// by one node at a time, once per tick cluster-wide, and moves to a survivor with its leader's death.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cano/cluster_flow.hpp"
#include "cano/cluster_node.hpp"
#include "cano/error.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/runtime.hpp"
#include "cano/workflow.hpp"

#include <caf/actor.hpp>

namespace caf {
class actor_system;
class actor_system_config;
} // namespace caf

namespace cano {

struct node_config {
  /// The node's stable name (several incarnations of one name follow each other).
  std::string node_id;
  /// Where its node actor listens (peers connect there). Plain TCP binds 127.0.0.1 unless set.
  std::string host = "127.0.0.1";
  /// 0: an ephemeral port (node::port() tells which).
  std::uint16_t port = 0;
  /// How long a lease lasts without renewal; a silent node is declared dead after it. At most
  /// `max_lease`; longer than renew_every.
  std::chrono::milliseconds lease{3000};
  static constexpr std::chrono::milliseconds max_lease{24 * 3600 * 1000};
  /// How often the lease is renewed and the membership looked at (several per lease).
  std::chrono::milliseconds renew_every{500};
  /// How often the node looks for its own stalled runs — unfinished runs its incarnation owns
  /// whose header has not changed for two leases and that its runtime does not drive (a claimed
  /// run whose resume failed, say on a database error) — and resumes them. 0: never.
  std::chrono::milliseconds resume_stalled_every{30000};
  /// The shared database; `owner` is set by the node.
  PostgresOptions store;
  /// Told what the node's flow leader does (leads, fires, outcomes), from its own thread.
  std::function<void(const flow_event&)> on_flow_event;
};

/// One node incarnation as cano_nodes holds it (cluster_client::status, `cano-node status`).
struct node_status {
  std::string node_id;
  std::uint64_t incarnation = 0;
  std::string state;             // joining | active | draining | dead
  std::string address;           // host:port of its node actor
  double lease_left_seconds = 0; // by the server's clock; negative: expired; 0 when dead
  std::uint64_t owned_unfinished = 0;
};

/// What any process can do with a cluster without serving in it: submit runs, read results by
/// id, list the nodes. Needs an actor system with CAF's middleman (node::configure) to tell a
/// node to start a run it placed there.
class cluster_client {
public:
  /// Connects to the cluster's database. Errors name the problem, never the password.
  static expected<std::unique_ptr<cluster_client>> open(caf::actor_system& sys, PostgresOptions store);
  ~cluster_client();

  /// Start-or-get anywhere (ARCHITECTURE D9): an id that exists, in any status, is returned as it
  /// is; otherwise a new run of `definition` at `version` is placed on the live node serving it
  /// that owns the fewest unfinished runs — its header written with that owner — and that node is
  /// told to start it. A node that refuses (draining) or does not acknowledge within
  /// `ack_timeout` loses the run to the next one (a claim: fence + 1, so a late start is fenced).
  /// An empty id gets a generated one. Returns the id. Errors: no live node serves that
  /// definition and version (workflow), the database (checkpoint_store).
  expected<std::string> submit(const std::string& definition, std::uint32_t version, nlohmann::json input,
                               std::string workflow_id = {},
                               std::chrono::milliseconds ack_timeout = std::chrono::seconds(2));
  /// The run's header once it is finished, waiting (polling every 100 ms) while it is not — across
  /// failovers of the node that runs it. Errors: no such run (workflow), `timeout` passed
  /// (timeout), the database.
  expected<RunHeader> await_header(const std::string& workflow_id, std::chrono::milliseconds timeout);
  /// Cancels the unfinished run `workflow_id` wherever it runs (cano 0.15 §4.3): a durable
  /// request in its header (CheckpointStore::request_cancel), which the node that owns the run
  /// picks up within about a second (runtime_config::cancel_poll_interval) — it drops the task in
  /// flight unless it is a saga step, undoes the saga and ends the run `cancelled`. A run placed
  /// but not started yet, or whose node dies first, is cancelled at its first state by whoever
  /// starts or takes it over. Returns once the request is durable; await_header tells the end.
  /// Errors: no such run, the run already ended (workflow), the database.
  expected<void> cancel(const std::string& workflow_id);
  /// Every flow the cluster has scheduled, by id, with its leader.
  expected<std::vector<cluster_flow_status>> flows();
  /// cano's trigger for a flow of the cluster: reserves it now (Running, run_count + 1) for the
  /// run "<id>@<now>", which its leader places on itself and starts (within its next look; while
  /// no node leads the flow, when one does). Bypasses a backoff window, not a trip. Returns the
  /// run id. Errors (workflow, cano's texts): "No workflow registered with id '<id>'", "Flow
  /// '<id>' is already running", "Flow '<id>' is tripped — call reset_flow before triggering";
  /// the database (checkpoint_store).
  expected<std::string> trigger_flow(const std::string& flow_id);
  /// cano's reset_flow: streak 0, no backoff window, Idle unless running. Error: "No workflow
  /// registered with id '<id>'"; the database.
  expected<void> reset_flow(const std::string& flow_id);
  /// The node incarnations the database knows, by node id, oldest first: every live one, and the
  /// dead ones whose lease ended less than `dead_for` ago (every dead one with std::nullopt), so
  /// incarnations that ended long ago, failed starts included, stop cluttering the list.
  expected<std::vector<node_status>> status(std::optional<std::chrono::seconds> dead_for = std::chrono::hours(1));

  struct impl;
  explicit cluster_client(std::unique_ptr<impl> p);

private:
  friend class node;
  std::unique_ptr<impl> impl_;
};

/// What a node has done so far.
struct node_stats {
  std::uint64_t incarnation = 0;
  std::uint64_t rejoins = 0;       // times it found itself declared dead and came back
  std::uint64_t declared_dead = 0; // peers this node declared dead
  std::uint64_t claimed = 0;       // orphaned runs this node took over and resumed
  std::uint64_t stalled = 0;       // runs of its own it found undriven and resumed
  std::uint64_t flows_led = 0;     // flows this node leads now
  std::uint64_t fires = 0;         // ticks (and triggered runs) this node fired
};

class node {
public:
  /// Prepares `cfg` for a node, before the actor system exists: loads CAF's io middleman and
  /// turns heartbeats on (middleman.heartbeat-interval 100 ms, connection-timeout 1 s) unless
  /// the configuration sets them — they must be on on every node (STACK-NOTES §2b).
  static void configure(caf::actor_system_config& cfg);
  /// After the configuration was parsed, before the actor system exists: TLS between nodes when
  /// openssl.certificate, openssl.key and openssl.cafile are given (CAF 0.17: TLS 1.2; peers are
  /// verified against the CA, but CAF does not show a peer's certificate, so any certificate of
  /// that CA may act as any node — use one CA per cluster). Error (configuration): some
  /// openssl.* option set without a certificate, a key and a CA.
  static expected<void> configure_tls(caf::actor_system_config& cfg);

  /// Connects to the database (migrating it), registers a new incarnation of `config.node_id`
  /// (state joining) and takes its advisory lock. Errors: configuration (no node id, no
  /// middleman loaded), checkpoint_store (the database), never the DSN's password.
  static expected<std::unique_ptr<node>> open(caf::actor_system& sys, runtime& rt, node_config config);

  ~node(); // leave() if started
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Serves a definition: `wf` (which needs with_name) bound to this node's store. The node may
  /// take over and resume any run of that name and version; start your own runs with the
  /// returned workflow. Call before start().
  template <class S>
  Workflow<S> serve(const Workflow<S>& wf) {
    auto bound = wf.with_checkpoint_store(store());
    add_definition(bound.name(), bound.workflow_version(), false,
                   [this, bound](const std::string& id, bool take_over, std::function<void(run_result &&)> done) {
                     run_options o{id, nullptr};
                     o.take_over = take_over;
                     runtime_.resume(bound, std::move(o), S{}, std::move(done));
                   });
    return bound;
  }
  /// Serves a definition whose runs may be submitted anywhere in the cluster: a placed run
  /// starts from `initial`.
  template <class S>
  Workflow<S> serve(const Workflow<S>& wf, S initial) {
    auto bound = wf.with_checkpoint_store(store());
    add_definition(
      bound.name(), bound.workflow_version(), true,
      [this, bound, initial](const std::string& id, bool take_over, std::function<void(run_result &&)> done) {
        run_options o{id, nullptr};
        o.take_over = take_over;
        o.start_if_empty = true;
        runtime_.resume(bound, std::move(o), initial, std::move(done));
      });
    return bound;
  }

  /// Schedules `flow` for the cluster (cano/cluster_flow.hpp): this node may lead it, firing its
  /// ticks as runs placed on itself. Call after serve() and before start(). Errors
  /// (configuration): check_flow's; "Flow '<id>' already exists" (cano's text); a definition
  /// this node does not serve with an initial state; called after start().
  expected<void> add_flow(cluster_flow flow);

  /// Publishes the node actor, becomes active, renews its lease, watches its peers and takes
  /// over orphaned runs. Errors: the port cannot be bound, the database.
  expected<void> start();
  /// Leaves the cluster: stops renewing, hands its unfinished runs to survivors (owner
  /// "orphan") and marks its incarnation dead. The runtime's runs still going are fenced.
  void leave();
  /// A graceful exit (SIGTERM): stops taking runs (state draining: submissions go elsewhere),
  /// lets runs reach a boundary until `deadline` (the runtime shuts down: what is left ends
  /// interrupted, its log kept), then leaves — survivors claim what is left at once, without
  /// waiting for a lease to run out. True when every run finished in time.
  bool drain(std::chrono::milliseconds deadline);

  /// submit through this node (see cluster_client::submit); a run placed on this node starts
  /// here without a message.
  expected<std::string> submit(const std::string& definition, std::uint32_t version, nlohmann::json input,
                               std::string workflow_id = {});
  /// The result of run `workflow_id` of `wf`'s definition, from any node: at once when finished,
  /// else when it finishes, across failovers; an error `timeout` past `timeout`. Read through
  /// this node's store whatever store `wf` is bound to.
  template <class S>
  expected<S> await(const Workflow<S>& wf, const std::string& workflow_id,
                    std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
    auto header = await_header(workflow_id, timeout);
    if (!header) {
      return header.error();
    }
    return runtime_.result(wf.with_checkpoint_store(store()), workflow_id); // as rt.result reads it
  }
  /// await from an actor: returns at once; `reply_to` receives the run_result when the run is
  /// finished (or one carrying the error: no such run, timeout, the database).
  template <class S>
  void await(const Workflow<S>& wf, const std::string& workflow_id, const caf::actor& reply_to,
             std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
    auto bound = wf.with_checkpoint_store(store());
    await_then(workflow_id, timeout, reply_to, [this, bound, workflow_id, reply_to] {
      runtime_.result(bound, workflow_id, reply_to); // finished: read back from its header
    });
  }
  expected<RunHeader> await_header(const std::string& workflow_id, std::chrono::milliseconds timeout);
  /// Cancels run `workflow_id` from this node, wherever it runs: at once when this node drives it
  /// (runtime::cancel), and in any case through a durable request in its header (see
  /// cluster_client::cancel), which survives this node. Errors: those of cluster_client::cancel,
  /// unless this node drives the run.
  expected<void> cancel(const std::string& workflow_id);

  /// Every node incarnation the cluster's database records (cano_nodes), by node id, newest
  /// incarnation first, with what is left of each lease by the database's clock and the
  /// unfinished runs each owns: what a status page shows. One short connection of its own (`store.dsn`, or
  /// $CANO_PG_DSN). Errors: checkpoint_store (the database, never the DSN's password).
  static expected<std::vector<cluster_node>> members(const PostgresOptions& store);

  const std::string& id() const noexcept;
  /// "<node_id>#<incarnation>": the owner of the runs this node drives.
  std::string owner() const;
  std::uint16_t port() const noexcept;
  node_stats stats() const;
  std::shared_ptr<PostgresCheckpointStore> store() const;

  struct impl;

private:
  using resume_fn = std::function<void(const std::string&, bool take_over, std::function<void(run_result&&)>)>;
  node(runtime& rt, std::unique_ptr<impl> p);
  /// `placeable`: served with an initial state, so runs placed on the node can start.
  void add_definition(const std::string& name, std::uint32_t version, bool placeable, resume_fn resume);
  /// Waits (on a thread of its own) for the run to finish, then calls `finished`; on an error,
  /// sends `reply_to` a run_result carrying it.
  void await_then(const std::string& workflow_id, std::chrono::milliseconds timeout, const caf::actor& reply_to,
                  std::function<void()> finished);

  runtime& runtime_;
  std::unique_ptr<impl> impl_;
};

} // namespace cano
