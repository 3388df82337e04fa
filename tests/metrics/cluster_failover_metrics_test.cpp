// The cluster's counters (cano_actor::metrics, <cano/prometheus_metrics.hpp>) scraped from real
// cano-node processes: a SIGKILLed node is declared dead by the CAF down message with its lock
// free; a node stopped past its lease is declared dead by lease — both counted by the survivor;
// once continued, the stopped node finds itself dead and rejoins, counted by itself. The nodes use
// a database of their own on the test server, so no other test's node declares anyone and the
// counts are exact.
#include <csignal>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include "child_process.hpp"
#include "support/http.hpp"
#include "support/postgres.hpp"

using namespace test;
using cano_apps::child_process;
using namespace std::chrono_literals;

namespace {

/// A database created for one test and dropped (with its sessions) at its end.
struct scratch_database {
  std::string name = "cano_metrics_" + std::to_string(std::random_device{}());
  scratch_database() {
    pqxx::connection c(pg_dsn());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + name);
  }
  ~scratch_database() {
    try {
      pqxx::connection c(pg_dsn());
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (const std::exception&) {
    }
  }
  /// The test server's DSN pointed at this database (libpq takes the last dbname given).
  std::string dsn() const { return pg_dsn() + " dbname=" + name; }
  /// The membership table and the database's sessions, for a failure's message.
  std::string snapshot() const {
    std::string out;
    try {
      pqxx::connection c(dsn());
      pqxx::read_transaction tx(c);
      for (const auto& r : tx.exec("SELECT node_id || '#' || incarnation, state, (lease_until - now())::text "
                                   "FROM cano_nodes ORDER BY 1")) {
        out +=
          "\n  node " + r[0].as<std::string>() + " " + r[1].as<std::string>() + " lease left " + r[2].as<std::string>();
      }
      for (const auto& r :
           tx.exec("SELECT application_name, state || ' for ' || (now() - state_change)::text, "
                   "coalesce(wait_event, '-'), left(query, 120) "
                   "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")) {
        out += "\n  session " + r[0].as<std::string>() + " " + r[1].as<std::string>() + " " + r[2].as<std::string>() +
               " " + r[3].as<std::string>();
      }
    } catch (const std::exception& e) {
      out += std::string("\n  (no snapshot: ") + e.what() + ")";
    }
    return out;
  }
};

/// A cano-node serving with a one-second lease and its metrics on a free port.
struct metered_node {
  std::unique_ptr<child_process> proc;
  std::string owner;
  std::uint16_t metrics_port = 0;

  /// Its stderr (log lines at `log_level`) comes with its stdout; `more` are further options.
  metered_node(const std::string& dsn, const std::string& id, const std::string& log_level = "warn",
               const std::vector<std::string>& more = {}) {
    std::vector<std::string> argv{"/bin/sh",
                                  "-c",
                                  "exec \"$0\" \"$@\" 2>&1",
                                  CANO_NODE,
                                  "serve",
                                  "--cano.node-id=" + id,
                                  "--cano.dsn=" + dsn,
                                  "--cano.lease=1s",
                                  "--cano.renew-every=200ms",
                                  "--cano.status-page=off",
                                  "--cano.drain-deadline=5s",
                                  "--cano.log-level=" + log_level};
    argv.insert(argv.end(), more.begin(), more.end());
    proc = std::make_unique<child_process>(argv);
    auto said = proc->read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, 60s);
    BOOST_REQUIRE_MESSAGE(said.has_value(), "node " + id + " did not start");
    owner = said->substr(5, said->find(' ', 5) - 5);
    for (const auto& l : proc->lines()) {
      if (l.rfind("METRICS ", 0) == 0) {
        metrics_port = static_cast<std::uint16_t>(std::stoi(l.substr(l.rfind(':') + 1)));
      }
    }
    BOOST_REQUIRE(metrics_port != 0);
  }
  /// Waits for a line of the node that starts with `start` and contains `text`.
  bool says(const std::string& start, const std::string& text) {
    return proc
      ->read_until([&](const std::string& l) { return l.rfind(start, 0) == 0 && l.find(text) != std::string::npos; },
                   60s)
      .has_value();
  }
  void stop() {
    ::kill(proc->pid(), SIGTERM);
    BOOST_TEST(says("DRAINED", ""));
    proc->wait_exit();
  }
  scrape metrics() const { return scrape_metrics(metrics_port); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_failover_metrics_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(deaths_by_down_message_and_by_lease_and_a_rejoin_are_counted_by_the_nodes_that_saw_them) {
  scratch_database db;
  // a's peer_watched lines say when it monitors a peer. Its connection timeout is long, so a
  // stopped peer is never "down" for it within this test: only its lease tells.
  metered_node a(db.dsn(), "a", "debug", {"--middleman.connection-timeout=600s"});
  auto first_b = std::make_unique<metered_node>(db.dsn(), "b");
  auto before = a.metrics();
  BOOST_TEST(before.count("cano_cluster_failovers_total", {{"signal", "down"}}) == 0);
  BOOST_TEST(before.count("cano_cluster_failovers_total", {{"signal", "lease"}}) == 0);

  // b is killed once a watches it: its connection drops and its lock is free, so a declares it
  // dead at once.
  BOOST_REQUIRE_MESSAGE(a.says("cano: watching a peer", "peer=" + first_b->owner), "a never watched b");
  first_b->proc->sigkill();
  first_b->proc->wait_exit();
  bool declared = a.says("STATS", "declared_dead=1");
  BOOST_REQUIRE_MESSAGE(declared, "a never declared the killed b dead:" + (declared ? std::string() : db.snapshot()));
  auto after_kill = a.metrics();
  BOOST_TEST(after_kill.count("cano_cluster_failovers_total", {{"signal", "down"}}) == 1);
  BOOST_TEST(after_kill.count("cano_cluster_failovers_total", {{"signal", "lease"}}) == 0);

  // b again, then stopped: its lock lives on (or, stopped inside a membership transaction, its
  // session ends a lease later), so a waits out its lease.
  metered_node b(db.dsn(), "b");
  ::kill(b.proc->pid(), SIGSTOP);
  declared = a.says("STATS", "declared_dead=2");
  BOOST_REQUIRE_MESSAGE(declared, "a never declared the stopped b dead:" + (declared ? std::string() : db.snapshot()));
  auto after_stop = a.metrics();
  BOOST_TEST(after_stop.count("cano_cluster_failovers_total", {{"signal", "down"}}) == 1);
  BOOST_TEST(after_stop.count("cano_cluster_failovers_total", {{"signal", "lease"}}) == 1);
  BOOST_TEST(after_stop.count("cano_cluster_rejoins_total") == 0);
  BOOST_TEST(after_stop.count("cano_cluster_claims_total") == 0); // b owned no runs

  // b continues, finds itself declared dead, and rejoins under a new incarnation.
  ::kill(b.proc->pid(), SIGCONT);
  BOOST_REQUIRE_MESSAGE(b.says("STATS", "rejoins=1"), "b did not rejoin");
  BOOST_TEST(b.metrics().count("cano_cluster_rejoins_total") == 1);
  BOOST_TEST(a.metrics().count("cano_cluster_rejoins_total") == 0);
  b.stop();
  a.stop();
}

BOOST_AUTO_TEST_SUITE_END()
