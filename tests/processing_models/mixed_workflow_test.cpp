// One workflow through every processing model: router → poll → batch → stepped → exit.
#include <boost/test/unit_test.hpp>

#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

enum class Flow { Route, Await, Process, Import, Done };
std::string to_string(Flow f) {
  switch (f) {
    case Flow::Route: return "Route";
    case Flow::Await: return "Await";
    case Flow::Process: return "Process";
    case Flow::Import: return "Import";
    case Flow::Done: return "Done";
  }
  return "?";
}

struct counts {
  std::atomic<int> polls{0};
  std::atomic<int> items{0};
  std::atomic<int> finishes{0};
  std::atomic<int> steps{0};
};

struct await_ready : cano::PollTask<Flow> {
  explicit await_ready(std::shared_ptr<counts> c) : c_(std::move(c)) {}
  std::string name() const override { return "await"; }
  cano::expected<cano::PollOutcome<Flow>> poll(cano::task_context&) override {
    if (++c_->polls < 3) {
      return cano::PollOutcome<Flow>::pending(1);
    }
    return cano::PollOutcome<Flow>::ready(Flow::Process);
  }
  std::shared_ptr<counts> c_;
};

struct process_items : cano::BatchTask<Flow, int, int> {
  explicit process_items(std::shared_ptr<counts> c) : c_(std::move(c)) {}
  std::string name() const override { return "process"; }
  std::size_t concurrency() const override { return 2; }
  cano::expected<std::vector<int>> load(cano::task_context&) override { return std::vector<int>{1, 2, 3, 4, 5}; }
  cano::expected<int> process_item(const int& i) override {
    ++c_->items;
    return i * i;
  }
  cano::expected<cano::TaskResult<Flow>> finish(cano::task_context&, std::vector<cano::expected<int>> out) override {
    ++c_->finishes;
    int sum = 0;
    for (auto& o : out) {
      sum += o ? *o : 0;
    }
    if (sum != 55) {
      return cano::error::task_execution("wrong sum " + std::to_string(sum));
    }
    return Flow::Import;
  }
  std::shared_ptr<counts> c_;
};

struct import_pages : cano::SteppedTask<Flow, int> {
  explicit import_pages(std::shared_ptr<counts> c) : c_(std::move(c)) {}
  std::string name() const override { return "import"; }
  cano::expected<cano::StepOutcome<Flow, int>> step(cano::task_context&, std::optional<int> page) override {
    ++c_->steps;
    int next = page.value_or(0) + 1;
    if (next < 4) {
      return cano::StepOutcome<Flow, int>::more(next);
    }
    return cano::StepOutcome<Flow, int>::done(Flow::Done);
  }
  std::shared_ptr<counts> c_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(mixed_workflow_test)

BOOST_AUTO_TEST_CASE(router_poll_batch_and_stepped_tasks_chain_to_the_exit) {
  for (bool blocking : {true, false}) {
    test_system ts;
    auto c = std::make_shared<counts>();
    auto obs = std::make_shared<recording_observer>();
    auto wf = cano::Workflow<Flow>{}
                .register_router(
                  Flow::Route, "route", [] { return Flow::Await; }, cano::TaskConfig::minimal().with_blocking(blocking))
                .register_task(Flow::Await, std::make_shared<await_ready>(c))
                .register_task(Flow::Process, std::make_shared<process_items>(c))
                .register_stepped(Flow::Import, std::make_shared<import_pages>(c))
                .add_exit_state(Flow::Done)
                .with_observer(obs);
    auto r = ts.rt->run(wf, Flow::Route);
    BOOST_REQUIRE(r.has_value());
    BOOST_TEST((*r == Flow::Done));
    BOOST_TEST(c->polls.load() == 3);
    BOOST_TEST(c->items.load() == 5);
    BOOST_TEST(c->finishes.load() == 1);
    BOOST_TEST(c->steps.load() == 4);
    std::vector<std::string> enters;
    for (const auto& e : obs->events()) {
      if (e.rfind("state_enter:", 0) == 0) {
        enters.push_back(e.substr(12));
      }
    }
    std::vector<std::string> expected{"Route", "Await", "Process", "Import", "Done"};
    BOOST_TEST(enters == expected, boost::test_tools::per_element());
    BOOST_TEST(obs->contains("task_success:import"));
  }
}

BOOST_AUTO_TEST_SUITE_END()
