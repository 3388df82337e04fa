// cano-semantics §1.9, §1.12 (execute_stepped_task) and §5.11 #162: SteppedTask, through
// run_stepped (cano's companion Task::run) and through register_stepped (the engine path).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "cano/stepped_task.hpp"
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

/// Records the cursors its steps saw ("none" for no cursor), thread-safely.
class cursor_log {
public:
  void add(std::string c) {
    std::lock_guard<std::mutex> g(m_);
    seen_.push_back(std::move(c));
  }
  /// The cursors seen, joined by spaces.
  std::string str() const {
    std::lock_guard<std::mutex> g(m_);
    std::string out;
    for (std::size_t i = 0; i < seen_.size(); ++i) {
      out += (i ? " " : "") + seen_[i];
    }
    return out;
  }

private:
  mutable std::mutex m_;
  std::vector<std::string> seen_;
};

std::string show(const std::optional<int>& c) { return c ? std::to_string(*c) : "none"; }

/// cano's CountingStepper(n) with an int cursor: None -> More(1), Some(k) -> More(k + 1) while
/// k + 1 < n, then Done(Complete). `hook(cursor, call_no)` may fail or block a step first.
class CountingStepper : public cano::SteppedTask<State, int> {
public:
  using hook_fn = std::function<cano::expected<void>(const std::optional<int>&, int call_no)>;

  explicit CountingStepper(int n, cano::TaskConfig cfg = cano::TaskConfig{}, hook_fn hook = {})
    : n_(n),
      cfg_(std::move(cfg)),
      hook_(std::move(hook)) {}

  cano::TaskConfig config() const override { return cfg_; }

  cano::expected<cano::StepOutcome<State, int>> step(cano::task_context&, std::optional<int> cursor) override {
    int call_no = ++calls_;
    log.add(show(cursor));
    if (hook_) {
      auto h = hook_(cursor, call_no);
      if (!h) {
        return h.error();
      }
    }
    int next = cursor.value_or(0) + 1;
    if (next < n_) {
      return cano::StepOutcome<State, int>::more(next);
    }
    return cano::StepOutcome<State, int>::done(State::Complete);
  }

  int calls() const { return calls_.load(); }
  cursor_log log;

private:
  int n_;
  cano::TaskConfig cfg_;
  hook_fn hook_;
  std::atomic<int> calls_{0};
};

/// A stepper with every default (config, name, cursor type).
struct DefaultStepper : cano::SteppedTask<State> {
  cano::expected<cano::StepOutcome<State>> step(cano::task_context&, std::optional<nlohmann::json>) override {
    return cano::StepOutcome<State>::done(State::Complete);
  }
};

/// Done(Split) on its first step.
struct SplitStepper : cano::SteppedTask<State, int> {
  explicit SplitStepper(bool blocking) : blocking_(blocking) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal().with_blocking(blocking_); }
  bool blocking_ = true;
  cano::expected<cano::StepOutcome<State, int>> step(cano::task_context&, std::optional<int>) override {
    return cano::StepOutcome<State, int>::done(cano::TaskResult<State>::split({State::PathA, State::PathB}));
  }
};

/// A structured cursor that travels through the engine as JSON.
struct Page {
  int index = 0;
  std::string token;
  std::vector<int> ids;
};
void to_json(nlohmann::json& j, const Page& p) {
  j = nlohmann::json{{"index", p.index}, {"token", p.token}, {"ids", p.ids}};
}
void from_json(const nlohmann::json& j, Page& p) {
  j.at("index").get_to(p.index);
  j.at("token").get_to(p.token);
  j.at("ids").get_to(p.ids);
}

/// Pages through 3 pages with a Page cursor, recording each cursor it receives.
struct PagingStepper : cano::SteppedTask<State, Page> {
  cano::expected<cano::StepOutcome<State, Page>> step(cano::task_context&, std::optional<Page> cursor) override {
    if (!cursor) {
      log.add("none");
      return cano::StepOutcome<State, Page>::more(Page{1, "tok-1", {10}});
    }
    std::string ids;
    for (int id : cursor->ids) {
      ids += (ids.empty() ? "" : ",") + std::to_string(id);
    }
    log.add(std::to_string(cursor->index) + "/" + cursor->token + "/[" + ids + "]");
    if (cursor->index < 3) {
      auto next = *cursor;
      next.index += 1;
      next.token = "tok-" + std::to_string(next.index);
      next.ids.push_back(next.index * 10);
      return cano::StepOutcome<State, Page>::more(next);
    }
    return cano::StepOutcome<State, Page>::done(State::Complete);
  }
  cursor_log log;
};

template <class T>
cano::Workflow<State> stepped_workflow(std::shared_ptr<T> task) {
  return cano::Workflow<State>{}
    .register_stepped(State::Start, std::move(task))
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

cano::expected<void> fail_at_cursor_1(const std::optional<int>& c, int) {
  if (c == 1) {
    return cano::error::task_execution("step failed");
  }
  return {};
}

const std::vector<bool> blocking_modes{true, false};

} // namespace

BOOST_AUTO_TEST_SUITE(stepped_task_test)

BOOST_AUTO_TEST_CASE(the_default_stepped_config_has_four_attempts) {
  DefaultStepper s;
  BOOST_TEST(s.config().retry_mode.max_attempts() == 4u);
  BOOST_TEST(s.name().find("DefaultStepper") != std::string::npos);
}

// --- run_stepped (the companion Task::run) -----------------------------------------------------

BOOST_AUTO_TEST_CASE(run_stepped_returns_an_immediate_done_after_one_step) {
  CountingStepper s(1);
  direct_ctx d;
  auto r = cano::run_stepped(s, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->is_single());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(s.log.str() == "none");
}

BOOST_AUTO_TEST_CASE(run_stepped_threads_the_cursor_none_then_1_then_2_to_done) {
  CountingStepper s(3);
  direct_ctx d;
  auto r = cano::run_stepped(s, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(s.log.str() == "none 1 2");
  BOOST_TEST(s.calls() == 3);
}

BOOST_AUTO_TEST_CASE(run_stepped_returns_a_step_error_at_once) {
  CountingStepper s(3, cano::TaskConfig{}, fail_at_cursor_1);
  direct_ctx d;
  auto r = cano::run_stepped(s, d.ctx);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "step failed");
  BOOST_TEST(s.log.str() == "none 1");
}

BOOST_AUTO_TEST_CASE(run_stepped_passes_a_split_done_through_unchanged) {
  SplitStepper s(true);
  direct_ctx d;
  auto r = cano::run_stepped(s, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->is_split());
  BOOST_TEST((r->states() == std::vector<State>{State::PathA, State::PathB}));
}

// --- register_stepped (the engine path) -------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_registered_stepper_with_an_immediate_done_moves_the_run_after_one_step) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto s = std::make_shared<CountingStepper>(1, cano::TaskConfig{}.with_blocking(blocking));
      auto r = ts.rt->run(stepped_workflow(s), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(s->log.str() == "none");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_registered_stepper_threads_the_cursor_none_then_1_then_2_to_done) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto obs = std::make_shared<recording_observer>();
      auto s = std::make_shared<CountingStepper>(3, cano::TaskConfig{}.with_blocking(blocking));
      auto r = ts.rt->run(stepped_workflow(s).with_observer(obs), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(s->log.str() == "none 1 2");
      BOOST_TEST(s->calls() == 3);
      // §1.12: on_task_start and on_task_success fire once for the whole stepped task.
      auto ev = obs->events();
      auto name = s->name();
      BOOST_TEST(std::count(ev.begin(), ev.end(), "task_start:" + name) == 1);
      BOOST_TEST(std::count(ev.begin(), ev.end(), "task_success:" + name) == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_step_error_in_a_workflow_is_the_run_error) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto s =
        std::make_shared<CountingStepper>(3, cano::TaskConfig::minimal().with_blocking(blocking), fail_at_cursor_1);
      auto r = ts.rt->run(stepped_workflow(s), State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("task_execution"));
      BOOST_TEST(r.error().message() == "step failed");
      BOOST_TEST(s->log.str() == "none 1");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failing_step_exhausts_its_own_retries_with_the_same_cursor) {
  test_system ts;
  auto s = std::make_shared<CountingStepper>(3, cano::TaskConfig{}.with_fixed_retry(2, 1ms), fail_at_cursor_1);
  auto r = ts.rt->run(stepped_workflow(s), State::Start);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
  BOOST_TEST(r.error().message() == "Task failed after 3 attempt(s): Task execution error: step failed");
  BOOST_TEST(s->log.str() == "none 1 1 1");
}

BOOST_AUTO_TEST_CASE(a_step_that_fails_once_is_retried_with_the_same_cursor) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto s = std::make_shared<CountingStepper>(3, cano::TaskConfig{}.with_fixed_retry(2, 1ms).with_blocking(blocking),
                                                 [](const std::optional<int>& c, int call_no) -> cano::expected<void> {
                                                   if (c == 1 && call_no == 2) { // the first step with cursor 1
                                                     return cano::error::task_execution("step failed");
                                                   }
                                                   return {};
                                                 });
      auto r = ts.rt->run(stepped_workflow(s), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(s->log.str() == "none 1 1 2");
    }
  }
}

BOOST_AUTO_TEST_CASE(every_step_gets_a_fresh_retry_budget) {
  // fixed(1): two attempts per step. Each step fails once, and the run still succeeds.
  test_system ts;
  auto s = std::make_shared<CountingStepper>(3, cano::TaskConfig{}.with_fixed_retry(1, 1ms),
                                             [](const std::optional<int>&, int call_no) -> cano::expected<void> {
                                               if (call_no % 2 == 1) { // calls 1, 3, 5: the first attempt of every step
                                                 return cano::error::task_execution("step failed");
                                               }
                                               return {};
                                             });
  auto r = ts.rt->run(stepped_workflow(s), State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(s->log.str() == "none none 1 1 2 2");
}

BOOST_AUTO_TEST_CASE(a_step_blocked_past_its_attempt_timeout_times_out_that_step) {
  for (bool blocking : blocking_modes) { // with an attempt_timeout the step always runs on the pool
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      auto g = std::make_shared<gate>();
      auto entered = std::make_shared<counter>();
      test_system ts;
      auto s = std::make_shared<CountingStepper>(
        3, cano::TaskConfig::minimal().with_attempt_timeout(100ms).with_blocking(blocking),
        [g, entered](const std::optional<int>& c, int) -> cano::expected<void> {
          if (c == 1) {
            entered->arrive();
            g->wait_for(10s); // bounded: the test opens it after its assertions
          }
          return {};
        });
      auto r = ts.rt->run(stepped_workflow(s), State::Start);
      BOOST_TEST(entered->value() == 1u);
      g->open();
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("timeout"));
      BOOST_TEST(r.error().message() == "task attempt exceeded attempt_timeout");
      BOOST_TEST(s->log.str() == "none 1");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_timed_out_step_is_retried_with_the_same_cursor) {
  auto g = std::make_shared<gate>();
  test_system ts;
  auto s = std::make_shared<CountingStepper>(3, cano::TaskConfig{}.with_fixed_retry(1, 1ms).with_attempt_timeout(100ms),
                                             [g](const std::optional<int>& c, int call_no) -> cano::expected<void> {
                                               if (c == 1 &&
                                                   call_no == 2) { // the first attempt of the step with cursor 1 blocks
                                                 g->wait_for(10s);
                                               }
                                               return {};
                                             });
  auto r = ts.rt->run(stepped_workflow(s), State::Start);
  auto log = s->log.str();
  g->open();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(log == "none 1 1 2");
}

BOOST_AUTO_TEST_CASE(attempt_timeout_bounds_each_step_not_the_whole_stepped_task) {
  // 3 steps of 200 ms each: together longer than the 500 ms timeout, each well inside it.
  test_system ts;
  auto s = std::make_shared<CountingStepper>(3, cano::TaskConfig::minimal().with_attempt_timeout(500ms),
                                             [](const std::optional<int>&, int) -> cano::expected<void> {
                                               std::this_thread::sleep_for(200ms);
                                               return {};
                                             });
  auto r = ts.rt->run(stepped_workflow(s), State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(s->log.str() == "none 1 2");
}

BOOST_AUTO_TEST_CASE(a_split_done_from_a_registered_stepper_is_a_workflow_error) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto wf = cano::Workflow<State>{}
                  .register_stepped(State::Start, std::make_shared<SplitStepper>(blocking))
                  .add_exit_state(State::Complete)
                  .add_exit_state(State::PathA)
                  .add_exit_state(State::PathB)
                  .with_timeout(bound);
      auto r = ts.rt->run(wf, State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("workflow"));
      BOOST_TEST(r.error().message() ==
                 "Stepped task returned split result — split is not supported for Stepped states");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_struct_cursor_round_trips_through_the_engine_as_json) {
  test_system ts;
  auto s = std::make_shared<PagingStepper>();
  auto r = ts.rt->run(stepped_workflow(s), State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(s->log.str() == "none 1/tok-1/[10] 2/tok-2/[10,20] 3/tok-3/[10,20,30]");
}

BOOST_AUTO_TEST_SUITE_END()
