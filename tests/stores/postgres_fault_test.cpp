// The PostgreSQL store rides out a server restart: runs whose next row cannot be written wait
// (retrying with backoff) until the server is back, then finish — no row lost or written twice,
// no side effect repeated. Holds the ctest resource lock `postgres` (it stops the server).
#include <cstdlib>
#include <map>
#include <mutex>
#include <thread>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/recording_observer.hpp"
#include "cano/workflow.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

/// Runs `$CANO_PG_FAULT_CTL <verb>` on the server of this suite alone; true on success.
bool pg_ctl(const std::string& verb) {
  auto helper = env_or_empty("CANO_PG_FAULT_CTL");
  if (helper.empty()) {
    return false;
  }
  return std::system((helper + " " + verb + " >/dev/null 2>&1").c_str()) == 0;
}

/// Waits (bounded) until the store has retried at least once.
bool eventually_retried(const std::shared_ptr<cano::PostgresCheckpointStore>& store) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (store->retries() == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::yield();
  }
  return true;
}

/// Makes sure the server runs again even when an assertion ends the test early.
struct restart_on_exit {
  ~restart_on_exit() { pg_ctl("start"); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(postgres_fault_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(runs_wait_out_a_server_restart_and_finish_exactly_once) {
  BOOST_REQUIRE_MESSAGE(!env_or_empty("CANO_PG_FAULT_CTL").empty() && !pg_fault_dsn().empty(),
                        "CANO_PG_FAULT_DSN / CANO_PG_FAULT_CTL are not set (scripts/test.sh sets them)");
  cano::PostgresOptions opts;
  opts.dsn = pg_fault_dsn();
  opts.retry_deadline = std::chrono::seconds(120);
  auto opened = cano::PostgresCheckpointStore::open(opts);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().to_string()));
  auto store = *opened;

  constexpr int runs = 8;
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto effects_mutex = std::make_shared<std::mutex>();
  auto effects = std::make_shared<std::map<std::string, std::vector<std::string>>>();
  auto record = [effects, effects_mutex](const std::string& id, const std::string& what) {
    std::lock_guard<std::mutex> l(*effects_mutex);
    (*effects)[id].push_back(what);
  };
  auto obs = std::make_shared<cano::RecordingObserver>();
  auto wf = cano::Workflow<State>{}
              .with_name("restart")
              .register_task(State::Start, "Start",
                             [=](cano::task_context& ctx) {
                               record(ctx.workflow_id(), "Start");
                               entered->arrive();
                               g->wait();
                               return State::Process;
                             })
              .register_task(State::Process, "Work",
                             [=](cano::task_context& ctx) {
                               record(ctx.workflow_id(), "Work");
                               return State::Done;
                             })
              .add_exit_state(State::Done)
              .with_checkpoint_store(store)
              .with_observer(obs);
  auto prefix = unique_id("restart");
  restart_on_exit guard;
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  for (int i = 0; i < runs; ++i) {
    ts.rt->start(wf, State::Start, {prefix + "-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  BOOST_REQUIRE(entered->wait_for_at_least(runs)); // every Start row is committed (write-ahead)
  BOOST_REQUIRE(pg_ctl("stop"));
  g->open(); // the tasks finish; their next rows meet a stopped server
  BOOST_REQUIRE(eventually_retried(store));
  BOOST_REQUIRE(pg_ctl("start"));

  std::size_t ok = 0;
  for (int i = 0; i < runs; ++i) {
    bool got = false;
    self->receive(
      [&](cano::run_result& r) {
        got = true;
        BOOST_TEST(r.ok(), (r.ok() ? "" : r.failure->to_string()));
        ok += r.ok() ? 1 : 0;
      },
      caf::after(std::chrono::seconds(180)) >> [] {});
    BOOST_REQUIRE(got);
  }
  BOOST_TEST(ok == static_cast<std::size_t>(runs));
  BOOST_TEST(store->retries() > 0u);
  for (int i = 0; i < runs; ++i) {
    auto id = prefix + "-" + std::to_string(i);
    BOOST_TEST(((*effects)[id] == std::vector<std::string>{"Start", "Work"}));
    std::vector<std::string> expected{"checkpoint:" + id + ":0", "checkpoint:" + id + ":1", "checkpoint:" + id + ":2"};
    std::vector<std::string> seen;
    for (const auto& e : obs->events_with("checkpoint:" + id + ":")) {
      seen.push_back(e);
    }
    BOOST_TEST(seen == expected, boost::test_tools::per_element()); // dense and unique
    BOOST_TEST(store->load_run(id)->empty());
    BOOST_TEST(((*store->run_header(id))->status == cano::RunStatus::completed));
  }
}

BOOST_AUTO_TEST_SUITE_END()
