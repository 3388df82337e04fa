// cano::node: two actors per node.
//  - the node actor (published): connects to peers through the middleman actor (requests with a
//    timeout: a peer that never answers delays nothing), greets and monitors their node actors,
//    asks the membership actor to probe a peer whose node actor went down, and starts the runs
//    placed on this node (or refuses them while draining);
//  - the membership actor (detached: it blocks on its database connection): renews the lease,
//    lists peers, declares the dead, claims orphaned runs and resumes them, rejoins when this
//    incarnation was declared dead;
//  - with flows declared, the flow leader actor (detached; flow_leader.hpp): leads the flows no
//    active node leads, fires their ticks and follows their runs.
#include "cano/cluster.hpp"

#include <atomic>
#include <cctype>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "../postgres_dsn.hpp"
#include "../postgres_session.hpp"
#include "cano/actor_api.hpp"
#include "cano/debug_quote.hpp"
#include "client_impl.hpp"
#include "flow_leader.hpp"
#include "membership.hpp"
#include "transport.hpp"

namespace cano {

namespace {

// Between nodes (the types every CAF node knows: atoms, strings, integers).
using hello_atom = caf::atom_constant<caf::atom("cano_hello")>; // (node_id, incarnation)
// Inside one node.
using peers_atom = caf::atom_constant<caf::atom("cano_peers")>;
using suspect_atom = caf::atom_constant<caf::atom("cano_susp")>;
using identity_atom = caf::atom_constant<caf::atom("cano_ident")>;
using retry_atom = caf::atom_constant<caf::atom("cano_rtry")>;
using stop_atom = caf::atom_constant<caf::atom("cano_nstop")>;

void say(const std::string& text) { std::cerr << "cano-node: " << text << std::endl; }

} // namespace

struct node::impl {
  explicit impl(caf::actor_system& s) : sys(s) {}

  caf::actor_system& sys;
  node_config config;
  std::shared_ptr<PostgresCheckpointStore> store;
  std::unique_ptr<detail::membership> members; // moves into the membership actor at start()
  std::vector<detail::served_definition> served;
  std::map<std::string, resume_fn> resumers; // by "name@version"
  std::set<std::string> placeable;           // "name@version" served with an initial state
  std::vector<detail::flow_plan> flows;      // declared with add_flow
  caf::actor node_actor, membership_actor, flow_actor;
  std::unique_ptr<cluster_client> client; // submissions and awaits through this node
  std::atomic<bool> draining{false};
  std::uint16_t port = 0;
  std::string address;
  bool started = false;
  bool left = false;

  mutable std::mutex mutex; // guards the figures and the identity below
  node_stats figures;
  std::string owner;
  std::shared_ptr<metrics_sink> metrics; // the runtime's (null: not measured)
  const runtime* rt = nullptr;           // its log lines go through the runtime's sink

  /// Reports to the metrics sink, if any (a sink's exception is dropped).
  template <class F>
  void measure(F&& record) {
    if (metrics) {
      try {
        record(*metrics);
      } catch (...) {
      }
    }
  }

  static std::string key(const std::string& name, std::uint32_t version) {
    return name + "@" + std::to_string(version);
  }

  /// Resumes a run this node claimed; a run this runtime still drives (a fenced leftover of a
  /// previous incarnation) is tried again once it has ended. The run is adopted, not taken
  /// over: if it moved on since the claim (this incarnation was declared dead meanwhile), the
  /// resume is refused as fenced instead of taking it back from its new owner.
  void resume(const detail::claimed_run& run) {
    auto it = resumers.find(key(run.definition, run.version));
    if (it == resumers.end()) {
      return;
    }
    auto retry_to = membership_actor;
    auto again = run;
    it->second(run.workflow_id, false, [retry_to, again](run_result&& r) {
      if (!r.ok() && r.failure->message().find("already running in this runtime") != std::string::npos) {
        caf::anon_send(retry_to, retry_atom::value, again.workflow_id, again.definition,
                       static_cast<std::uint64_t>(again.version));
      }
    });
    measure([](metrics_sink& m) { m.run_claimed(); });
    std::lock_guard<std::mutex> guard(mutex);
    ++figures.claimed;
  }

  /// Resumes a run of this incarnation that nothing drives (found by the stalled-run sweep),
  /// adopting it; one this runtime drives is left alone (a quiet run, not a stalled one).
  void resume_stalled(const std::shared_ptr<impl>& self, const detail::claimed_run& run) {
    auto it = resumers.find(key(run.definition, run.version));
    if (it == resumers.end() || draining) {
      return;
    }
    std::weak_ptr<impl> weak = self;
    it->second(run.workflow_id, false, [weak, id = run.workflow_id](run_result&& r) {
      auto n = weak.lock();
      if (!n || (!r.ok() && r.failure->message().find("already running in this runtime") != std::string::npos)) {
        return;
      }
      n->count(&node_stats::stalled);
      if (!r.ok()) {
        log_record line;
        line.level = log_level::warn;
        line.event = "stalled_run_ended";
        line.message = "a stalled run of this node was resumed and ended: " + r.failure->to_string();
        line.fields = {{"event", "stalled_run_ended", false}, {"workflow_id", id}};
        n->rt->log(std::move(line));
      }
    });
  }

  /// Starts a run placed on this node (adopting it: refused with `fenced` if it moved on).
  bool start_placed(const std::string& id, const std::string& definition, std::uint32_t version) {
    auto it = resumers.find(key(definition, version));
    if (it == resumers.end() || draining) {
      return false;
    }
    it->second(id, false, [](run_result&&) {});
    return true;
  }

  /// Stops the flow leader actor, if any, and waits for it (it ends after the look in progress).
  void stop_flows() {
    if (!flow_actor) {
      return;
    }
    caf::scoped_actor self{sys};
    self->monitor(flow_actor);
    self->send(flow_actor, detail::flow_stop_atom::value);
    self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(30)) >> [] {});
    flow_actor = caf::actor{};
  }

  void count(std::uint64_t node_stats::*field, std::uint64_t n = 1) {
    std::lock_guard<std::mutex> guard(mutex);
    figures.*field += n;
  }
};

namespace {

using impl_ptr = std::shared_ptr<node::impl>;

struct peer_state {
  std::string node_id;
  std::uint64_t incarnation = 0;
};

caf::behavior node_actor_behavior(caf::event_based_actor* self, node::impl* n) {
  // Known peers by the address of their node actor; connections asked for, by owner.
  auto peers = std::make_shared<std::map<caf::actor_addr, peer_state>>();
  auto asked = std::make_shared<std::set<std::string>>();
  auto me = std::make_shared<std::pair<std::string, std::uint64_t>>(n->config.node_id, 0);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto it = peers->find(dm.source);
    if (it == peers->end()) {
      return;
    }
    auto p = it->second;
    peers->erase(it);
    asked->erase(detail::node_owner(p.node_id, p.incarnation));
    self->send(n->membership_actor, suspect_atom::value, p.node_id, p.incarnation);
  });
  auto watch = [=](const caf::actor& who, const std::string& node_id, std::uint64_t incarnation) {
    if (!who || peers->count(who.address()) != 0) {
      return;
    }
    peers->emplace(who.address(), peer_state{node_id, incarnation});
    self->monitor(who);
    // From here on the peer's death is seen at once (a down message), not only by its lease.
    log_record r;
    r.level = log_level::debug;
    r.event = "peer_watched";
    r.message = "watching a peer";
    r.fields = {{"event", "peer_watched", false}, {"peer", detail::node_owner(node_id, incarnation)}};
    n->rt->log(std::move(r));
  };
  return {
    [=](identity_atom, std::uint64_t incarnation) { me->second = incarnation; },
    [=](hello_atom, const std::string& node_id, std::uint64_t incarnation) {
      // A peer connected to us: watch it too (down messages come from either side).
      watch(caf::actor_cast<caf::actor>(self->current_sender()), node_id, incarnation);
    },
    [=](peers_atom, const std::vector<std::string>& ids, const std::vector<std::uint64_t>& incarnations,
        const std::vector<std::string>& addresses) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        auto owner = detail::node_owner(ids[i], incarnations[i]);
        if (!asked->insert(owner).second) {
          continue;
        }
        auto [host, port] = detail::split_address(addresses[i]);
        auto node_id = ids[i];
        auto incarnation = incarnations[i];
        self->request(detail::transport_of(self->system()), n->config.lease, caf::connect_atom::value, host, port)
          .then(
            [=](const caf::node_id&, caf::strong_actor_ptr& whom, const std::set<std::string>&) {
              auto peer = caf::actor_cast<caf::actor>(whom);
              if (!peer) {
                asked->erase(owner);
                return;
              }
              watch(peer, node_id, incarnation);
              self->send(peer, hello_atom::value, me->first, me->second);
            },
            [=](caf::error&) { asked->erase(owner); }); // asked again with the next list
      }
    },
    [=](detail::place_atom, const std::string& id, const std::string& definition,
        std::uint64_t version) -> caf::result<caf::atom_value> {
      if (n->start_placed(id, definition, static_cast<std::uint32_t>(version))) {
        return caf::ok_atom::value;
      }
      return detail::refused_atom::value;
    },
    [=](stop_atom) { self->quit(); },
  };
}

void membership_loop(caf::blocking_actor* self, impl_ptr n, std::unique_ptr<detail::membership> members) {
  bool running = true;
  struct probe {
    std::string node_id;
    std::uint64_t incarnation;
    std::chrono::steady_clock::time_point until;
  };
  std::vector<probe> probes;
  auto next_tick = std::chrono::steady_clock::now();
  auto guarded = [&](const char* what, auto fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      if (is_postgres_connection_failure(e)) {
        // libpq's words here ("Could not obtain client encoding: not connected.") say nothing useful.
        say(std::string(what) + ": the connection to the database was lost; reconnecting at the next renewal");
      } else {
        say(std::string(what) + ": " + detail::dsn_secrets::of(n->config.store.dsn).scrub(e.what()));
      }
    }
  };
  auto rejoin = [&] {
    auto incarnation = members->join(n->address, n->served);
    auto owner = members->owner();
    if (auto r = n->store->set_owner(owner); !r) {
      say("rejoin: " + r.error().to_string());
    }
    members->activate(n->address, n->served);
    {
      std::lock_guard<std::mutex> guard(n->mutex);
      n->owner = owner;
      n->figures.incarnation = incarnation;
      ++n->figures.rejoins;
    }
    n->measure([](metrics_sink& m) { m.node_rejoined(); });
    self->send(n->node_actor, identity_atom::value, incarnation);
    say("this node had been declared dead; rejoined as " + owner);
  };
  auto tick = [&] {
    guarded("lease", [&] {
      if (!members->renew()) {
        rejoin();
      }
    });
    guarded("peers", [&] {
      std::vector<std::string> ids, addresses;
      std::vector<std::uint64_t> incarnations;
      for (const auto& p : members->peers()) {
        ids.push_back(p.node_id);
        incarnations.push_back(p.incarnation);
        addresses.push_back(p.address);
      }
      self->send(n->node_actor, peers_atom::value, ids, incarnations, addresses);
    });
    guarded("leases of peers", [&] {
      auto dead = members->expire_leases().size();
      n->count(&node_stats::declared_dead, dead);
      for (std::size_t k = 0; k < dead; ++k) {
        n->measure([](metrics_sink& m) { m.node_failover(death_signal::lease); });
      }
    });
  };
  auto claim = [&] {
    guarded("claims", [&] {
      for (const auto& run : members->claim_orphans(n->served)) {
        n->resume(run);
      }
    });
  };
  // Runs of this incarnation that nothing drives (a claimed run whose resume failed) are
  // looked for now and then; 100 at a time, oldest first.
  const auto sweep_every = n->config.resume_stalled_every;
  auto next_sweep = std::chrono::steady_clock::now() + sweep_every;
  auto sweep = [&] {
    guarded("stalled runs", [&] {
      for (const auto& run : members->quiet_runs(n->served, 2 * n->config.lease, 100)) {
        n->resume_stalled(n, run);
      }
    });
  };
  while (running) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      tick();
      claim();
      next_tick = std::chrono::steady_clock::now() + n->config.renew_every;
    }
    if (sweep_every.count() > 0 && now >= next_sweep) {
      sweep();
      next_sweep = std::chrono::steady_clock::now() + sweep_every;
    }
    // Suspects: dead at once if their lock is free; asked again until a lease has passed.
    bool buried = false;
    for (auto it = probes.begin(); it != probes.end();) {
      auto found = detail::membership::probe_result::alive;
      guarded("probe", [&] { found = members->probe_dead(it->node_id, it->incarnation); });
      const bool dead = found != detail::membership::probe_result::alive;
      if (found == detail::membership::probe_result::declared) { // one dead already is not counted again
        n->count(&node_stats::declared_dead);
        n->measure([](metrics_sink& m) { m.node_failover(death_signal::down); });
      }
      buried = buried || dead; // claim its runs now, whoever buried it
      it = dead || std::chrono::steady_clock::now() > it->until ? probes.erase(it) : std::next(it);
    }
    if (buried) {
      claim();
    }
    auto wait = next_tick - std::chrono::steady_clock::now();
    if (!probes.empty()) {
      wait = std::min<std::chrono::steady_clock::duration>(wait, std::chrono::milliseconds(50));
    }
    if (wait < std::chrono::steady_clock::duration::zero()) {
      wait = std::chrono::steady_clock::duration::zero();
    }
    self->receive(
      [&](suspect_atom, const std::string& node_id, std::uint64_t incarnation) {
        probes.push_back({node_id, incarnation, std::chrono::steady_clock::now() + n->config.lease});
      },
      [&](retry_atom, const std::string& id, const std::string& definition, std::uint64_t version) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20)); // let the fenced leftover end
        n->resume({id, definition, static_cast<std::uint32_t>(version)});
      },
      [&](stop_atom) {
        running = false;
        if (n->left) {
          guarded("leave", [&] { members->leave(); });
        }
      },
      caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(wait)) >> [] {});
  }
}

/// The flow leader's view of its node: identity, local starts, events and figures.
detail::flow_leader_setup flow_setup(impl_ptr n) {
  detail::flow_leader_setup s;
  s.dsn = n->config.store.dsn;
  s.plans = n->flows;
  s.renew_every = n->config.renew_every;
  s.poll = std::min(n->config.renew_every, std::chrono::milliseconds(100));
  // A takeover takes up to about a lease (a silent leader) plus a look: fire times missed for
  // that long still fire, late.
  s.misfire_grace = 2 * n->config.lease;
  s.owner = [n] {
    std::lock_guard<std::mutex> guard(n->mutex);
    return n->owner;
  };
  s.start = [n](const std::string& id, const std::string& definition, std::uint32_t version) {
    return n->start_placed(id, definition, version);
  };
  auto observer = n->config.on_flow_event;
  auto led = std::make_shared<std::set<std::string>>(); // only the flow actor's thread touches it
  s.on_event = [n, observer, led](const flow_event& e) {
    if (e.what == flow_event::kind::lead) {
      led->insert(e.flow_id);
    } else if (e.what == flow_event::kind::lost) {
      led->erase(e.flow_id);
    }
    {
      std::lock_guard<std::mutex> guard(n->mutex);
      n->figures.flows_led = led->size();
      n->figures.fires += e.what == flow_event::kind::fire ? 1 : 0;
    }
    if (observer) {
      observer(e);
    }
  };
  s.say = [n](const std::string& line) { say(detail::dsn_secrets::of(n->config.store.dsn).scrub(line)); };
  return s;
}

} // namespace

void node::configure(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(100)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(1)});
}

expected<void> node::configure_tls(caf::actor_system_config& cfg) {
  bool any = !cfg.openssl_key.empty() || !cfg.openssl_passphrase.empty() || !cfg.openssl_capath.empty() ||
             !cfg.openssl_cafile.empty() || !cfg.openssl_certificate.empty();
  if (!any) {
    return {}; // plain TCP
  }
  if (cfg.openssl_certificate.empty() || cfg.openssl_key.empty()) {
    return error::configuration("cano::node: TLS needs both openssl.certificate and openssl.key (some openssl.* "
                                "options are set without them)");
  }
  if (cfg.openssl_cafile.empty() && cfg.openssl_capath.empty()) {
    return error::configuration("cano::node: TLS needs openssl.cafile (or openssl.capath) to verify the other nodes");
  }
  cfg.load<caf::openssl::manager>();
  return {};
}

expected<std::unique_ptr<node>> node::open(caf::actor_system& sys, runtime& rt, node_config config) {
  if (config.node_id.empty()) {
    return error::configuration("cano::node: a node needs a node_id");
  }
  // '#' separates a node id from its incarnation in owner names ("a#3"), and ids appear in
  // addresses, logs and session names: letters, digits and - _ . only.
  for (char c : config.node_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return error::configuration("cano::node: node_id " + debug_quote(config.node_id) + " holds " +
                                  debug_quote(std::string(1, c)) +
                                  ": a node id is made of letters, digits, '-', '_' and '.' ('#' separates "
                                  "the id from the incarnation)");
    }
  }
  if (config.node_id.size() > 64) {
    return error::configuration("cano::node: node_id is " + std::to_string(config.node_id.size()) +
                                " characters long: at most 64");
  }
  {
    // Heartbeats off with a connection timeout on: idle, healthy peers would be declared dead.
    auto heartbeat = caf::get_or(sys.config(), "middleman.heartbeat-interval", caf::timespan{0});
    auto timeout = caf::get_or(sys.config(), "middleman.connection-timeout", caf::timespan{0});
    if (heartbeat.count() <= 0 && timeout.count() > 0) {
      return error::configuration("cano::node: middleman.heartbeat-interval is 0 (heartbeats off) while "
                                  "middleman.connection-timeout is set: idle, healthy peers would be declared "
                                  "dead; set a heartbeat interval shorter than the connection timeout on every "
                                  "node, or both to 0");
    }
  }
  if (!sys.has_middleman()) {
    return error::configuration("cano::node: the actor system has no middleman; call cano::node::configure(cfg) "
                                "before creating it");
  }
  if (config.store.dsn.empty()) {
    if (const char* env = std::getenv("CANO_PG_DSN")) {
      config.store.dsn = env;
    }
  }
  auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
  if (config.renew_every.count() <= 0 || config.lease <= config.renew_every) {
    return error::configuration("cano::node: the lease (" + ms(config.lease) + ") must be longer than renew_every (" +
                                ms(config.renew_every) + "), and both positive");
  }
  if (config.lease > node_config::max_lease) {
    return error::configuration("cano::node: a lease of " + ms(config.lease) +
                                " is longer than the maximum, 24 h (a silent node would keep its runs that long)");
  }
  if (config.resume_stalled_every.count() < 0) {
    return error::configuration("cano::node: resume_stalled_every must not be negative (0 turns the sweep off)");
  }
  auto p = std::make_unique<impl>(sys);
  p->config = config;
  p->members = std::make_unique<detail::membership>(config.store.dsn, config.node_id, config.lease);
  try {
    // Migrations first (they create cano_nodes), then this incarnation.
    auto migrate = PostgresCheckpointStore::open(config.store);
    if (!migrate) {
      return migrate.error();
    }
    p->members->join(config.host + ":0", {});
  } catch (const detail::node_id_in_use& e) {
    return error::configuration(std::string("cano::node: ") + e.what());
  } catch (const std::exception& e) {
    return error::checkpoint_store("cano::node: join the cluster: " +
                                   detail::dsn_secrets::of(config.store.dsn).scrub(e.what()));
  }
  auto store_options = config.store;
  store_options.owner = p->members->owner();
  auto store = PostgresCheckpointStore::open(store_options);
  if (!store) {
    return store.error();
  }
  p->store = *store;
  p->owner = store_options.owner;
  p->metrics = rt.metrics(); // claims, failovers and rejoins are measured with the runtime's runs
  p->rt = &rt;
  p->figures.incarnation = p->members->incarnation();
  auto client = cluster_client::open(sys, config.store);
  if (!client) {
    return client.error();
  }
  p->client = std::move(*client);
  return std::unique_ptr<node>(new node(rt, std::move(p)));
}

node::node(runtime& rt, std::unique_ptr<impl> p) : runtime_(rt), impl_(std::move(p)) {}

node::~node() {
  if (impl_->started && !impl_->left) {
    leave();
  }
}

void node::add_definition(const std::string& name, std::uint32_t version, bool placeable, resume_fn resume) {
  impl_->served.push_back({name, version});
  impl_->resumers[impl::key(name, version)] = std::move(resume);
  if (placeable) {
    impl_->placeable.insert(impl::key(name, version));
  }
}

expected<void> node::add_flow(cluster_flow flow) {
  auto& n = *impl_;
  if (n.started) {
    return error::configuration("cano::node: add flow '" + flow.id + "' before start()");
  }
  for (const auto& p : n.flows) {
    if (p.flow.id == flow.id) {
      return error::configuration("Flow '" + flow.id + "' already exists");
    }
  }
  if (n.placeable.count(impl::key(flow.definition, flow.version)) == 0) {
    std::string served;
    for (const auto& key : n.placeable) {
      served += (served.empty() ? "" : ", ") + key;
    }
    return error::configuration("Flow '" + flow.id + "': this node serves no workflow \"" + flow.definition +
                                "\" version " + std::to_string(flow.version) + " with an initial state (it serves " +
                                (served.empty() ? std::string("none") : served) + ")");
  }
  auto plan = detail::flow_plan::of(std::move(flow));
  if (!plan) {
    return plan.error();
  }
  n.flows.push_back(std::move(*plan));
  return {};
}

expected<void> node::start() {
  auto& n = *impl_;
  if (n.started) {
    return {};
  }
  // The impl outlives the actors: they hold a non-owning pointer, and leave() stops them first.
  n.node_actor = n.sys.spawn([p = impl_.get()](caf::event_based_actor* self) { return node_actor_behavior(self, p); });
  auto port = detail::publish_node_actor(n.sys, n.node_actor, n.config.host, n.config.port);
  if (!port) {
    caf::anon_send(n.node_actor, stop_atom::value);
    return port.error();
  }
  n.port = *port;
  n.address = n.config.host + ":" + std::to_string(n.port);
  caf::anon_send(n.node_actor, identity_atom::value, n.members->incarnation());
  try {
    n.members->activate(n.address, n.served);
  } catch (const std::exception& e) {
    caf::anon_send(n.node_actor, stop_atom::value);
    return error::checkpoint_store("cano::node: become active: " +
                                   detail::dsn_secrets::of(n.config.store.dsn).scrub(e.what()));
  }
  // A shared_ptr that does not own: the actors must not delete the node's impl.
  impl_ptr shared(impl_.get(), [](impl*) {});
  n.membership_actor = n.sys.spawn<caf::detached>(membership_loop, shared, std::move(n.members));
  if (!n.flows.empty()) {
    n.flow_actor = n.sys.spawn<caf::detached>(detail::flow_leader_loop, flow_setup(shared));
  }
  n.started = true;
  return {};
}

void node::leave() {
  auto& n = *impl_;
  if (!n.started || n.left) {
    return;
  }
  n.left = true;
  n.stop_flows(); // the flows move to a survivor once this incarnation is dead
  {
    // Wait for the membership actor to hand this node's runs over and stop.
    caf::scoped_actor self{n.sys};
    self->monitor(n.membership_actor);
    self->send(n.membership_actor, stop_atom::value);
    self->receive([](caf::down_msg&) {}, caf::after(std::chrono::seconds(30)) >> [] {});
  }
  caf::anon_send(n.node_actor, stop_atom::value);
  caf::anon_send(detail::transport_of(n.sys), caf::unpublish_atom::value, n.node_actor.address(), n.port);
}

bool node::drain(std::chrono::milliseconds deadline) {
  auto& n = *impl_;
  n.stop_flows();    // no tick fires into a node that takes no runs; the flows move once it drains
  n.draining = true; // placements are refused from now on
  {
    std::lock_guard<std::mutex> guard(n.client->impl_->mutex);
    try {
      pqxx::work tx(n.client->impl_->connection());
      tx.exec_params("UPDATE cano_nodes SET state = 'draining' WHERE node_id || '#' || incarnation = $1", owner());
      tx.commit();
    } catch (const std::exception& e) {
      say("drain: " + detail::dsn_secrets::of(n.config.store.dsn).scrub(e.what()));
    }
  }
  bool in_time = runtime_.shutdown(deadline);
  leave(); // what is left goes to the survivors now: no lease to wait for
  return in_time;
}

expected<std::string> node::submit(const std::string& definition, std::uint32_t version, nlohmann::json input,
                                   std::string workflow_id) {
  auto& n = *impl_;
  cluster_client::impl::local_start local{
    owner(), [&n, definition, version](const std::string& id) { return n.start_placed(id, definition, version); }};
  return n.client->impl_->submit(definition, version, std::move(input), std::move(workflow_id), std::chrono::seconds(2),
                                 local);
}

void node::await_then(const std::string& workflow_id, std::chrono::milliseconds timeout, const caf::actor& reply_to,
                      std::function<void()> finished) {
  auto* client = impl_->client.get();
  impl_->sys.spawn<caf::detached>([client, workflow_id, timeout, reply_to, finished](caf::blocking_actor*) {
    auto header = client->await_header(workflow_id, timeout);
    if (header) {
      return finished();
    }
    run_result r;
    r.workflow_id = workflow_id;
    r.failure = header.error();
    caf::anon_send(reply_to, std::move(r));
  });
}

expected<RunHeader> node::await_header(const std::string& workflow_id, std::chrono::milliseconds timeout) {
  return impl_->client->await_header(workflow_id, timeout);
}

expected<void> node::cancel(const std::string& workflow_id) {
  const bool here = runtime_.cancel(workflow_id).has_value(); // driven here: no need to wait for a poll
  auto requested = impl_->client->cancel(workflow_id);        // durable, whoever drives it next
  if (!requested && here) {
    return {};
  }
  return requested;
}

const std::string& node::id() const noexcept { return impl_->config.node_id; }

std::string node::owner() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->owner;
}

std::uint16_t node::port() const noexcept { return impl_->port; }

node_stats node::stats() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  return impl_->figures;
}

std::shared_ptr<PostgresCheckpointStore> node::store() const { return impl_->store; }

} // namespace cano
