// No false deaths (ARCHITECTURE D8), on a PostgreSQL server of this suite's own (it is restarted):
// after the server restarts under three busy nodes, and after one node's membership connection is
// terminated by the server, no node is declared dead — every run keeps its fence and completes on
// the node that started it.
#include <algorithm>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include "e2e/cluster_support.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

struct fault_server {
  fault_server() {
    BOOST_REQUIRE_MESSAGE(!pg_fault_dsn().empty() && !env_or_empty("CANO_PG_FAULT_CTL").empty(),
                          "CANO_PG_FAULT_DSN / CANO_PG_FAULT_CTL are not set (scripts/test.sh sets them)");
  }
  static bool ctl(const std::string& verb) {
    return std::system((env_or_empty("CANO_PG_FAULT_CTL") + " " + verb + " >/dev/null 2>&1").c_str()) == 0;
  }
  ~fault_server() { ctl("start"); } // up again even when an assertion ended the test early
};

long long count_of(pqxx::transaction_base& tx, const std::string& sql) { return tx.exec(sql)[0][0].as<long long>(); }

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_fault_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(a_server_restart_and_a_killed_session_declare_no_node_dead) {
  fault_server server;
  temp_dir dir;
  auto ledger = dir.file("ledger");
  auto prefix = unique_id("nofalse");
  std::vector<std::pair<std::string, std::string>> env{{"CANO_TEST_STEP_MS", "100"}, {"CANO_PG_DSN", pg_fault_dsn()}};
  std::vector<node_process> nodes;
  for (const char* id : {"a", "b", "c"}) {
    nodes.push_back(node_process::start(CANO_SAGA_WORKER, ledger, id, prefix, 40, 4, 1500, env));
    BOOST_REQUIRE_MESSAGE(!nodes.back().owner.empty(), "node " << id << " did not start");
  }
  for (auto& n : nodes) {
    BOOST_REQUIRE(n.proc->read_until([&](const std::string&) { return n.results_seen() >= 2; }, 120s));
  }
  // The server goes away under busy nodes and comes back: every session (and every advisory
  // lock) is gone at once, and leases look old for a moment.
  BOOST_REQUIRE(fault_server::ctl("restart"));
  // Then one node's membership session is killed by the server while the node lives on.
  BOOST_REQUIRE(eventually(pg_fault_dsn(), [&](pqxx::transaction_base& tx) {
    return count_of(tx, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'cano-membership:b#%'") == 1;
  }));
  {
    pqxx::connection c(pg_fault_dsn());
    pqxx::nontransaction tx(c);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'cano-membership:b#%'");
  }
  for (auto& n : nodes) {
    BOOST_REQUIRE_MESSAGE(n.wait_for("LOCAL-DONE", 180s), "node " << n.node_id << " did not finish its runs");
  }
  pqxx::connection c(pg_fault_dsn());
  pqxx::read_transaction tx(c);
  auto runs = "FROM cano_runs WHERE workflow_id LIKE '" + prefix + "-%'";
  BOOST_TEST(count_of(tx, "SELECT count(*) " + runs) == 120);
  BOOST_TEST(count_of(tx, "SELECT count(*) " + runs + " AND status NOT IN ('completed', 'rolled_back')") == 0);
  // Each run on its first owner, its fence never moved; no node died or rejoined.
  for (const auto& n : nodes) {
    BOOST_TEST(count_of(tx, "SELECT count(*) " + runs + " AND workflow_id LIKE '" + prefix + "-" + n.node_id +
                              "-%' AND owner = '" + n.owner + "' AND fence = 1") == 40);
    for (const auto& l : n.proc->lines()) {
      BOOST_TEST(l.rfind("STATS", 0) != 0, n.node_id << " said: " << l);
    }
  }
  BOOST_TEST(count_of(tx, "SELECT count(*) FROM cano_nodes WHERE state = 'dead' AND definitions::text LIKE '%" +
                            prefix + "%'") == 0);
  for (auto& n : nodes) {
    n.proc->sigkill();
    n.proc->wait_exit();
  }
}

BOOST_AUTO_TEST_SUITE_END()
