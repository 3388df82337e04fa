// cano-semantics §5.4 #48 (strategy predicates) and §5.5 #52–56 (split validation).
#include <cmath>

#include <boost/test/unit_test.hpp>

#include "cano/workflow.hpp"
#include "support/tasks.hpp"

using namespace test;
using namespace std::chrono_literals;
using cano::JoinStrategy;

namespace {

cano::Workflow<State> split_workflow(cano::JoinConfig<State> join) {
  return cano::Workflow<State>{}
    .register_split(State::Start, {goto_task(State::Join), goto_task(State::Join)}, join)
    .register_task(State::Process, goto_task(State::Complete))
    .add_exit_state(State::Complete);
}

} // namespace

BOOST_AUTO_TEST_SUITE(join_strategy_test)

BOOST_AUTO_TEST_CASE(strategies_are_satisfied_exactly_as_cano_says) {
  BOOST_TEST(JoinStrategy::all().is_satisfied(3, 3));
  BOOST_TEST(!JoinStrategy::all().is_satisfied(2, 3));
  BOOST_TEST(JoinStrategy::any().is_satisfied(1, 3));
  BOOST_TEST(!JoinStrategy::any().is_satisfied(0, 3));
  BOOST_TEST(JoinStrategy::quorum(2).is_satisfied(2, 3));
  BOOST_TEST(JoinStrategy::quorum(2).is_satisfied(3, 3));
  BOOST_TEST(!JoinStrategy::quorum(2).is_satisfied(1, 3));
  BOOST_TEST(JoinStrategy::percentage(0.5).is_satisfied(2, 4));
  BOOST_TEST(JoinStrategy::percentage(0.75).is_satisfied(3, 4));
  BOOST_TEST(!JoinStrategy::percentage(0.75).is_satisfied(2, 4));
  BOOST_TEST(JoinStrategy::partial_results(2).is_satisfied(2, 4));
  BOOST_TEST(JoinStrategy::partial_results(2).is_satisfied(3, 4));
  BOOST_TEST(!JoinStrategy::partial_results(2).is_satisfied(1, 4));
  BOOST_TEST(JoinStrategy::partial_timeout().is_satisfied(1, 4));
  BOOST_TEST(JoinStrategy::partial_timeout().is_satisfied(3, 4));
  BOOST_TEST(!JoinStrategy::partial_timeout().is_satisfied(0, 4));
}

BOOST_AUTO_TEST_CASE(strategies_print_like_cano_debug) {
  BOOST_TEST(JoinStrategy::all().to_string() == "All");
  BOOST_TEST(JoinStrategy::quorum(3).to_string() == "Quorum(3)");
  BOOST_TEST(JoinStrategy::percentage(0.75).to_string() == "Percentage(0.75)");
  BOOST_TEST(JoinStrategy::percentage(1.0).to_string() == "Percentage(1.0)");
  BOOST_TEST(JoinStrategy::partial_results(2).to_string() == "PartialResults(2)");
  BOOST_TEST(JoinStrategy::partial_timeout().to_string() == "PartialTimeout");
}

BOOST_AUTO_TEST_CASE(a_join_state_that_is_neither_registered_nor_exit_is_rejected) {
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {goto_task(State::Join)},
                              cano::JoinConfig<State>{JoinStrategy::all(), State::Process})
              .add_exit_state(State::Complete);
  auto r = wf.validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() == "Split join_state Process is neither registered nor an exit state");
}

BOOST_AUTO_TEST_CASE(an_exit_state_is_a_valid_join_state) {
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {goto_task(State::Join)},
                              cano::JoinConfig<State>{JoinStrategy::all(), State::Complete})
              .add_exit_state(State::Complete);
  BOOST_TEST(wf.validate().has_value());
}

BOOST_AUTO_TEST_CASE(partial_timeout_without_a_timeout_is_rejected) {
  auto r = split_workflow({JoinStrategy::partial_timeout(), State::Process}).validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() == "PartialTimeout strategy requires a timeout to be configured");
}

BOOST_AUTO_TEST_CASE(a_percentage_outside_zero_to_one_is_rejected) {
  const std::pair<double, const char*> cases[] = {
    {0.0, "0"}, {1.5, "1.5"}, {std::nan(""), "NaN"}, {-0.5, "-0.5"}, {INFINITY, "inf"}};
  for (const auto& [p, shown] : cases) {
    auto r = split_workflow({JoinStrategy::percentage(p), State::Process}).validate();
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("configuration"));
    BOOST_TEST(r.error().message() ==
               std::string("Percentage strategy requires a finite value in (0.0, 1.0], got ") + shown);
  }
  BOOST_TEST(split_workflow({JoinStrategy::percentage(1.0), State::Process}).validate().has_value());
}

BOOST_AUTO_TEST_CASE(a_bulkhead_of_zero_is_rejected) {
  auto r = split_workflow(cano::JoinConfig<State>{JoinStrategy::all(), State::Process}.with_bulkhead(0)).validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message() == "bulkhead requires a positive permit count, got 0");
}

BOOST_AUTO_TEST_CASE(an_empty_branch_name_is_a_configuration_error) {
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {goto_task(State::Join, {}, "")},
                              cano::JoinConfig<State>{JoinStrategy::all(), State::Complete})
              .add_exit_state(State::Complete);
  auto r = wf.validate();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message().find("empty name") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
