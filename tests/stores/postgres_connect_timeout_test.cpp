// A database that accepts TCP and never answers fails a connection after libpq's connect_timeout
// (10 s unless the DSN sets one), in both DSN forms, instead of hanging whoever opened it: a
// store, a cluster client. The bounds are generous; nothing here needs a server.
#include <chrono>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/cluster.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "support/silent_listener.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Opens a store on `dsn` (nothing answers there): the error text and how long it took.
std::pair<std::string, std::chrono::steady_clock::duration> open_silent(const std::string& dsn) {
  cano::PostgresOptions options;
  options.dsn = dsn;
  options.retry_deadline = 1s;
  auto start = std::chrono::steady_clock::now();
  auto r = cano::PostgresCheckpointStore::open(options);
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_REQUIRE_MESSAGE(!r.has_value(), "a store opened on a silent listener");
  return {r.error().to_string(), took};
}

} // namespace

BOOST_AUTO_TEST_SUITE(postgres_connect_timeout_test)

BOOST_AUTO_TEST_CASE(a_store_on_a_silent_server_fails_after_the_default_connect_timeout) {
  silent_listener db;
  BOOST_REQUIRE(db.port() != 0);
  for (const auto& dsn : {"host=127.0.0.1 port=" + db.port_text() + " user=u dbname=d",
                          "postgresql://u@127.0.0.1:" + db.port_text() + "/d?sslmode=disable"}) {
    auto [text, took] = open_silent(dsn);
    BOOST_CHECK_MESSAGE(took < 60s,
                        dsn << " took " << std::chrono::duration_cast<std::chrono::seconds>(took).count() << "s");
    BOOST_TEST(text.find("timeout expired") != std::string::npos, text);
  }
}

BOOST_AUTO_TEST_CASE(a_connect_timeout_the_dsn_sets_is_kept) {
  silent_listener db;
  BOOST_REQUIRE(db.port() != 0);
  auto [text, took] = open_silent("host=127.0.0.1 port=" + db.port_text() + " user=u dbname=d connect_timeout=2");
  BOOST_CHECK_MESSAGE(took < 9s, "took " << std::chrono::duration_cast<std::chrono::seconds>(took).count() << "s");
  BOOST_TEST(text.find("timeout expired") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(a_cluster_client_on_a_silent_server_fails_instead_of_hanging) {
  caf::actor_system_config cfg;
  cano::node::configure(cfg);
  caf::actor_system sys{cfg};
  silent_listener db;
  BOOST_REQUIRE(db.port() != 0);
  cano::PostgresOptions options;
  options.dsn = "postgres://u@127.0.0.1:" + db.port_text() + "/d";
  auto start = std::chrono::steady_clock::now();
  auto client = cano::cluster_client::open(sys, options);
  BOOST_TEST(!client.has_value());
  BOOST_CHECK(std::chrono::steady_clock::now() - start < 60s);
}

BOOST_AUTO_TEST_SUITE_END()
