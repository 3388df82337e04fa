// workflow.hpp is enough for everything a workflow's API takes: this file includes nothing else
// of cano, and uses CircuitBreaker::make (once an incomplete type here) end to end.
#include <boost/test/unit_test.hpp>

#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/workflow.hpp"

namespace {

enum class Gate { Call, Done };
std::string to_string(Gate g) { return g == Gate::Call ? "Call" : "Done"; }

} // namespace

BOOST_AUTO_TEST_SUITE(workflow_header_test)

BOOST_AUTO_TEST_CASE(a_circuit_breaker_made_with_only_workflow_hpp_opens_on_a_failed_run) {
  auto breaker = cano::CircuitBreaker::make({/*failure_threshold*/ 1, std::chrono::seconds(60), 1});
  auto config = cano::TaskConfig::minimal().with_circuit_breaker(breaker);
  auto wf =
    cano::Workflow<Gate>{}
      .register_task(
        Gate::Call, "call", []() -> cano::expected<Gate> { return cano::error::task_execution("down"); }, config)
      .add_exit_state(Gate::Done);
  BOOST_TEST(breaker->state().is_closed());
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto end = rt.run(wf, Gate::Call);
  BOOST_REQUIRE(!end);
  BOOST_TEST(end.error().message().find("down") != std::string::npos, end.error().to_string());
  BOOST_TEST(breaker->state().is_open());
}

BOOST_AUTO_TEST_SUITE_END()
