// cano-semantics §1.10, §3 and §5.8: saga steps and their compensation drain (also after a
// resume), ported from the saga tests of cano 0.13.2's `workflow/compensation.rs` (same names,
// every assertion in the same order). The Rust test double `MemCheckpoints` is the library's
// MemoryCheckpointStore.
//
// Each test case's comment gives its Rust assert count; checks a C++ port needs on top of them
// (a REQUIRE that a result is an error before reading it, that the error is CompensationFailed
// — Rust's `other => panic!` arm —, that a vector is long enough before indexing it) are marked
// "extra".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "cano/checkpoint.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/stepped_task.hpp"
#include "cano/workflow.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/sync.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Bounds every engine run generously, so a hang fails the test instead of blocking it.
constexpr cano::duration bound = std::chrono::seconds(60);

using Store = test::audited_store;

/// cano's test_support::SimpleTask: always goes to `next`.
class SimpleTask : public cano::Task<State> {
public:
  explicit SimpleTask(State next) : next_(next) {}
  std::string name() const override { return "SimpleTask"; }
  cano::expected<cano::TaskResult<State>> run(cano::task_context&) override { return cano::TaskResult<State>(next_); }

private:
  State next_;
};

std::shared_ptr<SimpleTask> simple(State next) { return std::make_shared<SimpleTask>(next); }

/// Shared, ordered log of `(task name, output value)` for every `compensate` call (Rust's CompLog).
class comp_log {
public:
  void push(std::string name, std::uint32_t output) {
    std::lock_guard<std::mutex> g(m_);
    entries_.emplace_back(std::move(name), output);
  }
  /// "(C,3) (B,2) (A,1)"; "" when empty.
  std::string str() const {
    std::lock_guard<std::mutex> g(m_);
    std::string out;
    for (const auto& e : entries_) {
      out += (out.empty() ? "(" : " (") + e.first + "," + std::to_string(e.second) + ")";
    }
    return out;
  }

private:
  mutable std::mutex m_;
  std::vector<std::pair<std::string, std::uint32_t>> entries_;
};
using CompLog = std::shared_ptr<comp_log>;

/// The Rust CompTask: its forward `run` returns `next_state` and `value` (unless
/// `fail_forward`); `compensate` records `(name, output)` onto `log` (and errors if
/// `fail_compensate`). Minimal config: no retries, so a forward failure surfaces immediately.
class CompTask : public cano::CompensatableTask<State, std::uint32_t> {
public:
  CompTask(std::string name, std::uint32_t value, State next_state, CompLog log, bool fail_forward,
           bool fail_compensate)
    : name_(std::move(name)),
      value_(value),
      next_state_(next_state),
      log_(std::move(log)),
      fail_forward_(fail_forward),
      fail_compensate_(fail_compensate) {}

  static std::shared_ptr<CompTask> ok(std::string name, std::uint32_t value, State next_state, const CompLog& log) {
    return std::make_shared<CompTask>(std::move(name), value, next_state, log, false, false);
  }

  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return name_; }
  cano::expected<std::pair<cano::TaskResult<State>, std::uint32_t>> run(cano::task_context&) override {
    if (fail_forward_) {
      return cano::error::task_execution(name_ + " forward failed");
    }
    return std::make_pair(cano::TaskResult<State>(next_state_), value_);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t output) override {
    log_->push(name_, output);
    if (fail_compensate_) {
      return cano::error::generic(name_ + " compensate failed");
    }
    return {};
  }

private:
  std::string name_;
  std::uint32_t value_;
  State next_state_;
  CompLog log_;
  bool fail_forward_;
  bool fail_compensate_;
};

/// `store.append(id, row).await.unwrap()` for seeding (not an assertion of the test).
void seed(Store& store, const std::string& id, const cano::CheckpointRow& row) {
  auto r = store.append(id, row);
  if (!r) {
    throw std::runtime_error("seeding the checkpoint store failed: " + r.error().to_string());
  }
}

/// JSON bytes of a value (`serde_json::to_vec(&v).unwrap()`).
std::vector<std::uint8_t> json_blob(std::uint32_t v) { return cano::to_blob(nlohmann::json(v)); }

/// A run's outcome as text: the final state's label, or "error: <Display>".
template <class S>
std::string show(const cano::expected<S>& r) {
  return r.has_value() ? cano::label_of(*r) : "error: " + r.error().to_string();
}

std::string kind_name(cano::RowKind k) {
  switch (k) {
    case cano::RowKind::state_entry: return "StateEntry";
    case cano::RowKind::compensation_completion: return "CompensationCompletion";
    case cano::RowKind::step_cursor: return "StepCursor";
  }
  return "?";
}

/// The Rust CompFault: succeeds forward (→ `next`, output `value`), then on `compensate` either
/// panics (throws) or hangs (blocks on `release`, which the test opens after its assertions;
/// bounded by `attempt_timeout`).
enum class CompFaultKind { Panic, Hang };

class CompFault : public cano::CompensatableTask<State, std::uint32_t> {
public:
  CompFault(std::string name, std::uint32_t value, State next, CompFaultKind on_compensate,
            std::optional<cano::duration> attempt_timeout, std::shared_ptr<gate> release = nullptr)
    : name_(std::move(name)),
      value_(value),
      next_(next),
      on_compensate_(on_compensate),
      attempt_timeout_(attempt_timeout),
      release_(std::move(release)) {}

  cano::TaskConfig config() const override {
    auto cfg = cano::TaskConfig::minimal();
    return attempt_timeout_ ? cfg.with_attempt_timeout(*attempt_timeout_) : cfg;
  }
  std::string name() const override { return name_; }
  cano::expected<std::pair<cano::TaskResult<State>, std::uint32_t>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(next_), value_);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t) override {
    if (on_compensate_ == CompFaultKind::Panic) {
      throw std::runtime_error(name_ + " compensate exploded");
    }
    if (release_) {
      release_->wait_for(std::chrono::seconds(60)); // "pending forever", bounded
    }
    return cano::error::generic(name_ + " compensate was released");
  }

private:
  std::string name_;
  std::uint32_t value_;
  State next_;
  CompFaultKind on_compensate_;
  std::optional<cano::duration> attempt_timeout_;
  std::shared_ptr<gate> release_;
};

/// Opens a gate when it goes out of scope (also when a REQUIRE ends the test early).
struct gate_opener {
  std::shared_ptr<gate> g;
  ~gate_opener() { g->open(); }
};

/// Shared compensation log of the u32-state tests.
class num_log {
public:
  void push(std::uint32_t v) {
    std::lock_guard<std::mutex> g(m_);
    values_.push_back(v);
  }
  std::vector<std::uint32_t> values() const {
    std::lock_guard<std::mutex> g(m_);
    return values_;
  }

private:
  mutable std::mutex m_;
  std::vector<std::uint32_t> values_;
};

/// deep_compensation_stack_drains_all_in_reverse's NumComp.
class NumComp : public cano::CompensatableTask<std::uint32_t, std::uint32_t> {
public:
  NumComp(std::uint32_t idx, bool fail, std::shared_ptr<num_log> log) : idx_(idx), fail_(fail), log_(std::move(log)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "n" + std::to_string(idx_); }
  cano::expected<std::pair<cano::TaskResult<std::uint32_t>, std::uint32_t>> run(cano::task_context&) override {
    if (fail_) {
      return cano::error::task_execution("n" + std::to_string(idx_) + " failed");
    }
    return std::make_pair(cano::TaskResult<std::uint32_t>(idx_ + 1), idx_);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t output) override {
    log_->push(output);
    return {};
  }

private:
  std::uint32_t idx_;
  bool fail_;
  std::shared_ptr<num_log> log_;
};

/// failure_at_every_step_compensates_exactly_the_completed_prefix's Step.
class Step : public cano::CompensatableTask<std::uint32_t, std::uint32_t> {
public:
  Step(std::uint32_t idx, std::uint32_t fail_at, std::shared_ptr<num_log> log)
    : idx_(idx),
      fail_at_(fail_at),
      log_(std::move(log)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "s" + std::to_string(idx_); }
  cano::expected<std::pair<cano::TaskResult<std::uint32_t>, std::uint32_t>> run(cano::task_context&) override {
    if (idx_ == fail_at_) {
      return cano::error::task_execution("s" + std::to_string(idx_) + " failed");
    }
    return std::make_pair(cano::TaskResult<std::uint32_t>(idx_ + 1), idx_);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t output) override {
    log_->push(output);
    return {};
  }

private:
  std::uint32_t idx_;
  std::uint32_t fail_at_;
  std::shared_ptr<num_log> log_;
};

/// stepped_cursor_rows_do_not_become_compensation_entries's FailingStepper.
struct FailingStepper : cano::SteppedTask<State, std::uint32_t> {
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "FailingStepper"; }
  cano::expected<cano::StepOutcome<State, std::uint32_t>> step(cano::task_context&,
                                                               std::optional<std::uint32_t>) override {
    return cano::error::task_execution("stepper failed");
  }
};

/// empty_compensation_stack_failure_keeps_the_log_for_resume's FailFast: a plain, retry-free
/// failing task.
struct FailFast : cano::Task<State> {
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "FailFast"; }
  cano::expected<cano::TaskResult<State>> run(cano::task_context&) override {
    return cano::error::task_execution("boom");
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(compensation_test)

// Rust asserts: 3; extra: 1 (the run is an error).
BOOST_AUTO_TEST_CASE(compensations_run_in_reverse_on_terminal_failure) {
  test_system ts;
  auto log = std::make_shared<comp_log>();
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
      .register_with_compensation(State::Process, CompTask::ok("B", 2, State::Split, log))
      .register_with_compensation(State::Split, CompTask::ok("C", 3, State::Join, log))
      .register_with_compensation(State::Join, std::make_shared<CompTask>("D", 4, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_timeout(bound);

  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  // Clean rollback → the original failure is surfaced unchanged.
  BOOST_TEST(err.category() == std::string("task_execution"));
  BOOST_TEST(err.message() == "D forward failed");
  // A, B, C were compensated in reverse registration order. D failed forward, so it
  // never produced an output and is not on the stack.
  BOOST_TEST(log->str() == "(C,3) (B,2) (A,1)");
}

// Rust asserts: 2; extra: 1 (the run is an error).
BOOST_AUTO_TEST_CASE(only_compensatable_tasks_are_compensated) {
  test_system ts;
  auto log = std::make_shared<comp_log>();
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 10, State::Process, log))
      // Plain task — produces no compensation-stack entry.
      .register_task(State::Process, simple(State::Split))
      .register_with_compensation(State::Split, CompTask::ok("C", 30, State::Join, log))
      .register_with_compensation(State::Join, std::make_shared<CompTask>("D", 40, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_timeout(bound);

  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().message() == "D forward failed");
  // Only the two compensatable tasks rolled back — the plain `Process` task didn't.
  BOOST_TEST(log->str() == "(C,30) (A,10)");
}

// Rust asserts: 4; extra: 2 (the run is an error; it is CompensationFailed).
BOOST_AUTO_TEST_CASE(compensation_failure_aggregates_errors_and_keeps_going) {
  test_system ts;
  auto log = std::make_shared<comp_log>();
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
      .register_with_compensation(
        State::Process, std::make_shared<CompTask>("B", 2, State::Split, log, false, true)) // B's compensate errors
      .register_with_compensation(State::Split, CompTask::ok("C", 3, State::Join, log))
      .register_with_compensation(State::Join, std::make_shared<CompTask>("D", 4, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_timeout(bound);

  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_REQUIRE_MESSAGE(err.code() == cano::errc::compensation_failed,
                        "expected CompensationFailed, got " << err); // extra
  const auto& errors = err.nested();
  // [original (D forward failed), B's compensate failure].
  BOOST_REQUIRE(errors.size() == 2u);
  BOOST_TEST(errors[0].message() == "D forward failed");
  BOOST_TEST(errors[1].message().find("B compensate failed") != std::string::npos);
  // All three compensations ran (C, B, A) even though B's errored.
  BOOST_TEST(log->str() == "(C,3) (B,2) (A,1)");
}

// Rust asserts: 2; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_rehydrates_compensation_stack_and_rolls_back, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();

  // Seed a log as if a previous process: entered Start, ran compensatable A (output 7),
  // entered Process, ran compensatable B (output 8), entered Split — then crashed
  // before C ran.
  seed(*store, "saga-run", cano::CheckpointRow(0, "Start", "A"));
  seed(*store, "saga-run", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(7)));
  seed(*store, "saga-run", cano::CheckpointRow(2, "Process", "B"));
  seed(*store, "saga-run", cano::CheckpointRow(3, "Process", "B").with_output(json_blob(8)));
  seed(*store, "saga-run", cano::CheckpointRow(4, "Split", "C"));

  auto workflow = cano::Workflow<State>::bare()
                    .register_with_compensation(State::Start, CompTask::ok("A", 7, State::Process, log))
                    .register_with_compensation(State::Process, CompTask::ok("B", 8, State::Split, log))
                    .register_with_compensation(State::Split, std::make_shared<CompTask>("C", 9, State::Join, log, true,
                                                                                         false)) // C fails when re-run
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);

  auto r = ts.rt->resume(workflow, "saga-run");
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().message() == "C forward failed");
  // The rehydrated stack [A=7, B=8] drains in reverse, using the outputs persisted
  // before the crash. C never produced an output (it failed forward).
  BOOST_TEST(log->str() == "(B,8) (A,7)");
}

// Regression test: a StepCursor row (which also carries an output_blob) must NOT be mistaken for
// a CompensationCompletion entry during compensation-stack rehydration. Plain StateEntry rows
// must also be ignored.
// Rust asserts: 3; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_step_cursor_row_is_not_added_to_compensation_stack, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();

  // Seed a mixed log:
  //  seq 0 — StateEntry for A
  //  seq 1 — CompensationCompletion A  (output = 101)
  //  seq 2 — StateEntry for B
  //  seq 3 — CompensationCompletion B  (output = 202)
  //  seq 4 — StepCursor for C          (cursor = [9,9])
  // The highest-sequence row (seq 4) is the resume point → C is the resume state.
  seed(*store, "mixed-run", cano::CheckpointRow(0, "Start", "A"));
  seed(*store, "mixed-run", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(101)));
  seed(*store, "mixed-run", cano::CheckpointRow(2, "Process", "B"));
  seed(*store, "mixed-run", cano::CheckpointRow(3, "Process", "B").with_output(json_blob(202)));
  // StepCursor row for the Split state — has output_blob but is NOT a CompensationCompletion.
  auto cursor_row = cano::CheckpointRow(4, "Split", "C").with_cursor(std::vector<std::uint8_t>{9, 9});
  BOOST_TEST(kind_name(cursor_row.kind) == "StepCursor", "sanity: with_cursor sets RowKind::StepCursor");
  seed(*store, "mixed-run", cursor_row);

  // C (Split state) is the resume point; configure it to fail forward so the compensation
  // stack drains and we can inspect which entries were rehydrated.
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 101, State::Process, log))
      .register_with_compensation(State::Process, CompTask::ok("B", 202, State::Split, log))
      .register_with_compensation(
        State::Split, std::make_shared<CompTask>("C", 999, State::Complete, log, true, false)) // C fails → rollback
      .add_exit_state(State::Complete)
      .with_checkpoint_store(store)
      .with_timeout(bound);

  auto r = ts.rt->resume(workflow, "mixed-run");
  BOOST_REQUIRE_MESSAGE(!r.has_value(), show(r)); // extra
  // C failed forward (original error is "C forward failed").
  BOOST_TEST(r.error().message() == "C forward failed");
  // extra: a cursor row wrongly on the stack would fail its undo (a cursor is no saga output)
  // and turn the result into compensation_failed, whose message() is still the original's.
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  // Only B and A were in the rehydrated stack (in LIFO order: B first, then A).
  BOOST_TEST(log->str() == "(B,202) (A,101)", "StepCursor and StateEntry rows must not become compensation entries");
}

// Rust asserts: 3; extra: 0.
BOOST_AUTO_TEST_CASE(re_registering_a_state_drops_the_stale_compensator) {
  auto log = std::make_shared<comp_log>();
  // Replacing a compensatable state with a different compensatable task.
  auto workflow = cano::Workflow<State>::bare()
                    .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
                    .register_with_compensation(State::Start, CompTask::ok("A2", 2, State::Process, log));
  BOOST_TEST(!workflow.has_compensator("A"), "the replaced task's compensator must not linger");
  BOOST_TEST(workflow.has_compensator("A2"));

  // Replacing a compensatable state with a plain `register` also drops it.
  auto workflow2 = cano::Workflow<State>::bare()
                     .register_with_compensation(State::Start, CompTask::ok("B", 1, State::Process, log))
                     .register_task(State::Start, simple(State::Process));
  BOOST_TEST(!workflow2.has_compensator("B"));
}

// Rust asserts: 4; extra: 3 (the run is an error; it is CompensationFailed; it holds 2 errors
// before indexing errors[1]).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(append_failure_mid_run_rolls_back_and_keeps_the_log, Kind, test::store_kinds) {
  test_system ts;
  auto log = std::make_shared<comp_log>();
  // Allow: Start entry (1), Start completion (2). Fail on the 3rd append (Process entry).
  auto store = Kind::make();
  store->fail_row_append_after(2);
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start,
                                  // A's compensate *also* fails → dirty rollback → log left for manual recovery.
                                  std::make_shared<CompTask>("A", 1, State::Process, log, false, true))
      .register_with_compensation(State::Process, CompTask::ok("B", 2, State::Complete, log))
      .add_exit_state(State::Complete)
      .with_checkpoint_store(store)
      .with_workflow_id("disk")
      .with_timeout(bound);

  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_REQUIRE_MESSAGE(err.code() == cano::errc::compensation_failed,
                        "expected CompensationFailed, got " << err); // extra
  const auto& errors = err.nested();
  BOOST_REQUIRE(errors.size() >= 2u); // extra
  // [the append failure that ended the run, then A's compensate failure].
  BOOST_TEST(errors[0].category() == std::string("checkpoint_store"));
  BOOST_TEST(errors[1].message().find("A compensate failed") != std::string::npos);
  BOOST_TEST(log->str() == "(A,1)");
  // B never ran (its checkpoint append is the one that failed). The durable prefix
  // (Start entry + completion) is NOT cleared — a dirty rollback leaves it for recovery.
  BOOST_TEST(store->rows("disk").size() == 2u);
}

// --- saga hardening ------------------------------------------------------------------------------

// Rust asserts: 3; extra: 3 (the run is an error; it is CompensationFailed; errors is not empty).
BOOST_AUTO_TEST_CASE(panicking_compensator_is_caught_and_the_drain_continues) {
  test_system ts;
  auto log = std::make_shared<comp_log>();
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
      .register_with_compensation(State::Process,
                                  std::make_shared<CompFault>("B", 2, State::Split, CompFaultKind::Panic, std::nullopt))
      .register_with_compensation(State::Split, std::make_shared<CompTask>("C", 3, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_timeout(bound);

  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_REQUIRE_MESSAGE(err.code() == cano::errc::compensation_failed,
                        "expected CompensationFailed, got " << err); // extra
  const auto& errors = err.nested();
  BOOST_REQUIRE(!errors.empty()); // extra
  BOOST_TEST(errors[0].message() == "C forward failed");
  BOOST_TEST(std::any_of(errors.begin() + 1, errors.end(),
                         [](const cano::error& e) { return e.message().find("panicked") != std::string::npos; }),
             "the caught panic must be one of the collected errors: " << err);
  // The drain didn't stop at B's panic — A was still compensated.
  BOOST_TEST(log->str() == "(A,1)");
}

// Rust asserts: 4; extra: 3 (the run is an error; it is CompensationFailed; errors is not empty).
BOOST_AUTO_TEST_CASE(hanging_compensator_is_bounded_by_attempt_timeout) {
  auto release = std::make_shared<gate>();
  test_system ts;
  gate_opener open_release_at_the_end{release}; // after the assertions, before ts goes away
  auto log = std::make_shared<comp_log>();
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
      .register_with_compensation(State::Process,
                                  std::make_shared<CompFault>("H", 2, State::Split, CompFaultKind::Hang,
                                                              std::optional<cano::duration>(50ms), release))
      .register_with_compensation(State::Split, std::make_shared<CompTask>("C", 3, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_timeout(bound);

  auto started = std::chrono::steady_clock::now();
  auto r = ts.rt->run(workflow, State::Start);
  auto elapsed_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  BOOST_TEST(elapsed_ms < 5000, "a hanging compensator must be bounded, not block the drain forever");
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_REQUIRE_MESSAGE(err.code() == cano::errc::compensation_failed,
                        "expected CompensationFailed, got " << err); // extra
  const auto& errors = err.nested();
  BOOST_REQUIRE(!errors.empty()); // extra
  BOOST_TEST(errors[0].message() == "C forward failed");
  BOOST_TEST(
    std::any_of(errors.begin() + 1, errors.end(), [](const cano::error& e) { return e.code() == cano::errc::timeout; }),
    "H's compensate must time out: " << err);
  // A (registered before H) was still compensated after H timed out.
  BOOST_TEST(log->str() == "(A,1)");
  // open_release_at_the_end: the abandoned compensate returns now; its result is ignored
}

// Rust asserts: 2; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(double_compensate_on_resume_is_avoided, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();

  // Seed a log that crashed *after* B's completion row but *before* the next state's
  // entry row — so `Process` (B) is the resume point and re-runs.
  seed(*store, "crash-after-b", cano::CheckpointRow(0, "Start", "A"));
  seed(*store, "crash-after-b", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(1)));
  seed(*store, "crash-after-b", cano::CheckpointRow(2, "Process", "B"));
  seed(*store, "crash-after-b", cano::CheckpointRow(3, "Process", "B").with_output(json_blob(2)));

  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
      .register_with_compensation(State::Process, CompTask::ok("B", 2, State::Split, log))
      .register_with_compensation(State::Split, std::make_shared<CompTask>("C", 3, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_checkpoint_store(store)
      .with_timeout(bound);

  auto r = ts.rt->resume(workflow, "crash-after-b");
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().message() == "C forward failed");
  // B re-ran on resume and re-pushed its entry; the persisted B-completion row at the
  // resume point must NOT be replayed too, or B would compensate twice.
  BOOST_TEST(log->str() == "(B,2) (A,1)", "B compensated exactly once");
}

/// A saga step that waits at `g` (announcing itself on `entered`) before going to `next`.
class GatedCompTask : public cano::CompensatableTask<State, std::uint32_t> {
public:
  GatedCompTask(std::shared_ptr<test::gate> g, std::shared_ptr<test::counter> entered, State next)
    : g_(std::move(g)),
      entered_(std::move(entered)),
      next_(next) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "C"; }
  cano::expected<std::pair<cano::TaskResult<State>, std::uint32_t>> run(cano::task_context&) override {
    entered_->arrive();
    (void)g_->wait_for(std::chrono::seconds(60));
    return std::make_pair(cano::TaskResult<State>(next_), 3u);
  }
  cano::expected<void> compensate(cano::task_context&, std::uint32_t) override { return {}; }

private:
  std::shared_ptr<test::gate> g_;
  std::shared_ptr<test::counter> entered_;
  State next_;
};

// Extra (D7; cano 0.13.2 undoes B twice here): a resume re-runs B, whose completion was the last
// row; the process dies in the next state; a second resume fails there. B's first completion
// was replaced by the re-run's, so B is undone once, not twice. The first resume's log, taken
// while it waits in Split, is what a crash at that moment leaves: it is copied under a new id.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(a_second_resume_never_undoes_a_re_run_step_twice, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();
  seed(*store, "rerun-b", cano::CheckpointRow(0, "Start", "A"));
  seed(*store, "rerun-b", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(1)));
  seed(*store, "rerun-b", cano::CheckpointRow(2, "Process", "B"));
  seed(*store, "rerun-b", cano::CheckpointRow(3, "Process", "B").with_output(json_blob(2)));
  auto g = std::make_shared<test::gate>();
  auto entered = std::make_shared<test::counter>();
  auto with_split = [&](std::shared_ptr<cano::CompensatableTask<State, std::uint32_t>> c) {
    return cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 1, State::Process, log))
      .register_with_compensation(State::Process, CompTask::ok("B", 2, State::Split, log))
      .register_with_compensation(State::Split, std::move(c))
      .add_exit_state(State::Complete)
      .with_checkpoint_store(store)
      .with_timeout(bound);
  };
  auto first = with_split(std::make_shared<GatedCompTask>(g, entered, State::Complete));
  std::thread resumer([&] { (void)ts.rt->resume(first, "rerun-b"); });
  BOOST_REQUIRE(entered->wait_for_at_least(1));
  auto at_crash = store->load_run("rerun-b");
  g->open();
  resumer.join();
  BOOST_REQUIRE(at_crash.has_value());
  BOOST_REQUIRE(at_crash->size() == 7u); // B re-ran (entry 4, completion 5), Split entered (6)
  for (const auto& row : *at_crash) {
    seed(*store, "rerun-b-crashed", row);
  }
  auto second = with_split(std::make_shared<CompTask>("C", 3, State::Complete, log, true, false));
  auto r = ts.rt->resume(second, "rerun-b-crashed");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message() == "C forward failed");
  BOOST_TEST(log->str() == "(B,2) (A,1)", "B undone exactly once");
}

// Rust asserts: 3; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_then_advance_then_fail_rolls_back_mixed_outputs_and_clears, Kind,
                              test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();

  // Crash mid-A (entry written, no completion) — A is the resume point and re-runs.
  seed(*store, "mid-a", cano::CheckpointRow(0, "Start", "A"));

  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 11, State::Process, log))
      .register_with_compensation(State::Process, CompTask::ok("B", 22, State::Split, log))
      .register_with_compensation(State::Split, std::make_shared<CompTask>("C", 33, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_checkpoint_store(store)
      .with_timeout(bound);

  auto r = ts.rt->resume(workflow, "mid-a");
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().message() == "C forward failed");
  // A re-ran (fresh output 11), B ran (22), C failed → drain B then A.
  BOOST_TEST(log->str() == "(B,22) (A,11)");
  // Clean rollback ⇒ the recovery log is cleared.
  BOOST_TEST(store->rows("mid-a").empty());
}

// Rust asserts: 2; extra: 1 (the run is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(empty_compensation_stack_failure_keeps_the_log_for_resume, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, std::make_shared<FailFast>())
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("nope")
                    .with_timeout(bound);
  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  // The Start checkpoint row is kept (empty stack ⇒ original error, no `clear`) —
  // so the run can still be resumed.
  BOOST_TEST(store->rows("nope").size() == 1u);
}

// Rust asserts: 2; extra: 1 (the run is an error).
BOOST_AUTO_TEST_CASE(deep_compensation_stack_drains_all_in_reverse) {
  test_system ts;
  constexpr std::uint32_t N = 60;
  auto log = std::make_shared<num_log>();

  auto workflow = cano::Workflow<std::uint32_t>::bare().add_exit_state(N).with_timeout(bound);
  for (std::uint32_t i = 0; i < N; ++i) {
    workflow = workflow.register_with_compensation(i, std::make_shared<NumComp>(i, i == N - 1, log));
  }

  auto r = ts.rt->run(workflow, std::uint32_t{0});
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().message() == "n" + std::to_string(N - 1) + " failed");
  // States 0..N-1 succeeded forward (the last one failed), so 0..N-1 compensate in reverse.
  std::vector<std::uint32_t> expected;
  for (std::uint32_t i = N - 1; i-- > 0;) {
    expected.push_back(i);
  }
  BOOST_TEST(log->values() == expected);
}

// Rust asserts: 4 (two per branch of the loop body); extra: 1 (the run is an error, in the
// failure branch).
BOOST_AUTO_TEST_CASE(failure_at_every_step_compensates_exactly_the_completed_prefix) {
  // For each possible failure point k in 0..=N (k == N means "no failure"), the run
  // either completes (k == N) or rolls back states 0..k in reverse, cleanly.
  test_system ts;
  constexpr std::uint32_t N = 5;

  for (std::uint32_t fail_at = 0; fail_at <= N; ++fail_at) {
    auto log = std::make_shared<num_log>();
    auto workflow = cano::Workflow<std::uint32_t>::bare().add_exit_state(N).with_timeout(bound);
    for (std::uint32_t i = 0; i < N; ++i) {
      workflow = workflow.register_with_compensation(i, std::make_shared<Step>(i, fail_at, log));
    }
    auto result = ts.rt->run(workflow, std::uint32_t{0});
    if (fail_at == N) {
      BOOST_TEST(show(result) == std::to_string(N), "no failure ⇒ run completes");
      BOOST_TEST(log->values().empty(), "completed run compensates nothing");
    } else {
      BOOST_REQUIRE(!result.has_value()); // extra
      BOOST_TEST(result.error().message() == "s" + std::to_string(fail_at) + " failed");
      std::vector<std::uint32_t> expected;
      for (std::uint32_t i = fail_at; i-- > 0;) {
        expected.push_back(i);
      }
      BOOST_TEST(log->values() == expected,
                 "fail at " << fail_at << ": states 0.." << fail_at << " compensate in reverse");
    }
  }
}

// Rust asserts: 2; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(stepped_cursor_rows_do_not_become_compensation_entries, Kind, test::store_kinds) {
  // StepCursor rows from register_stepped must not pollute the compensation stack.
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();

  // Seed: A (compensatable, seq 0+1), cursor for a stepped state (seq 2), then crash.
  seed(*store, "mixed-stepped", cano::CheckpointRow(0, "Start", "A"));
  seed(*store, "mixed-stepped", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(42)));
  seed(*store, "mixed-stepped", cano::CheckpointRow(2, "Process", "CountStepper").with_cursor(json_blob(1)));

  // Process is a Stepped state; it's the resume point. The stepper fails so the compensation
  // stack (rehydrated A) drains and we can inspect it.
  auto workflow = cano::Workflow<State>::bare()
                    .register_with_compensation(State::Start, CompTask::ok("A", 42, State::Process, log))
                    .register_stepped(State::Process, std::make_shared<FailingStepper>())
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);

  auto r = ts.rt->resume(workflow, "mixed-stepped");
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error().message() == "stepper failed");
  BOOST_TEST(r.error().category() == std::string("task_execution")); // extra: see above
  // A must have been compensated with value 42 from the rehydrated stack.
  BOOST_TEST(log->str() == "(A,42)", "StepCursor row must not become a compensation entry");
}

// Not a port: the two tests above resume AT a cursor row, which §2.5 leaves out of the stack in
// any case (the resume point's own row). Here the cursor rows lie before the resume point.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(cursor_rows_before_the_resume_point_never_become_compensation_entries, Kind,
                              test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto log = std::make_shared<comp_log>();
  seed(*store, "cursors-behind", cano::CheckpointRow(0, "Start", "A"));
  seed(*store, "cursors-behind", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(42)));
  seed(*store, "cursors-behind", cano::CheckpointRow(2, "Process", "CountStepper"));
  seed(*store, "cursors-behind", cano::CheckpointRow(3, "Process", "CountStepper").with_cursor(json_blob(1)));
  seed(*store, "cursors-behind", cano::CheckpointRow(4, "Process", "CountStepper").with_cursor(json_blob(2)));
  seed(*store, "cursors-behind", cano::CheckpointRow(5, "Split", "C")); // the resume point
  auto workflow =
    cano::Workflow<State>::bare()
      .register_with_compensation(State::Start, CompTask::ok("A", 42, State::Process, log))
      .register_stepped(State::Process, std::make_shared<FailingStepper>())
      .register_with_compensation(State::Split, std::make_shared<CompTask>("C", 7, State::Complete, log, true, false))
      .add_exit_state(State::Complete)
      .with_checkpoint_store(store)
      .with_timeout(bound);
  auto r = ts.rt->resume(workflow, "cursors-behind");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message() == "C forward failed");
  BOOST_TEST(log->str() == "(A,42)");
  BOOST_TEST(store->rows("cursors-behind").empty()); // a clean rollback clears the log
}

BOOST_AUTO_TEST_SUITE_END()
