// The actor runtime (ARCHITECTURE D1, D2): blocking bodies never hold CAF's scheduler, attempt
// timeouts fire while bodies still block, the pool grows to meet demand and has a cap, the actor
// API delivers run_results, shutdown drops what is left. Latches order events, never sleeps.
#include <boost/test/unit_test.hpp>

#include <thread>

#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/resources.hpp"
#include "cano/workflow.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A workflow whose blocking Start task announces itself on `entered`, then waits for `gate`.
cano::Workflow<State> gated_workflow(std::shared_ptr<counter> entered, std::shared_ptr<gate> g,
                                     cano::TaskConfig cfg = {}, std::shared_ptr<counter> left = nullptr) {
  return cano::Workflow<State>{}
    .register_task(
      State::Start, "Gated",
      [entered, g, left](cano::task_context& ctx) -> cano::expected<State> {
        entered->arrive();
        g->wait();
        if (left) {
          left->arrive();
        }
        if (ctx.stop_requested()) {
          return cano::error::task_execution("stopped");
        }
        return State::Complete;
      },
      cfg)
    .add_exit_state(State::Complete);
}

struct counting_resource : cano::Resource {
  std::atomic<int> setups{0};
  std::atomic<int> teardowns{0};
  cano::expected<void> setup() override {
    ++setups;
    return {};
  }
  cano::expected<void> teardown() override {
    ++teardowns;
    return {};
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_test)

BOOST_AUTO_TEST_CASE(runs_blocked_in_blocking_bodies_do_not_stop_another_run) {
  test_system ts; // scheduler.max-threads = 2
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto blocked = gated_workflow(entered, g);
  caf::scoped_actor self{*ts.sys};
  for (int i = 0; i < 4; ++i) {
    ts.rt->start(blocked, State::Start, {}, caf::actor_cast<caf::actor>(self));
  }
  BOOST_REQUIRE(entered->wait_for_at_least(4));
  auto quick =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  auto r = ts.rt->run(quick, State::Start);
  BOOST_TEST(r.has_value());
  BOOST_TEST(ts.rt->runs_in_flight() == 4u); // the four are still blocked
  g->open();
  auto results = receive_results(self, 4);
  BOOST_REQUIRE(results.size() == 4u);
  for (auto& res : results) {
    BOOST_TEST(res.ok());
  }
}

BOOST_AUTO_TEST_CASE(an_attempt_timeout_fires_while_the_body_is_still_blocked) {
  auto entered = std::make_shared<counter>();
  auto left = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  {
    test_system ts;
    auto wf = gated_workflow(entered, g, cano::TaskConfig{}.with_fixed_retry(1, 1ms).with_attempt_timeout(50ms), left);
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
    BOOST_TEST(r.error().message() ==
               "Task failed after 2 attempt(s): Timeout error: task attempt exceeded attempt_timeout");
    // The second attempt started while the first was still blocked, and both still block.
    BOOST_TEST(entered->value() == 2u);
    BOOST_TEST(left->value() == 0u);
  }
  g->open(); // only now; the abandoned bodies finish and their results are ignored
  BOOST_TEST(left->wait_for_at_least(2));
}

BOOST_AUTO_TEST_CASE(a_single_attempt_timeout_is_a_raw_timeout_error) {
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  {
    test_system ts;
    auto r =
      ts.rt->run(gated_workflow(entered, g, cano::TaskConfig::minimal().with_attempt_timeout(30ms)), State::Start);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("timeout"));
    BOOST_TEST(r.error().message() == "task attempt exceeded attempt_timeout");
  }
  g->open();
}

BOOST_AUTO_TEST_CASE(an_abandoned_body_sees_stop_requested) {
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto stopped = std::make_shared<counter>();
  {
    test_system ts;
    auto wf = cano::Workflow<State>{}
                .register_task(
                  State::Start, "Watcher",
                  [entered, g, stopped](cano::task_context& ctx) {
                    entered->arrive();
                    g->wait();
                    if (ctx.stop_requested()) {
                      stopped->arrive();
                    }
                    return State::Complete;
                  },
                  cano::TaskConfig::minimal().with_attempt_timeout(30ms))
                .add_exit_state(State::Complete);
    BOOST_REQUIRE(!ts.rt->run(wf, State::Start));
  }
  g->open();
  BOOST_TEST(stopped->wait_for_at_least(1));
}

BOOST_AUTO_TEST_CASE(a_workflow_timeout_ends_a_run_blocked_in_its_body) {
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  {
    test_system ts;
    auto r = ts.rt->run(gated_workflow(entered, g).with_timeout(50ms), State::Start);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().message() == "Workflow timeout exceeded");
    BOOST_TEST(entered->value() == 1u);
  }
  g->open();
}

BOOST_AUTO_TEST_CASE(a_body_abandoned_by_a_workflow_timeout_sees_stop_requested) {
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto stopped = std::make_shared<counter>();
  {
    test_system ts;
    auto wf = cano::Workflow<State>{}
                .register_task(
                  State::Start, "Watcher",
                  [entered, g, stopped](cano::task_context& ctx) {
                    entered->arrive();
                    g->wait();
                    if (ctx.stop_requested()) {
                      stopped->arrive();
                    }
                    return State::Complete;
                  },
                  cano::TaskConfig::minimal())
                .add_exit_state(State::Complete)
                .with_timeout(50ms);
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().message() == "Workflow timeout exceeded");
  }
  g->open();
  BOOST_TEST(stopped->wait_for_at_least(1));
}

BOOST_AUTO_TEST_CASE(a_thousand_runs_meeting_at_a_barrier_all_complete) {
  test_system ts;
  constexpr std::size_t runs = 1000;
  auto meet = std::make_shared<barrier>(runs);
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "Meet",
                [meet]() -> cano::expected<State> {
                  if (!meet->arrive_and_wait()) {
                    return cano::error::task_execution("barrier did not fill");
                  }
                  return State::Process;
                },
                cano::TaskConfig::minimal())
              .register_task(State::Process, goto_task(State::Complete, cano::TaskConfig{}.with_blocking(false)))
              .add_exit_state(State::Complete);
  caf::scoped_actor self{*ts.sys};
  for (std::size_t i = 0; i < runs; ++i) {
    ts.rt->start(wf, State::Start, {"run-" + std::to_string(i), {}}, caf::actor_cast<caf::actor>(self));
  }
  auto results = receive_results(self, runs);
  BOOST_REQUIRE(results.size() == runs);
  std::size_t ok = 0;
  for (auto& r : results) {
    ok += r.ok() && r.get<State>().value() == State::Complete ? 1 : 0;
  }
  BOOST_TEST(ok == runs);
}

BOOST_AUTO_TEST_CASE(past_the_thread_cap_a_blocking_attempt_fails_clearly) {
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  {
    cano::runtime_config cfg;
    cfg.max_blocking_threads = 2;
    test_system ts(cfg);
    caf::scoped_actor self{*ts.sys};
    auto wf = gated_workflow(entered, g, cano::TaskConfig::minimal());
    ts.rt->start(wf, State::Start, {}, caf::actor_cast<caf::actor>(self));
    ts.rt->start(wf, State::Start, {}, caf::actor_cast<caf::actor>(self));
    BOOST_REQUIRE(entered->wait_for_at_least(2));
    auto r = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!r);
    BOOST_TEST(r.error().category() == std::string("task_execution"));
    BOOST_TEST(r.error().message() ==
               "blocking pool exhausted: all 2 threads are busy (runtime_config::max_blocking_threads)");
    g->open();
    auto results = receive_results(self, 2);
    BOOST_TEST(results.size() == 2u);
  }
}

BOOST_AUTO_TEST_CASE(start_sends_the_result_with_its_run_id_and_workflow_id) {
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  auto id = ts.rt->start(wf, State::Start, {"wf-9", nullptr}, caf::actor_cast<caf::actor>(self));
  auto results = receive_results(self, 1);
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results[0].run_id == id);
  BOOST_TEST(results[0].workflow_id == "wf-9");
  BOOST_TEST(results[0].get<State>().value() == State::Complete);
}

BOOST_AUTO_TEST_CASE(an_actor_starting_a_run_from_itself_receives_the_result) {
  test_system ts;
  caf::scoped_actor probe{*ts.sys};
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  cano::runtime* rt = ts.rt.get();
  auto forward_to = caf::actor_cast<caf::actor>(probe);
  ts.sys->spawn([rt, wf, forward_to](caf::event_based_actor* self) -> caf::behavior {
    rt->start(wf, State::Start, {"from-actor", nullptr}, self);
    return {[self, forward_to](cano::run_result& r) {
      self->send(forward_to, std::move(r));
      self->quit();
    }};
  });
  auto results = receive_results(probe, 1);
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results[0].workflow_id == "from-actor");
  BOOST_TEST(results[0].get<State>().value() == State::Complete);
}

BOOST_AUTO_TEST_CASE(the_per_run_workflow_id_wins_over_the_workflow_default) {
  test_system ts;
  auto seen = std::make_shared<std::string>();
  auto wf = cano::Workflow<State>{}
              .with_workflow_id("default-id")
              .register_task(State::Start, "Id",
                             [seen](cano::task_context& c) {
                               *seen = c.workflow_id();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  BOOST_REQUIRE(ts.rt->run(wf, State::Start));
  BOOST_TEST(*seen == "default-id");
  BOOST_REQUIRE(ts.rt->run(wf, State::Start, {"per-run", nullptr}));
  BOOST_TEST(*seen == "per-run");
}

BOOST_AUTO_TEST_CASE(run_called_from_an_inline_body_is_refused_not_deadlocked) {
  test_system ts;
  auto inner =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  auto message = std::make_shared<std::string>();
  cano::runtime* rt = ts.rt.get();
  auto outer = cano::Workflow<State>{}
                 .register_task(
                   State::Start, "Nested",
                   [rt, inner, message] {
                     auto r = rt->run(inner, State::Start);
                     *message = r ? "ran" : r.error().message();
                     return State::Complete;
                   },
                   cano::TaskConfig{}.with_blocking(false))
                 .add_exit_state(State::Complete);
  BOOST_REQUIRE(ts.rt->run(outer, State::Start));
  BOOST_TEST(*message == "runtime::run blocks and was called from inside an engine actor; use runtime::start");
}

BOOST_AUTO_TEST_CASE(shutdown_drops_runs_still_blocked_at_the_deadline_and_refuses_new_ones) {
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  {
    test_system ts;
    caf::scoped_actor self{*ts.sys};
    auto wf = gated_workflow(entered, g, cano::TaskConfig::minimal());
    ts.rt->start(wf, State::Start, {}, caf::actor_cast<caf::actor>(self));
    BOOST_REQUIRE(entered->wait_for_at_least(1));
    BOOST_TEST(!ts.rt->shutdown(50ms));
    auto results = receive_results(self, 1);
    BOOST_REQUIRE(results.size() == 1u);
    BOOST_TEST(results[0].failure->message() == "run dropped: the runtime shut down before the run finished");
    auto late = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!late);
    BOOST_TEST(late.error().message() == "runtime is shutting down: no new runs are admitted");
  }
  g->open();
}

BOOST_AUTO_TEST_CASE(overlapping_runs_share_one_resource_setup_and_teardown) {
  test_system ts;
  auto res = std::make_shared<counting_resource>();
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto wf = cano::Workflow<State>{cano::Resources{}.insert("r", res)}
              .register_task(State::Start, "Gated",
                             [entered, g] {
                               entered->arrive();
                               g->wait();
                               return State::Complete;
                             })
              .add_exit_state(State::Complete);
  caf::scoped_actor self{*ts.sys};
  ts.rt->start(wf, State::Start, {}, caf::actor_cast<caf::actor>(self));
  ts.rt->start(wf, State::Start, {}, caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(entered->wait_for_at_least(2));
  BOOST_TEST(res->setups.load() == 1);
  BOOST_TEST(res->teardowns.load() == 0);
  g->open();
  BOOST_REQUIRE(receive_results(self, 2).size() == 2u);
  BOOST_TEST(res->teardowns.load() == 1);
  // A later, sequential run sets up and tears down again (cano's per-run lifecycle).
  BOOST_REQUIRE(ts.rt->run(wf, State::Start));
  BOOST_TEST(res->setups.load() == 2);
  BOOST_TEST(res->teardowns.load() == 2);
}

BOOST_AUTO_TEST_CASE(a_failing_resource_setup_fails_the_run_before_any_task) {
  struct broken : cano::Resource {
    cano::expected<void> setup() override { return cano::error::generic("connection refused"); }
  };
  test_system ts;
  auto n = make_calls();
  auto wf = cano::Workflow<State>{cano::Resources{}.insert("db", std::make_shared<broken>())}
              .register_task(State::Start, flaky_task(n, 0, State::Complete, cano::TaskConfig::minimal()))
              .add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().message() == "connection refused");
  BOOST_TEST(n->load() == 0);
}

BOOST_AUTO_TEST_CASE(resources_are_torn_down_when_a_run_fails) {
  test_system ts;
  auto res = std::make_shared<counting_resource>();
  auto n = make_calls();
  auto wf = cano::Workflow<State>{cano::Resources{}.insert("r", res)}
              .register_task(State::Start, flaky_task(n, 1000, State::Complete, cano::TaskConfig::minimal()))
              .add_exit_state(State::Complete);
  BOOST_REQUIRE(!ts.rt->run(wf, State::Start));
  BOOST_TEST(res->setups.load() == 1);
  BOOST_TEST(res->teardowns.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_cano_error_converts_to_a_caf_error) {
  auto e = cano::to_caf_error(cano::error::timeout("late"));
  BOOST_TEST(static_cast<bool>(e));
  BOOST_TEST(e.category() == caf::atom("cano"));
  BOOST_TEST(e.code() == static_cast<std::uint8_t>(cano::errc::timeout) + 1);
}

// CAF's scheduler sized to the machine unless the user said otherwise (README, performance).
BOOST_AUTO_TEST_CASE(scheduler_defaults_give_one_worker_per_hardware_thread_unless_set) {
  auto max_threads = [](const caf::actor_system_config& cfg) {
    return caf::get_or(cfg, "scheduler.max-threads", std::size_t{0});
  };
  const auto cores = static_cast<std::size_t>(std::thread::hardware_concurrency());
  {
    caf::actor_system_config cfg;
    cano::apply_scheduler_defaults(cfg);
    BOOST_TEST(max_threads(cfg) == cores); // 0 when unknown: nothing set
    if (cores > 0) {
      caf::actor_system sys{cfg};
      BOOST_TEST(sys.scheduler().num_workers() == cores);
    }
  }
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", cores + 3); // set in code
    cano::apply_scheduler_defaults(cfg);
    BOOST_TEST(max_threads(cfg) == cores + 3);
  }
  {
    caf::actor_system_config cfg;
    std::vector<std::string> args{"--scheduler.max-threads=" + std::to_string(cores + 5)}; // on the command line
    BOOST_REQUIRE(!cfg.parse(args));
    cano::apply_scheduler_defaults(cfg);
    BOOST_TEST(max_threads(cfg) == cores + 5);
  }
  {
    caf::actor_system_config cfg; // applied before parsing: the command line still wins
    cano::apply_scheduler_defaults(cfg);
    std::vector<std::string> args{"--scheduler.max-threads=" + std::to_string(cores + 7)};
    BOOST_REQUIRE(!cfg.parse(args));
    BOOST_TEST(max_threads(cfg) == cores + 7);
  }
}

BOOST_AUTO_TEST_SUITE_END()
