// Recycled run supervisors (ARCHITECTURE D1): a supervisor whose run ended takes the engine's
// next run, so everything an earlier run left on its way to that actor — a workflow timeout, an
// attempt timeout, the late result of an abandoned body — must never touch the run it drives
// now. Runs here are sequential (rt.run), so the second run is driven by the first run's actor
// (but after a run whose total-timeout timer is still pending, which ends its actor instead).
// The stale timers are given ten times their delay to arrive while the second run waits on a
// gate; nothing is asserted about how long anything takes.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "cano/workflow.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

constexpr auto stale_delay = 30ms;
constexpr auto well_past_it = 10 * stale_delay;

/// A run whose only task waits (blocking, on the pool) until `g` opens, with no timeout of its own.
cano::Workflow<State> waiting_workflow(std::shared_ptr<counter> entered, std::shared_ptr<gate> g,
                                       cano::TaskConfig cfg = {}) {
  return cano::Workflow<State>{}
    .register_task(
      State::Start, "Waits",
      [entered, g] {
        entered->arrive();
        g->wait();
        return State::Complete;
      },
      std::move(cfg))
    .add_exit_state(State::Complete);
}

/// Waits `d` on a gate nobody opens (the test's own bounded pause, not a run's).
void pause_for(std::chrono::milliseconds d) {
  gate never;
  never.wait_for(d);
}

} // namespace

BOOST_AUTO_TEST_SUITE(recycled_supervisor_test)

BOOST_AUTO_TEST_CASE(the_next_run_ignores_the_workflow_timeout_of_the_previous_one) {
  test_system ts;
  auto quick = cano::Workflow<State>{}
                 .register_task(State::Start, goto_task(State::Complete, cano::TaskConfig{}.with_blocking(false)))
                 .add_exit_state(State::Complete)
                 .with_timeout(stale_delay);
  BOOST_REQUIRE(ts.rt->run(quick, State::Start).has_value()); // its timeout timer is still pending

  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  std::thread opener([&] {
    entered->wait_for_at_least(1);
    pause_for(well_past_it); // the first run's timer fires meanwhile
    g->open();
  });
  auto r = ts.rt->run(waiting_workflow(entered, g), State::Start);
  opener.join();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r == State::Complete));
}

BOOST_AUTO_TEST_CASE(the_next_run_ignores_the_total_timeout_of_the_previous_one) {
  test_system ts;
  auto quick = cano::Workflow<State>{}
                 .register_task(State::Start, goto_task(State::Complete, cano::TaskConfig{}.with_blocking(false)))
                 .add_exit_state(State::Complete)
                 .with_total_timeout(stale_delay);
  BOOST_REQUIRE(ts.rt->run(quick, State::Start).has_value()); // its total-timeout timer is still pending

  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  std::thread opener([&] {
    entered->wait_for_at_least(1);
    pause_for(well_past_it); // the first run's timer fires meanwhile
    g->open();
  });
  auto r = ts.rt->run(waiting_workflow(entered, g), State::Start);
  opener.join();
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
  BOOST_TEST((*r == State::Complete));
}

BOOST_AUTO_TEST_CASE(the_next_run_ignores_an_attempt_timeout_of_the_previous_one) {
  test_system ts;
  auto quick = cano::Workflow<State>{}
                 .register_task(State::Start, goto_task(State::Complete,
                                                        cano::TaskConfig::minimal().with_attempt_timeout(stale_delay)))
                 .add_exit_state(State::Complete);
  BOOST_REQUIRE(ts.rt->run(quick, State::Start).has_value()); // its attempt timer is still pending

  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  std::thread opener([&] {
    entered->wait_for_at_least(1);
    pause_for(well_past_it);
    g->open();
  });
  // The same attempt number (1) as the stale timer's: only the runner's tag tells them apart.
  auto r = ts.rt->run(waiting_workflow(entered, g, cano::TaskConfig::minimal()), State::Start);
  opener.join();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r == State::Complete));
}

BOOST_AUTO_TEST_CASE(the_late_result_of_an_abandoned_body_never_reaches_the_next_run) {
  test_system ts;
  auto entered = std::make_shared<counter>();
  auto first_gate = std::make_shared<gate>();
  // Times out while its body still blocks: the body's result comes after the run ended.
  auto abandoned = cano::Workflow<State>{}
                     .register_task(
                       State::Start, "Abandoned",
                       [entered, first_gate] {
                         entered->arrive();
                         first_gate->wait();
                         return State::PathB; // would end the next run at PathB if it got there
                       },
                       cano::TaskConfig::minimal().with_attempt_timeout(stale_delay))
                     .add_exit_state(State::Complete)
                     .add_exit_state(State::PathB);
  auto first = ts.rt->run(abandoned, State::Start);
  BOOST_REQUIRE(!first);
  BOOST_TEST(first.error().category() == std::string("timeout"));

  auto second_entered = std::make_shared<counter>();
  auto second_gate = std::make_shared<gate>();
  std::thread opener([&] {
    second_entered->wait_for_at_least(1);
    first_gate->open(); // the abandoned body returns now, while the next run waits in its own body
    pause_for(well_past_it);
    second_gate->open();
  });
  auto r = ts.rt->run(waiting_workflow(second_entered, second_gate, cano::TaskConfig::minimal()), State::Start);
  opener.join();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST((*r == State::Complete));
}

BOOST_AUTO_TEST_CASE(blocking_bodies_short_and_long_both_complete_in_order) {
  // A short body comes back while its supervisor waits in place; a longer one as a message.
  test_system ts;
  auto order = std::make_shared<std::vector<int>>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Short",
                             [order] {
                               order->push_back(1);
                               return State::Process;
                             })
              .register_task(State::Process, "Long",
                             [order] {
                               pause_for(5ms); // outlives the supervisor's in-place wait
                               order->push_back(2);
                               return State::Mid;
                             })
              .register_task(State::Mid, "ShortAgain",
                             [order] {
                               order->push_back(3);
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  for (int i = 0; i < 20; ++i) {
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(r.has_value());
  }
  BOOST_REQUIRE(order->size() == 60u);
  for (std::size_t i = 0; i < order->size(); ++i) {
    BOOST_TEST((*order)[i] == static_cast<int>(i % 3) + 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()
