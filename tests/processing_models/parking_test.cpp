// Waiting costs no threads: thousands of runs parked in a poll's Pending, or a batch of
// thousands of items, run on a handful of threads (timers and the bounded pool, never a
// sleeping thread per run or per item).
#include <mutex>
#include <set>

#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/workflow.hpp"
#include "process_stats.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Pending on each run's first poll (counted), Ready on the second.
class park_once : public cano::PollTask<State> {
public:
  park_once(std::shared_ptr<counter> parked, bool blocking) : parked_(std::move(parked)), blocking_(blocking) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(blocking_); }
  cano::expected<cano::PollOutcome<State>> poll(cano::task_context& ctx) override {
    if (ctx.input().is_null()) {
      return cano::error::task_execution("missing input");
    }
    auto key = ctx.workflow_id();
    std::lock_guard<std::mutex> g(m_);
    if (seen_.insert(key).second) {
      parked_->arrive();
      return cano::PollOutcome<State>::pending(300);
    }
    return cano::PollOutcome<State>::ready(State::Complete);
  }

private:
  std::shared_ptr<counter> parked_;
  bool blocking_;
  std::mutex m_;
  std::set<std::string> seen_;
};

struct count_items : cano::BatchTask<State, int, int> {
  explicit count_items(std::shared_ptr<std::size_t> finished_with) : finished_with_(std::move(finished_with)) {}
  std::size_t concurrency() const override { return 8; }
  cano::expected<std::vector<int>> load(cano::task_context&) override {
    std::vector<int> items(10000);
    for (int i = 0; i < 10000; ++i) {
      items[static_cast<std::size_t>(i)] = i;
    }
    return items;
  }
  cano::expected<int> process_item(const int& item) override {
    max_threads_seen = std::max(max_threads_seen.load(), cano_apps::thread_count());
    return item * 2;
  }
  cano::expected<cano::TaskResult<State>> finish(cano::task_context&,
                                                 std::vector<cano::expected<int>> outputs) override {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      ok += outputs[i] && *outputs[i] == static_cast<int>(2 * i) ? 1 : 0;
    }
    *finished_with_ = ok;
    return State::Complete;
  }
  std::atomic<std::size_t> max_threads_seen{0};
  std::shared_ptr<std::size_t> finished_with_;
};

void ten_thousand_parked_runs(bool blocking_polls) {
  test_system ts;
  constexpr std::size_t runs = 10000;
  auto parked = std::make_shared<counter>();
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, std::make_shared<park_once>(parked, blocking_polls))
              .add_exit_state(State::Complete);
  caf::scoped_actor self{*ts.sys};
  for (std::size_t i = 0; i < runs; ++i) {
    ts.rt->start(wf, State::Start, {"parked-" + std::to_string(i), {{"n", i}}}, caf::actor_cast<caf::actor>(self));
  }
  BOOST_REQUIRE(parked->wait_for_at_least(runs, 120s));
  BOOST_TEST(cano_apps::thread_count() <= 32u);
  std::size_t ok = 0;
  for (std::size_t i = 0; i < runs; ++i) {
    bool got = false;
    self->receive(
      [&](cano::run_result& r) {
        ok += r.ok() ? 1 : 0;
        got = true;
      },
      caf::after(std::chrono::seconds(120)) >> [] {});
    BOOST_REQUIRE(got);
  }
  BOOST_TEST(ok == runs);
  BOOST_TEST(cano_apps::thread_count() <= 32u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(parking_test)

BOOST_AUTO_TEST_CASE(ten_thousand_runs_parked_in_inline_polls_hold_no_threads) { ten_thousand_parked_runs(false); }

BOOST_AUTO_TEST_CASE(ten_thousand_runs_parked_in_blocking_polls_hold_no_threads) { ten_thousand_parked_runs(true); }

BOOST_AUTO_TEST_CASE(a_batch_of_ten_thousand_items_runs_on_a_bounded_number_of_threads) {
  test_system ts;
  auto finished_with = std::make_shared<std::size_t>(0);
  auto batch = std::make_shared<count_items>(finished_with);
  auto wf = cano::Workflow<State>{}.register_task(State::Start, batch).add_exit_state(State::Complete);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*finished_with == 10000u);
  BOOST_TEST(batch->max_threads_seen.load() <= 32u);
  BOOST_TEST(batch->max_threads_seen.load() > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
