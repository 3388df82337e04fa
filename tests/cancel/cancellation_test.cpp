// Cooperative cancellation (cano 0.15, spec §4.3 and scenarios 207-212): a run's cancellation
// token and runtime::cancel, checked before every state (before on_state_enter) and inside poll,
// stepped and batch loops and splits; the task in flight is dropped (on_task_failure with category
// `cancelled`, then on_cancelled once) unless it is a saga step, which finishes first; the saga
// drain undoes what ran; the run ends with category `cancelled`. Runs on a real actor system;
// events are ordered with latches and gates, never sleeps.
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cancel/cancel_support.hpp"
#include "cano/batch_task.hpp"
#include "cano/cancellation.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/metrics_sink.hpp"
#include "cano/poll_task.hpp"
#include "cano/stepped_task.hpp"
#include "cano/workflow.hpp"
#include "support/recording_log_sink.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Bounds every run generously (with_timeout): a hang fails the test instead of blocking it.
constexpr cano::duration bound = std::chrono::seconds(60);

cano::TaskConfig inline_cfg() { return cano::TaskConfig::minimal().with_blocking(false); }

cano::run_options with_token(std::string id, cano::cancellation_token token) {
  cano::run_options o{std::move(id), nullptr};
  o.cancellation = std::move(token);
  return o;
}

/// Runs `wf` on another thread; the test cancels meanwhile.
std::future<cano::expected<State>> run_async(cano::runtime& rt, const cano::Workflow<State>& wf, State initial,
                                             cano::run_options options) {
  return std::async(std::launch::async, [&rt, wf, initial, options] { return rt.run(wf, initial, options); });
}

cano::expected<State> wait_result(std::future<cano::expected<State>>& f) {
  if (f.wait_for(120s) != std::future_status::ready) {
    BOOST_FAIL("the run did not end within 120 s");
  }
  return f.get();
}

void check_cancelled(const cano::expected<State>& r) {
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("cancelled"));
  BOOST_TEST(r.error().message() == "workflow cancelled");
  BOOST_TEST(r.error().to_string() == "Workflow cancelled");
}

/// A body that blocks until its attempt is abandoned, saying when it started and what it saw.
struct blocking_probe {
  std::shared_ptr<counter> entered = std::make_shared<counter>();
  std::shared_ptr<std::atomic<int>> saw_cancel = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<counter> returned = std::make_shared<counter>();

  std::shared_ptr<cano::Task<State>> task(std::string name, State next) const {
    auto entered_ = entered;
    auto saw = saw_cancel;
    auto ret = returned;
    return cano::make_task<State>(std::move(name), [entered_, saw, ret, next](cano::task_context& ctx) {
      entered_->arrive();
      if (wait_until_abandoned(ctx) && ctx.is_cancelled()) {
        ++*saw;
      }
      ret->arrive();
      return next;
    });
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(cancellation_test)

BOOST_AUTO_TEST_CASE(a_disabled_token_never_fires_and_a_handle_cancels_once) {
  cano::cancellation_token disabled;
  BOOST_TEST(!disabled.can_be_cancelled());
  BOOST_TEST(!disabled.is_cancelled());
  int never = 0;
  auto none = disabled.on_cancel([&] { ++never; });
  BOOST_TEST(never == 0);

  auto [handle, token] = cano::cancellation_token::make();
  BOOST_TEST(token.can_be_cancelled());
  BOOST_TEST(!token.is_cancelled());
  int fired = 0;
  int dropped = 0;
  auto sub = token.on_cancel([&] { ++fired; });
  auto gone = token.on_cancel([&] { ++dropped; });
  gone.reset(); // a subscription that ended is never called
  handle.cancel();
  handle.cancel(); // idempotent
  BOOST_TEST(fired == 1);
  BOOST_TEST(dropped == 0);
  BOOST_TEST(token.is_cancelled());
  BOOST_TEST(handle.token().is_cancelled());
  int late = 0;
  auto after = token.on_cancel([&] { ++late; }); // already cancelled: at once
  BOOST_TEST(late == 1);
}

BOOST_AUTO_TEST_CASE(a_pre_cancelled_run_starts_no_task) { // scenario 207
  test_system ts;
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Start",
                             [calls] {
                               ++*calls;
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_observer(log);
  auto [handle, token] = cano::cancellation_token::make();
  handle.cancel();
  auto r = ts.rt->run(wf, State::Start, with_token("", token));
  check_cancelled(r);
  BOOST_TEST(calls->load() == 0);
  BOOST_TEST(log->count("task_start:") == 0u);
  BOOST_TEST(log->count("state_enter:") == 0u);
  BOOST_TEST(log->events() == std::vector<std::string>({"cancelled:Start"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_cancelled_run_is_measured_as_failed_and_logged_with_its_category) {
  // cano 0.15 counts a cancelled run among the failed ones (cano_workflow_runs_total has no
  // outcome of its own for it); our end line names the category.
  struct outcomes : cano::metrics_sink {
    std::mutex mutex;
    std::vector<cano::run_outcome> finished;
    std::vector<cano::RunStatus> statuses;
    void workflow_finished(cano::run_outcome outcome, std::chrono::nanoseconds) override {
      std::lock_guard<std::mutex> guard(mutex);
      finished.push_back(outcome);
    }
    void run_finished(cano::RunStatus status) override {
      std::lock_guard<std::mutex> guard(mutex);
      statuses.push_back(status);
    }
  };
  auto metrics = std::make_shared<outcomes>();
  auto lines = std::make_shared<recording_log_sink>();
  cano::runtime_config cfg;
  cfg.metrics = metrics;
  cfg.log = lines;
  cfg.log_level = cano::log_level::info;
  test_system ts(cfg);
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Complete, inline_cfg()))
              .add_exit_state(State::Complete)
              .with_timeout(bound);
  auto [handle, token] = cano::cancellation_token::make();
  handle.cancel();
  check_cancelled(ts.rt->run(wf, State::Start, with_token("measured", token)));
  {
    std::lock_guard<std::mutex> guard(metrics->mutex);
    BOOST_TEST(metrics->finished.size() == 1u);
    BOOST_TEST((metrics->finished.at(0) == cano::run_outcome::failed));
    BOOST_TEST(metrics->statuses.size() == 1u);
    BOOST_TEST((metrics->statuses.at(0) == cano::RunStatus::failed));
  }
  auto failed = lines->of("run_failed");
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(recording_log_sink::field(failed.at(0), "error") == "cancelled: Workflow cancelled");
  BOOST_TEST(recording_log_sink::field(failed.at(0), "workflow_id") == "measured");
}

BOOST_AUTO_TEST_CASE(a_cancel_at_a_state_boundary_stops_before_on_state_enter) {
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  auto process_calls = std::make_shared<std::atomic<int>>(0);
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "Start",
                [h = handle](cano::task_context& ctx) {
                  h.cancel(); // the run is cancelled while this task finishes normally
                  return ctx.is_cancelled() ? State::Process : State::Complete;
                },
                inline_cfg())
              .register_task(State::Process, "Process",
                             [process_calls] {
                               ++*process_calls;
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_observer(log);
  auto r = ts.rt->run(wf, State::Start, with_token("", token));
  check_cancelled(r);
  BOOST_TEST(process_calls->load() == 0);
  BOOST_TEST(log->events() == std::vector<std::string>(
                                {"state_enter:Start", "task_start:Start", "task_success:Start", "cancelled:Process"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_cancel_drops_a_long_blocking_task_whose_body_sees_it) { // scenario 208
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  blocking_probe probe;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, probe.task("Long", State::Complete))
              .add_exit_state(State::Complete)
              .with_observer(log)
              .with_timeout(bound);
  auto started = std::chrono::steady_clock::now();
  auto f = run_async(*ts.rt, wf, State::Start, with_token("", token));
  BOOST_REQUIRE(probe.entered->wait_for_at_least(1));
  handle.cancel();
  auto r = wait_result(f);
  check_cancelled(r);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 60s)); // not the with_timeout bound
  BOOST_TEST(!log->contains("state_enter:Complete"));             // the task never completed the run
  BOOST_TEST(log->index_of("task_failure:Long:cancelled") >= 0);
  BOOST_TEST(log->index_of("task_failure:Long:cancelled") < log->index_of("cancelled:Start"));
  BOOST_TEST(log->count("cancelled:") == 1u);
  // The abandoned body learns it was abandoned, and why; what it returns is ignored.
  BOOST_TEST(probe.returned->wait_for_at_least(1));
  BOOST_TEST(probe.saw_cancel->load() == 1);
}

BOOST_AUTO_TEST_CASE(a_cancel_ends_a_poll_loop_waiting_for_its_next_poll) {
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  struct waiter : cano::PollTask<State> {
    std::shared_ptr<counter> polls = std::make_shared<counter>();
    cano::TaskConfig config() const override { return inline_cfg(); }
    std::string name() const override { return "Wait"; }
    cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
      polls->arrive();
      return cano::PollOutcome<State>::pending(3600 * 1000); // an hour: only the cancel ends it
    }
  };
  auto poller = std::make_shared<waiter>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, poller)
              .add_exit_state(State::Complete)
              .with_observer(log)
              .with_timeout(bound);
  auto f = run_async(*ts.rt, wf, State::Start, with_token("", token));
  BOOST_REQUIRE(poller->polls->wait_for_at_least(1));
  handle.cancel();
  check_cancelled(wait_result(f));
  BOOST_TEST(poller->polls->value() == 1u);
  BOOST_TEST(log->contains("task_failure:Wait:cancelled"));
  BOOST_TEST(log->contains("cancelled:Start"));
}

BOOST_AUTO_TEST_CASE(a_cancel_between_two_steps_stops_an_inline_stepped_task) {
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  struct pages : cano::SteppedTask<State, int> {
    cano::cancellation_handle cancel;
    std::vector<int> seen;
    explicit pages(cano::cancellation_handle h) : cancel(std::move(h)) {}
    cano::TaskConfig config() const override { return inline_cfg(); }
    std::string name() const override { return "Pages"; }
    cano::expected<cano::StepOutcome<State, int>> step(cano::task_context&, std::optional<int> c) override {
      int n = c.value_or(0);
      seen.push_back(n);
      if (n == 3) {
        cancel.cancel(); // the steps run in one go on the run's own thread: the loop checks
      }
      if (n < 100) {
        return cano::StepOutcome<State, int>::more(n + 1);
      }
      return cano::StepOutcome<State, int>::done(State::Complete);
    }
  };
  auto task = std::make_shared<pages>(handle);
  auto wf = cano::Workflow<State>{}
              .register_stepped(State::Start, task)
              .add_exit_state(State::Complete)
              .with_observer(log)
              .with_timeout(bound);
  check_cancelled(ts.rt->run(wf, State::Start, with_token("", token)));
  BOOST_TEST(task->seen == std::vector<int>({0, 1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(log->contains("task_failure:Pages:cancelled"));
  BOOST_TEST(log->count("cancelled:") == 1u);
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_cancel_between_two_checkpointed_steps_stops_a_stepped_task, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto [handle, token] = cano::cancellation_token::make();
  struct pages : cano::SteppedTask<State, int> {
    cano::cancellation_handle cancel;
    std::shared_ptr<journal> seen = std::make_shared<journal>();
    explicit pages(cano::cancellation_handle h) : cancel(std::move(h)) {}
    std::string name() const override { return "Pages"; }
    cano::expected<cano::StepOutcome<State, int>> step(cano::task_context&, std::optional<int> c) override {
      int n = c.value_or(0);
      seen->add(std::to_string(n));
      if (n == 2) {
        cancel.cancel(); // a blocking task on the pool: its cursor row is on its way meanwhile
      }
      return cano::StepOutcome<State, int>::more(n + 1);
    }
  };
  auto task = std::make_shared<pages>(handle);
  auto wf = cano::Workflow<State>{}
              .register_stepped(State::Start, task)
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  check_cancelled(ts.rt->run(wf, State::Start, with_token("paged", token)));
  BOOST_TEST(task->seen->entries() == std::vector<std::string>({"0", "1", "2"}), boost::test_tools::per_element());
  // Nothing to undo: the run failed as cancelled and keeps its log: the entry and the cursors of
  // steps 0 and 1 (step 2 cancelled before it returned: its cursor came after the cancel).
  auto h = store->header("paged");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("failed"));
  BOOST_REQUIRE(h->failure.has_value());
  BOOST_TEST(h->failure->category() == std::string("cancelled"));
  BOOST_TEST(store->rows("paged").size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_cancel_inside_a_batch_processes_no_more_items) {
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  struct items : cano::BatchTask<State, int, int> {
    cano::cancellation_handle cancel;
    std::vector<int> processed;
    bool finished = false;
    explicit items(cano::cancellation_handle h) : cancel(std::move(h)) {}
    cano::TaskConfig config() const override { return inline_cfg(); }
    std::string name() const override { return "Items"; }
    cano::expected<std::vector<int>> load(cano::task_context&) override {
      return std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7};
    }
    cano::expected<int> process_item(const int& i) override {
      processed.push_back(i);
      if (i == 3) {
        cancel.cancel();
      }
      return i;
    }
    cano::expected<cano::TaskResult<State>> finish(cano::task_context&, std::vector<cano::expected<int>>) override {
      finished = true;
      return cano::TaskResult<State>(State::Complete);
    }
  };
  auto batch = std::make_shared<items>(handle);
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, batch)
              .add_exit_state(State::Complete)
              .with_observer(log)
              .with_timeout(bound);
  check_cancelled(ts.rt->run(wf, State::Start, with_token("", token)));
  BOOST_TEST(batch->processed == std::vector<int>({0, 1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(!batch->finished);
  BOOST_TEST(log->contains("task_failure:Items:cancelled"));
}

BOOST_AUTO_TEST_CASE(a_cancel_during_a_split_drops_every_branch_and_starts_no_more) {
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  blocking_probe probe;
  std::vector<std::shared_ptr<cano::Task<State>>> branches;
  for (int i = 0; i < 3; ++i) {
    branches.push_back(probe.task("Branch", State::Join));
  }
  auto join = cano::JoinConfig<State>(cano::JoinStrategy::all(), State::Join).with_bulkhead(2);
  auto wf = cano::Workflow<State>{}
              .register_split(State::Split, branches, join)
              .register_task(State::Join, "Join", [] { return State::Complete; })
              .add_exit_state(State::Complete)
              .with_observer(log)
              .with_timeout(bound);
  auto f = run_async(*ts.rt, wf, State::Split, with_token("", token));
  BOOST_REQUIRE(probe.entered->wait_for_at_least(2)); // the bulkhead holds the third back
  handle.cancel();
  check_cancelled(wait_result(f));
  for (int i = 0; i < 3; ++i) {
    auto failure = "task_failure:Branch[" + std::to_string(i) + "]:cancelled";
    BOOST_TEST(log->contains(failure), failure);
    BOOST_TEST(log->index_of(failure) < log->index_of("cancelled:Split"));
  }
  BOOST_TEST(!log->contains("state_enter:Join"));
  BOOST_TEST(probe.returned->wait_for_at_least(2));
  BOOST_TEST(probe.saw_cancel->load() == 2);
  BOOST_TEST(probe.entered->value() == 2u); // the third branch never started
}

BOOST_AUTO_TEST_CASE(a_saga_step_in_flight_finishes_then_is_undone) { // scenario 211
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  auto log = std::make_shared<event_log>();
  auto j = std::make_shared<journal>();
  auto reserve = std::make_shared<journaled_step>("reserve", State::Process, j);
  reserve->entered = std::make_shared<counter>();
  reserve->hold = std::make_shared<gate>();
  auto ship_calls = std::make_shared<std::atomic<int>>(0);
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .register_task(State::Process, "Ship",
                             [ship_calls] {
                               ++*ship_calls;
                               return State::Complete;
                             })
              .add_exit_state(State::Complete)
              .with_observer(log)
              .with_timeout(bound);
  auto f = run_async(*ts.rt, wf, State::Start, with_token("", token));
  BOOST_REQUIRE(reserve->entered->wait_for_at_least(1));
  handle.cancel();
  reserve->hold->open(); // the step was not interrupted: it goes on and finishes
  check_cancelled(wait_result(f));
  BOOST_TEST(j->entries() == std::vector<std::string>({"run:reserve", "rollback:reserve"}),
             boost::test_tools::per_element());
  BOOST_TEST(ship_calls->load() == 0);
  BOOST_TEST(log->contains("task_success:reserve"));
  BOOST_TEST(!log->contains("state_enter:Process"));
  BOOST_TEST(log->contains("cancelled:Process")); // honoured at the next state
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_cancel_mid_run_undoes_the_saga_in_reverse, Kind, test::store_kinds) { // 209
  test_system ts;
  auto store = Kind::make();
  auto [handle, token] = cano::cancellation_token::make();
  auto j = std::make_shared<journal>();
  blocking_probe probe;
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<journaled_step>("reserve", State::Process, j))
              .register_with_compensation(State::Process, std::make_shared<journaled_step>("charge", State::Mid, j))
              .register_task(State::Mid, probe.task("Ship", State::Complete))
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  auto f = run_async(*ts.rt, wf, State::Start, with_token("order-209", token));
  BOOST_REQUIRE(probe.entered->wait_for_at_least(1));
  handle.cancel();
  auto r = wait_result(f);
  check_cancelled(r);
  BOOST_TEST(j->entries() ==
               std::vector<std::string>({"run:reserve", "run:charge", "rollback:charge", "rollback:reserve"}),
             boost::test_tools::per_element());
  // A clean rollback: the header records it with the cancel as the failure; the log is cleared.
  auto h = store->header("order-209");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_REQUIRE(h->failure.has_value());
  BOOST_TEST(h->failure->category() == std::string("cancelled"));
  BOOST_TEST(store->rows("order-209").empty());
}

BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_cancel_whose_rollback_fails_is_compensation_failed, Kind, test::store_kinds) { // 210
  test_system ts;
  auto store = Kind::make();
  auto [handle, token] = cano::cancellation_token::make();
  auto j = std::make_shared<journal>();
  blocking_probe probe;
  auto reserve = std::make_shared<journaled_step>("reserve", State::Process, j);
  reserve->fail_undo = true;
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, reserve)
              .register_with_compensation(State::Process, std::make_shared<journaled_step>("charge", State::Mid, j))
              .register_task(State::Mid, probe.task("Ship", State::Complete))
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  auto f = run_async(*ts.rt, wf, State::Start, with_token("order-210", token));
  BOOST_REQUIRE(probe.entered->wait_for_at_least(1));
  handle.cancel();
  auto r = wait_result(f);
  BOOST_REQUIRE(!r.has_value());
  const auto& e = r.error();
  BOOST_TEST(e.category() == std::string("compensation_failed"));
  BOOST_REQUIRE(e.nested().size() >= 2u);
  BOOST_TEST(e.nested()[0].category() == std::string("cancelled"));
  BOOST_TEST(e.to_string() == "Compensation failed (2 error(s)); original: Workflow cancelled; compensation #1: "
                              "Task execution error: reserve rollback failed");
  BOOST_TEST(j->count("rollback:charge") == 1u);
  BOOST_TEST(j->count("rollback:reserve") == 1u);
  auto h = store->header("order-210");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(to_string(h->status) == std::string("rolled_back"));
  BOOST_TEST(!store->rows("order-210").empty()); // kept for manual recovery
}

BOOST_AUTO_TEST_CASE(a_cancel_wins_over_a_total_timeout) { // scenario 212
  test_system ts;
  auto [handle, token] = cano::cancellation_token::make();
  blocking_probe probe;
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, probe.task("Long", State::Complete))
              .add_exit_state(State::Complete)
              .with_total_timeout(30s)
              .with_observer(log);
  auto f = run_async(*ts.rt, wf, State::Start, with_token("", token));
  BOOST_REQUIRE(probe.entered->wait_for_at_least(1));
  handle.cancel();
  check_cancelled(wait_result(f));
  BOOST_TEST(log->count("workflow_timeout:") == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancel_racing_the_end_of_a_run_has_one_outcome_never_both) {
  test_system ts;
  constexpr int runs = 200;
  int completed = 0;
  int cancelled = 0;
  for (int i = 0; i < runs; ++i) {
    auto store = std::make_shared<cano::MemoryCheckpointStore>();
    auto j = std::make_shared<journal>();
    auto log = std::make_shared<event_log>();
    auto [handle, token] = cano::cancellation_token::make();
    auto wf =
      cano::Workflow<State>{}
        .register_with_compensation(State::Start, std::make_shared<journaled_step>("reserve", State::Process, j, false))
        .register_task(
          State::Process, "Finish", [] { return State::Complete; }, inline_cfg())
        .add_exit_state(State::Complete)
        .with_checkpoint_store(store)
        .with_observer(log)
        .with_timeout(bound);
    barrier both(2);
    auto id = "race-" + std::to_string(i);
    std::thread canceller([&, h = handle] {
      both.arrive_and_wait();
      for (int spin = 0; spin < (i % 20) * 50; ++spin) {
        std::this_thread::yield(); // a different moment each time
      }
      h.cancel();
    });
    auto f = std::async(std::launch::async, [&, t = token] {
      both.arrive_and_wait();
      return ts.rt->run(wf, State::Start, with_token(id, t));
    });
    auto r = wait_result(f);
    canceller.join();
    auto h = *store->run_header(id);
    BOOST_REQUIRE(h.has_value());
    if (r.has_value()) {
      ++completed;
      BOOST_TEST((*r == State::Complete));
      BOOST_TEST(j->count("rollback:reserve") == 0u);
      BOOST_TEST(log->count("cancelled:") == 0u);
      BOOST_TEST(to_string(h->status) == std::string("completed"));
    } else {
      ++cancelled;
      BOOST_TEST(r.error().category() == std::string("cancelled"));
      BOOST_TEST(!log->contains("state_enter:Complete"));
      BOOST_TEST(log->count("cancelled:") == 1u);
      BOOST_TEST(j->count("rollback:reserve") == j->count("run:reserve")); // what ran is undone
      BOOST_TEST(h->failure.has_value());
      BOOST_TEST(to_string(h->status) != std::string("completed"));
    }
  }
  BOOST_TEST_MESSAGE("cancel racing the end: " << completed << " completed, " << cancelled << " cancelled");
  BOOST_TEST(completed + cancelled == runs);
}

BOOST_AUTO_TEST_CASE(runtime_cancel_stops_runs_of_this_runtime_by_workflow_or_run_id) {
  test_system ts;
  BOOST_TEST(ts.rt->cancel("nobody").error().to_string() ==
             "Workflow error: no run with workflow id \"nobody\" is in flight in this runtime");
  BOOST_TEST(!ts.rt->cancel_run(987654));

  // A run without a store, known by the id it was given.
  blocking_probe probe;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, probe.task("Long", State::Complete))
              .add_exit_state(State::Complete)
              .with_timeout(bound);
  auto f = run_async(*ts.rt, wf, State::Start, {"by-id", nullptr});
  BOOST_REQUIRE(probe.entered->wait_for_at_least(1));
  BOOST_TEST(ts.rt->cancel("by-id").has_value());
  check_cancelled(wait_result(f));
  BOOST_TEST(probe.returned->wait_for_at_least(1));
  BOOST_TEST(probe.saw_cancel->load() == 1);

  // A durable run, through the workflow's overload: it is driven here, so no request is written.
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  blocking_probe second;
  auto durable = cano::Workflow<State>{}
                   .register_task(State::Start, second.task("Long", State::Complete))
                   .add_exit_state(State::Complete)
                   .with_checkpoint_store(store)
                   .with_timeout(bound);
  auto g = run_async(*ts.rt, durable, State::Start, {"durable-by-id", nullptr});
  BOOST_REQUIRE(second.entered->wait_for_at_least(1));
  BOOST_TEST(ts.rt->cancel(durable, "durable-by-id").has_value());
  check_cancelled(wait_result(g));
  auto h = *store->run_header("durable-by-id");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(!h->cancel_requested_at.has_value());
}

BOOST_AUTO_TEST_CASE(a_resume_with_a_cancelled_token_undoes_the_saga_of_its_log) {
  test_system ts;
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto j = std::make_shared<journal>();
  auto log = std::make_shared<event_log>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<journaled_step>("reserve", State::Process, j))
              .register_task(State::Process, "Ship", [] { return State::Complete; })
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_observer(log);
  // The log of a run that reserved and entered Process, then its process died.
  BOOST_REQUIRE(store->append("crashed", cano::CheckpointRow(0, "Start", "reserve")).has_value());
  BOOST_REQUIRE(
    store->append("crashed", cano::CheckpointRow(1, "Start", "reserve").with_output(cano::to_blob("reserve")))
      .has_value());
  BOOST_REQUIRE(store->append("crashed", cano::CheckpointRow(2, "Process", "Ship")).has_value());
  auto [handle, token] = cano::cancellation_token::make();
  handle.cancel();
  check_cancelled(ts.rt->resume(wf, "crashed", token));
  BOOST_TEST(j->entries() == std::vector<std::string>({"rollback:reserve"}), boost::test_tools::per_element());
  BOOST_TEST(log->contains("cancelled:Process"));
  BOOST_TEST(log->count("task_start:") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
