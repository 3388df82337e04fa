// White-box (engine internals): the runners' timer queue sends each timer's message at its
// deadline, earliest first, holds its actor weakly, and stops with nothing left behind; a
// runtime's parked poll waits in it (not in CAF's clock).
#include <atomic>
#include <chrono>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/messages.hpp"
#include "cano/poll_task.hpp"
#include "cano/workflow.hpp"
#include "engine.hpp"
#include "internal_access.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"
#include "timer_queue.hpp"

namespace {

using cano::detail::runner_timer;
using cano::detail::timer_queue;
using namespace std::chrono_literals;

caf::weak_actor_ptr weak_of(const caf::scoped_actor& self) {
  return caf::weak_actor_ptr{caf::actor_cast<caf::strong_actor_ptr>(self).get()};
}

struct system_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
};

/// An actor that counts its destruction (to see whether a timer keeps it alive).
class counted_actor : public caf::event_based_actor {
public:
  counted_actor(caf::actor_config& cfg, std::atomic<int>* destroyed)
    : caf::event_based_actor(cfg),
      destroyed_(destroyed) {}
  ~counted_actor() override { destroyed_->fetch_add(1); }
  caf::behavior make_behavior() override {
    return {[](cano::detail::call_due_atom, std::uint32_t, std::uint64_t, std::uint64_t) {}};
  }

private:
  std::atomic<int>* destroyed_;
};

/// Pending for 1 s on its first poll, then Ready.
class poll_twice : public cano::PollTask<test::State> {
public:
  explicit poll_twice(std::shared_ptr<test::counter> polls) : polls_(std::move(polls)) {}
  cano::expected<cano::PollOutcome<test::State>> poll(cano::task_context&) override {
    polls_->arrive();
    if (first_.exchange(false)) {
      return cano::PollOutcome<test::State>::pending(1000);
    }
    return cano::PollOutcome<test::State>::ready(test::State::Complete);
  }

private:
  std::shared_ptr<test::counter> polls_;
  std::atomic<bool> first_{true};
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(timer_queue_test, system_fixture)

BOOST_AUTO_TEST_CASE(timers_fire_earliest_deadline_first_with_their_message) {
  caf::scoped_actor self{sys};
  timer_queue timers{true};
  auto now = timer_queue::clock::now();
  timers.add(300ms, weak_of(self), runner_timer::call_due, 7, 1, 100);
  timers.add(100ms, weak_of(self), runner_timer::call_due, 7, 1, 200);
  timers.add(200ms, weak_of(self), runner_timer::call_due, 7, 1, 300);
  std::vector<std::uint64_t> order;
  for (int i = 0; i < 3; ++i) {
    self->receive(
      [&](cano::detail::call_due_atom, std::uint32_t tag, std::uint64_t seq, std::uint64_t id) {
        BOOST_CHECK_EQUAL(tag, 7u);
        BOOST_CHECK_EQUAL(seq, 1u);
        order.push_back(id);
      },
      caf::after(std::chrono::seconds(10)) >> [&] { BOOST_FAIL("a timer never fired"); });
  }
  BOOST_CHECK_EQUAL(timer_queue::clock::now() - now >= 300ms, true); // none fired before its deadline
  BOOST_CHECK((order == std::vector<std::uint64_t>{200, 300, 100}));
  BOOST_CHECK_EQUAL(timers.pending(), 0u);
}

BOOST_AUTO_TEST_CASE(attempt_timeout_and_retry_timers_send_their_own_messages) {
  caf::scoped_actor self{sys};
  timer_queue timers{true};
  timers.add(0ms, weak_of(self), runner_timer::attempt_timeout, 3, 9);
  timers.add(50ms, weak_of(self), runner_timer::retry_due, 4, 10);
  bool timed_out = false;
  bool retried = false;
  for (int i = 0; i < 2; ++i) {
    self->receive(
      [&](cano::detail::att_timeout_atom, std::uint32_t tag, std::uint64_t seq) { timed_out = tag == 3 && seq == 9; },
      [&](cano::detail::retry_atom, std::uint32_t tag, std::uint64_t seq) { retried = tag == 4 && seq == 10; },
      caf::after(std::chrono::seconds(10)) >> [&] { BOOST_FAIL("a timer never fired"); });
  }
  BOOST_CHECK(timed_out);
  BOOST_CHECK(retried);
}

BOOST_AUTO_TEST_CASE(a_pending_timer_does_not_keep_its_actor_alive) {
  std::atomic<int> destroyed{0};
  timer_queue timers{true};
  {
    auto target = sys.spawn<counted_actor>(&destroyed);
    timers.add(std::chrono::hours(1), caf::actor_cast<caf::weak_actor_ptr>(target), runner_timer::call_due, 1, 1, 1);
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (destroyed.load() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  BOOST_CHECK_EQUAL(destroyed.load(), 1); // gone although its timer is an hour away
  BOOST_CHECK_EQUAL(timers.pending(), 1u);
}

BOOST_AUTO_TEST_CASE(a_timer_whose_actor_ended_sends_nothing) {
  std::atomic<int> destroyed{0};
  timer_queue timers{true};
  {
    auto target = sys.spawn<counted_actor>(&destroyed);
    timers.add(100ms, caf::actor_cast<caf::weak_actor_ptr>(target), runner_timer::call_due, 1, 1, 1);
    caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((destroyed.load() == 0 || timers.pending() != 0) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  BOOST_CHECK_EQUAL(destroyed.load(), 1);
  BOOST_CHECK_EQUAL(timers.pending(), 0u); // taken off the queue at its deadline, sent to nobody
}

BOOST_AUTO_TEST_CASE(stop_drops_pending_timers_and_refuses_new_ones) {
  caf::scoped_actor self{sys};
  timer_queue timers{true};
  timers.add(std::chrono::hours(1), weak_of(self), runner_timer::call_due, 1, 1, 1);
  BOOST_CHECK_EQUAL(timers.pending(), 1u);
  auto before = std::chrono::steady_clock::now();
  timers.stop(); // the thread sleeps until the hour is up: stop wakes it
  BOOST_CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));
  BOOST_CHECK_EQUAL(timers.pending(), 0u);
  timers.add(0ms, weak_of(self), runner_timer::call_due, 1, 1, 2);
  BOOST_CHECK_EQUAL(timers.pending(), 0u);
  bool got = false;
  self->receive([&](cano::detail::call_due_atom, std::uint32_t, std::uint64_t, std::uint64_t) { got = true; },
                caf::after(std::chrono::milliseconds(200)) >> [] {});
  BOOST_CHECK(!got);
}

BOOST_AUTO_TEST_CASE(a_parked_poll_waits_in_the_runtime_timer_queue_and_wakes_from_it) {
  test::test_system ts;
  auto& eng = cano::detail::runtime_access::engine_of(*ts.rt);
  caf::scoped_actor self{*ts.sys};
  auto polls = std::make_shared<test::counter>();
  auto wf = cano::Workflow<test::State>{}
              .register_task(test::State::Start, std::make_shared<poll_twice>(polls))
              .add_exit_state(test::State::Complete);
  ts.rt->start(wf, test::State::Start, {"", nullptr}, caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(polls->wait_for_at_least(1));
  // Within the second it is parked, its next poll waits in the runtime's queue.
  bool seen = false;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!seen && polls->value() < 2 && std::chrono::steady_clock::now() < until) {
    seen = eng.timers_pending() == 1u;
    std::this_thread::sleep_for(1ms);
  }
  BOOST_CHECK(seen);
  auto results = test::receive_results(self, 1);
  BOOST_REQUIRE_EQUAL(results.size(), 1u);
  BOOST_CHECK(results[0].ok());
  BOOST_CHECK_EQUAL(polls->value(), 2u);
  BOOST_CHECK_EQUAL(eng.timers_pending(), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
