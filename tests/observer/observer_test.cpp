// cano-semantics §5.12 #163–166, the hook order, and observers that throw.
#include <boost/test/unit_test.hpp>

#include "cano/circuit.hpp"
#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

struct OkTask : cano::Task<State> {
  std::string name() const override { return "OkTask"; }
  cano::expected<cano::TaskResult<State>> run(cano::task_context&) override { return State::Done; }
};

struct Anon : cano::Task<State> {
  cano::expected<cano::TaskResult<State>> run(cano::task_context&) override { return State::Done; }
};

struct throwing_observer : cano::WorkflowObserver {
  void on_state_enter(const std::string&) override { throw std::runtime_error("observer bug"); }
  void on_task_start(const std::string&) override { throw 42; }
  void on_task_success(const std::string&) override { throw std::runtime_error("again"); }
  void on_retry(const std::string&, std::uint32_t) override { throw std::runtime_error("retry"); }
};

std::vector<std::string> subsequence(const std::vector<std::string>& events, const std::vector<std::string>& wanted) {
  std::vector<std::string> found;
  std::size_t i = 0;
  for (const auto& e : events) {
    if (i < wanted.size() && e == wanted[i]) {
      found.push_back(e);
      ++i;
    }
  }
  return found;
}

} // namespace

BOOST_AUTO_TEST_SUITE(observer_test)

BOOST_AUTO_TEST_CASE(a_successful_task_fires_enter_start_success_enter_in_order) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto obs = std::make_shared<recording_observer>();
    auto wf = cano::Workflow<State>{}
                .register_task(State::Start,
                               cano::make_task<State>(
                                 "OkTask", [] { return State::Done; }, cano::TaskConfig{}.with_blocking(blocking)))
                .add_exit_state(State::Done)
                .with_observer(obs);
    BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
    std::vector<std::string> expected{"state_enter:Start", "task_start:OkTask", "task_success:OkTask",
                                      "state_enter:Done"};
    BOOST_TEST(obs->events() == expected, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(a_task_class_reports_its_own_name) {
  test_system ts;
  auto obs = std::make_shared<recording_observer>();
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, OkTask{}).add_exit_state(State::Done).with_observer(obs);
  BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  std::vector<std::string> wanted{"state_enter:Start", "task_start:OkTask", "task_success:OkTask", "state_enter:Done"};
  BOOST_TEST(subsequence(obs->events(), wanted) == wanted, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failing_task_fires_retries_then_failure_and_no_success) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto obs = std::make_shared<recording_observer>();
    auto n = make_calls();
    auto wf =
      cano::Workflow<State>{}
        .register_task(State::Start,
                       flaky_task(n, 1000, State::Done,
                                  cano::TaskConfig{}.with_fixed_retry(2, 1ms).with_blocking(blocking), "FailTask"))
        .add_exit_state(State::Done)
        .with_observer(obs);
    BOOST_REQUIRE(!ts.rt->run(wf, State::Start).has_value());
    std::vector<std::string> wanted{"task_start:FailTask", "retry:FailTask:1", "retry:FailTask:2",
                                    "task_failure:FailTask"};
    BOOST_TEST(subsequence(obs->events(), wanted) == wanted, boost::test_tools::per_element());
    BOOST_TEST(!obs->contains("task_success:FailTask"));
  }
}

BOOST_AUTO_TEST_CASE(a_rejected_call_fires_circuit_open_then_failure) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({1, 60000ms, 1});
  breaker->record_failure(breaker->try_acquire().value()); // pre-trip
  BOOST_REQUIRE(breaker->state().is_open());
  auto obs = std::make_shared<recording_observer>();
  auto n = make_calls();
  auto wf =
    cano::Workflow<State>{}
      .register_task(State::Start, flaky_task(n, 0, State::Done,
                                              cano::TaskConfig::minimal().with_circuit_breaker(breaker), "CircuitTask"))
      .add_exit_state(State::Done)
      .with_observer(obs);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("circuit_open"));
  std::vector<std::string> wanted{"circuit_open:CircuitTask", "task_failure:CircuitTask"};
  BOOST_TEST(subsequence(obs->events(), wanted) == wanted, boost::test_tools::per_element());
  BOOST_TEST(n->load() == 0);
}

BOOST_AUTO_TEST_CASE(the_default_task_name_contains_the_type_name) {
  Anon t;
  BOOST_TEST(t.name().find("Anon") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(observers_are_called_in_registration_order) {
  test_system ts;
  auto log = std::make_shared<std::vector<std::string>>();
  struct tagged : cano::WorkflowObserver {
    tagged(std::string t, std::shared_ptr<std::vector<std::string>> l) : tag(std::move(t)), log(std::move(l)) {}
    void on_state_enter(const std::string& s) override { log->push_back(tag + ":" + s); }
    std::string tag;
    std::shared_ptr<std::vector<std::string>> log;
  };
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Done))
              .add_exit_state(State::Done)
              .with_observer(std::make_shared<tagged>("first", log))
              .with_observer(std::make_shared<tagged>("second", log));
  BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  std::vector<std::string> expected{"first:Start", "second:Start", "first:Done", "second:Done"};
  BOOST_TEST(*log == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_observer_that_throws_does_not_break_the_run) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto rec = std::make_shared<recording_observer>();
    auto n = make_calls();
    auto wf =
      cano::Workflow<State>{}
        .register_task(State::Start, flaky_task(n, 1, State::Done,
                                                cano::TaskConfig{}.with_fixed_retry(1, 1ms).with_blocking(blocking)))
        .add_exit_state(State::Done)
        .with_observer(std::make_shared<throwing_observer>())
        .with_observer(rec);
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == State::Done);
    BOOST_TEST(n->load() == 2);
    // The observer after the throwing one still sees every event.
    BOOST_TEST(rec->contains("retry:Flaky:1"));
    BOOST_TEST(rec->contains("task_success:Flaky"));
    BOOST_TEST(rec->contains("state_enter:Done"));
  }
}

BOOST_AUTO_TEST_SUITE_END()
