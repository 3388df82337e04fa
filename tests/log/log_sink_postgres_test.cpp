// Log lines of runs on a PostgreSQL store opened with a password (the scram role of
// scripts/test.sh): every lifecycle and state line is written, and the password is in none.
// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/workflow.hpp"
#include "support/postgres.hpp"
#include "support/recording_log_sink.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;

BOOST_AUTO_TEST_SUITE(log_sink_postgres_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(runs_on_a_store_opened_with_a_password_never_log_it) {
  auto auth_dsn = env_or_empty("CANO_PG_AUTH_DSN");
  auto password = env_or_empty("CANO_PG_AUTH_PASSWORD");
  BOOST_REQUIRE_MESSAGE(!auth_dsn.empty() && !password.empty(),
                        "CANO_PG_AUTH_DSN and CANO_PG_AUTH_PASSWORD are not set (scripts/test.sh sets them)");
  auto store = cano::PostgresCheckpointStore::open({auth_dsn + " password=" + password});
  BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? std::string() : store.error().to_string()));
  auto sink = std::make_shared<recording_log_sink>();
  cano::runtime_config cfg;
  cfg.log = sink;
  cfg.log_level = cano::log_level::trace;
  test_system ts(cfg);
  auto ok = cano::Workflow<State>{}
              .with_name("pg-logged")
              .with_checkpoint_store(*store)
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Done))
              .add_exit_state(State::Done);
  auto id = unique_id("logged");
  BOOST_REQUIRE(ts.rt->run(ok, State::Start, {id, nullptr}).has_value());
  // A task that fails quoting the DSN it used, as a careless one would.
  auto leaky = cano::Workflow<State>{}
                 .with_name("pg-logged")
                 .with_checkpoint_store(*store)
                 .register_task(
                   State::Start, "Leaky",
                   [&]() -> cano::expected<State> {
                     return cano::error::task_execution("could not use " + auth_dsn + " password=" + password);
                   },
                   cano::TaskConfig::minimal())
                 .add_exit_state(State::Done);
  BOOST_REQUIRE(!ts.rt->run(leaky, State::Start, {unique_id("leaky"), nullptr}).has_value());
  BOOST_TEST(sink->of("run_completed").size() == 1u);
  BOOST_TEST(sink->of("state_entered").size() == 4u); // Start, Process, Done; then Start
  BOOST_TEST(sink->of("run_failed").size() == 1u);
  BOOST_TEST(!sink->mentions(password));
  BOOST_TEST(sink->mentions("password=***"));
}

BOOST_AUTO_TEST_SUITE_END()
