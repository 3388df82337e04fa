// A node drives every unfinished run its incarnation owns: a run that names it as owner but that
// nothing drives (a claimed run whose resume failed, say on a database error) is found by the
// node's stalled-run sweep and resumed to its end (node_config::resume_stalled_every), on the
// PostgreSQL server of scripts/test.sh.
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
#include "cano/workflow.hpp"
#include "support/headers.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// An unfinished run of `definition` (its first row and header) that nobody drives.
void write_undriven_run(const std::string& run_id, const std::string& definition) {
  auto ghost = cano::PostgresCheckpointStore::open({pg_dsn()});
  BOOST_REQUIRE(ghost.has_value());
  auto written = (*ghost)->append_batch({first_write(run_id, definition, 1, "GoTo")});
  BOOST_REQUIRE(written.size() == 1u);
  BOOST_REQUIRE(written[0].has_value());
}

/// Gives the run to `owner` with a header last written `ago` (as a claim whose resume failed).
void hand_over(const std::string& run_id, const std::string& owner, const std::string& ago) {
  pqxx::connection c(pg_dsn());
  pqxx::work tx(c);
  tx.exec_params("UPDATE cano_runs SET owner = $2, fence = fence + 1, updated_at = now() - $3::interval "
                 "WHERE workflow_id = $1",
                 run_id, owner, ago);
  tx.commit();
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_stalled_run_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(a_run_the_node_owns_but_does_not_drive_is_resumed_to_its_end) {
  const auto definition = unique_id("stalled-def");
  const auto run_id = unique_id("stalled-run");
  auto wf = cano::Workflow<State>{}
              .with_name(definition)
              .with_workflow_version(1)
              .register_task(State::Start, goto_task(State::Done))
              .add_exit_state(State::Done);
  write_undriven_run(run_id, definition);

  caf::actor_system_config cfg;
  cano::node::configure(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  cano::node_config nc;
  nc.node_id = unique_id("stalled-node");
  nc.store.dsn = pg_dsn();
  nc.lease = 1s;
  nc.renew_every = 200ms;
  nc.resume_stalled_every = 300ms;
  auto n = cano::node::open(sys, rt, nc);
  BOOST_REQUIRE_MESSAGE(n.has_value(), (n ? std::string() : n.error().to_string()));
  (*n)->serve(wf);
  BOOST_REQUIRE((*n)->start().has_value());
  hand_over(run_id, (*n)->owner(), "1 minute");

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
  BOOST_REQUIRE_MESSAGE(header.has_value(), "the node never resumed the run it owns");
  BOOST_TEST(header->owner == (*n)->owner());
  BOOST_TEST((*n)->stats().stalled == 1u);
  BOOST_TEST((*n)->stats().claimed == 0u); // found by the sweep, not claimed as an orphan
  (*n)->leave();
}

BOOST_AUTO_TEST_CASE(a_negative_sweep_interval_is_a_configuration_error) {
  caf::actor_system_config cfg;
  cano::node::configure(cfg);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  cano::node_config nc;
  nc.node_id = unique_id("bad-sweep");
  nc.store.dsn = pg_dsn();
  nc.resume_stalled_every = -1s;
  auto n = cano::node::open(sys, rt, nc);
  BOOST_REQUIRE(!n.has_value());
  BOOST_TEST(n.error().to_string().find("resume_stalled_every") != std::string::npos, n.error().to_string());
}

BOOST_AUTO_TEST_SUITE_END()
