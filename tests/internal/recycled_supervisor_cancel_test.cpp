// White-box (engine internals): a supervisor recycled for a next run (ARCHITECTURE D1) never acts
// on a cancel meant for a run it drove before. Such a cancel can be on its way when that run ends
// (a token's callback on another thread, a cancel_run that raced the end); it names the earlier
// run's id, and the next run must go on as if it had never been sent. The test sends it itself,
// while the next run waits in its body on the same actor, so the outcome does not depend on timing.
#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/messages.hpp"
#include "cano/workflow.hpp"
#include "engine.hpp"
#include "internal_access.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

/// Long enough for a stale message to be read while the next run waits in its body.
constexpr auto well_past_it = std::chrono::milliseconds(300);

/// A run whose only task waits (blocking, on the pool) until `g` opens.
cano::Workflow<State> waiting_workflow(std::shared_ptr<counter> entered, std::shared_ptr<gate> g) {
  return cano::Workflow<State>{}
    .register_task(State::Start, "Waits",
                   [entered, g] {
                     entered->arrive();
                     g->wait();
                     return State::Complete;
                   })
    .add_exit_state(State::Complete);
}

} // namespace

BOOST_AUTO_TEST_SUITE(recycled_supervisor_cancel_test)

BOOST_AUTO_TEST_CASE(a_cancel_for_an_earlier_run_never_cancels_the_next_run_on_its_supervisor) {
  test_system ts;
  auto& eng = cano::detail::runtime_access::engine_of(*ts.rt);
  caf::scoped_actor self{*ts.sys};

  // The first run, with a token; its supervisor is read while it waits in its body.
  auto [handle, token] = cano::cancellation_token::make();
  auto entered_first = std::make_shared<counter>();
  auto first_gate = std::make_shared<gate>();
  cano::run_options with_token{"", nullptr};
  with_token.cancellation = token;
  auto first = ts.rt->start(waiting_workflow(entered_first, first_gate), State::Start, with_token,
                            caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(entered_first->wait_for_at_least(1));
  auto supervisor = eng.supervisor_of(first);
  BOOST_REQUIRE(supervisor);
  first_gate->open();
  auto first_result = receive_results(self, 1);
  BOOST_REQUIRE(first_result.size() == 1u);
  BOOST_REQUIRE(first_result[0].ok());
  BOOST_TEST(!ts.rt->cancel_run(first)); // it ended: the engine has nothing to cancel

  // The next run is driven by the same actor (the only idle one).
  auto entered_second = std::make_shared<counter>();
  auto second_gate = std::make_shared<gate>();
  auto second = ts.rt->start(waiting_workflow(entered_second, second_gate), State::Start, {"", nullptr},
                             caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(entered_second->wait_for_at_least(1));
  BOOST_REQUIRE(eng.supervisor_of(second) == supervisor);

  // The first run's token fires (its subscription went with its run), and a cancel naming the
  // first run reaches the actor while the second waits in its body.
  handle.cancel();
  caf::anon_send(supervisor, cano::detail::cancel_atom::value, first);
  gate never;
  never.wait_for(well_past_it);
  second_gate->open();

  auto second_result = receive_results(self, 1);
  BOOST_REQUIRE(second_result.size() == 1u);
  BOOST_TEST(second_result[0].run_id == second);
  BOOST_REQUIRE_MESSAGE(second_result[0].ok(), (second_result[0].ok() ? "" : second_result[0].failure->to_string()));
  BOOST_TEST((*second_result[0].get<State>() == State::Complete));
}

BOOST_AUTO_TEST_SUITE_END()
