// cano-semantics §5.5 #60–70: basic execution of single tasks and routers.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cano/memory_store.hpp"
#include "cano/workflow.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

struct DataTask : cano::Task<State> {
  cano::expected<cano::TaskResult<State>> run(cano::task_context& ctx) override {
    auto store = ctx.resources().get<cano::MemoryStore>("store");
    if (!store) {
      return store.error();
    }
    (*store)->put<std::string>("test_key", "test_value");
    return State::Complete;
  }
};

struct BareTask : cano::Task<State> {
  cano::expected<cano::TaskResult<State>> run_bare() override { return State::Complete; }
};

struct NothingTask : cano::Task<State> {};

struct PathRouter : cano::RouterTask<State> {
  cano::expected<cano::TaskResult<State>> route(cano::task_context&) override { return State::PathA; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(execution_test)

BOOST_AUTO_TEST_CASE(a_single_task_leads_to_its_exit_state) {
  test_system ts;
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(two_tasks_chain_to_the_exit_state) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(a_task_writes_into_the_memory_store_resource) {
  test_system ts;
  auto store = std::make_shared<cano::MemoryStore>();
  auto wf = cano::Workflow<State>{cano::Resources{}.insert("store", store)}
              .register_task(State::Start, DataTask{})
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  auto value = store->get<std::string>("test_key");
  BOOST_REQUIRE(value.has_value());
  BOOST_TEST(value.value() == "test_value");
}

BOOST_AUTO_TEST_CASE(a_bare_workflow_runs_a_run_bare_task) {
  test_system ts;
  auto wf = cano::Workflow<State>::bare().register_task(State::Start, BareTask{}).add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(a_task_implementing_neither_run_nor_run_bare_names_its_type) {
  NothingTask t;
  cano::Resources res;
  std::string id, label;
  nlohmann::json input;
  cano::task_context ctx(id, label, 1, input, res, nullptr);
  auto r = t.run(ctx);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message().find("NothingTask") != std::string::npos);
  BOOST_TEST(r.error().message().find("neither `run` nor `run_bare` was implemented; override one of them") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_split_result_from_a_plain_task_points_to_register_split) {
  test_system ts;
  auto split = cano::make_task<State>("Splitter", [] { return cano::TaskResult<State>::split({State::Complete}); });
  auto wf = cano::Workflow<State>{}.register_task(State::Start, split).add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("workflow"));
  BOOST_TEST(r.error().message() == "Single task returned split result - use register_split() for split tasks");
}

BOOST_AUTO_TEST_CASE(a_failing_task_is_retried_by_its_own_policy_only) {
  test_system ts;
  auto n = make_calls();
  auto wf =
    cano::Workflow<State>{}
      .register_task(State::Start, flaky_task(n, 1000, State::Complete, cano::TaskConfig{}.with_fixed_retry(2, 1ms)))
      .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(n->load() == 3);
  BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
}

BOOST_AUTO_TEST_CASE(an_exception_in_a_task_is_a_panic_error) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "Boom", []() -> State { throw std::runtime_error("boom"); }, cano::TaskConfig::minimal())
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "panic: boom");
}

BOOST_AUTO_TEST_CASE(an_attempt_timeout_on_every_attempt_exhausts_the_retries) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "Sleeper",
                [] {
                  std::this_thread::sleep_for(200ms);
                  return State::Complete;
                },
                cano::TaskConfig{}.with_fixed_retry(1, 1ms).with_attempt_timeout(20ms))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
  BOOST_TEST(r.error().message() ==
             "Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout");
}

BOOST_AUTO_TEST_CASE(a_workflow_timeout_ends_a_run_whose_task_is_too_slow) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Sleeper",
                             [] {
                               std::this_thread::sleep_for(200ms);
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_timeout(50ms);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("workflow"));
  BOOST_TEST(r.error().message() == "Workflow timeout exceeded");
}

BOOST_AUTO_TEST_CASE(a_registered_router_routes_without_being_a_plain_state) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_router(State::Start, "ToProcess", [] { return State::Process; })
              .register_task(State::Process, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  BOOST_TEST(wf.validate().has_value());
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(a_router_registered_as_a_plain_task_routes_too) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Decide, PathRouter{})
              .register_task(State::PathA, goto_task(State::Done))
              .add_exit_state(State::Done);
  auto r = ts.rt->run(wf, State::Decide);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Done);
}

BOOST_AUTO_TEST_CASE(an_unregistered_target_state_is_a_workflow_error) {
  test_system ts;
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Process)).add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("workflow"));
  BOOST_TEST(r.error().message() == "No task registered for state: Process");
}

BOOST_AUTO_TEST_CASE(an_exit_state_that_is_also_registered_never_runs_its_task) {
  test_system ts;
  auto n = make_calls();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Complete))
              .register_task(State::Complete, flaky_task(n, 0, State::Start, cano::TaskConfig::minimal()))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(n->load() == 0);
}

BOOST_AUTO_TEST_CASE(re_registering_a_state_replaces_its_task) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Start, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(orchestrate_runs_on_the_default_runtime) {
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Complete, cano::TaskConfig{}.with_blocking(false)))
              .add_exit_state(State::Complete);
  auto r = wf.orchestrate(State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(the_run_input_reaches_every_task) {
  test_system ts;
  auto seen = std::make_shared<std::string>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "ReadInput",
                             [seen](cano::task_context& ctx) {
                               *seen = ctx.input().at("sku").get<std::string>() + "@" + ctx.workflow_id() + "/" +
                                       ctx.state_label();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start, {"order-7", {{"sku", "A1"}}});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*seen == "A1@order-7/Start");
}

BOOST_AUTO_TEST_SUITE_END()
