// Durable cancel requests (cano 0.15 §4.3 for runs driven elsewhere), on every store: the request
// in the run's header (CheckpointStore::request_cancel) and its errors, the driver's poll (one
// query per store per interval, not per run) that cancels a run driven here, a resume that
// honours a request made before it, and runtime::cancel(wf, id) writing one for a run not driven
// here. The multi-process cases are in tests/e2e/cancel_e2e_test.cpp.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cancel/cancel_support.hpp"
#include "cano/workflow.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

constexpr cano::duration bound = std::chrono::seconds(60);

cano::RunHeader header_of(const std::string& id, cano::RunStatus status) {
  cano::RunHeader h;
  h.workflow_id = id;
  h.definition = "orders";
  h.status = status;
  h.input = nullptr;
  h.created_at = std::chrono::system_clock::now();
  h.updated_at = h.created_at;
  h.attempts = 1;
  return h;
}

/// A body that blocks until it is abandoned, saying when it started.
std::shared_ptr<cano::Task<State>> holding(std::shared_ptr<counter> entered, std::string name = "Ship") {
  return cano::make_task<State>(std::move(name), [entered](cano::task_context& ctx) {
    entered->arrive();
    wait_until_abandoned(ctx);
    return State::Complete;
  });
}

std::vector<std::string> ids_with_requests(cano::CheckpointStore& store) {
  auto ids = store.cancel_requests();
  BOOST_REQUIRE_MESSAGE(ids.has_value(), "cancel_requests: " << (ids ? std::string() : ids.error().to_string()));
  return *ids;
}

bool has(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

} // namespace

BOOST_AUTO_TEST_SUITE(cancel_request_test)

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_request_lands_in_an_unfinished_header_and_nowhere_else, Kind, test::store_kinds) {
  auto store = Kind::make();
  auto& s = store->inner();
  BOOST_TEST(s.request_cancel("ghost").error().to_string() == "Workflow error: no run with workflow id \"ghost\"");
  BOOST_REQUIRE(s.put_run_header(header_of("done", cano::RunStatus::completed)).has_value());
  BOOST_TEST(s.request_cancel("done").error().to_string() ==
             "Workflow error: run \"done\" already ended (status completed); there is nothing to cancel");
  BOOST_TEST(!store->header("done")->cancel_requested_at.has_value());

  // A run started as the engine starts one (on PostgreSQL this store becomes its owner, and the
  // store lists the requests of the runs it owns).
  cano::CheckpointWrite start;
  start.workflow_id = "live";
  start.create = true;
  start.row = cano::CheckpointRow(0, "Start", "Reserve");
  start.header = header_of("live", cano::RunStatus::running);
  BOOST_REQUIRE(s.append_batch({start}).front().has_value());
  BOOST_TEST(!has(ids_with_requests(s), "live"));
  auto before = std::chrono::system_clock::now() - 1s;
  BOOST_TEST(s.request_cancel("live").has_value());
  auto first = store->header("live")->cancel_requested_at;
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST((*first >= before));
  BOOST_TEST(s.request_cancel("live").has_value()); // idempotent: the first request's time stays
  BOOST_TEST((store->header("live")->cancel_requested_at == first));
  BOOST_TEST(has(ids_with_requests(s), "live"));
  BOOST_TEST(!has(ids_with_requests(s), "done"));

  // The driver's header writes do not clear it (they never carry one).
  cano::CheckpointWrite w;
  w.workflow_id = "live";
  w.header = header_of("live", cano::RunStatus::compensating);
  BOOST_REQUIRE(s.append_batch({w}).front().has_value());
  BOOST_TEST((store->header("live")->cancel_requested_at == first));
  BOOST_TEST(has(ids_with_requests(s), "live"));

  // Once the run has ended, nobody is asked any more; a new run of the id starts without one.
  w.header = header_of("live", cano::RunStatus::rolled_back);
  w.clear_run = true;
  BOOST_REQUIRE(s.append_batch({w}).front().has_value());
  BOOST_TEST(!has(ids_with_requests(s), "live"));
  BOOST_TEST(store->header("live")->cancel_requested_at.has_value()); // kept as a record
  BOOST_REQUIRE(s.append_batch({start}).front().has_value());
  BOOST_TEST(!store->header("live")->cancel_requested_at.has_value());
  BOOST_TEST(!has(ids_with_requests(s), "live"));
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_request_in_the_store_cancels_the_run_driven_here, Kind, test::store_kinds) {
  test_system ts; // the default poll interval: a request is picked up within about half a second
  auto store = Kind::make();
  auto j = std::make_shared<journal>();
  auto entered = std::make_shared<counter>();
  auto wf = cano::Workflow<State>{}
              .with_name("orders")
              .register_with_compensation(State::Start, std::make_shared<journaled_step>("reserve", State::Process, j))
              .register_task(State::Process, holding(entered))
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  auto f = std::async(std::launch::async, [&] { return ts.rt->run(wf, State::Start, {"remote", nullptr}); });
  BOOST_REQUIRE(entered->wait_for_at_least(1));
  // What another process (or the CLI) does: a request through the store alone.
  auto asked = std::chrono::steady_clock::now();
  BOOST_REQUIRE(store->inner().request_cancel("remote").has_value());
  BOOST_REQUIRE(f.wait_for(60s) == std::future_status::ready);
  auto took = std::chrono::steady_clock::now() - asked;
  BOOST_TEST_MESSAGE(store->kind() << ": a request was honoured after "
                                   << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  auto r = f.get();
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("cancelled"));
  BOOST_TEST(j->entries() == std::vector<std::string>({"run:reserve", "rollback:reserve"}),
             boost::test_tools::per_element());
  auto h = store->header("remote");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_TEST(h->failure->category() == std::string("cancelled"));
  BOOST_TEST(h->cancel_requested_at.has_value());
}

BOOST_AUTO_TEST_CASE(the_driver_asks_each_store_once_per_interval_not_once_per_run) {
  cano::runtime_config config;
  config.cancel_poll_interval = 100ms;
  test_system ts(config);
  auto store = memory_store::make();
  auto entered = std::make_shared<counter>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, holding(entered))
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  constexpr int runs = 20;
  std::vector<std::future<cano::expected<State>>> results;
  for (int i = 0; i < runs; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      return ts.rt->run(wf, State::Start, {"many-" + std::to_string(i), nullptr});
    }));
  }
  BOOST_REQUIRE(entered->wait_for_at_least(runs));
  auto from = std::chrono::steady_clock::now();
  auto q0 = store->cancel_queries();
  while (store->cancel_queries() < q0 + 10 && std::chrono::steady_clock::now() - from < 60s) {
    std::this_thread::sleep_for(10ms);
  }
  auto elapsed = std::chrono::steady_clock::now() - from;
  auto queries = store->cancel_queries() - q0;
  auto intervals = static_cast<std::size_t>(elapsed / 100ms) + 1;
  BOOST_TEST_MESSAGE(queries << " queries in " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                             << " ms with " << runs << " runs in flight");
  BOOST_TEST(queries >= 10u);
  BOOST_TEST(queries <= intervals + 1); // one per interval: per run it would be 20 times that
  for (int i = 0; i < runs; ++i) {
    BOOST_REQUIRE(ts.rt->cancel("many-" + std::to_string(i)).has_value());
  }
  for (auto& r : results) {
    BOOST_REQUIRE(r.wait_for(60s) == std::future_status::ready);
    BOOST_TEST(r.get().error().category() == std::string("cancelled"));
  }
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_request_made_before_a_resume_is_honoured_at_its_first_state, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto j = std::make_shared<journal>();
  auto ship_calls = std::make_shared<std::atomic<int>>(0);
  auto wf = cano::Workflow<State>{}
              .with_name("orders")
              .register_with_compensation(State::Start, std::make_shared<journaled_step>("reserve", State::Process, j))
              .register_task(State::Process, "Ship",
                             [ship_calls] {
                               ++*ship_calls;
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  // A run whose driver died in Ship: its log and its running header.
  auto& s = store->inner();
  BOOST_REQUIRE(s.append("orphan", cano::CheckpointRow(0, "Start", "reserve")).has_value());
  BOOST_REQUIRE(
    s.append("orphan", cano::CheckpointRow(1, "Start", "reserve").with_output(cano::to_blob("reserve"))).has_value());
  BOOST_REQUIRE(s.append("orphan", cano::CheckpointRow(2, "Process", "Ship")).has_value());
  BOOST_REQUIRE(s.put_run_header(header_of("orphan", cano::RunStatus::running)).has_value());
  BOOST_REQUIRE(s.request_cancel("orphan").has_value());

  auto r = ts.rt->resume(wf, "orphan");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("cancelled"));
  BOOST_TEST(ship_calls->load() == 0); // the resumed state never ran again
  BOOST_TEST(j->entries() == std::vector<std::string>({"rollback:reserve"}), boost::test_tools::per_element());
  auto h = store->header("orphan");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_TEST(h->failure->category() == std::string("cancelled"));
  BOOST_TEST(store->rows("orphan").empty());
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(runtime_cancel_asks_through_the_store_for_a_run_not_driven_here, Kind,
                              test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Start", [] { return State::Complete; })
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store);
  BOOST_REQUIRE(store->inner().put_run_header(header_of("elsewhere", cano::RunStatus::running)).has_value());
  BOOST_TEST(ts.rt->cancel(wf, "elsewhere").has_value());
  BOOST_TEST(store->header("elsewhere")->cancel_requested_at.has_value());
  BOOST_TEST(ts.rt->cancel(wf, "nowhere").error().to_string() == "Workflow error: no run with workflow id \"nowhere\"");
  // Nothing in flight here and no store to ask: nobody to tell.
  auto storeless = cano::Workflow<State>{}
                     .register_task(State::Start, "Start", [] { return State::Complete; })
                     .add_exit_state(State::Complete);
  BOOST_TEST(ts.rt->cancel(storeless, "elsewhere").error().to_string() ==
             "Configuration error: a cancel request for a run not driven by this runtime needs the workflow's "
             "checkpoint store (call with_checkpoint_store)");
}

BOOST_AUTO_TEST_SUITE_END()
