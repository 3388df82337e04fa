// The cluster's metrics and its members as tools read them, on the PostgreSQL server of
// scripts/test.sh: a node whose runtime measures counts the orphaned runs it claims
// (cano_cluster_claims_total), and node::members lists it with its lease.
// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <pqxx/pqxx>

#include "cano/cluster.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/prometheus_metrics.hpp"
#include "cano/workflow.hpp"
#include "support/headers.hpp"
#include "support/http.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"

using namespace test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(cluster_metrics_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(a_node_counts_the_orphaned_run_it_claims_and_lists_itself_as_a_member) {
  const auto definition = unique_id("metered-def");
  const auto node_id = unique_id("metrics-node");
  const auto run_id = unique_id("orphaned-run");
  auto wf = cano::Workflow<State>{}
              .with_name(definition)
              .with_workflow_version(1)
              .register_task(State::Start, goto_task(State::Done))
              .add_exit_state(State::Done);

  // An unfinished run (its first row and header) left by a driver that is gone: owner "orphan".
  {
    auto ghost = cano::PostgresCheckpointStore::open({pg_dsn()});
    BOOST_REQUIRE(ghost.has_value());
    auto written = (*ghost)->append_batch({first_write(run_id, definition, 1, "GoTo")});
    BOOST_REQUIRE(written.size() == 1u);
    BOOST_REQUIRE(written[0].has_value());
    pqxx::connection c(pg_dsn());
    pqxx::work tx(c);
    tx.exec_params("UPDATE cano_runs SET owner = 'orphan', fence = fence + 1 WHERE workflow_id = $1", run_id);
    tx.commit();
  }

  auto metrics = cano::prometheus_metrics::make({nullptr, true, "127.0.0.1", 0});
  BOOST_REQUIRE(metrics.has_value());
  caf::actor_system_config cfg;
  cano::node::configure(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  {
    cano::runtime_config rc;
    rc.metrics = *metrics;
    cano::runtime rt{sys, rc};
    cano::node_config nc;
    nc.node_id = node_id;
    nc.store.dsn = pg_dsn();
    auto n = cano::node::open(sys, rt, nc);
    BOOST_REQUIRE_MESSAGE(n.has_value(), (n ? std::string() : n.error().to_string()));
    auto bound = (*n)->serve(wf);
    BOOST_REQUIRE((*n)->start().has_value());

    // The node claims the orphan and resumes it to its end.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    std::optional<cano::RunHeader> header;
    while (std::chrono::steady_clock::now() < deadline) {
      auto h = (*n)->store()->run_header(run_id);
      if (h && *h && (*h)->status == cano::RunStatus::completed) {
        header = **h;
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    BOOST_REQUIRE_MESSAGE(header.has_value(), "the orphaned run was not resumed to its end within 60 s");
    BOOST_TEST(header->owner == (*n)->owner());
    BOOST_TEST((*n)->stats().claimed == 1u);
    auto s = scrape_metrics((*metrics)->port());
    BOOST_TEST(s.count("cano_cluster_claims_total") == 1);
    BOOST_TEST(s.count("cano_runs_finished_total", {{"status", "completed"}}) == 1);
    BOOST_TEST(s.count("cano_cluster_rejoins_total") == 0);

    // The membership table as tools read it: this node, active, its lease running, what it serves.
    auto members = cano::node::members(nc.store);
    BOOST_REQUIRE_MESSAGE(members.has_value(), (members ? std::string() : members.error().to_string()));
    const cano::cluster_node* me = nullptr;
    for (const auto& m : *members) {
      if (m.node_id == node_id) {
        me = &m;
      }
    }
    BOOST_REQUIRE(me != nullptr);
    BOOST_TEST(me->owner() == (*n)->owner());
    BOOST_TEST(me->state == "active");
    BOOST_TEST(me->lease_left.count() > 0);
    BOOST_TEST(me->address == "127.0.0.1:" + std::to_string((*n)->port()));
    BOOST_TEST((me->definitions == std::vector<std::string>{definition + "@1"}));
    BOOST_TEST(me->owned_unfinished == 0u); // the run it claimed has finished
    (*n)->leave();
  }
}

BOOST_AUTO_TEST_CASE(members_of_an_unreachable_database_is_an_error_without_its_password) {
  cano::PostgresOptions bad;
  bad.dsn = "host=127.0.0.1 port=1 user=nobody password=members-secret-pw connect_timeout=5";
  auto members = cano::node::members(bad);
  BOOST_REQUIRE(!members.has_value());
  BOOST_TEST(members.error().code() == cano::errc::checkpoint_store);
  BOOST_TEST(members.error().message().find("members-secret-pw") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
