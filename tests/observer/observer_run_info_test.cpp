// Observer hooks with the run they are about (run_info): concurrent runs are told apart, by
// workflow id and by the runtime's run id (also for runs without a workflow id); an observer
// written with cano's signatures still gets every hook.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cano/memory_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Records "event:arg" per run id, with each run's workflow id and definition.
struct by_run : cano::WorkflowObserver {
  void on_state_enter(const cano::run_info& run, const std::string& s) override { add(run, "state_enter:" + s); }
  void on_task_start(const cano::run_info& run, const std::string& t) override { add(run, "task_start:" + t); }
  void on_task_success(const cano::run_info& run, const std::string& t) override { add(run, "task_success:" + t); }
  void on_task_failure(const cano::run_info& run, const std::string& t, const cano::error&) override {
    add(run, "task_failure:" + t);
  }
  void on_retry(const cano::run_info& run, const std::string& t, std::uint32_t a) override {
    add(run, "retry:" + t + ":" + std::to_string(a));
  }
  void on_checkpoint(const cano::run_info& run, std::uint64_t seq) override {
    add(run, "checkpoint:" + std::to_string(seq));
  }

  void add(const cano::run_info& run, std::string e) {
    std::lock_guard<std::mutex> g(mutex);
    auto& r = runs[run.run_id];
    r.workflow_id = run.workflow_id;
    r.definition = run.definition;
    r.events.push_back(std::move(e));
  }
  struct seen {
    std::string workflow_id;
    std::string definition;
    std::vector<std::string> events;
  };
  std::mutex mutex;
  std::map<std::uint64_t, seen> runs;
};

/// Both runs wait here until both have started their task: they overlap for sure.
struct rendezvous {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  void meet() {
    std::unique_lock<std::mutex> lock(m);
    ++arrived;
    cv.notify_all();
    cv.wait_for(lock, 30s, [this] { return arrived >= 2; });
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(observer_run_info_test)

BOOST_AUTO_TEST_CASE(concurrent_runs_are_told_apart_by_workflow_id_and_run_id) {
  test_system ts;
  auto obs = std::make_shared<by_run>();
  auto meet = std::make_shared<rendezvous>();
  auto wf = cano::Workflow<State>{}
              .with_name("pair")
              .with_checkpoint_store(std::make_shared<cano::MemoryCheckpointStore>())
              .register_task(State::Start, "Meet",
                             [meet]() -> cano::expected<State> {
                               meet->meet();
                               return State::Done;
                             })
              .add_exit_state(State::Done)
              .with_observer(obs);
  std::thread a([&] { BOOST_CHECK(ts.rt->run(wf, State::Start, {"run-a", nullptr}).has_value()); });
  std::thread b([&] { BOOST_CHECK(ts.rt->run(wf, State::Start, {"run-b", nullptr}).has_value()); });
  a.join();
  b.join();
  BOOST_REQUIRE(obs->runs.size() == 2u);
  std::vector<std::string> canonical{"state_enter:Start", "checkpoint:0",     "task_start:Meet",
                                     "task_success:Meet", "state_enter:Done", "checkpoint:1"};
  std::set<std::string> ids;
  for (const auto& [run_id, seen] : obs->runs) {
    BOOST_TEST(run_id != 0u);
    BOOST_TEST(seen.definition == "pair");
    ids.insert(seen.workflow_id);
    BOOST_TEST(seen.events == canonical, boost::test_tools::per_element());
  }
  BOOST_TEST((ids == std::set<std::string>{"run-a", "run-b"}));
}

BOOST_AUTO_TEST_CASE(runs_without_a_workflow_id_are_told_apart_by_their_run_id) {
  test_system ts;
  auto obs = std::make_shared<by_run>();
  auto meet = std::make_shared<rendezvous>();
  auto n = make_calls();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, "Meet",
                             [meet]() -> cano::expected<State> {
                               meet->meet();
                               return State::Process;
                             })
              .register_task(State::Process, flaky_task(n, 1, State::Done, cano::TaskConfig{}.with_fixed_retry(1, 1ms)))
              .add_exit_state(State::Done)
              .with_observer(obs);
  std::thread a([&] { BOOST_CHECK(ts.rt->run(wf, State::Start).has_value()); });
  std::thread b([&] { BOOST_CHECK(ts.rt->run(wf, State::Start).has_value()); });
  a.join();
  b.join();
  BOOST_REQUIRE(obs->runs.size() == 2u);
  int retries = 0;
  for (const auto& [run_id, seen] : obs->runs) {
    BOOST_TEST(seen.workflow_id.empty());
    BOOST_TEST(seen.events.front() == "state_enter:Start");
    BOOST_TEST(seen.events.back() == "state_enter:Done");
    for (const auto& e : seen.events) {
      retries += e == "retry:Flaky:1" ? 1 : 0;
    }
  }
  BOOST_TEST(retries == 1); // one run's first Process attempt failed; the hook says which run
}

BOOST_AUTO_TEST_CASE(an_observer_with_canos_signatures_still_gets_every_hook) {
  test_system ts;
  auto old_style = std::make_shared<recording_observer>();
  auto wf = cano::Workflow<State>{}
              .with_checkpoint_store(std::make_shared<cano::MemoryCheckpointStore>())
              .register_task(State::Start, goto_task(State::Done))
              .add_exit_state(State::Done)
              .with_observer(old_style);
  BOOST_REQUIRE(ts.rt->run(wf, State::Start, {"old-style", nullptr}).has_value());
  std::vector<std::string> expected{"state_enter:Start", "checkpoint:old-style:0", "task_start:GoTo",
                                    "task_success:GoTo", "state_enter:Done",       "checkpoint:old-style:1"};
  BOOST_TEST(old_style->events() == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(split_branches_report_their_run) {
  test_system ts;
  auto obs = std::make_shared<by_run>();
  auto wf = cano::Workflow<State>{}
              .register_split(State::Start, {goto_task(State::Join, {}, "B"), goto_task(State::Join, {}, "B")},
                              cano::JoinConfig<State>{cano::JoinStrategy::all(), State::Join})
              .register_task(State::Join, goto_task(State::Done))
              .add_exit_state(State::Done)
              .with_observer(obs);
  BOOST_REQUIRE(ts.rt->run(wf, State::Start, {"split-run", nullptr}).has_value());
  BOOST_REQUIRE(obs->runs.size() == 1u);
  const auto& events = obs->runs.begin()->second.events;
  BOOST_TEST(obs->runs.begin()->second.workflow_id == "split-run");
  BOOST_TEST(std::count(events.begin(), events.end(), "task_start:B[0]") == 1);
  BOOST_TEST(std::count(events.begin(), events.end(), "task_success:B[1]") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
