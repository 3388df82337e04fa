// cano-semantics §1.8, errata O6 and §5.11 #157–160: BatchTask, through run_batch (cano's
// companion Task::run) and through the engine (rt.run), with blocking and non-blocking configs.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cano/batch_task.hpp"
#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Bounds every engine run generously, so a hang fails the test instead of blocking it.
constexpr cano::duration bound = std::chrono::seconds(60);

/// A batch over int items whose hooks are configurable and whose calls are recorded.
/// `body(item, call_no)` computes one item's output (call_no is 1-based per item).
class RecordingBatch : public cano::BatchTask<State, int, int> {
public:
  std::vector<int> items;
  std::size_t conc = 1;
  cano::RetryMode retry = cano::RetryMode::none();
  cano::TaskConfig cfg = cano::TaskConfig::minimal();
  std::function<cano::expected<int>(int, int)> body = [](int item, int) -> cano::expected<int> { return item; };
  bool load_fails = false;
  bool finish_fails = false;

  std::size_t concurrency() const override { return conc; }
  cano::RetryMode item_retry() const override { return retry; }
  cano::TaskConfig config() const override { return cfg; }

  cano::expected<std::vector<int>> load(cano::task_context&) override {
    ++load_calls;
    if (load_fails) {
      return cano::error::task_execution("load failed");
    }
    return items;
  }

  cano::expected<int> process_item(const int& item) override {
    int call_no = 0;
    {
      std::lock_guard<std::mutex> g(m_);
      call_no = ++item_calls_[item];
    }
    int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    auto out = body(item, call_no);
    --in_flight_;
    return out;
  }

  cano::expected<cano::TaskResult<State>> finish(cano::task_context&,
                                                 std::vector<cano::expected<int>> outputs) override {
    {
      std::lock_guard<std::mutex> g(m_);
      finish_outputs_ = outputs;
    }
    ++finish_calls;
    if (finish_fails) {
      return cano::error::task_execution("finish failed");
    }
    return State::Complete;
  }

  /// What the last finish saw, as "ok:<v>" / "err:<category>:<message>" joined by spaces.
  std::string finish_saw() const {
    std::lock_guard<std::mutex> g(m_);
    std::ostringstream os;
    for (std::size_t i = 0; i < finish_outputs_.size(); ++i) {
      const auto& o = finish_outputs_[i];
      os << (i ? " " : "");
      if (o) {
        os << "ok:" << *o;
      } else {
        os << "err:" << o.error().category() << ":" << o.error().message();
      }
    }
    return os.str();
  }
  int calls_of(int item) const {
    std::lock_guard<std::mutex> g(m_);
    auto it = item_calls_.find(item);
    return it == item_calls_.end() ? 0 : it->second;
  }
  int total_item_calls() const {
    std::lock_guard<std::mutex> g(m_);
    int n = 0;
    for (auto& kv : item_calls_) {
      n += kv.second;
    }
    return n;
  }
  int max_in_flight() const { return max_in_flight_.load(); }

  std::atomic<int> load_calls{0};
  std::atomic<int> finish_calls{0};

private:
  mutable std::mutex m_;
  std::map<int, int> item_calls_;
  std::vector<cano::expected<int>> finish_outputs_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

struct DefaultBatch : cano::BatchTask<State, int, int> {
  cano::expected<std::vector<int>> load(cano::task_context&) override { return std::vector<int>{}; }
  cano::expected<int> process_item(const int& i) override { return i; }
  cano::expected<cano::TaskResult<State>> finish(cano::task_context&, std::vector<cano::expected<int>>) override {
    return State::Complete;
  }
};

std::vector<int> range(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    v[static_cast<std::size_t>(i)] = i;
  }
  return v;
}

std::shared_ptr<RecordingBatch> make_batch(std::vector<int> items, std::size_t conc, bool blocking) {
  auto b = std::make_shared<RecordingBatch>();
  b->items = std::move(items);
  b->conc = conc;
  b->cfg = cano::TaskConfig::minimal().with_blocking(blocking);
  return b;
}

cano::Workflow<State> batch_workflow(std::shared_ptr<RecordingBatch> task) {
  return cano::Workflow<State>{}
    .register_task(State::Start, std::move(task))
    .add_exit_state(State::Complete)
    .with_timeout(bound);
}

/// A direct-call context (what cano's tests pass as `&Resources`).
struct direct_ctx {
  std::string id;
  std::string label = "Start";
  nlohmann::json input;
  cano::Resources res;
  cano::task_context ctx{id, label, 1, input, res, nullptr};
};

/// Item 1 fails; the others return themselves.
cano::expected<int> item_1_fails(int item, int) {
  if (item == 1) {
    return cano::error::task_execution("item 1 failed");
  }
  return item;
}

/// Item 1 fails on its first two calls, then returns 42.
cano::expected<int> item_1_fails_twice(int item, int call_no) {
  if (item == 1) {
    if (call_no <= 2) {
      return cano::error::task_execution("item 1 failed");
    }
    return 42;
  }
  return item;
}

/// Item i sleeps (5 - i) ms: later items tend to finish first (ordering pressure only).
cano::expected<int> smaller_is_slower(int item, int) {
  std::this_thread::sleep_for(std::chrono::milliseconds(5 - item));
  return item;
}

const std::vector<bool> blocking_modes{true, false};

} // namespace

BOOST_AUTO_TEST_SUITE(batch_task_test)

BOOST_AUTO_TEST_CASE(the_batch_defaults_are_concurrency_1_no_item_retry_and_the_default_config) {
  DefaultBatch b;
  BOOST_TEST(b.concurrency() == 1u);
  BOOST_TEST(b.item_retry().max_attempts() == 1u);
  BOOST_TEST(b.config().retry_mode.max_attempts() == 4u);
}

// --- run_batch (the companion Task::run) -------------------------------------------------------

BOOST_AUTO_TEST_CASE(run_batch_sequential_finish_sees_every_output_in_input_order) {
  auto b = make_batch(range(5), 1, true);
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2 ok:3 ok:4");
  BOOST_TEST(b->finish_calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(run_batch_with_concurrency_4_and_slower_early_items_keeps_input_order) {
  auto b = make_batch(range(5), 4, true);
  b->body = smaller_is_slower;
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2 ok:3 ok:4");
}

BOOST_AUTO_TEST_CASE(run_batch_a_failing_item_is_an_err_slot_and_the_batch_succeeds) {
  auto b = make_batch(range(3), 1, true);
  b->body = item_1_fails;
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(b->finish_saw() == "ok:0 err:task_execution:item 1 failed ok:2");
}

BOOST_AUTO_TEST_CASE(run_batch_item_retry_turns_two_failures_into_ok_42_after_three_calls) {
  auto b = make_batch(range(3), 1, true);
  b->retry = cano::RetryMode::fixed(2, 1ms);
  b->body = item_1_fails_twice;
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(b->finish_saw() == "ok:0 ok:42 ok:2");
  BOOST_TEST(b->calls_of(1) == 3);
  BOOST_TEST(b->calls_of(0) == 1);
  BOOST_TEST(b->calls_of(2) == 1);
}

BOOST_AUTO_TEST_CASE(run_batch_load_failure_is_returned_and_finish_is_never_called) {
  auto b = make_batch(range(3), 1, true);
  b->load_fails = true;
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "load failed");
  BOOST_TEST(b->finish_calls.load() == 0);
  BOOST_TEST(b->total_item_calls() == 0);
}

BOOST_AUTO_TEST_CASE(run_batch_finish_failure_is_returned) {
  auto b = make_batch(range(3), 1, true);
  b->finish_fails = true;
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "finish failed");
  BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2");
}

BOOST_AUTO_TEST_CASE(run_batch_with_concurrency_0_processes_one_item_at_a_time) {
  auto b = make_batch(range(5), 0, true);
  direct_ctx d;
  auto r = cano::run_batch(*b, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(b->max_in_flight() == 1);
  BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2 ok:3 ok:4");
}

// --- through the engine ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_sequential_batch_in_a_workflow_finishes_with_outputs_in_input_order) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch(range(5), 1, blocking);
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2 ok:3 ok:4");
      BOOST_TEST(b->finish_calls.load() == 1);
      BOOST_TEST(b->max_in_flight() == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_concurrent_batch_with_slower_early_items_finishes_in_input_order) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch(range(5), 4, blocking);
      b->body = smaller_is_slower;
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2 ok:3 ok:4");
      BOOST_TEST(b->max_in_flight() <= 4);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_batch_in_a_workflow_calls_finish_with_no_outputs) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch({}, 3, blocking);
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(b->finish_calls.load() == 1);
      BOOST_TEST(b->finish_saw() == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failing_item_in_a_workflow_is_an_err_slot_and_the_run_succeeds) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch(range(3), 2, blocking);
      b->body = item_1_fails;
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(b->finish_saw() == "ok:0 err:task_execution:item 1 failed ok:2");
      BOOST_TEST(b->calls_of(1) == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(item_retry_in_a_workflow_turns_two_failures_into_ok_42_after_three_calls) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto obs = std::make_shared<recording_observer>();
      auto b = make_batch(range(3), 1, blocking);
      b->retry = cano::RetryMode::fixed(2, 1ms);
      b->body = item_1_fails_twice;
      auto r = ts.rt->run(batch_workflow(b).with_observer(obs), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(b->finish_saw() == "ok:0 ok:42 ok:2");
      BOOST_TEST(b->calls_of(1) == 3);
      BOOST_TEST(b->calls_of(0) == 1);
      BOOST_TEST(b->calls_of(2) == 1);
      // O6: item retries fire no on_retry.
      auto ev = obs->events();
      BOOST_TEST(std::none_of(ev.begin(), ev.end(), [](const std::string& e) { return e.rfind("retry:", 0) == 0; }));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_item_that_exhausts_its_item_retries_keeps_its_raw_error) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch(range(3), 1, blocking);
      b->retry = cano::RetryMode::fixed(2, 1ms);
      b->body = item_1_fails;
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(b->finish_saw() == "ok:0 err:task_execution:item 1 failed ok:2");
      BOOST_TEST(b->calls_of(1) == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_load_failure_in_a_workflow_is_the_raw_error_and_finish_is_never_called) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch(range(3), 1, blocking);
      b->load_fails = true;
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("task_execution"));
      BOOST_TEST(r.error().message() == "load failed");
      BOOST_TEST(b->load_calls.load() == 1);
      BOOST_TEST(b->finish_calls.load() == 0);
      BOOST_TEST(b->total_item_calls() == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_task_retry_policy_reruns_load_after_a_load_failure) {
  test_system ts;
  auto b = make_batch(range(3), 1, true);
  b->cfg = cano::TaskConfig{}.with_fixed_retry(2, 1ms);
  b->load_fails = true;
  auto r = ts.rt->run(batch_workflow(b), State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
  BOOST_TEST(r.error().message() == "Task failed after 3 attempt(s): Task execution error: load failed");
  BOOST_TEST(b->load_calls.load() == 3);
  BOOST_TEST(b->finish_calls.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_finish_failure_in_a_workflow_is_the_run_error) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto b = make_batch(range(3), 2, blocking);
      b->finish_fails = true;
      auto r = ts.rt->run(batch_workflow(b), State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("task_execution"));
      BOOST_TEST(r.error().message() == "finish failed");
      BOOST_TEST(b->finish_calls.load() == 1);
      BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_task_retry_policy_reruns_the_whole_cycle_after_a_finish_failure) {
  test_system ts;
  auto b = make_batch(range(3), 1, true);
  b->cfg = cano::TaskConfig{}.with_fixed_retry(1, 1ms);
  b->finish_fails = true;
  auto r = ts.rt->run(batch_workflow(b), State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
  BOOST_TEST(r.error().message() == "Task failed after 2 attempt(s): Task execution error: finish failed");
  BOOST_TEST(b->load_calls.load() == 2);
  BOOST_TEST(b->finish_calls.load() == 2);
  BOOST_TEST(b->calls_of(0) == 2);
  BOOST_TEST(b->calls_of(1) == 2);
  BOOST_TEST(b->calls_of(2) == 2);
}

BOOST_AUTO_TEST_CASE(a_blocking_batch_with_concurrency_0_has_one_item_in_flight_at_a_time) {
  test_system ts;
  auto b = make_batch(range(8), 0, true);
  b->body = [](int item, int) -> cano::expected<int> {
    std::this_thread::sleep_for(2ms); // gives a second item the chance to overlap
    return item;
  };
  auto r = ts.rt->run(batch_workflow(b), State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(b->max_in_flight() == 1);
  BOOST_TEST(b->finish_saw() == "ok:0 ok:1 ok:2 ok:3 ok:4 ok:5 ok:6 ok:7");
}

BOOST_AUTO_TEST_CASE(a_blocking_batch_with_concurrency_3_never_has_more_than_3_items_in_flight) {
  test_system ts;
  // The first three items meet at a barrier, so three really are in flight together once.
  auto first_wave = std::make_shared<barrier>(3);
  auto barrier_missed = std::make_shared<std::atomic<bool>>(false);
  auto b = make_batch(range(30), 3, true);
  b->body = [first_wave, barrier_missed](int item, int) -> cano::expected<int> {
    if (item < 3) {
      if (!first_wave->arrive_and_wait(10s)) {
        barrier_missed->store(true);
      }
    } else {
      std::this_thread::sleep_for(1ms);
    }
    return item * 10;
  };
  auto r = ts.rt->run(batch_workflow(b), State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(!barrier_missed->load());
  BOOST_TEST(b->max_in_flight() <= 3);
  BOOST_TEST(b->max_in_flight() == 3);
  BOOST_TEST(b->total_item_calls() == 30);
  std::string expected;
  for (int i = 0; i < 30; ++i) {
    expected += (i ? " ok:" : "ok:") + std::to_string(i * 10);
  }
  BOOST_TEST(b->finish_saw() == expected);
}

BOOST_AUTO_TEST_SUITE_END()
