// cano-semantics §5.6 #73–94 (split/join execution) plus the join actor's guarantees: bulkhead
// limits, early exit that stops losers, timeouts, breaker permits of losers, observer order.
// Every case runs twice: with blocking branches (on the engine's pool) and with non-blocking
// ones (inline in the join actor or on branch actors, issue 19). A non-blocking branch must
// return on its own, so where a blocking branch waits for a gate opened after the run, its
// non-blocking twin waits a bounded time; where a blocking branch is held "in flight" by a gate,
// its non-blocking twin is held by a retry timer.
#include <regex>
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

/// Blocking branches, then non-blocking ones.
constexpr bool modes[] = {true, false};

/// How long a non-blocking branch waits for a gate at most (it must return on its own).
constexpr auto bounded_wait = 1000ms;

cano::TaskConfig branch_config(bool blocking) { return cano::TaskConfig::minimal().with_blocking(blocking); }

std::shared_ptr<cano::Task<State>> ok_task(bool blocking) { return goto_task(State::Join, branch_config(blocking)); }

std::shared_ptr<cano::Task<State>> fail_task(bool blocking) {
  return cano::make_task<State>(
    "Fail", []() -> cano::expected<State> { return cano::error::task_execution("branch failed"); },
    branch_config(blocking));
}

std::shared_ptr<cano::Task<State>> sleep_task(bool blocking, std::chrono::milliseconds d, bool ok = true) {
  return cano::make_task<State>(
    "Sleep",
    [d, ok]() -> cano::expected<State> {
      std::this_thread::sleep_for(d);
      if (!ok) {
        return cano::error::task_execution("slow failure");
      }
      return State::Join;
    },
    branch_config(blocking));
}

/// A branch that announces itself, then waits for the gate (a bounded time if non-blocking).
std::shared_ptr<cano::Task<State>> gated_task(bool blocking, std::shared_ptr<counter> entered,
                                              std::shared_ptr<gate> g) {
  return cano::make_task<State>(
    "Gated",
    [blocking, entered, g] {
      entered->arrive();
      if (blocking) {
        g->wait();
      } else {
        g->wait_for(bounded_wait);
      }
      return State::Join;
    },
    branch_config(blocking));
}

cano::expected<State> run_split(test_system& ts, branches tasks, JoinConfig<State> join,
                                std::shared_ptr<cano::WorkflowObserver> obs = nullptr) {
  auto wf = cano::Workflow<State>{}.register_split(State::Start, std::move(tasks), join).add_exit_state(State::Join);
  if (obs) {
    wf = wf.with_observer(obs);
  }
  return ts.rt->run(wf, State::Start);
}

struct DataTask : cano::Task<State> {
  DataTask(std::string k, std::string v, State next, bool blocking = true)
    : key(std::move(k)),
      value(std::move(v)),
      next_state(next),
      blocking_(blocking) {}
  std::string name() const override { return "DataTask"; }
  cano::TaskConfig config() const override { return cano::TaskConfig{}.with_blocking(blocking_); }
  cano::expected<cano::TaskResult<State>> run(cano::task_context& ctx) override {
    auto store = ctx.resources().get<cano::MemoryStore>("store");
    if (!store) {
      return store.error();
    }
    (*store)->put(key, value);
    return next_state;
  }
  std::string key, value;
  State next_state;
  bool blocking_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(split_join_test)

BOOST_AUTO_TEST_CASE(all_any_quorum_and_percentage_proceed_to_the_join_state) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      BOOST_TEST(*run_split(ts, {ok_task(b), ok_task(b), ok_task(b)}, {JoinStrategy::all(), State::Join}) ==
                 State::Join);
      BOOST_TEST(*run_split(ts, {ok_task(b), ok_task(b), ok_task(b)}, {JoinStrategy::any(), State::Join}) ==
                 State::Join);
      BOOST_TEST(*run_split(ts, {ok_task(b), ok_task(b), ok_task(b), ok_task(b)},
                            {JoinStrategy::quorum(3), State::Join}) == State::Join);
      BOOST_TEST(*run_split(ts, {ok_task(b), ok_task(b), ok_task(b), ok_task(b)},
                            {JoinStrategy::percentage(0.75), State::Join}) == State::Join);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_split_moves_on_to_a_registered_join_state) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto wf =
        cano::Workflow<State>{}
          .register_split(State::Start, {ok_task(b), ok_task(b), ok_task(b)}, {JoinStrategy::all(), State::Join})
          .register_task(State::Join, goto_task(State::Complete))
          .add_exit_state(State::Complete);
      auto r = ts.rt->run(wf, State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
    }
  }
}

BOOST_AUTO_TEST_CASE(one_failure_fails_all_with_a_summary_of_the_errors) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto r = run_split(ts, {ok_task(b), fail_task(b), ok_task(b)}, {JoinStrategy::all(), State::Join});
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("workflow"));
      BOOST_TEST(r.error().message() ==
                 "Join condition not met: 2 of 3 tasks completed successfully, strategy: All; errors: task 1: "
                 "Task execution error: branch failed");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_quorum_tolerates_a_failure) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      BOOST_TEST(*run_split(ts, {ok_task(b), ok_task(b), fail_task(b)}, {JoinStrategy::quorum(2), State::Join}) ==
                 State::Join);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_join_timeout_is_an_error_for_all) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto r = run_split(ts, {sleep_task(b, 200ms), sleep_task(b, 200ms)},
                         JoinConfig<State>{JoinStrategy::all(), State::Join}.with_timeout(50ms));
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().message() == "Split task timeout exceeded");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_join_timeout_fails_even_a_strategy_already_satisfied) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto entered = std::make_shared<counter>();
      auto g = std::make_shared<gate>();
      auto r = run_split(ts, {ok_task(b), gated_task(b, entered, g)},
                         JoinConfig<State>{JoinStrategy::quorum(1), State::Join}.with_timeout(50ms));
      g->open();
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().message() == "Split task timeout exceeded");
    }
  }
}

BOOST_AUTO_TEST_CASE(split_branches_write_into_shared_resources) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto store = std::make_shared<cano::MemoryStore>();
      auto wf = cano::Workflow<State>{cano::Resources{}.insert("store", store)}
                  .register_task(State::Start, DataTask{"init", "start", State::Split})
                  .register_split(State::Split,
                                  {std::make_shared<DataTask>("parallel1", "p1", State::Join, b),
                                   std::make_shared<DataTask>("parallel2", "p2", State::Join, b)},
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
  }
}

BOOST_AUTO_TEST_CASE(partial_results_proceeds_once_enough_branches_succeeded) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      BOOST_TEST(*run_split(ts, {sleep_task(b, 50ms), sleep_task(b, 100ms), sleep_task(b, 500ms), sleep_task(b, 600ms)},
                            {JoinStrategy::partial_results(2), State::Join}) == State::Join);
      BOOST_TEST(
        *run_split(ts, {sleep_task(b, 50ms), sleep_task(b, 100ms, false), sleep_task(b, 500ms), sleep_task(b, 600ms)},
                   {JoinStrategy::partial_results(2), State::Join}) == State::Join);
    }
  }
}

BOOST_AUTO_TEST_CASE(partial_results_times_out_like_any_other_strategy) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto r = run_split(ts, {sleep_task(b, 500ms), sleep_task(b, 500ms), sleep_task(b, 500ms)},
                         JoinConfig<State>{JoinStrategy::partial_results(3), State::Join}.with_timeout(100ms));
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().message() == "Split task timeout exceeded");
    }
  }
}

BOOST_AUTO_TEST_CASE(partial_results_not_met_reports_successes_and_errors) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto r = run_split(ts, {fail_task(b), ok_task(b), fail_task(b)}, {JoinStrategy::partial_results(2), State::Join});
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().message().find("Partial results condition not met: 1 completed successfully, 2 "
                                          "required; errors: task ") == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(partial_timeout_proceeds_with_what_finished) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto entered = std::make_shared<counter>();
      auto g = std::make_shared<gate>();
      auto r = run_split(ts, {ok_task(b), fail_task(b), gated_task(b, entered, g), gated_task(b, entered, g)},
                         JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(100ms));
      g->open();
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Join);
      auto fast = run_split(ts, {sleep_task(b, 20ms), sleep_task(b, 30ms), sleep_task(b, 40ms)},
                            JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(5000ms));
      BOOST_TEST(fast.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(partial_timeout_with_nothing_finished_fails) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto entered = std::make_shared<counter>();
      auto g = std::make_shared<gate>();
      auto r = run_split(ts, {gated_task(b, entered, g)},
                         JoinConfig<State>{JoinStrategy::partial_timeout(), State::Join}.with_timeout(50ms));
      g->open();
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().message() == "PartialTimeout: No tasks completed before timeout");
    }
  }
}

BOOST_AUTO_TEST_CASE(partial_timeout_without_timeout_fails_the_run_with_configuration) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto r = run_split(ts, {ok_task(b)}, {JoinStrategy::partial_timeout(), State::Join});
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("configuration"));
      BOOST_TEST(r.error().message().find("requires a timeout") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_split_satisfies_all_but_not_any) {
  test_system ts; // no branch: nothing blocks or not
  BOOST_TEST(*run_split(ts, {}, {JoinStrategy::all(), State::Join}) == State::Join);
  auto r = run_split(ts, {}, {JoinStrategy::any(), State::Join});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message() == "Join condition not met: 0 of 0 tasks completed successfully, strategy: Any");
}

BOOST_AUTO_TEST_CASE(percentage_edges) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto zero = run_split(ts, {fail_task(b), fail_task(b)}, {JoinStrategy::percentage(0.0), State::Join});
      BOOST_REQUIRE(!zero);
      BOOST_TEST(zero.error().category() == std::string("configuration"));
      BOOST_TEST(*run_split(ts, {ok_task(b), ok_task(b)}, {JoinStrategy::percentage(1.0), State::Join}) == State::Join);
      auto one_failed = run_split(ts, {ok_task(b), fail_task(b)}, {JoinStrategy::percentage(1.0), State::Join});
      BOOST_REQUIRE(!one_failed);
      BOOST_TEST(one_failed.error().message().find("strategy: Percentage(1.0)") != std::string::npos);
      auto too_big = run_split(ts, {ok_task(b)}, {JoinStrategy::percentage(1.5), State::Join});
      BOOST_REQUIRE(!too_big);
      BOOST_TEST(too_big.error().category() == std::string("configuration"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_quorum_of_zero_is_always_met) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      BOOST_TEST(*run_split(ts, {fail_task(b), fail_task(b)}, {JoinStrategy::quorum(0), State::Join}) == State::Join);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_single_branch_split_works) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      BOOST_TEST(*run_split(ts, {ok_task(b)}, {JoinStrategy::all(), State::Join}) == State::Join);
    }
  }
}

BOOST_AUTO_TEST_CASE(each_branch_retries_with_its_own_policy) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto n = make_calls();
      auto r =
        run_split(ts, {flaky_task(n, 2, State::Join, cano::TaskConfig{}.with_fixed_retry(4, 1ms).with_blocking(b))},
                  {JoinStrategy::all(), State::Join});
      BOOST_TEST(r.has_value());
      BOOST_TEST(n->load() == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_throwing_branch_is_reported_with_its_index) {
  for (bool blocking : modes) {
    test_system ts;
    auto boom = cano::make_task<State>(
      "Boom", []() -> State { throw std::runtime_error("boom"); }, cano::TaskConfig::minimal().with_blocking(blocking));
    auto r = run_split(ts, {boom}, {JoinStrategy::all(), State::Join});
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().message() ==
               "Join condition not met: 0 of 1 tasks completed successfully, strategy: All; errors: task 0: "
               "Task execution error: panic in split task 0: boom");
  }
}

BOOST_AUTO_TEST_CASE(the_error_summary_lists_three_errors_and_counts_the_rest) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      branches all_fail;
      for (int i = 0; i < 5; ++i) {
        all_fail.push_back(cano::make_task<State>(
          "F", []() -> cano::expected<State> { return cano::error::task_execution("no"); }, branch_config(b)));
      }
      auto r = run_split(ts, all_fail, {JoinStrategy::all(), State::Join});
      BOOST_REQUIRE(!r);
      if (!b) { // cheap non-blocking branches run inline, in index order
        BOOST_TEST(r.error().message() ==
                   "Join condition not met: 0 of 5 tasks completed successfully, strategy: All; errors: task 0: Task "
                   "execution error: no; task 1: Task execution error: no; task 2: Task execution error: no; ... and 2 "
                   "more error(s)");
      } else { // errors are listed in completion order, which the pool decides
        static const std::regex summary(
          "Join condition not met: 0 of 5 tasks completed successfully, strategy: All; errors: "
          "task ([0-4]): Task execution error: no; task ([0-4]): Task execution error: no; "
          "task ([0-4]): Task execution error: no; \\.\\.\\. and 2 more error\\(s\\)");
        std::smatch m;
        auto text = r.error().message();
        BOOST_REQUIRE_MESSAGE(std::regex_match(text, m, summary), text);
        BOOST_TEST((m[1] != m[2] && m[2] != m[3] && m[1] != m[3])); // three different branches
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_bulkhead_bounds_the_branches_in_flight) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto in_flight = std::make_shared<std::atomic<int>>(0);
      auto max_seen = std::make_shared<std::atomic<int>>(0);
      branches tasks;
      for (int i = 0; i < 10; ++i) {
        tasks.push_back(cano::make_task<State>(
          "Tracked",
          [in_flight, max_seen] {
            int now = ++*in_flight;
            int prev = max_seen->load();
            while (now > prev && !max_seen->compare_exchange_weak(prev, now)) {
            }
            std::this_thread::sleep_for(50ms);
            --*in_flight;
            return State::Join;
          },
          branch_config(b)));
      }
      auto r = run_split(ts, tasks, JoinConfig<State>{JoinStrategy::all(), State::Join}.with_bulkhead(2));
      BOOST_TEST(r.has_value());
      BOOST_TEST(max_seen->load() <= 2);
      BOOST_TEST(max_seen->load() >= 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_bulkhead_of_zero_fails_the_run_with_configuration) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto r = run_split(ts, {ok_task(b)}, JoinConfig<State>{JoinStrategy::all(), State::Join}.with_bulkhead(0));
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("configuration"));
    }
  }
}

BOOST_AUTO_TEST_CASE(failing_branches_sharing_a_breaker_open_it) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto breaker = cano::CircuitBreaker::make({4, 60000ms, 1});
      auto cfg = branch_config(b).with_circuit_breaker(breaker);
      branches tasks;
      for (int i = 0; i < 4; ++i) {
        tasks.push_back(cano::make_task<State>(
          "F", []() -> cano::expected<State> { return cano::error::task_execution("down"); }, cfg));
      }
      BOOST_TEST(!run_split(ts, tasks, {JoinStrategy::all(), State::Join}).has_value());
      BOOST_TEST(breaker->state().is_open());
    }
  }
}

/// With bulkhead b, 1,000 branches held in flight never have more than b in flight at once.
/// Blocking branches are held by a gate that opens only when `open_at` are in flight at once;
/// non-blocking ones by a retry timer (a first attempt that fails, retried 20 ms later).
int max_in_flight_with(bool blocking, std::optional<std::size_t> bulkhead, int open_at) {
  test_system ts;
  auto in_flight = std::make_shared<std::atomic<int>>(0);
  auto max_seen = std::make_shared<std::atomic<int>>(0);
  auto g = std::make_shared<gate>();
  auto enter = [=] {
    int now = ++*in_flight;
    int prev = max_seen->load();
    while (now > prev && !max_seen->compare_exchange_weak(prev, now)) {
    }
    return now;
  };
  branches tasks;
  for (int i = 0; i < 1000; ++i) {
    if (blocking) {
      tasks.push_back(cano::make_task<State>(
        "Latched",
        [=]() -> cano::expected<State> {
          if (enter() >= open_at) {
            g->open();
          }
          bool opened = g->wait_for(60s);
          --*in_flight;
          if (!opened) {
            return cano::error::task_execution("gate never opened");
          }
          return State::Join;
        },
        cano::TaskConfig::minimal()));
    } else {
      tasks.push_back(cano::make_task<State>(
        "Latched",
        [=](cano::task_context& ctx) -> cano::expected<State> {
          if (ctx.attempt() == 1) {
            enter();
            return cano::error::task_execution("held in flight until the retry");
          }
          --*in_flight;
          return State::Join;
        },
        cano::TaskConfig::minimal().with_fixed_retry(1, 20ms).with_blocking(false)));
    }
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
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) { BOOST_TEST(max_in_flight_with(b, std::size_t{8}, 8) == 8); }
  }
}

BOOST_AUTO_TEST_CASE(without_a_bulkhead_more_branches_run_at_once) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) { BOOST_TEST(max_in_flight_with(b, std::nullopt, 9) > 8); }
  }
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
    tasks.push_back(cano::make_task<State>(
      "Loser",
      [=](cano::task_context& ctx) {
        entered->arrive();
        g->wait();
        if (!ctx.stop_requested()) {
          ++*side_effects;
        }
        left->arrive();
        return State::Join;
      },
      loser_cfg));
  }
  tasks.push_back(cano::make_task<State>(
    "Winner",
    [=]() -> cano::expected<State> {
      if (!entered->wait_for_at_least(3)) {
        return cano::error::task_execution("losers never started");
      }
      return State::Join;
    },
    cano::TaskConfig::minimal()));
  for (int i = 0; i < 6; ++i) { // beyond the bulkhead: never started
    tasks.push_back(cano::make_task<State>(
      "Late",
      [=] {
        ++*late_starts;
        return State::Join;
      },
      cano::TaskConfig::minimal()));
  }
  {
    test_system ts;
    auto obs = std::make_shared<recording_observer>();
    auto r = run_split(ts, tasks, JoinConfig<State>{JoinStrategy::any(), State::Join}.with_bulkhead(4), obs);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST(*r == State::Join);
    BOOST_TEST(entered->value() == 3u);     // the losers were running at the decision
    BOOST_TEST(breaker->state().is_open()); // their dropped permits counted as failures
    BOOST_TEST(obs->contains("task_success:Winner[3]"));
    BOOST_TEST(!obs->contains("task_success:Loser[0]"));
    g->open();
    BOOST_REQUIRE(left->wait_for_at_least(3));
    BOOST_TEST(side_effects->load() == 0); // abandoned losers saw stop_requested()
    BOOST_TEST(late_starts->load() == 0);  // branches beyond the bulkhead never ran
  }
}

BOOST_AUTO_TEST_CASE(an_early_exit_abandons_non_blocking_losers_and_never_starts_the_rest) {
  // The non-blocking twin of the case above: the losers are in flight on a retry timer, the
  // winner succeeds once they all are; no loser's retry and no branch past the bulkhead runs.
  auto entered = std::make_shared<counter>();
  auto retried = std::make_shared<std::atomic<int>>(0);
  auto late_starts = std::make_shared<std::atomic<int>>(0);
  auto nb = cano::TaskConfig::minimal().with_blocking(false);
  branches tasks;
  for (int i = 0; i < 3; ++i) {
    tasks.push_back(cano::make_task<State>(
      "Loser",
      [=](cano::task_context& ctx) -> cano::expected<State> {
        if (ctx.attempt() == 1) {
          entered->arrive();
          return cano::error::task_execution("held in flight until the retry");
        }
        ++*retried;
        return State::Join;
      },
      nb.with_fixed_retry(1, 60s)));
  }
  tasks.push_back(cano::make_task<State>(
    "Winner",
    [=]() -> cano::expected<State> {
      if (entered->value() < 3) {
        return cano::error::task_execution("losers not in flight yet");
      }
      return State::Join;
    },
    nb.with_fixed_retry(1000, 5ms)));
  for (int i = 0; i < 6; ++i) {
    tasks.push_back(cano::make_task<State>(
      "Late",
      [=] {
        ++*late_starts;
        return State::Join;
      },
      nb));
  }
  test_system ts;
  auto obs = std::make_shared<recording_observer>();
  auto r = run_split(ts, tasks, JoinConfig<State>{JoinStrategy::any(), State::Join}.with_bulkhead(4), obs);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Join);
  BOOST_TEST(entered->value() == 3u);
  BOOST_TEST(obs->contains("task_success:Winner[3]"));
  BOOST_TEST(!obs->contains("task_success:Loser[0]"));
  BOOST_TEST(retried->load() == 0);     // abandoned: their retries never came
  BOOST_TEST(late_starts->load() == 0); // branches beyond the bulkhead never ran
}

BOOST_AUTO_TEST_CASE(branch_events_start_in_index_order_and_complete_after_the_join) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto obs = std::make_shared<recording_observer>();
      auto wf = cano::Workflow<State>{}
                  .register_split(State::Start,
                                  {goto_task(State::Join, branch_config(b), "A"),
                                   cano::make_task<State>(
                                     "B", []() -> cano::expected<State> { return cano::error::task_execution("b"); },
                                     branch_config(b)),
                                   goto_task(State::Join, branch_config(b), "C")},
                                  {JoinStrategy::quorum(2), State::Join})
                  .add_exit_state(State::Join)
                  .with_observer(obs);
      BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
      auto ev = obs->events();
      BOOST_REQUIRE(ev.size() >= 4u);
      std::vector<std::string> head(ev.begin(), ev.begin() + 4);
      std::vector<std::string> expected_head{"state_enter:Start", "task_start:A[0]", "task_start:B[1]",
                                             "task_start:C[2]"};
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
  }
}

BOOST_AUTO_TEST_CASE(a_join_timeout_fires_no_branch_completion_events) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      auto obs = std::make_shared<recording_observer>();
      auto entered = std::make_shared<counter>();
      auto g = std::make_shared<gate>();
      auto r = run_split(ts, {goto_task(State::Join, branch_config(b), "Quick"), gated_task(b, entered, g)},
                         JoinConfig<State>{JoinStrategy::all(), State::Join}.with_timeout(50ms), obs);
      g->open();
      BOOST_REQUIRE(!r);
      BOOST_TEST(obs->contains("task_start:Quick[0]"));
      BOOST_TEST(!obs->contains("task_success:Quick[0]"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_split_of_ten_thousand_branches_completes) {
  for (bool b : modes) {
    BOOST_TEST_CONTEXT("blocking " << b) {
      test_system ts;
      branches tasks(10000, goto_task(State::Join, branch_config(b)));
      auto r = run_split(ts, tasks, {JoinStrategy::all(), State::Join});
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Join);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
