// cano-semantics §5.6 #73–94 (split/join execution) plus the join actor's guarantees: bulkhead
// limits, early exit that stops losers, timeouts, breaker permits of losers, observer order.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cano/circuit.hpp"
#include "cano/memory_store.hpp"
#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;
using cano::JoinConfig;
using cano::JoinStrategy;
using branches = std::vector<std::shared_ptr<cano::Task<State>>>;

namespace {

std::shared_ptr<cano::Task<State>> ok_task() { return goto_task(State::Join, cano::TaskConfig::minimal()); }

std::shared_ptr<cano::Task<State>> fail_task() {
  return cano::make_task<State>("Fail", []() -> cano::expected<State> {
    return cano::error::task_execution("branch failed");
  }, cano::TaskConfig::minimal());
}

std::shared_ptr<cano::Task<State>> sleep_task(std::chrono::milliseconds d, bool ok = true) {
  return cano::make_task<State>("Sleep", [d, ok]() -> cano::expected<State> {
    std::this_thread::sleep_for(d);
    if (!ok) {
      return cano::error::task_execution("slow failure");
    }
    return State::Join;
  }, cano::TaskConfig::minimal());
}

/// A branch that announces itself, then waits for the gate.
std::shared_ptr<cano::Task<State>> gated_task(std::shared_ptr<counter> entered, std::shared_ptr<gate> g) {
  return cano::make_task<State>("Gated", [entered, g] {
    entered->arrive();
    g->wait();
    return State::Join;
  }, cano::TaskConfig::minimal());
}

cano::expected<State> run_split(test_system& ts, branches tasks, JoinConfig<State> join,
                                std::shared_ptr<cano::WorkflowObserver> obs = nullptr) {
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, std::move(tasks), join)
              .add_exit_state(State::Join);
  if (obs) {
    wf = wf.with_observer(obs);
  }
  return ts.rt->run(wf, State::Start);
}

struct DataTask : cano::Task<State> {
  DataTask(std::string k, std::string v, State next) : key(std::move(k)), value(std::move(v)), next_state(next) {}
  std::string name() const override { return "DataTask"; }
  cano::expected<cano::TaskResult<State>> run(cano::task_context& ctx) override {
    auto store = ctx.resources().get<cano::MemoryStore>("store");
    if (!store) {
      return store.error_value();
    }
    (*store)->put(key, value);
    return next_state;
  }
  std::string key, value;
  State next_state;
};

} // namespace

BOOST_AUTO_TEST_SUITE(split_join_test)

BOOST_AUTO_TEST_CASE(all_any_quorum_and_percentage_proceed_to_the_join_state) {
  test_system ts;
  BOOST_TEST(*run_split(ts, {ok_task(), ok_task(), ok_task()}, {JoinStrategy::all(), State::Join}) == State::Join);
  BOOST_TEST(*run_split(ts, {ok_task(), ok_task(), ok_task()}, {JoinStrategy::any(), State::Join}) == State::Join);
  BOOST_TEST(*run_split(ts, {ok_task(), ok_task(), ok_task(), ok_task()}, {JoinStrategy::quorum(3), State::Join}) ==
             State::Join);
  BOOST_TEST(*run_split(ts, {ok_task(), ok_task(), ok_task(), ok_task()},
                        {JoinStrategy::percentage(0.75), State::Join}) == State::Join);
}

BOOST_AUTO_TEST_CASE(the_split_moves_on_to_a_registered_join_state) {
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {ok_task(), ok_task(), ok_task()}, {JoinStrategy::all(), State::Join})
              .register_task(State::Join, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
}

BOOST_AUTO_TEST_CASE(one_failure_fails_all_with_a_summary_of_the_errors) {
  test_system ts;
  auto r = run_split(ts, {ok_task(), fail_task(), ok_task()}, {JoinStrategy::all(), State::Join});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().category() == std::string("workflow"));
  BOOST_TEST(r.error_value().message() ==
             "Join condition not met: 2 of 3 tasks completed successfully, strategy: All; errors: task 1: "
             "Task execution error: branch failed");
}

BOOST_AUTO_TEST_CASE(a_quorum_tolerates_a_failure) {
  test_system ts;
  BOOST_TEST(*run_split(ts, {ok_task(), ok_task(), fail_task()}, {JoinStrategy::quorum(2), State::Join}) == State::Join);
}

BOOST_AUTO_TEST_CASE(a_join_timeout_is_an_error_for_all) {
  test_system ts;
  auto r = run_split(ts, {sleep_task(200ms), sleep_task(200ms)},
                     JoinConfig<State>{JoinStrategy::all(), State::Join}.with_timeout(50ms));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message() == "Split task timeout exceeded");
}

BOOST_AUTO_TEST_CASE(a_join_timeout_fails_even_a_strategy_already_satisfied) {
  test_system ts;
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto r = run_split(ts, {ok_task(), gated_task(entered, g)},
                     JoinConfig<State>{JoinStrategy::quorum(1), State::Join}.with_timeout(50ms));
  g->open();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message() == "Split task timeout exceeded");
}

BOOST_AUTO_TEST_CASE(split_branches_write_into_shared_resources) {
  test_system ts;
  auto store = std::make_shared<cano::MemoryStore>();
  auto wf = cano::Workflow<State>{cano::Resources{}.insert("store", store)}
              .register_task(State::Start, DataTask{"init", "start", State::Split})
              .register_split(State::Split,
                              {std::make_shared<DataTask>("parallel1", "p1", State::Join),
                               std::make_shared<DataTask>("parallel2", "p2", State::Join)},
                              {JoinStrategy::all(), State::Process})
              .register_task(State::Process, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(store->get<std::string>("init").value() == "start");
  BOOST_TEST(store->get<std::string>("parallel1").value() == "p1");
  BOOST_TEST(store->get<std::string>("parallel2").value() == "p2");
}

BOOST_AUTO_TEST_CASE(partial_results_proceeds_once_enough_branches_succeeded) {
  test_system ts;
  BOOST_TEST(*run_split(ts, {sleep_task(50ms), sleep_task(100ms), sleep_task(500ms), sleep_task(600ms)},
                        {JoinStrategy::partial_results(2), State::Join}) == State::Join);
  BOOST_TEST(*run_split(ts, {sleep_task(50ms), sleep_task(100ms, false), sleep_task(500ms), sleep_task(600ms)},
                        {JoinStrategy::partial_results(2), State::Join}) == State::Join);
}

BOOST_AUTO_TEST_CASE(partial_results_times_out_like_any_other_strategy) {
  test_system ts;
  auto r = run_split(ts, {sleep_task(500ms), sleep_task(500ms), sleep_task(500ms)},
                     JoinConfig<State>{JoinStrategy::partial_results(3), State::Join}.with_timeout(100ms));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message() == "Split task timeout exceeded");
}

BOOST_AUTO_TEST_CASE(partial_results_not_met_reports_successes_and_errors) {
  test_system ts;
  auto r = run_split(ts, {fail_task(), ok_task(), fail_task()}, {JoinStrategy::partial_results(2), State::Join});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message().find("Partial results condition not met: 1 completed successfully, 2 required; "
                                            "errors: task ") == 0);
}

BOOST_AUTO_TEST_CASE(partial_timeout_proceeds_with_what_finished) {
  test_system ts;
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto r = run_split(ts, {ok_task(), fail_task(), gated_task(entered, g), gated_task(entered, g)},
                     JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(100ms));
  g->open();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Join);
  auto fast = run_split(ts, {sleep_task(20ms), sleep_task(30ms), sleep_task(40ms)},
                        JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(5000ms));
  BOOST_TEST(fast.has_value());
}

BOOST_AUTO_TEST_CASE(partial_timeout_with_nothing_finished_fails) {
  test_system ts;
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto r = run_split(ts, {gated_task(entered, g)},
                     JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(50ms));
  g->open();
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message() == "PartialTimeout: No tasks completed before timeout");
}

BOOST_AUTO_TEST_CASE(partial_timeout_without_timeout_fails_the_run_with_configuration) {
  test_system ts;
  auto r = run_split(ts, {ok_task()}, {JoinStrategy::partial_timeout(), State::Join});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().category() == std::string("configuration"));
  BOOST_TEST(r.error_value().message().find("requires a timeout") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_empty_split_satisfies_all_but_not_any) {
  test_system ts;
  BOOST_TEST(*run_split(ts, {}, {JoinStrategy::all(), State::Join}) == State::Join);
  auto r = run_split(ts, {}, {JoinStrategy::any(), State::Join});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message() ==
             "Join condition not met: 0 of 0 tasks completed successfully, strategy: Any");
}

BOOST_AUTO_TEST_CASE(percentage_edges) {
  test_system ts;
  auto zero = run_split(ts, {fail_task(), fail_task()}, {JoinStrategy::percentage(0.0), State::Join});
  BOOST_REQUIRE(!zero);
  BOOST_TEST(zero.error_value().category() == std::string("configuration"));
  BOOST_TEST(*run_split(ts, {ok_task(), ok_task()}, {JoinStrategy::percentage(1.0), State::Join}) == State::Join);
  auto one_failed = run_split(ts, {ok_task(), fail_task()}, {JoinStrategy::percentage(1.0), State::Join});
  BOOST_REQUIRE(!one_failed);
  BOOST_TEST(one_failed.error_value().message().find("strategy: Percentage(1.0)") != std::string::npos);
  auto too_big = run_split(ts, {ok_task()}, {JoinStrategy::percentage(1.5), State::Join});
  BOOST_REQUIRE(!too_big);
  BOOST_TEST(too_big.error_value().category() == std::string("configuration"));
}

BOOST_AUTO_TEST_CASE(a_quorum_of_zero_is_always_met) {
  test_system ts;
  BOOST_TEST(*run_split(ts, {fail_task(), fail_task()}, {JoinStrategy::quorum(0), State::Join}) == State::Join);
}

BOOST_AUTO_TEST_CASE(a_single_branch_split_works) {
  test_system ts;
  BOOST_TEST(*run_split(ts, {ok_task()}, {JoinStrategy::all(), State::Join}) == State::Join);
}

BOOST_AUTO_TEST_CASE(each_branch_retries_with_its_own_policy) {
  test_system ts;
  auto n = make_calls();
  auto r = run_split(ts, {flaky_task(n, 2, State::Join, cano::TaskConfig{}.with_fixed_retry(4, 1ms))},
                     {JoinStrategy::all(), State::Join});
  BOOST_TEST(r.has_value());
  BOOST_TEST(n->load() == 3);
}

BOOST_AUTO_TEST_CASE(a_throwing_branch_is_reported_with_its_index) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto boom = cano::make_task<State>("Boom", []() -> State { throw std::runtime_error("boom"); },
                                       cano::TaskConfig::minimal().with_blocking(blocking));
    auto r = run_split(ts, {boom}, {JoinStrategy::all(), State::Join});
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error_value().message() ==
               "Join condition not met: 0 of 1 tasks completed successfully, strategy: All; errors: task 0: "
               "Task execution error: panic in split task 0: boom");
  }
}

BOOST_AUTO_TEST_CASE(the_error_summary_lists_three_errors_and_counts_the_rest) {
  test_system ts;
  auto failing = cano::TaskConfig::minimal().with_blocking(false);
  branches all_fail;
  for (int i = 0; i < 5; ++i) {
    all_fail.push_back(cano::make_task<State>("F", []() -> cano::expected<State> {
      return cano::error::task_execution("no");
    }, failing));
  }
  auto r = run_split(ts, all_fail, {JoinStrategy::all(), State::Join});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().message() ==
             "Join condition not met: 0 of 5 tasks completed successfully, strategy: All; errors: task 0: Task "
             "execution error: no; task 1: Task execution error: no; task 2: Task execution error: no; ... and 2 "
             "more error(s)");
}

BOOST_AUTO_TEST_CASE(a_bulkhead_bounds_the_branches_in_flight) {
  test_system ts;
  auto in_flight = std::make_shared<std::atomic<int>>(0);
  auto max_seen = std::make_shared<std::atomic<int>>(0);
  branches tasks;
  for (int i = 0; i < 10; ++i) {
    tasks.push_back(cano::make_task<State>("Tracked", [in_flight, max_seen] {
      int now = ++*in_flight;
      int prev = max_seen->load();
      while (now > prev && !max_seen->compare_exchange_weak(prev, now)) {
      }
      std::this_thread::sleep_for(50ms);
      --*in_flight;
      return State::Join;
    }, cano::TaskConfig::minimal()));
  }
  auto r = run_split(ts, tasks, JoinConfig<State>{JoinStrategy::all(), State::Join}.with_bulkhead(2));
  BOOST_TEST(r.has_value());
  BOOST_TEST(max_seen->load() <= 2);
  BOOST_TEST(max_seen->load() >= 1);
}

BOOST_AUTO_TEST_CASE(a_bulkhead_of_zero_fails_the_run_with_configuration) {
  test_system ts;
  auto r = run_split(ts, {ok_task()}, JoinConfig<State>{JoinStrategy::all(), State::Join}.with_bulkhead(0));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error_value().category() == std::string("configuration"));
}

BOOST_AUTO_TEST_CASE(failing_branches_sharing_a_breaker_open_it) {
  test_system ts;
  auto breaker = cano::CircuitBreaker::make({4, 60000ms, 1});
  auto cfg = cano::TaskConfig::minimal().with_circuit_breaker(breaker);
  branches tasks;
  for (int i = 0; i < 4; ++i) {
    tasks.push_back(cano::make_task<State>("F", []() -> cano::expected<State> {
      return cano::error::task_execution("down");
    }, cfg));
  }
  BOOST_TEST(!run_split(ts, tasks, {JoinStrategy::all(), State::Join}).has_value());
  BOOST_TEST(breaker->state().is_open());
}

/// With bulkhead b, 1,000 blocked branches never have more than b in flight: the gate opens
/// only when `open_at` branches are in flight at once.
int max_in_flight_with(std::optional<std::size_t> bulkhead, int open_at) {
  test_system ts;
  auto in_flight = std::make_shared<std::atomic<int>>(0);
  auto max_seen = std::make_shared<std::atomic<int>>(0);
  auto g = std::make_shared<gate>();
  branches tasks;
  for (int i = 0; i < 1000; ++i) {
    tasks.push_back(cano::make_task<State>("Latched", [=]() -> cano::expected<State> {
      int now = ++*in_flight;
      int prev = max_seen->load();
      while (now > prev && !max_seen->compare_exchange_weak(prev, now)) {
      }
      if (now >= open_at) {
        g->open();
      }
      bool opened = g->wait_for(60s);
      --*in_flight;
      if (!opened) {
        return cano::error::task_execution("gate never opened");
      }
      return State::Join;
    }, cano::TaskConfig::minimal()));
  }
  JoinConfig<State> join{JoinStrategy::all(), State::Join};
  if (bulkhead) {
    join = join.with_bulkhead(*bulkhead);
  }
  auto r = run_split(ts, tasks, join);
  g->open();
  BOOST_TEST(r.has_value());
  return max_seen->load();
}

BOOST_AUTO_TEST_CASE(a_thousand_latched_branches_respect_the_bulkhead_exactly) {
  BOOST_TEST(max_in_flight_with(std::size_t{8}, 8) == 8);
}

BOOST_AUTO_TEST_CASE(without_a_bulkhead_more_branches_run_at_once) {
  BOOST_TEST(max_in_flight_with(std::nullopt, 9) > 8);
}

BOOST_AUTO_TEST_CASE(an_early_exit_stops_running_losers_and_never_starts_the_rest) {
  auto entered = std::make_shared<counter>();
  auto left = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto side_effects = std::make_shared<std::atomic<int>>(0);
  auto late_starts = std::make_shared<std::atomic<int>>(0);
  auto breaker = cano::CircuitBreaker::make({3, 60000ms, 1});
  auto loser_cfg = cano::TaskConfig::minimal().with_circuit_breaker(breaker);
  branches tasks;
  for (int i = 0; i < 3; ++i) { // running losers
    tasks.push_back(cano::make_task<State>("Loser", [=](cano::task_context& ctx) {
      entered->arrive();
      g->wait();
      if (!ctx.stop_requested()) {
        ++*side_effects;
      }
      left->arrive();
      return State::Join;
    }, loser_cfg));
  }
  tasks.push_back(cano::make_task<State>("Winner", [=]() -> cano::expected<State> {
    if (!entered->wait_for_at_least(3)) {
      return cano::error::task_execution("losers never started");
    }
    return State::Join;
  }, cano::TaskConfig::minimal()));
  for (int i = 0; i < 6; ++i) { // beyond the bulkhead: never started
    tasks.push_back(cano::make_task<State>("Late", [=] {
      ++*late_starts;
      return State::Join;
    }, cano::TaskConfig::minimal()));
  }
  {
    test_system ts;
    auto obs = std::make_shared<recording_observer>();
    auto r = run_split(ts, tasks, JoinConfig<State>{JoinStrategy::any(), State::Join}.with_bulkhead(4), obs);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == State::Join);
    BOOST_TEST(entered->value() == 3u);              // the losers were running at the decision
    BOOST_TEST(breaker->state().is_open());          // their dropped permits counted as failures
    BOOST_TEST(obs->contains("task_success:Winner[3]"));
    BOOST_TEST(!obs->contains("task_success:Loser[0]"));
    g->open();
    BOOST_REQUIRE(left->wait_for_at_least(3));
    BOOST_TEST(side_effects->load() == 0);           // abandoned losers saw stop_requested()
    BOOST_TEST(late_starts->load() == 0);            // branches beyond the bulkhead never ran
  }
}

BOOST_AUTO_TEST_CASE(branch_events_start_in_index_order_and_complete_after_the_join) {
  test_system ts;
  auto obs = std::make_shared<recording_observer>();
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start,
                              {goto_task(State::Join, cano::TaskConfig::minimal(), "A"),
                               cano::make_task<State>("B", []() -> cano::expected<State> {
                                 return cano::error::task_execution("b");
                               }, cano::TaskConfig::minimal()),
                               goto_task(State::Join, cano::TaskConfig::minimal(), "C")},
                              {JoinStrategy::quorum(2), State::Join})
              .add_exit_state(State::Join)
              .with_observer(obs);
  BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  auto ev = obs->events();
  std::vector<std::string> head(ev.begin(), ev.begin() + 4);
  std::vector<std::string> expected_head{"state_enter:Start", "task_start:A[0]", "task_start:B[1]", "task_start:C[2]"};
  BOOST_TEST(head == expected_head, boost::test_tools::per_element());
  BOOST_TEST(obs->contains("task_success:A[0]"));
  BOOST_TEST(obs->contains("task_success:C[2]"));
  BOOST_TEST(obs->contains("task_failure:B[1]"));
  BOOST_TEST(ev.back() == "state_enter:Join");
  // successes first (completion order), then failures
  auto pos = [&](const std::string& e) { return std::find(ev.begin(), ev.end(), e) - ev.begin(); };
  BOOST_TEST(pos("task_failure:B[1]") > pos("task_success:A[0]"));
  BOOST_TEST(pos("task_failure:B[1]") > pos("task_success:C[2]"));
}

BOOST_AUTO_TEST_CASE(a_join_timeout_fires_no_branch_completion_events) {
  test_system ts;
  auto obs = std::make_shared<recording_observer>();
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto r = run_split(ts, {goto_task(State::Join, cano::TaskConfig::minimal(), "Quick"), gated_task(entered, g)},
                     JoinConfig<State>{JoinStrategy::all(), State::Join}.with_timeout(50ms), obs);
  g->open();
  BOOST_REQUIRE(!r);
  BOOST_TEST(obs->contains("task_start:Quick[0]"));
  BOOST_TEST(!obs->contains("task_success:Quick[0]"));
}

BOOST_AUTO_TEST_CASE(a_split_of_ten_thousand_branches_completes) {
  test_system ts;
  branches tasks(10000, goto_task(State::Join, cano::TaskConfig::minimal().with_blocking(false)));
  auto r = run_split(ts, tasks, {JoinStrategy::all(), State::Join});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Join);
}

BOOST_AUTO_TEST_SUITE_END()
