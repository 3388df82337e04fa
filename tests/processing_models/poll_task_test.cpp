// cano-semantics §1.7 and §5.11 #152–155: PollTask, through run_poll_loop (cano's companion
// Task::run) and through the engine (rt.run), with blocking and non-blocking configs.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cano/poll_task.hpp"
#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/states.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Bounds every engine run generously, so a hang fails the test instead of blocking it.
constexpr cano::duration bound = std::chrono::seconds(60);

/// One scripted poll: Ready(next), Ready(Split), Pending{delay}, or an error.
struct poll_step {
  enum class kind { ready, ready_split, pending, fail };
  kind what;
  std::uint64_t delay_ms = 0;

  static poll_step ready() { return {kind::ready, 0}; }
  static poll_step split() { return {kind::ready_split, 0}; }
  static poll_step pending(std::uint64_t d) { return {kind::pending, d}; }
  static poll_step fail() { return {kind::fail, 0}; }
};

/// A poller that plays `script` (repeating its last entry) and counts its polls.
class ScriptedPoller : public cano::PollTask<State> {
public:
  ScriptedPoller(std::vector<poll_step> script, cano::PollErrorPolicy policy,
                 cano::TaskConfig cfg = cano::TaskConfig::minimal())
    : script_(std::move(script)),
      policy_(policy),
      cfg_(std::move(cfg)) {}

  cano::TaskConfig config() const override { return cfg_; }
  cano::PollErrorPolicy on_poll_error() const override { return policy_; }

  cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
    auto i = static_cast<std::size_t>(polls_.fetch_add(1));
    const auto& s = script_[i < script_.size() ? i : script_.size() - 1];
    switch (s.what) {
      case poll_step::kind::ready: return cano::PollOutcome<State>::ready(State::Complete);
      case poll_step::kind::ready_split:
        return cano::PollOutcome<State>::ready(cano::TaskResult<State>::split({State::PathA, State::PathB}));
      case poll_step::kind::pending: return cano::PollOutcome<State>::pending(s.delay_ms);
      case poll_step::kind::fail: break;
    }
    return cano::error::task_execution("poll failed");
  }

  int polls() const { return polls_.load(); }

private:
  std::vector<poll_step> script_;
  cano::PollErrorPolicy policy_;
  cano::TaskConfig cfg_;
  std::atomic<int> polls_{0};
};

/// cano's CountingPoller(n): Pending{delay} until the n-th poll, which is Ready(Complete).
std::shared_ptr<ScriptedPoller> counting_poller(int n, std::uint64_t delay,
                                                cano::TaskConfig cfg = cano::TaskConfig::minimal()) {
  std::vector<poll_step> script(static_cast<std::size_t>(n - 1), poll_step::pending(delay));
  script.push_back(poll_step::ready());
  return std::make_shared<ScriptedPoller>(std::move(script), cano::PollErrorPolicy::fail_fast(), std::move(cfg));
}

/// A poller with every default (config, policy, name).
struct DefaultPoller : cano::PollTask<State> {
  cano::expected<cano::PollOutcome<State>> poll(cano::task_context&) override {
    return cano::PollOutcome<State>::ready(State::Complete);
  }
};

struct NamedPoller : DefaultPoller {
  std::string name() const override { return "my-poller"; }
};

/// A direct-call context (what cano's tests pass as `&Resources`).
struct direct_ctx {
  std::string id;
  std::string label = "Start";
  nlohmann::json input;
  cano::Resources res;
  cano::task_context ctx{id, label, 1, input, res, nullptr};
};

template <class T>
cano::Workflow<State> poll_workflow(std::shared_ptr<T> task) {
  return cano::Workflow<State>{}
    .register_task(State::Start, std::move(task))
    .add_exit_state(State::Complete)
    .with_timeout(bound);
}

/// The two engine paths of a task without attempt_timeout: the pool (blocking) and inline.
const std::vector<bool> blocking_modes{true, false};

} // namespace

BOOST_AUTO_TEST_SUITE(poll_task_test)

// --- run_poll_loop (the companion Task::run) -------------------------------------------------

BOOST_AUTO_TEST_CASE(run_poll_loop_returns_an_immediate_ready_after_one_poll) {
  ScriptedPoller p({poll_step::ready()}, cano::PollErrorPolicy::fail_fast());
  direct_ctx d;
  auto r = cano::run_poll_loop(p, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->is_single());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(p.polls() == 1);
}

BOOST_AUTO_TEST_CASE(run_poll_loop_of_a_counting_poller_is_ready_after_exactly_three_polls) {
  for (std::uint64_t delay : {0u, 1u}) {
    BOOST_TEST_CONTEXT("pending delay " << delay) {
      auto p = counting_poller(3, delay);
      direct_ctx d;
      auto r = cano::run_poll_loop(*p, d.ctx);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(r->state() == State::Complete);
      BOOST_TEST(p->polls() == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(run_poll_loop_fails_fast_on_the_first_poll_error_by_default) {
  ScriptedPoller p({poll_step::fail(), poll_step::ready()}, DefaultPoller{}.on_poll_error());
  direct_ctx d;
  auto r = cano::run_poll_loop(p, d.ctx);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "poll failed");
  BOOST_TEST(p.polls() == 1);
}

BOOST_AUTO_TEST_CASE(run_poll_loop_passes_a_split_ready_through_unchanged) {
  ScriptedPoller p({poll_step::split()}, cano::PollErrorPolicy::fail_fast());
  direct_ctx d;
  auto r = cano::run_poll_loop(p, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->is_split());
  BOOST_TEST((r->states() == std::vector<State>{State::PathA, State::PathB}));
  BOOST_TEST(p.polls() == 1);
}

BOOST_AUTO_TEST_CASE(run_poll_loop_retry_on_error_2_tolerates_two_errors_then_is_ready_after_three_polls) {
  ScriptedPoller p({poll_step::fail(), poll_step::fail(), poll_step::ready()},
                   cano::PollErrorPolicy::retry_on_error(2));
  direct_ctx d;
  auto r = cano::run_poll_loop(p, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(p.polls() == 3);
}

BOOST_AUTO_TEST_CASE(run_poll_loop_retry_on_error_2_fails_on_the_third_consecutive_error) {
  ScriptedPoller p({poll_step::fail(), poll_step::fail(), poll_step::fail(), poll_step::ready()},
                   cano::PollErrorPolicy::retry_on_error(2));
  direct_ctx d;
  auto r = cano::run_poll_loop(p, d.ctx);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "poll failed");
  BOOST_TEST(p.polls() == 3);
}

BOOST_AUTO_TEST_CASE(run_poll_loop_pending_resets_the_consecutive_error_count) {
  ScriptedPoller p({poll_step::fail(), poll_step::pending(0), poll_step::fail(), poll_step::ready()},
                   cano::PollErrorPolicy::retry_on_error(1));
  direct_ctx d;
  auto r = cano::run_poll_loop(p, d.ctx);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->state() == State::Complete);
  BOOST_TEST(p.polls() == 4);
}

BOOST_AUTO_TEST_CASE(the_default_poll_config_is_minimal_with_one_attempt) {
  DefaultPoller p;
  BOOST_TEST(p.config().retry_mode.max_attempts() == 1u);
  BOOST_TEST(!p.config().attempt_timeout.has_value());
  BOOST_TEST(p.on_poll_error().retry == false);
}

BOOST_AUTO_TEST_CASE(a_poll_task_name_override_is_the_task_name_the_engine_reports) {
  test_system ts;
  auto obs = std::make_shared<recording_observer>();
  BOOST_TEST(NamedPoller{}.name() == "my-poller");
  BOOST_TEST(DefaultPoller{}.name().find("DefaultPoller") != std::string::npos);
  auto wf = poll_workflow(std::make_shared<NamedPoller>()).with_observer(obs);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_TEST(obs->contains("task_start:my-poller"));
  BOOST_TEST(obs->contains("task_success:my-poller"));
}

// --- through the engine ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(an_immediately_ready_poll_task_moves_the_run_after_one_poll) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p =
        std::make_shared<ScriptedPoller>(std::vector<poll_step>{poll_step::ready()}, cano::PollErrorPolicy::fail_fast(),
                                         cano::TaskConfig::minimal().with_blocking(blocking));
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(p->polls() == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_counting_poller_in_a_workflow_is_ready_after_exactly_three_polls) {
  for (bool blocking : blocking_modes) {
    for (std::uint64_t delay : {0u, 1u}) {
      BOOST_TEST_CONTEXT("blocking " << blocking << ", pending delay " << delay) {
        test_system ts;
        auto p = counting_poller(3, delay, cano::TaskConfig::minimal().with_blocking(blocking));
        auto r = ts.rt->run(poll_workflow(p), State::Start);
        BOOST_REQUIRE(r.has_value());
        BOOST_TEST(*r == State::Complete);
        BOOST_TEST(p->polls() == 3);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_fail_fast_poll_error_in_a_workflow_is_the_raw_task_execution_error_after_one_poll) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p = std::make_shared<ScriptedPoller>(std::vector<poll_step>{poll_step::fail(), poll_step::ready()},
                                                cano::PollErrorPolicy::fail_fast(),
                                                cano::TaskConfig::minimal().with_blocking(blocking));
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("task_execution"));
      BOOST_TEST(r.error().message() == "poll failed");
      BOOST_TEST(p->polls() == 1);
    }
  }
}

BOOST_AUTO_TEST_CASE(retry_on_error_2_in_a_workflow_succeeds_after_two_errors_and_three_polls) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p = std::make_shared<ScriptedPoller>(
        std::vector<poll_step>{poll_step::fail(), poll_step::fail(), poll_step::ready()},
        cano::PollErrorPolicy::retry_on_error(2), cano::TaskConfig::minimal().with_blocking(blocking));
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(p->polls() == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(retry_on_error_2_in_a_workflow_fails_after_exactly_three_consecutive_errors) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p = std::make_shared<ScriptedPoller>(
        std::vector<poll_step>{poll_step::fail(), poll_step::fail(), poll_step::fail(), poll_step::ready()},
        cano::PollErrorPolicy::retry_on_error(2), cano::TaskConfig::minimal().with_blocking(blocking));
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("task_execution"));
      BOOST_TEST(r.error().message() == "poll failed");
      BOOST_TEST(p->polls() == 3);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_pending_in_a_workflow_resets_the_consecutive_error_count) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p = std::make_shared<ScriptedPoller>(
        std::vector<poll_step>{poll_step::fail(), poll_step::pending(0), poll_step::fail(), poll_step::ready()},
        cano::PollErrorPolicy::retry_on_error(1), cano::TaskConfig::minimal().with_blocking(blocking));
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      BOOST_REQUIRE(r.has_value());
      BOOST_TEST(*r == State::Complete);
      BOOST_TEST(p->polls() == 4);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_task_retry_policy_reruns_the_whole_poll_loop_as_one_attempt) {
  // RetryOnError{1} ends each loop after 2 consecutive errors; fixed(1) gives the loop 2 attempts.
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p = std::make_shared<ScriptedPoller>(std::vector<poll_step>{poll_step::fail()},
                                                cano::PollErrorPolicy::retry_on_error(1),
                                                cano::TaskConfig{}.with_fixed_retry(1, 1ms).with_blocking(blocking));
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("retry_exhausted"));
      BOOST_TEST(r.error().message() == "Task failed after 2 attempt(s): Task execution error: poll failed");
      BOOST_TEST(p->polls() == 4);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_always_pending_poll_task_hits_its_attempt_timeout_as_a_raw_timeout_error) {
  // With an attempt_timeout the task always runs on the pool, whatever its blocking flag.
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p = std::make_shared<ScriptedPoller>(
        std::vector<poll_step>{poll_step::pending(1)}, cano::PollErrorPolicy::fail_fast(),
        cano::TaskConfig::minimal().with_attempt_timeout(20ms).with_blocking(blocking));
      auto started = std::chrono::steady_clock::now();
      auto r = ts.rt->run(poll_workflow(p), State::Start);
      auto elapsed = std::chrono::steady_clock::now() - started;
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("timeout"));
      BOOST_TEST(r.error().message() == "task attempt exceeded attempt_timeout");
      BOOST_TEST(p->polls() >= 1);
      BOOST_TEST((elapsed < 5s));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_split_ready_from_a_poll_task_in_a_workflow_points_to_register_split) {
  for (bool blocking : blocking_modes) {
    BOOST_TEST_CONTEXT("blocking " << blocking) {
      test_system ts;
      auto p =
        std::make_shared<ScriptedPoller>(std::vector<poll_step>{poll_step::split()}, cano::PollErrorPolicy::fail_fast(),
                                         cano::TaskConfig::minimal().with_blocking(blocking));
      auto wf = poll_workflow(p).add_exit_state(State::PathA).add_exit_state(State::PathB);
      auto r = ts.rt->run(wf, State::Start);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().category() == std::string("workflow"));
      BOOST_TEST(r.error().message() == "Single task returned split result - use register_split() for split tasks");
      BOOST_TEST(p->polls() == 1);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
