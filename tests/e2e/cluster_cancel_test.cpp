// Cancelling a run of a cluster from anywhere (cano 0.15 §4.3 across nodes): the run lives on one
// node process, and the cancel comes from elsewhere — another node, or a process that only holds a
// cluster_client — as a durable request in the run's header in the shared PostgreSQL. The owning
// node's runtime picks it up, drops the task in flight, undoes the saga steps once and ends the
// run `cancelled`; when the owner dies before it could, the node that takes the run over honours
// the request at its first state. Real node processes on 127.0.0.1 (tests/e2e/saga_worker.cpp in
// `node` mode; runs whose id starts with "hold" wait in Ship until cancelled), reaped by PID.
#include <algorithm>
#include <csignal>
#include <deque>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/cluster.hpp"
#include "e2e/cluster_client_side.hpp"
#include "e2e/cluster_support.hpp"
#include "support/postgres.hpp"
#include "support/saga_ledger.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// An actor system with CAF's middleman and a cluster client: a process that is no node.

struct cluster_fixture {
  temp_dir dir;
  std::string ledger = dir.file("ledger");
  std::string prefix = unique_id("cnc");
  std::string definition = "order-saga/" + prefix;
  std::deque<node_process> nodes;

  node_process& start(const std::string& id, int lease_ms) {
    nodes.push_back(node_process::start(CANO_SAGA_WORKER, ledger, prefix + "-" + id, prefix, 0, 1, lease_ms,
                                        {{"CANO_TEST_STEP_MS", "20"}}));
    BOOST_REQUIRE_MESSAGE(!nodes.back().owner.empty(), "node " << id << " did not start");
    BOOST_REQUIRE(nodes.back().wait_for("LOCAL-DONE"));
    return nodes.back();
  }
  ~cluster_fixture() {
    for (auto& n : nodes) {
      n.proc->sigkill(); // a stopped one too
      n.proc->wait_exit();
    }
  }
  /// The node process that owns run `id` now (by its header), or nullptr.
  node_process* owner_of(const std::string& id) {
    pqxx::connection c(pg_dsn());
    pqxx::read_transaction tx(c);
    auto r = tx.exec_params("SELECT owner FROM cano_runs WHERE workflow_id = $1", id);
    if (r.empty()) {
      return nullptr;
    }
    auto owner = r[0][0].as<std::string>();
    for (auto& n : nodes) {
      if (n.owner == owner) {
        return &n;
      }
    }
    return nullptr;
  }
};

std::size_t count(const std::vector<ledger_entry>& entries, const std::string& run, const std::string& kind,
                  const std::string& step, const std::string& pid = {}) {
  return static_cast<std::size_t>(std::count_if(entries.begin(), entries.end(), [&](const ledger_entry& e) {
    return e.run == run && e.kind == kind && e.step == step && (pid.empty() || e.pid == pid);
  }));
}

std::string text(const cano::expected<void>& r) { return r ? std::string("ok") : r.error().to_string(); }

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_cancel_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(a_run_on_one_node_is_cancelled_from_another_node_and_from_a_client) {
  cluster_fixture f;
  f.start("a", 3000);
  f.start("b", 3000);
  client_side c;
  // This process also joins as a node (serving nothing): a cancel from another node.
  cano::runtime rt{*c.sys};
  cano::node_config nc;
  nc.node_id = f.prefix + "-observer";
  auto observer = cano::node::open(*c.sys, rt, nc);
  BOOST_REQUIRE_MESSAGE(observer.has_value(), (observer ? "" : observer.error().to_string()));
  BOOST_REQUIRE((*observer)->start().has_value());

  for (int i = 1; i <= 2; ++i) {
    auto id = "hold-" + f.prefix + "-" + std::to_string(i);
    BOOST_REQUIRE(c.client->submit(f.definition, 0, nullptr, id).has_value());
    auto* owner = f.owner_of(id);
    BOOST_REQUIRE_MESSAGE(owner != nullptr, id << " is not owned by a node process");
    BOOST_REQUIRE_MESSAGE(owner->wait_for("SHIP-WAITING " + id), id << " never reached Ship");
    auto asked = std::chrono::steady_clock::now();
    auto requested = i == 1 ? (*observer)->cancel(id) : c.client->cancel(id);
    BOOST_REQUIRE_MESSAGE(requested.has_value(), text(requested));
    auto h = c.client->await_header(id, 120s);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked);
    BOOST_REQUIRE_MESSAGE(h.has_value(), (h ? "" : h.error().to_string()));
    BOOST_TEST_MESSAGE(id << " (from " << (i == 1 ? "another node" : "a client") << "): ended " << took.count()
                          << " ms after the request was written");
    BOOST_TEST(took.count() < 10000); // picked up within about half a second; 10x a bound of 1 s
    BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
    BOOST_REQUIRE(h->failure.has_value());
    BOOST_TEST(h->failure->to_string() == "Workflow cancelled");
    BOOST_TEST(h->cancel_requested_at.has_value());
    BOOST_TEST(h->owner == owner->owner); // its own node cancelled it: nothing was taken over
    BOOST_TEST(h->fence == 1u);
    auto pid = std::to_string(owner->proc->pid());
    auto entries = read_ledger(f.ledger);
    BOOST_TEST(count(entries, id, "FWD", "Ship") == 1u);
    BOOST_TEST(count(entries, id, "UNDO", "Charge", pid) == 1u);
    BOOST_TEST(count(entries, id, "UNDO", "Reserve", pid) == 1u);
    BOOST_TEST(count(entries, id, "UNDO", "Charge") == 1u);
    BOOST_TEST(count(entries, id, "UNDO", "Reserve") == 1u);
  }
  // An ended run has nothing to cancel, wherever it is asked.
  auto late = c.client->cancel("hold-" + f.prefix + "-1");
  BOOST_TEST(text(late) == "Workflow error: run \"hold-" + f.prefix +
                             "-1\" already ended (status rolled_back); there is nothing to cancel");
  BOOST_TEST(text(c.client->cancel(f.prefix + "-never")) ==
             "Workflow error: no run with workflow id \"" + f.prefix + "-never\"");
  (*observer)->leave();
}

BOOST_AUTO_TEST_CASE(a_request_left_by_a_dead_owner_is_honoured_by_the_node_that_takes_the_run_over) {
  cluster_fixture f;
  f.start("a", 1500);
  f.start("b", 1500);
  client_side c;
  auto id = "hold-" + f.prefix + "-failover";
  BOOST_REQUIRE(c.client->submit(f.definition, 0, nullptr, id).has_value());
  auto* first = f.owner_of(id);
  BOOST_REQUIRE(first != nullptr);
  BOOST_REQUIRE_MESSAGE(first->wait_for("SHIP-WAITING " + id), id << " never reached Ship");
  auto* survivor = first == &f.nodes[0] ? &f.nodes[1] : &f.nodes[0];
  // The owner is frozen, so it cannot see the request; then it dies with the request unread.
  ::kill(first->proc->pid(), SIGSTOP);
  auto requested = c.client->cancel(id);
  BOOST_REQUIRE_MESSAGE(requested.has_value(), text(requested));
  const auto first_pid = std::to_string(first->proc->pid());
  first->proc->sigkill();
  first->proc->wait_exit();

  auto h = c.client->await_header(id, 120s);
  BOOST_REQUIRE_MESSAGE(h.has_value(), (h ? "" : h.error().to_string()));
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_REQUIRE(h->failure.has_value());
  BOOST_TEST(h->failure->to_string() == "Workflow cancelled");
  BOOST_TEST(h->owner == survivor->owner); // taken over (fence + 1 at least), then cancelled there
  BOOST_TEST(h->fence > 1u);
  auto entries = read_ledger(f.ledger);
  auto survivor_pid = std::to_string(survivor->proc->pid());
  BOOST_TEST(count(entries, id, "FWD", "Ship") == 1u); // by the dead owner only: not run again
  BOOST_TEST(count(entries, id, "FWD", "Ship", first_pid) == 1u);
  BOOST_TEST(count(entries, id, "UNDO", "Charge", survivor_pid) == 1u);
  BOOST_TEST(count(entries, id, "UNDO", "Reserve", survivor_pid) == 1u);
  BOOST_TEST(count(entries, id, "UNDO", "Charge") == 1u);
  BOOST_TEST(count(entries, id, "UNDO", "Reserve") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
