// Cluster, part 2: runs submitted anywhere are placed on the least loaded live node serving them,
// start once, and their results are read from anywhere — across the death of the node that ran
// them. Real node processes on 127.0.0.1 (tests/e2e/saga_worker.cpp in `node` mode); this
// process submits and awaits through a cano::cluster_client of its own.
#include <algorithm>
#include <csignal>
#include <deque>
#include <future>
#include <map>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"

#include "cano/cluster.hpp"
#include "e2e/cluster_client_side.hpp"
#include "e2e/cluster_support.hpp"
#include "support/postgres.hpp"
#include "support/saga_ledger.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

long long count_of(pqxx::transaction_base& tx, const std::string& sql) { return tx.exec(sql)[0][0].as<long long>(); }

struct cluster_fixture {
  temp_dir dir;
  std::string ledger = dir.file("ledger");
  std::string prefix = unique_id("sub");
  std::string definition = "order-saga/" + prefix;
  std::deque<node_process> nodes; // references to its nodes stay valid as it grows
  std::vector<std::pair<std::string, std::string>> env{{"CANO_TEST_STEP_MS", "40"}};

  node_process& start(const std::string& id, int lease_ms = 1500,
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto e = env;
    e.insert(e.end(), extra.begin(), extra.end());
    // No local runs: every run of these tests is submitted.
    nodes.push_back(node_process::start(CANO_SAGA_WORKER, ledger, prefix + "-" + id, prefix, 0, 1, lease_ms, e));
    BOOST_REQUIRE_MESSAGE(!nodes.back().owner.empty(), "node " << id << " did not start");
    BOOST_REQUIRE(nodes.back().wait_for("LOCAL-DONE"));
    return nodes.back();
  }
  ~cluster_fixture() {
    for (auto& n : nodes) {
      n.proc->sigkill();
      n.proc->wait_exit();
    }
  }
  std::string where() const { return "FROM cano_runs WHERE definition = '" + definition + "'"; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_submit_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(three_hundred_submissions_are_spread_evenly_and_each_runs_once) {
  cluster_fixture f;
  for (const char* id : {"a", "b", "c"}) {
    f.start(id);
  }
  client_side c;
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto id = c.client->submit(f.definition, 0, {{"i", i}}, f.prefix + "-run-" + std::to_string(i));
    BOOST_REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().to_string()));
    ids.push_back(*id);
  }
  for (const auto& id : ids) {
    auto h = c.client->await_header(id, 120s);
    BOOST_REQUIRE_MESSAGE(h.has_value(), (h ? "" : h.error().to_string()));
    auto n = std::stoi(id.substr(id.rfind('-') + 1));
    BOOST_TEST(to_string(h->status) == std::string(n % 3 == 0 ? "rolled_back" : "completed"), id);
  }
  pqxx::connection conn(pg_dsn());
  {
    pqxx::read_transaction tx(conn);
    for (const auto& n : f.nodes) {
      auto placed = count_of(tx, "SELECT count(*) " + f.where() + " AND owner = '" + n.owner + "'");
      BOOST_TEST((placed >= 80 && placed <= 120), n.owner << " got " << placed << " of 300 (even: 100 ± 20 %)");
    }
    // Each ran once: Ship recorded once per run, fence never moved.
    BOOST_TEST(count_of(tx, "SELECT count(*) " + f.where() + " AND fence = 1") == 300);
  }
  auto entries = read_ledger(f.ledger);
  std::map<std::string, int> ships;
  for (const auto& e : entries) {
    ships[e.run] += e.kind == "FWD" && e.step == "Ship" ? 1 : 0;
  }
  BOOST_TEST(ships.size() == 300u);
  BOOST_TEST(std::all_of(ships.begin(), ships.end(), [](const auto& kv) { return kv.second == 1; }));
  // A node started now gets new work (it owns nothing yet: the least loaded).
  auto& d = f.start("d");
  for (int i = 0; i < 6; ++i) {
    BOOST_REQUIRE(c.client->submit(f.definition, 0, nullptr, f.prefix + "-late-" + std::to_string(i)).has_value());
  }
  for (int i = 0; i < 6; ++i) {
    BOOST_REQUIRE(c.client->await_header(f.prefix + "-late-" + std::to_string(i), 120s).has_value());
  }
  pqxx::read_transaction later(conn);
  BOOST_TEST(count_of(later, "SELECT count(*) " + f.where() + " AND workflow_id LIKE '" + f.prefix +
                               "-late-%' AND owner = '" + d.owner + "'") >= 1);
}

BOOST_AUTO_TEST_CASE(a_run_placed_on_a_stopped_node_is_placed_again_and_runs_once) {
  cluster_fixture f;
  auto& a = f.start("a", 60000); // a long lease: a stopped a stays a candidate
  f.start("b", 60000);
  client_side c;
  ::kill(a.proc->pid(), SIGSTOP);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) { // about half are placed on a first
    auto id = c.client->submit(f.definition, 0, nullptr, f.prefix + "-stop-" + std::to_string(i + 1), 500ms);
    BOOST_REQUIRE(id.has_value());
    ids.push_back(*id);
  }
  for (const auto& id : ids) {
    auto h = c.client->await_header(id, 120s);
    BOOST_REQUIRE(h.has_value());
    BOOST_TEST(h->owner == f.nodes[1].owner, id << " ended with " << h->owner);
  }
  pqxx::connection conn(pg_dsn());
  {
    pqxx::read_transaction tx(conn);
    BOOST_TEST(count_of(tx, "SELECT count(*) " + f.where() + " AND fence = 2") >= 1); // moved: a claim
  }
  // a wakes with the placement messages in its mailbox: its late starts are refused (fenced).
  ::kill(a.proc->pid(), SIGCONT);
  std::this_thread::sleep_for(1s);
  auto entries = read_ledger(f.ledger);
  std::map<std::string, int> reserves;
  for (const auto& e : entries) {
    reserves[e.run] += e.kind == "FWD" && e.step == "Reserve" ? 1 : 0;
  }
  for (const auto& id : ids) {
    BOOST_TEST(reserves[id] == 1, id << " reserved " << reserves[id] << " times");
  }
}

BOOST_AUTO_TEST_CASE(one_id_submitted_from_two_places_at_once_is_one_run) {
  cluster_fixture f;
  f.start("a");
  f.start("b");
  client_side c1, c2;
  for (int i = 0; i < 10; ++i) {
    auto id = f.prefix + "-same-" + std::to_string(i + 1);
    auto first = std::async(std::launch::async, [&] { return c1.client->submit(f.definition, 0, nullptr, id); });
    auto second = std::async(std::launch::async, [&] { return c2.client->submit(f.definition, 0, nullptr, id); });
    auto r1 = first.get();
    auto r2 = second.get();
    BOOST_REQUIRE(r1.has_value() && r2.has_value());
    BOOST_TEST(*r1 == id);
    BOOST_TEST(*r2 == id);
    BOOST_REQUIRE(c1.client->await_header(id, 120s).has_value());
  }
  auto entries = read_ledger(f.ledger);
  std::map<std::string, int> reserves;
  for (const auto& e : entries) {
    reserves[e.run] += e.kind == "FWD" && e.step == "Reserve" ? 1 : 0;
  }
  BOOST_TEST(reserves.size() == 10u);
  for (const auto& [run, n] : reserves) {
    BOOST_TEST(n == 1, run);
  }
}

BOOST_AUTO_TEST_CASE(an_await_elsewhere_outlives_the_node_that_ran_the_run) {
  cluster_fixture f;
  f.env = {{"CANO_TEST_STEP_MS", "300"}}; // long enough to kill its node mid-way
  auto& a = f.start("a", 1500);
  f.start("b", 1500);
  client_side c;
  // Place runs until one lands on a, then kill a while it runs it.
  std::string on_a;
  pqxx::connection conn(pg_dsn());
  for (int i = 1; i < 40 && on_a.empty(); i += 3) { // ids with i % 3 == 1: runs that complete
    auto id = f.prefix + "-await-" + std::to_string(i);
    BOOST_REQUIRE(c.client->submit(f.definition, 0, nullptr, id).has_value());
    pqxx::read_transaction tx(conn);
    if (count_of(tx,
                 "SELECT count(*) " + f.where() + " AND workflow_id = '" + id + "' AND owner = '" + a.owner + "'")) {
      on_a = id;
    }
  }
  BOOST_REQUIRE(!on_a.empty());
  auto waiting = std::async(std::launch::async, [&] { return c.client->await_header(on_a, 120s); });
  std::this_thread::sleep_for(400ms); // it is between its steps
  a.proc->sigkill();
  a.proc->wait_exit();
  auto h = waiting.get();
  BOOST_REQUIRE_MESSAGE(h.has_value(), (h ? "" : h.error().to_string()));
  BOOST_TEST(to_string(h->status) == std::string("completed"));
  BOOST_TEST(h->owner == f.nodes[1].owner); // finished by b, after a takeover
  BOOST_TEST(h->fence > 1u);
}

BOOST_AUTO_TEST_CASE(a_drained_node_hands_its_runs_over_without_a_lease_wait) {
  cluster_fixture f;
  f.env = {{"CANO_TEST_STEP_MS", "300"}};
  auto& a = f.start("a", 20000); // a lease far longer than the wait below
  auto& b = f.start("b", 20000);
  client_side c;
  std::vector<std::string> on_a;
  pqxx::connection conn(pg_dsn());
  for (int i = 1; i < 60 && on_a.size() < 3; i += 3) {
    auto id = f.prefix + "-drain-" + std::to_string(i);
    BOOST_REQUIRE(c.client->submit(f.definition, 0, nullptr, id).has_value());
    pqxx::read_transaction tx(conn);
    if (count_of(tx,
                 "SELECT count(*) " + f.where() + " AND workflow_id = '" + id + "' AND owner = '" + a.owner + "'")) {
      on_a.push_back(id);
    }
  }
  BOOST_REQUIRE(!on_a.empty());
  auto start = std::chrono::steady_clock::now();
  ::kill(a.proc->pid(), SIGTERM);
  BOOST_REQUIRE(a.wait_for("DRAINED"));
  a.proc->wait_exit();
  for (const auto& id : on_a) {
    auto h = c.client->await_header(id, 60s);
    BOOST_REQUIRE(h.has_value());
    BOOST_TEST(to_string(h->status) == std::string("completed"), id);
  }
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST((took < 10s), "the handover took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                                                << " ms (lease: 20 s)");
  BOOST_REQUIRE(b.wait_for("STATS claimed="));
  pqxx::read_transaction tx(conn);
  BOOST_TEST(count_of(tx, "SELECT count(*) FROM cano_nodes WHERE node_id = '" + a.node_id + "' AND state = 'dead'") ==
             1);
}

BOOST_AUTO_TEST_CASE(an_actor_awaits_a_result_from_a_node_that_did_not_run_it) {
  cluster_fixture f;
  f.start("a");
  client_side c;
  // This process joins as a node serving nothing, and awaits as an actor.
  enum class Order { Reserve, Charge, Ship, Done };
  struct labels {
    static std::string of(Order o) {
      switch (o) {
        case Order::Reserve: return "Reserve";
        case Order::Charge: return "Charge";
        case Order::Ship: return "Ship";
        case Order::Done: return "Done";
      }
      return "?";
    }
  };
  (void)labels::of;
  cano::runtime rt{*c.sys};
  cano::node_config nc;
  nc.node_id = f.prefix + "-observer";
  auto n = cano::node::open(*c.sys, rt, nc);
  BOOST_REQUIRE_MESSAGE(n.has_value(), (n ? "" : n.error().to_string()));
  BOOST_REQUIRE((*n)->start().has_value());
  auto wf = cano::Workflow<int>{}
              .with_name(f.definition)
              .register_task(0, "r", [] { return 1; })
              .register_task(1, "c", [] { return 2; })
              .register_task(2, "s", [] { return 3; })
              .add_exit_state(3);
  auto id = (*n)->submit(f.definition, 0, nullptr, f.prefix + "-actor-1");
  BOOST_REQUIRE(id.has_value());
  caf::scoped_actor self{*c.sys};
  (*n)->await(wf, *id, caf::actor_cast<caf::actor>(self));
  bool got = false;
  self->receive(
    [&](cano::run_result& r) {
      got = true;
      // The run completed on node a; its header's exit label is "Done", which this definition
      // (ints) does not have: the result says so rather than inventing a state.
      BOOST_REQUIRE(!r.ok());
      BOOST_TEST(r.failure->message().find("completed in state \"Done\"") != std::string::npos, r.failure->message());
    },
    caf::after(std::chrono::seconds(120)) >> [] {});
  BOOST_TEST(got);
  // An unknown id: a run_result carrying the error.
  (*n)->await(wf, f.prefix + "-never", caf::actor_cast<caf::actor>(self), std::chrono::seconds(5));
  self->receive([&](cano::run_result& r) { BOOST_TEST(r.failure->message().find("no run") != std::string::npos); },
                caf::after(std::chrono::seconds(30)) >> [] { BOOST_FAIL("no result for an unknown id"); });
  (*n)->leave();
}

BOOST_AUTO_TEST_SUITE_END()
