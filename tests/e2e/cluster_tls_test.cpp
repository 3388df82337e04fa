// TLS between nodes (caf::openssl): nodes with certificates from the cluster's CA serve runs
// submitted over TLS; a node with a self-signed certificate cannot take part — runs placed on it
// go elsewhere — and the cluster keeps serving. The certificates are made here with openssl(1).
#include <cstdlib>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/cluster.hpp"
#include "e2e/cluster_support.hpp"
#include "support/postgres.hpp"
#include "support/temp_dir.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }

/// A CA, and certificates it signed, in `dir`: <name>.pem / <name>.key.
struct certificates {
  explicit certificates(const temp_dir& d) : dir(d) {
    ok = run("cd " + dir.path() +
             " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
             "-subj /CN=cano-test-ca");
  }
  bool sign(const std::string& name) {
    return run("cd " + dir.path() + " && openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name +
               ".csr -subj /CN=" + name + " && openssl x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key " +
               "-CAcreateserial -out " + name + ".pem -days 2");
  }
  bool self_signed(const std::string& name) {
    return run("cd " + dir.path() + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout " + name + ".key -out " +
               name + ".pem -days 2 -subj /CN=" + name);
  }
  std::vector<std::pair<std::string, std::string>> env(const std::string& name) const {
    return {{"CANO_TEST_TLS_CERT", dir.file(name + ".pem")},
            {"CANO_TEST_TLS_KEY", dir.file(name + ".key")},
            {"CANO_TEST_TLS_CA", dir.file("ca.pem")}};
  }
  const temp_dir& dir;
  bool ok = false;
};

long long count_of(pqxx::transaction_base& tx, const std::string& sql) { return tx.exec(sql)[0][0].as<long long>(); }

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_tls_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(nodes_of_one_ca_serve_over_tls_and_a_self_signed_node_is_left_out) {
  temp_dir dir;
  certificates certs(dir);
  BOOST_REQUIRE_MESSAGE(certs.ok && certs.sign("a") && certs.sign("b") && certs.sign("client") &&
                          certs.self_signed("rogue"),
                        "openssl(1) could not make the test's certificates");
  auto ledger = dir.file("ledger");
  auto prefix = unique_id("tls");
  auto with = [&](const std::string& name) {
    auto e = certs.env(name);
    e.emplace_back("CANO_TEST_STEP_MS", "20");
    return e;
  };
  std::vector<node_process> nodes;
  nodes.push_back(node_process::start(CANO_SAGA_WORKER, ledger, prefix + "-a", prefix, 0, 1, 3000, with("a")));
  nodes.push_back(node_process::start(CANO_SAGA_WORKER, ledger, prefix + "-b", prefix, 0, 1, 3000, with("b")));
  nodes.push_back(node_process::start(CANO_SAGA_WORKER, ledger, prefix + "-rogue", prefix, 0, 1, 3000, with("rogue")));
  for (auto& n : nodes) {
    BOOST_REQUIRE_MESSAGE(!n.owner.empty(), n.node_id << " did not start");
  }
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    cano::node::configure(cfg);
    cfg.openssl_certificate = dir.file("client.pem");
    cfg.openssl_key = dir.file("client.key");
    cfg.openssl_cafile = dir.file("ca.pem");
    BOOST_REQUIRE(cano::node::configure_tls(cfg).has_value());
    caf::actor_system sys{cfg};
    auto client = cano::cluster_client::open(sys, cano::PostgresOptions{});
    BOOST_REQUIRE(client.has_value());
    auto definition = "order-saga/" + prefix;
    for (int i = 1; i <= 12; ++i) {
      auto id = (*client)->submit(definition, 0, nullptr, prefix + "-run-" + std::to_string(i), 1s);
      BOOST_REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().to_string()));
    }
    for (int i = 1; i <= 12; ++i) {
      auto h = (*client)->await_header(prefix + "-run-" + std::to_string(i), 120s);
      BOOST_REQUIRE_MESSAGE(h.has_value(), (h ? "" : h.error().to_string()));
      BOOST_TEST(h->owner != nodes[2].owner, "a run ended on the self-signed node");
    }
    pqxx::connection conn(pg_dsn());
    pqxx::read_transaction tx(conn);
    auto runs = "FROM cano_runs WHERE definition = '" + definition + "'";
    BOOST_TEST(count_of(tx, "SELECT count(*) " + runs + " AND owner IN ('" + nodes[0].owner + "', '" + nodes[1].owner +
                              "') AND status IN ('completed', 'rolled_back')") == 12);
    // Runs placed on the self-signed node first could not be handed to it over TLS: moved on.
    BOOST_TEST(count_of(tx, "SELECT count(*) " + runs + " AND fence > 1") >= 1);
  }
  // A configuration with some openssl options but no certificate is refused before it starts.
  caf::actor_system_config half;
  half.openssl_cafile = dir.file("ca.pem");
  auto refused = cano::node::configure_tls(half);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().category() == std::string("configuration"));
  BOOST_TEST(refused.error().message().find("openssl.certificate and openssl.key") != std::string::npos);
  for (auto& n : nodes) {
    n.proc->sigkill();
    n.proc->wait_exit();
  }
}

BOOST_AUTO_TEST_SUITE_END()
