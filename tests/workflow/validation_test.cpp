// cano-semantics §5.5 #49–51, #57–59 and our label/name rules (ARCHITECTURE D4).
#include <boost/test/unit_test.hpp>

#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {
enum class Twin { A, B, C };
std::string to_string(Twin t) { return t == Twin::C ? "C" : "Same"; } // A and B share a label
} // namespace

BOOST_AUTO_TEST_SUITE(validation_test)

BOOST_AUTO_TEST_CASE(an_empty_workflow_has_no_registered_state_handlers) {
  auto r = cano::Workflow<State>{}.validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() == "Workflow has no registered state handlers");
}

BOOST_AUTO_TEST_CASE(a_workflow_without_exit_states_is_rejected) {
  auto r = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message() == "Workflow has no exit states defined — orchestration may loop forever");
}

BOOST_AUTO_TEST_CASE(start_to_complete_with_an_exit_state_is_valid) {
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  BOOST_TEST(wf.validate().has_value());
}

BOOST_AUTO_TEST_CASE(initial_state_must_be_registered_or_exit) {
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  BOOST_TEST(wf.validate_initial_state(State::Start).has_value());
  BOOST_TEST(wf.validate_initial_state(State::Complete).has_value());
  auto r = wf.validate_initial_state(State::Process);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() == "Initial state Process is neither registered nor an exit state");
}

BOOST_AUTO_TEST_CASE(running_a_workflow_with_only_an_exit_state_fails_with_configuration) {
  test_system ts;
  auto wf = cano::Workflow<State>{}.add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().to_string().find("no registered state handlers") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(running_a_workflow_without_exit_states_fails_with_configuration) {
  test_system ts;
  auto wf = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete));
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().to_string().find("no exit states") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(running_from_an_unknown_initial_state_fails_before_any_task) {
  test_system ts;
  auto n = make_calls();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, flaky_task(n, 0, State::Complete, cano::TaskConfig::minimal()))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Process);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message() == "Initial state Process is neither registered nor an exit state");
  BOOST_TEST(n->load() == 0);
}

BOOST_AUTO_TEST_CASE(two_states_with_one_label_are_a_configuration_error) {
  auto wf = cano::Workflow<Twin>{}
              .register_task(Twin::A, "a", [] { return Twin::C; })
              .register_task(Twin::B, "b", [] { return Twin::C; })
              .add_exit_state(Twin::C);
  auto r = wf.validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() ==
             "duplicate state label \"Same\": two states share it, but labels identify states in "
             "events and checkpoints");
}

BOOST_AUTO_TEST_CASE(an_exit_state_sharing_a_registered_label_is_a_configuration_error) {
  auto wf = cano::Workflow<Twin>{}.register_task(Twin::A, "a", [] { return Twin::B; }).add_exit_state(Twin::B);
  auto r = wf.validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message().find("duplicate state label \"Same\"") == 0);
}

BOOST_AUTO_TEST_CASE(an_empty_task_name_is_a_configuration_error) {
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "", [] { return State::Complete; })
              .add_exit_state(State::Complete);
  auto r = wf.validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() ==
             "the task registered for state Start has an empty name; task names identify tasks in "
             "checkpoints");
}

BOOST_AUTO_TEST_CASE(a_lambda_without_a_name_is_named_after_its_state_label) {
  test_system ts;
  auto obs = std::make_shared<recording_observer>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, [] { return State::Complete; })
              .add_exit_state(State::Complete)
              .with_observer(obs);
  BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  BOOST_TEST(obs->contains("task_start:Start"));
}

BOOST_AUTO_TEST_CASE(integral_states_are_labelled_by_their_decimal) {
  auto wf = cano::Workflow<std::uint32_t>{}.register_task(7u, "seven", [] { return 9u; }).add_exit_state(9u);
  auto r = wf.validate_initial_state(8u);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message() == "Initial state 8 is neither registered nor an exit state");
}

BOOST_AUTO_TEST_CASE(a_validation_error_is_cached_and_returned_on_every_run) {
  test_system ts;
  auto wf = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete));
  auto first = ts.rt->run(wf, State::Start);
  auto second = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!first);
  BOOST_REQUIRE(!second);
  BOOST_TEST(first.error() == second.error());
}

BOOST_AUTO_TEST_SUITE_END()
