// Registering flows and starting/stopping a scheduler (spec §1.20, §5.13 scenarios 171-172):
// cano's builder errors, validation before any setup, resources set up per flow in order at
// start and torn down in reverse at stop, never per run (and how that meets ARCHITECTURE D5).
#include <atomic>
#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "cano/saga.hpp"
#include "cano/scheduler.hpp"
#include "scheduler/scheduler_support.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"
#include "support/virtual_time.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

class event_log {
public:
  void add(std::string e) {
    std::lock_guard<std::mutex> g(m_);
    events_.push_back(std::move(e));
  }
  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> g(m_);
    return events_;
  }

private:
  mutable std::mutex m_;
  std::vector<std::string> events_;
};

class recording_resource : public cano::Resource {
public:
  recording_resource(std::string name, std::shared_ptr<event_log> log, bool fail_setup = false)
    : name_(std::move(name)),
      log_(std::move(log)),
      fail_setup_(fail_setup) {}
  cano::expected<void> setup() override {
    log_->add("setup:" + name_);
    if (fail_setup_) {
      return cano::error::task_execution(name_ + " setup failed");
    }
    ready = true;
    return {};
  }
  cano::expected<void> teardown() override {
    log_->add("teardown:" + name_);
    ready = false;
    return {};
  }
  std::atomic<bool> ready{false};

private:
  std::string name_;
  std::shared_ptr<event_log> log_;
  bool fail_setup_;
};

/// A one-state workflow whose resources hold one recording resource named `name`; its task
/// checks the resource is set up and counts its calls.
cano::Workflow<State> resource_workflow(const std::string& name, std::shared_ptr<event_log> log,
                                        std::shared_ptr<std::atomic<int>> calls, bool fail_setup = false) {
  cano::Resources res;
  res.insert("r", std::make_shared<recording_resource>(name, std::move(log), fail_setup));
  auto task = [calls](cano::task_context& ctx) -> cano::expected<State> {
    auto r = ctx.resources().get<recording_resource>("r");
    if (!r || !(*r)->ready) {
      return cano::error::task_execution("resource not set up");
    }
    ++*calls;
    return State::Complete;
  };
  return cano::Workflow<State>(std::move(res))
    .register_task(State::Start, "UseResource", task, cano::TaskConfig::minimal().with_blocking(false))
    .add_exit_state(State::Complete);
}

/// A blocking saga step (its undo runs on the pool) whose undo logs "undo:<name>", waits for
/// `release`, then logs "undone:<name>".
class held_undo : public cano::CompensatableTask<State, int> {
public:
  held_undo(std::string name, std::shared_ptr<event_log> log) : name_(std::move(name)), log_(std::move(log)) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(State::Process), 1);
  }
  cano::expected<void> compensate(cano::task_context&, int) override {
    log_->add("undo:" + name_);
    undoing->arrive();
    release->wait_for(std::chrono::seconds(60));
    log_->add("undone:" + name_);
    return {};
  }
  std::shared_ptr<test::counter> undoing = std::make_shared<test::counter>();
  std::shared_ptr<test::gate> release = std::make_shared<test::gate>();

private:
  std::string name_;
  std::shared_ptr<event_log> log_;
};

/// Runs the virtual system until `pred` holds: work on the pool's real threads arrives on its own
/// time. Bounded.
template <class Pred>
bool run_until(virtual_system& vs, Pred pred) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    vs.run();
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

std::vector<std::string> strings(std::initializer_list<const char*> xs) { return {xs.begin(), xs.end()}; }

} // namespace

BOOST_AUTO_TEST_SUITE(scheduler_builder_test)

BOOST_AUTO_TEST_CASE(every_kind_of_flow_registers) {
  virtual_system vs;
  auto log = std::make_shared<call_log>();
  auto wf = ok_workflow(*vs.sys, log);
  cano::Scheduler<State> s;
  BOOST_TEST(s.is_empty());
  BOOST_TEST(s.len() == 0u);
  BOOST_TEST(text(s.every_seconds("sec", wf, State::Start, 5)) == "ok");
  BOOST_TEST(text(s.every_minutes("min", wf, State::Start, 2)) == "ok");
  BOOST_TEST(text(s.every_hours("hour", wf, State::Start, 1)) == "ok");
  BOOST_TEST(text(s.every("ms", wf, State::Start, 100ms)) == "ok");
  BOOST_TEST(text(s.cron("cron", wf, State::Start, "0 */5 * * * *")) == "ok");
  BOOST_TEST(text(s.manual("manual", wf, State::Start)) == "ok");
  BOOST_TEST(s.len() == 6u);
  BOOST_TEST(!s.is_empty());
  for (const char* id : {"sec", "min", "hour", "ms", "cron", "manual"}) {
    BOOST_TEST(s.contains(id), id);
  }
  BOOST_TEST(!s.contains("other"));
}

BOOST_AUTO_TEST_CASE(builder_errors_carry_canos_texts) {
  virtual_system vs;
  auto wf = ok_workflow(*vs.sys, std::make_shared<call_log>());
  cano::Scheduler<State> s;
  auto bad = s.cron("c", wf, State::Start, "invalid cron");
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().code() == cano::errc::configuration);
  BOOST_TEST(bad.error().message().rfind("Invalid cron expression: ", 0) == 0u);
  BOOST_TEST(!s.contains("c"));

  BOOST_TEST(text(s.manual("a", wf, State::Start)) == "ok");
  auto dup = s.every("a", wf, State::Start, 1s);
  BOOST_TEST_REQUIRE(!dup.has_value());
  BOOST_TEST(dup.error().code() == cano::errc::configuration);
  BOOST_TEST(dup.error().message() == "Flow 'a' already exists");

  auto unknown = s.set_backoff("zzz", cano::BackoffPolicy{});
  BOOST_TEST_REQUIRE(!unknown.has_value());
  BOOST_TEST(unknown.error().code() == cano::errc::configuration);
  BOOST_TEST(unknown.error().message() == "Flow 'zzz' not found — cannot set backoff");
  BOOST_TEST(text(s.set_backoff("a", cano::BackoffPolicy::with_trip(2))) == "ok");

  auto negative = s.every("n", wf, State::Start, -5ms);
  BOOST_TEST_REQUIRE(!negative.has_value());
  BOOST_TEST(negative.error().message() == "Flow 'n' has a negative interval (-5000000ns)");
  BOOST_TEST(s.len() == 1u);
}

BOOST_AUTO_TEST_CASE(start_refuses_a_workflow_without_exit_states_before_any_setup) {
  virtual_system vs;
  auto events = std::make_shared<event_log>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto no_exit = cano::Workflow<State>{}.register_task(State::Start, "T", [] { return State::Complete; });
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("good", resource_workflow("A", events, calls), State::Start)) == "ok");
  BOOST_TEST(text(s.every_seconds("bad", no_exit, State::Start, 60)) == "ok");
  auto started = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(!started.has_value());
  BOOST_TEST(started.error().code() == cano::errc::configuration);
  BOOST_TEST(started.error().message() == "Workflow has no exit states defined — orchestration may loop forever");
  BOOST_TEST(events->events().empty()); // validation comes first: nothing was set up
}

BOOST_AUTO_TEST_CASE(start_refuses_an_initial_state_neither_registered_nor_exit) {
  virtual_system vs;
  auto wf = ok_workflow(*vs.sys, std::make_shared<call_log>());
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every_seconds("bad_init", wf, State::Process, 60)) == "ok");
  auto started = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(!started.has_value());
  BOOST_TEST(started.error().code() == cano::errc::configuration);
  BOOST_TEST(started.error().message() == "Initial state Process is neither registered nor an exit state");
}

BOOST_AUTO_TEST_CASE(resources_are_set_up_in_registration_order_and_torn_down_in_reverse_at_stop) {
  virtual_system vs;
  auto events = std::make_shared<event_log>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("a", resource_workflow("A", events, calls), State::Start)) == "ok");
  BOOST_TEST(text(s.manual("b", resource_workflow("B", events, calls), State::Start)) == "ok");
  BOOST_TEST(text(s.manual("c", resource_workflow("C", events, calls), State::Start)) == "ok");
  auto running = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(s.is_empty()); // start took the flows
  BOOST_TEST(events->events() == strings({"setup:A", "setup:B", "setup:C"}), boost::test_tools::per_element());
  for (const char* id : {"a", "b", "c"}) {
    BOOST_TEST(text(running->trigger(id)) == "ok");
  }
  vs.run();
  BOOST_TEST(calls->load() == 3);
  BOOST_TEST(events->events().size() == 3u); // runs set nothing up and tear nothing down
  running->request_stop();
  vs.run();
  auto stopped = running->wait_for(10s);
  BOOST_TEST_REQUIRE(stopped.has_value());
  BOOST_TEST(text(*stopped) == "ok");
  BOOST_TEST(events->events() == strings({"setup:A", "setup:B", "setup:C", "teardown:C", "teardown:B", "teardown:A"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failed_setup_tears_down_the_flows_already_set_up_in_reverse) {
  virtual_system vs;
  auto events = std::make_shared<event_log>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("a", resource_workflow("A", events, calls), State::Start)) == "ok");
  BOOST_TEST(text(s.manual("b", resource_workflow("B", events, calls), State::Start)) == "ok");
  BOOST_TEST(text(s.manual("c", resource_workflow("C", events, calls, true), State::Start)) == "ok");
  BOOST_TEST(text(s.manual("d", resource_workflow("D", events, calls), State::Start)) == "ok");
  auto running = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(!running.has_value());
  BOOST_TEST(running.error().to_string() == "Task execution error: C setup failed");
  BOOST_TEST(events->events() == strings({"setup:A", "setup:B", "setup:C", "teardown:B", "teardown:A"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(scheduled_runs_skip_per_run_setup_and_the_workflow_timeout) {
  virtual_system vs;
  auto events = std::make_shared<event_log>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto log = std::make_shared<call_log>();
  // A 50 ms run under a 10 ms workflow timeout: cano's scheduler path ignores with_timeout.
  cano::Resources res;
  res.insert("r", std::make_shared<recording_resource>("A", events));
  auto wf = cano::Workflow<State>(std::move(res))
              .register_task(State::Start, std::make_shared<slow_poll>(*vs.sys, log, 50ms))
              .add_exit_state(State::Complete)
              .with_timeout(10ms);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.every("slow", wf, State::Start, 100ms)) == "ok");
  auto running = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  vs.advance(1s);
  auto info = running->status("slow");
  BOOST_TEST_REQUIRE(info.has_value());
  BOOST_TEST(info->run_count >= 6u);
  BOOST_TEST(info->failure_streak == 0u);
  BOOST_TEST(log->count() == info->run_count);
  BOOST_TEST(events->events() == strings({"setup:A"}), boost::test_tools::per_element());
  running->request_stop();
  vs.run();
  vs.advance(100ms); // the run in flight ends
  BOOST_TEST_REQUIRE(running->wait_for(10s).has_value());
  BOOST_TEST(events->events() == strings({"setup:A", "teardown:A"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(past_its_bound_stop_cancels_runs_and_tears_down_after_their_rollback) {
  // cano 0.15: stop cancels the runs still in flight, then lets them drain; their undos may
  // still use the resources, so the teardown comes after them.
  virtual_system vs;
  auto events = std::make_shared<event_log>();
  cano::Resources res;
  res.insert("r", std::make_shared<recording_resource>("A", events));
  auto step = std::make_shared<held_undo>("reserve", events);
  auto calls = std::make_shared<call_log>();
  auto wf = cano::Workflow<State>(std::move(res))
              .register_with_compensation(State::Start, step)
              .register_task(State::Process, std::make_shared<slow_poll>(*vs.sys, calls, 1h))
              .add_exit_state(State::Complete);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("saga", wf, State::Start)) == "ok");
  s.with_stop_bound(100ms);
  auto running = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(text(running->trigger("saga")) == "ok");
  BOOST_REQUIRE(run_until(vs, [&] { return calls->count() == 1u; })); // in Process, for an hour
  running->request_stop();
  vs.run();
  vs.advance(100ms); // the bound: the run is cancelled and its undo begins (held)
  BOOST_REQUIRE(run_until(vs, [&] { return step->undoing->value() >= 1; }));
  BOOST_TEST(!running->wait_for(0ms).has_value());
  BOOST_TEST(events->events() == strings({"setup:A", "undo:reserve"}), boost::test_tools::per_element());
  step->release->open();
  BOOST_REQUIRE(run_until(vs, [&] { return running->wait_for(0ms).has_value(); }));
  BOOST_TEST(text(*running->wait_for(0ms)) == "Workflow error: Timeout waiting for workflows to complete");
  BOOST_TEST(events->events() == strings({"setup:A", "undo:reserve", "undone:reserve", "teardown:A"}),
             boost::test_tools::per_element());
  BOOST_TEST(vs.rt->runs_in_flight() == 0u);
}

BOOST_AUTO_TEST_CASE(runs_started_elsewhere_share_the_schedulers_lease) {
  // D5: the scheduler holds one lease from start to stop; a direct run of the same workflow
  // neither sets the resources up again nor tears them down under the scheduler.
  test_system ts;
  auto events = std::make_shared<event_log>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto wf = resource_workflow("A", events, calls);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("m", wf, State::Start)) == "ok");
  auto running = s.start(*ts.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  auto direct = ts.rt->run(wf, State::Start);
  BOOST_TEST_REQUIRE(direct.has_value());
  BOOST_TEST(calls->load() == 1);
  BOOST_TEST(events->events() == strings({"setup:A"}), boost::test_tools::per_element());
  BOOST_TEST(text(running->stop()) == "ok");
  BOOST_TEST(events->events() == strings({"setup:A", "teardown:A"}), boost::test_tools::per_element());
  // Without the scheduler, a run sets up and tears down by itself again (cano's per-run rule).
  BOOST_TEST(ts.rt->run(wf, State::Start).has_value());
  BOOST_TEST(events->events() == strings({"setup:A", "teardown:A", "setup:A", "teardown:A"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(two_flows_of_one_workflow_set_it_up_once) {
  virtual_system vs;
  auto events = std::make_shared<event_log>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto wf = resource_workflow("A", events, calls);
  cano::Scheduler<State> s;
  BOOST_TEST(text(s.manual("one", wf, State::Start)) == "ok");
  BOOST_TEST(text(s.manual("two", wf, State::Start)) == "ok");
  auto running = s.start(*vs.rt);
  BOOST_TEST_REQUIRE(running.has_value());
  BOOST_TEST(events->events() == strings({"setup:A"}), boost::test_tools::per_element());
  running->request_stop();
  vs.run();
  BOOST_TEST_REQUIRE(running->wait_for(10s).has_value());
  BOOST_TEST(events->events() == strings({"setup:A", "teardown:A"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
