// cano's metrics scenarios (cano-semantics §5: 32, 33, 46, 47, 71, 72, 95, 117, 133, 156, 161,
// 167) and the seed file's two metrics tests, asserted on values scraped from the endpoint that
// cano_actor::metrics serves (http://127.0.0.1:<port>/metrics). In Prometheus a counter that was
// never incremented is 0 (or absent, for series made on first use): cano's "no counter" reads
// as count() == 0 here.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include "cano/batch_task.hpp"
#include "cano/circuit.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/poll_task.hpp"
#include "cano/prometheus_metrics.hpp"
#include "cano/saga.hpp"
#include "cano/scheduler.hpp"
#include "cano/stepped_task.hpp"
#include "cano/workflow.hpp"
#include "support/http.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A runtime measuring into its own registry, served on a free port of 127.0.0.1.
struct metered {
  std::shared_ptr<cano::prometheus_metrics> metrics;
  std::unique_ptr<test_system> ts;

  metered() {
    auto made = cano::prometheus_metrics::make({nullptr, true, "127.0.0.1", 0});
    BOOST_REQUIRE_MESSAGE(made.has_value(), (made ? std::string() : made.error().to_string()));
    metrics = *made;
    cano::runtime_config cfg;
    cfg.metrics = metrics;
    ts = std::make_unique<test_system>(cfg);
  }
  ~metered() { ts.reset(); } // runs end before the metrics go
  cano::runtime& rt() { return *ts->rt; }
  scrape now() const { return scrape_metrics(metrics->port()); }
};

/// The Rust CompTask of the seed file: its forward run returns `next` and `value`; compensate
/// records the output.
class CompTask : public cano::CompensatableTask<State, std::uint32_t> {
public:
  CompTask(std::uint32_t value, State next, std::shared_ptr<std::vector<std::uint32_t>> log)
    : value_(value),
      next_(next),
      log_(std::move(log)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "CompTask"; }
  cano::expected<std::pair<cano::TaskResult<State>, std::uint32_t>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(next_), value_);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t output) override {
    log_->push_back(output);
    return {};
  }

private:
  std::uint32_t value_;
  State next_;
  std::shared_ptr<std::vector<std::uint32_t>> log_;
};

std::shared_ptr<cano::Task<State>> always_fail() {
  return cano::make_task<State>(
    "AlwaysFailTask",
    []() -> cano::expected<State> { return cano::error::task_execution("intentional failure for saga test"); },
    cano::TaskConfig::minimal());
}

/// Polls Pending (1 ms) `pending` times, then Ready(Complete).
class PendingThenReady : public cano::PollTask<State> {
public:
  explicit PendingThenReady(int pending) : pending_(pending) {}
  cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
    if (polls_++ < pending_) {
      return cano::PollOutcome<State>::pending(1);
    }
    return cano::PollOutcome<State>::ready(State::Complete);
  }

private:
  int pending_;
  std::atomic<int> polls_{0};
};

/// cano's batch over [0, 1, 2] whose item 1 fails; finish goes on to Complete.
class OneBadItem : public cano::BatchTask<State, int, int> {
public:
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::vector<int>> load(cano::task_context&) override { return std::vector<int>{0, 1, 2}; }
  cano::expected<int> process_item(const int& item) override {
    if (item == 1) {
      return cano::error::task_execution("item 1 is bad");
    }
    return item * 10;
  }
  cano::expected<cano::TaskResult<State>> finish(cano::task_context&, std::vector<cano::expected<int>>) override {
    return cano::TaskResult<State>(State::Complete);
  }
};

/// Steps three times: More(1), More(2), Done(Complete).
class ThreeSteps : public cano::SteppedTask<State, int> {
public:
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(false); }
  std::string name() const override { return "ThreeSteps"; }
  cano::expected<cano::StepOutcome<State, int>> step(cano::task_context&, std::optional<int> cursor) override {
    int next = cursor.value_or(0) + 1;
    if (next < 3) {
      return cano::StepOutcome<State, int>::more(next);
    }
    return cano::StepOutcome<State, int>::done(State::Complete);
  }
};

std::shared_ptr<cano::Task<State>> branch(bool ok) {
  return cano::make_task<State>(
    ok ? "ok" : "bad",
    [ok]() -> cano::expected<State> {
      if (!ok) {
        return cano::error::task_execution("branch failed");
      }
      return State::Join;
    },
    cano::TaskConfig::minimal().with_blocking(false));
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics_scenarios_test)

// -- the seed file's metrics tests --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(checkpoint_append_and_clear_counters_on_successful_run) {
  metered m;
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto wf = cano::Workflow<State>{}
              .with_checkpoint_store(store)
              .with_workflow_id("metrics-wf")
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  auto r = m.rt().run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  auto s = m.now();
  // At minimum one append per state entered (Start, Process, Complete = 3 rows).
  BOOST_TEST(s.count("cano_checkpoint_appends_total", {{"result", "ok"}}) >= 1);
  BOOST_TEST(s.count("cano_checkpoint_appends_total", {{"result", "ok"}}) == 3);
  // A successful run clears its log exactly once.
  BOOST_TEST(s.count("cano_checkpoint_clears_total", {{"result", "ok"}}) == 1);
  BOOST_TEST(s.count("cano_checkpoint_appends_total", {{"result", "err"}}) == 0);
}

BOOST_AUTO_TEST_CASE(compensation_run_and_drain_counters_on_clean_rollback) {
  metered m;
  auto log = std::make_shared<std::vector<std::uint32_t>>();
  // The compensatable task succeeds (Start -> Process), then AlwaysFailTask fails: a LIFO drain
  // with one compensate() call, which succeeds.
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<CompTask>(42, State::Process, log))
              .register_task(State::Process, always_fail())
              .add_exit_state(State::Complete);
  auto r = m.rt().run(wf, State::Start);
  // Clean rollback: the original error is returned (not compensation_failed).
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == cano::errc::task_execution);
  BOOST_TEST(*log == std::vector<std::uint32_t>{42});
  auto s = m.now();
  BOOST_TEST(s.count("cano_compensations_run_total", {{"result", "ok"}}) == 1);
  BOOST_TEST(s.count("cano_compensation_drains_total", {{"outcome", "clean"}}) == 1);
  BOOST_TEST(s.count("cano_compensation_drains_total", {{"outcome", "partial"}}) == 0);
}

// -- §5 scenarios -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(s32_a_task_failing_twice_then_ok_counts_two_failed_attempts_and_one_completed) {
  metered m;
  auto n = make_calls();
  auto wf =
    cano::Workflow<State>{}
      .register_task(State::Start, flaky_task(n, 2, State::Complete, cano::TaskConfig{}.with_fixed_retry(3, 1ms)))
      .add_exit_state(State::Complete);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "failed"}}) == 2);
  BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "completed"}}) == 1);
  BOOST_TEST(s.count("cano_circuit_rejections_total") == 0);
}

// Inline bodies: the fast path makes the first attempt without a runner and counts it when it
// settles the task; a retry hands that attempt to a runner, which counts it (once) with the rest.
BOOST_AUTO_TEST_CASE(inline_attempts_are_counted_once_each_with_and_without_retries) {
  struct expectation {
    int fail_first;
    std::size_t retries;
    double failed;
    double completed;
  };
  for (auto e : {expectation{0, 3, 0, 1}, expectation{2, 3, 2, 1}, expectation{5, 0, 1, 0}, expectation{5, 1, 2, 0}}) {
    BOOST_TEST_CONTEXT("fail_first " << e.fail_first << ", retries " << e.retries) {
      metered m;
      auto n = make_calls();
      auto cfg = cano::TaskConfig{}.with_fixed_retry(e.retries, 1ms).with_blocking(false);
      auto wf = cano::Workflow<State>{}
                  .register_task(State::Start, flaky_task(n, e.fail_first, State::Complete, cfg))
                  .add_exit_state(State::Complete);
      auto r = m.rt().run(wf, State::Start);
      BOOST_TEST(r.has_value() == (e.completed == 1));
      auto s = m.now();
      BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "failed"}}) == e.failed);
      BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "completed"}}) == e.completed);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_inline_body_that_throws_counts_no_attempt) {
  metered m;
  auto task = cano::make_task<State>(
    "Thrower", []() -> State { throw std::runtime_error("boom"); },
    cano::TaskConfig{}.with_fixed_retry(2, 1ms).with_blocking(false));
  auto wf = cano::Workflow<State>{}.register_task(State::Start, task).add_exit_state(State::Complete);
  BOOST_REQUIRE(!m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "failed"}}) == 0);
  BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "completed"}}) == 0);
}

BOOST_AUTO_TEST_CASE(s33_a_pre_tripped_breaker_counts_one_rejection_and_no_completed_attempt) {
  metered m;
  auto breaker = cano::CircuitBreaker::make({1, 60000ms, 1});
  breaker->record_failure(breaker->try_acquire().value()); // pre-trip
  auto n = make_calls();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, flaky_task(n, 0, State::Complete,
                                                      cano::TaskConfig::minimal().with_circuit_breaker(breaker)))
              .add_exit_state(State::Complete);
  auto r = m.rt().run(wf, State::Start);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == cano::errc::circuit_open);
  auto s = m.now();
  BOOST_TEST(s.count("cano_circuit_rejections_total") == 1);
  BOOST_TEST(s.count("cano_task_attempts_total", {{"outcome", "completed"}}) == 0);
}

BOOST_AUTO_TEST_CASE(s46_breaker_acquires_outcomes_and_transitions_are_counted) {
  metered m;
  auto breaker = cano::CircuitBreaker::make({2, 60000ms, 1});
  breaker->set_metrics(m.metrics);
  breaker->record_success(breaker->try_acquire().value());
  breaker->record_failure(breaker->try_acquire().value());
  breaker->record_failure(breaker->try_acquire().value()); // threshold 2: open
  BOOST_REQUIRE(!breaker->try_acquire().has_value());      // rejected
  auto s = m.now();
  BOOST_TEST(s.count("cano_circuit_acquires_total", {{"result", "acquired"}}) == 3);
  BOOST_TEST(s.count("cano_circuit_acquires_total", {{"result", "rejected"}}) == 1);
  BOOST_TEST(s.count("cano_circuit_outcomes_total", {{"outcome", "success"}}) == 1);
  BOOST_TEST(s.count("cano_circuit_outcomes_total", {{"outcome", "failure"}}) == 2);
  BOOST_TEST(s.count("cano_circuit_transitions_total", {{"transition", "closed_to_open"}}) == 1);
  BOOST_TEST(s.count("cano_circuit_transitions_total", {{"transition", "open_to_halfopen"}}) == 0);
}

BOOST_AUTO_TEST_CASE(s47_a_dropped_permit_counts_as_a_failure) {
  metered m;
  auto breaker = cano::CircuitBreaker::make({5, 60000ms, 1});
  breaker->set_metrics(m.metrics);
  {
    auto permit = breaker->try_acquire().value(); // dropped unconsumed
  }
  auto s = m.now();
  BOOST_TEST(s.count("cano_circuit_outcomes_total", {{"outcome", "failure"}}) == 1);
  BOOST_TEST(s.count("cano_circuit_outcomes_total", {{"outcome", "success"}}) == 0);
}

BOOST_AUTO_TEST_CASE(s71_a_completed_run_counts_its_run_duration_and_each_state_dispatch) {
  metered m;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Mid))
              .register_task(State::Mid, goto_task(State::Done))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "completed"}}) == 1);
  BOOST_TEST(s.count("cano_workflow_duration_seconds_count", {{"outcome", "completed"}}) == 1);
  BOOST_TEST(s.value("cano_workflow_active") == 0);
  BOOST_TEST(s.count("cano_task_duration_seconds_count", {{"state", "Start"}, {"kind", "single"}}) == 1);
  BOOST_TEST(s.count("cano_task_duration_seconds_count", {{"state", "Mid"}, {"kind", "single"}}) == 1);
  BOOST_TEST(s.count("cano_runs_finished_total", {{"status", "completed"}}) == 1); // ours
}

BOOST_AUTO_TEST_CASE(s72_a_failing_run_counts_as_failed_and_leaves_no_active_run) {
  metered m;
  auto wf = cano::Workflow<State>{}.register_task(State::Start, always_fail()).add_exit_state(State::Done);
  BOOST_REQUIRE(!m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "failed"}}) == 1);
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "completed"}}) == 0);
  BOOST_TEST(s.value("cano_workflow_active") == 0);
  BOOST_TEST(s.count("cano_runs_finished_total", {{"status", "failed"}}) == 1); // ours
}

BOOST_AUTO_TEST_CASE(s95_partial_results_counts_branch_results_without_cancelled) {
  metered m;
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {branch(true), branch(false), branch(true)},
                              cano::JoinConfig<State>{cano::JoinStrategy::partial_results(2), State::Join})
              .register_task(State::Join, goto_task(State::Done))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_split_branch_results_total", {{"result", "success"}}) == 2);
  BOOST_TEST(s.count("cano_split_branch_results_total", {{"result", "failure"}}) == 1);
  BOOST_TEST(!s.has("cano_split_branch_results_total", {{"result", "cancelled"}}));
  BOOST_TEST(s.count("cano_task_duration_seconds_count", {{"state", "Start"}, {"kind", "split"}}) == 1);
}

BOOST_AUTO_TEST_CASE(s95_an_early_join_counts_the_branches_it_cancelled) {
  metered m;
  // Any: the first success decides; the two branches after it never start.
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {branch(true), branch(true), branch(true)},
                              cano::JoinConfig<State>{cano::JoinStrategy::any(), State::Join})
              .register_task(State::Join, goto_task(State::Done))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_split_branch_results_total", {{"result", "success"}}) == 1);
  BOOST_TEST(s.count("cano_split_branch_results_total", {{"result", "cancelled"}}) == 2);
}

BOOST_AUTO_TEST_CASE(s117_a_checkpointed_run_counts_its_appends_and_one_clear) {
  metered m;
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto wf = cano::Workflow<State>{}
              .with_checkpoint_store(store)
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  BOOST_REQUIRE(m.rt().run(wf, State::Start, {"s117", nullptr}).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_checkpoint_appends_total", {{"result", "ok"}}) >= 1);
  BOOST_TEST(s.count("cano_checkpoint_clears_total", {{"result", "ok"}}) == 1);
}

BOOST_AUTO_TEST_CASE(s133_a_clean_rollback_counts_one_compensation_and_one_clean_drain) {
  metered m;
  auto log = std::make_shared<std::vector<std::uint32_t>>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<CompTask>(7, State::Process, log))
              .register_task(State::Process, always_fail())
              .add_exit_state(State::Complete);
  BOOST_REQUIRE(!m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_compensations_run_total", {{"result", "ok"}}) == 1);
  BOOST_TEST(s.count("cano_compensations_run_total", {{"result", "err"}}) == 0);
  BOOST_TEST(s.count("cano_compensation_drains_total", {{"outcome", "clean"}}) == 1);
  BOOST_TEST(s.count("cano_runs_finished_total", {{"status", "rolled_back"}}) == 1); // ours
}

BOOST_AUTO_TEST_CASE(s156_a_poll_task_counts_pending_and_ready_iterations) {
  metered m;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, std::make_shared<PendingThenReady>(2))
              .add_exit_state(State::Complete);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_poll_iterations_total", {{"outcome", "pending"}}) == 2);
  BOOST_TEST(s.count("cano_poll_iterations_total", {{"outcome", "ready"}}) == 1);
}

BOOST_AUTO_TEST_CASE(s161_a_batch_with_one_bad_item_counts_one_completed_run_two_ok_items_one_err) {
  metered m;
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, std::make_shared<OneBadItem>()).add_exit_state(State::Complete);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_batch_runs_total", {{"outcome", "completed"}}) == 1);
  BOOST_TEST(s.count("cano_batch_items_total", {{"result", "ok"}}) == 2);
  BOOST_TEST(s.count("cano_batch_items_total", {{"result", "err"}}) == 1);
}

BOOST_AUTO_TEST_CASE(s167_the_metrics_observer_counts_states_task_runs_and_retries) {
  metered m;
  auto observer = cano::MetricsObserver::make(m.metrics->registry());
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Mid))
              .register_task(State::Mid, goto_task(State::Done))
              .add_exit_state(State::Done)
              .with_observer(observer);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto n = make_calls();
  auto flaky =
    cano::Workflow<State>{}
      .register_task(State::Start, flaky_task(n, 2, State::Done, cano::TaskConfig{}.with_fixed_retry(3, 1ms)))
      .add_exit_state(State::Done)
      .with_observer(observer);
  BOOST_REQUIRE(m.rt().run(flaky, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_state_enters_total", {{"state", "Start"}}) == 2); // one per workflow
  BOOST_TEST(s.count("cano_state_enters_total", {{"state", "Mid"}}) == 1);
  BOOST_TEST(s.count("cano_state_enters_total", {{"state", "Done"}}) == 2);
  BOOST_TEST(s.count("cano_observed_task_runs_total", {{"task", "GoTo"}, {"outcome", "completed"}}) == 2);
  BOOST_TEST(s.count("cano_task_retries_total", {{"task", "Flaky"}}) == 2);
  BOOST_TEST(s.count("cano_observed_task_runs_total", {{"task", "Flaky"}, {"outcome", "completed"}}) == 1);
}

// -- beyond the scenarios: the rest of cano's facade ----------------------------------------------

BOOST_AUTO_TEST_CASE(a_stepped_task_counts_more_and_done_steps) {
  metered m;
  auto wf = cano::Workflow<State>{}
              .register_stepped(State::Start, std::make_shared<ThreeSteps>())
              .add_exit_state(State::Complete);
  BOOST_REQUIRE(m.rt().run(wf, State::Start).has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_step_iterations_total", {{"outcome", "more"}}) == 2);
  BOOST_TEST(s.count("cano_step_iterations_total", {{"outcome", "done"}}) == 1);
  BOOST_TEST(s.count("cano_task_duration_seconds_count", {{"state", "Start"}, {"kind", "stepped"}}) == 1);
}

BOOST_AUTO_TEST_CASE(a_run_past_its_workflow_timeout_counts_as_timeout) {
  metered m;
  auto release = std::make_shared<std::atomic<bool>>(false);
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Slow",
                             [release]() -> cano::expected<State> {
                               for (int i = 0; i < 5000 && !release->load(); ++i) {
                                 std::this_thread::sleep_for(1ms);
                               }
                               return State::Done;
                             })
              .add_exit_state(State::Done)
              .with_timeout(50ms);
  auto r = m.rt().run(wf, State::Start);
  release->store(true);
  BOOST_REQUIRE(!r.has_value());
  auto s = m.now();
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "timeout"}}) == 1);
  BOOST_TEST(s.count("cano_workflow_duration_seconds_count", {{"outcome", "timeout"}}) == 1);
  BOOST_TEST(s.value("cano_workflow_active") == 0);
}

BOOST_AUTO_TEST_CASE(a_manual_flow_counts_its_scheduled_run) {
  metered m;
  cano::Scheduler<State> sched;
  BOOST_REQUIRE(
    sched
      .manual("flow_a",
              cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Done)).add_exit_state(State::Done),
              State::Start)
      .has_value());
  auto running = sched.start(m.rt());
  BOOST_REQUIRE(running.has_value());
  BOOST_REQUIRE(running->trigger("flow_a").has_value());
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (running->status("flow_a").value().status.state() != cano::FlowStatus::kind::completed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  auto s = m.now();
  BOOST_TEST(s.count("cano_scheduler_flow_runs_total", {{"flow", "flow_a"}, {"outcome", "completed"}}) == 1);
  BOOST_TEST(s.count("cano_scheduler_flow_duration_seconds_count", {{"flow", "flow_a"}}) == 1);
  BOOST_TEST(s.value("cano_scheduler_active_flows") == 0);
  BOOST_TEST(s.count("cano_scheduler_flow_backoff_total", {{"flow", "flow_a"}}) == 0);
  BOOST_REQUIRE(running->stop().has_value());
}

BOOST_AUTO_TEST_CASE(the_endpoint_is_off_unless_asked_for_and_binds_loopback) {
  auto quiet = cano::prometheus_metrics::make();
  BOOST_REQUIRE(quiet.has_value());
  BOOST_TEST((*quiet)->port() == 0);
  BOOST_TEST((*quiet)->url().empty());
  BOOST_TEST(cano::metrics_options{}.host == "127.0.0.1");
  BOOST_TEST(!cano::metrics_options{}.serve);

  metered m;
  BOOST_TEST(m.metrics->url() == "http://127.0.0.1:" + std::to_string(m.metrics->port()) + "/metrics");
  // A second endpoint on the same port is refused with an error that names the address.
  auto clash = cano::prometheus_metrics::make({nullptr, true, "127.0.0.1", m.metrics->port()});
  BOOST_REQUIRE(!clash.has_value());
  BOOST_TEST(clash.error().code() == cano::errc::configuration);
  BOOST_TEST(clash.error().message().find("127.0.0.1:" + std::to_string(m.metrics->port())) != std::string::npos,
             clash.error().message());
}

BOOST_AUTO_TEST_CASE(an_application_registry_serves_cano_metrics_next_to_its_own) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& mine = prometheus::BuildCounter().Name("app_orders_total").Help("orders").Register(*registry).Add({});
  mine.Increment(5);
  auto made = cano::prometheus_metrics::make({registry, true, "127.0.0.1", 0});
  BOOST_REQUIRE(made.has_value());
  BOOST_TEST((*made)->registry() == registry);
  cano::runtime_config cfg;
  cfg.metrics = *made;
  {
    test_system ts(cfg);
    auto wf = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Done)).add_exit_state(State::Done);
    BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  }
  auto s = scrape_metrics((*made)->port());
  BOOST_TEST(s.value("app_orders_total") == 5);
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "completed"}}) == 1);
}

BOOST_AUTO_TEST_CASE(a_registry_holding_another_type_under_a_cano_name_is_refused) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge().Name("cano_workflow_runs_total").Help("not a counter").Register(*registry);
  auto made = cano::prometheus_metrics::make({registry});
  BOOST_REQUIRE(!made.has_value());
  BOOST_TEST(made.error().code() == cano::errc::configuration);
}

BOOST_AUTO_TEST_CASE(the_default_sink_measures_breakers_and_runtimes_built_after_it_is_set) {
  auto made = cano::prometheus_metrics::make({nullptr, true, "127.0.0.1", 0});
  BOOST_REQUIRE(made.has_value());
  cano::set_default_metrics_sink(*made);
  auto breaker = cano::CircuitBreaker::make({1, 60000ms, 1});
  breaker->record_success(breaker->try_acquire().value());
  {
    test_system ts; // runtime_config::metrics unset: the default at construction
    BOOST_TEST(ts.rt->metrics() == *made);
    auto wf = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Done)).add_exit_state(State::Done);
    BOOST_REQUIRE(ts.rt->run(wf, State::Start).has_value());
  }
  cano::set_default_metrics_sink(nullptr);
  BOOST_TEST(cano::default_metrics_sink() == nullptr);
  auto s = scrape_metrics((*made)->port());
  BOOST_TEST(s.count("cano_circuit_acquires_total", {{"result", "acquired"}}) == 1);
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "completed"}}) == 1);
}

BOOST_AUTO_TEST_CASE(a_sink_that_throws_never_breaks_a_run) {
  struct throwing_sink : cano::metrics_sink {
    void workflow_started() override { throw std::runtime_error("sink bug"); }
    void task_dispatched(const std::string&, cano::task_kind, std::chrono::nanoseconds) override { throw 1; }
    void task_attempt(bool) override { throw std::runtime_error("sink bug"); }
    void checkpoint_append(bool) override { throw std::runtime_error("sink bug"); }
  };
  cano::runtime_config cfg;
  cfg.metrics = std::make_shared<throwing_sink>();
  test_system ts(cfg);
  auto wf = cano::Workflow<State>{}
              .with_checkpoint_store(std::make_shared<cano::MemoryCheckpointStore>())
              .register_task(State::Start, goto_task(State::Done))
              .add_exit_state(State::Done);
  auto r = ts.rt->run(wf, State::Start, {"throwing-sink", nullptr});
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Done);
}

BOOST_AUTO_TEST_SUITE_END()
