// White-box (stores/postgres/src/cluster/membership.hpp): the claims a node incarnation makes on
// the shared table. The multi-process behaviour is in tests/e2e/cluster_failover_test.cpp.
#include <chrono>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include "cano/postgres_checkpoint_store.hpp"
#include "cluster/membership.hpp"
#include "support/headers.hpp"
#include "support/postgres.hpp"

using namespace test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(membership_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(an_incarnation_declared_dead_claims_no_orphan_until_it_rejoins) {
  // A paused node wakes up after its burial: before its lease loop finds out and rejoins, it must
  // not claim orphaned runs under its buried name (their writes would pass its own fences).
  auto store = *cano::PostgresCheckpointStore::open(); // creates the schema
  const auto definition = unique_id("claims");
  const std::vector<cano::detail::served_definition> served{{definition, 0}};
  cano::detail::membership woken(pg_dsn(), unique_id("woken"), 5s);
  cano::detail::membership survivor(pg_dsn(), unique_id("survivor"), 5s);
  woken.join("127.0.0.1:1", served);
  woken.activate("127.0.0.1:1", served);
  survivor.join("127.0.0.1:2", served);
  survivor.activate("127.0.0.1:2", served);
  auto id = unique_id("orphaned");
  BOOST_REQUIRE(store->append_batch({first_write(id, definition)}).front().has_value());
  {
    pqxx::connection c(pg_dsn());
    pqxx::work tx(c);
    tx.exec_params("UPDATE cano_runs SET owner = 'orphan' WHERE workflow_id = $1", id);
    tx.exec_params("UPDATE cano_nodes SET state = 'dead' WHERE node_id = $1", woken.node_id()); // buried
    tx.commit();
  }
  BOOST_TEST(woken.claim_orphans(served).empty());
  auto taken = survivor.claim_orphans(served);
  BOOST_REQUIRE_EQUAL(taken.size(), 1u);
  BOOST_TEST(taken.front().workflow_id == id);
  BOOST_TEST((*store->run_header(id))->owner == survivor.owner());
  // Once rejoined, it claims again.
  {
    pqxx::connection c(pg_dsn());
    pqxx::work tx(c);
    tx.exec_params("UPDATE cano_runs SET owner = 'orphan' WHERE workflow_id = $1", id);
    tx.commit();
  }
  woken.join("127.0.0.1:1", served);
  woken.activate("127.0.0.1:1", served);
  auto again = woken.claim_orphans(served);
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_TEST((*store->run_header(id))->owner == woken.owner());
  survivor.leave();
  woken.leave();
}

BOOST_AUTO_TEST_SUITE_END()
