// cano-semantics §1.19, §2.1–2.5 and §5.7: checkpoint rows and resume_from, ported from the
// checkpoint/resume tests of cano 0.13.2's `workflow/compensation.rs` (same names, every
// assertion in the same order). The Rust test double `MemCheckpoints` is the library's
// MemoryCheckpointStore (`rows` = live rows, `audit_rows` / `audit_states` = every row ever
// appended); `CkptObserver` / the on_state_enter observer are RecordingObservers.
//
// Each test case's comment gives its Rust assert count; checks a C++ port needs on top of them
// (a REQUIRE that a result is an error before reading it, that a vector is long enough before
// indexing it, ...) are marked "extra".
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <nlohmann/json.hpp>

#include "cano/actor_api.hpp"
#include "cano/batch_task.hpp"
#include "cano/checkpoint.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/poll_task.hpp"
#include "cano/recording_observer.hpp"
#include "cano/stepped_task.hpp"
#include "cano/workflow.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// Bounds every engine run generously, so a hang fails the test instead of blocking it.
constexpr cano::duration bound = std::chrono::seconds(60);

using Store = test::audited_store;

/// cano's test_support::SimpleTask: always goes to `next`, counting its runs (copies of the
/// shared_ptr share the count, like clones of the Rust task share their Arc counter).
class SimpleTask : public cano::Task<State> {
public:
  explicit SimpleTask(State next) : next_(next) {}
  std::string name() const override { return "SimpleTask"; }
  cano::expected<cano::TaskResult<State>> run(cano::task_context&) override {
    ++calls_;
    return cano::TaskResult<State>(next_);
  }
  int count() const { return calls_.load(); }

private:
  State next_;
  std::atomic<int> calls_{0};
};

std::shared_ptr<SimpleTask> simple(State next) { return std::make_shared<SimpleTask>(next); }

/// The Rust tests' RouteToWork: a minimal-config router that always goes to Process.
struct RouteToWork : cano::RouterTask<State> {
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "RouteToWork"; }
  cano::expected<cano::TaskResult<State>> route(cano::task_context&) override {
    return cano::TaskResult<State>(State::Process);
  }
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

/// `audit_states` as text: "(0,Start) (1,Process)".
std::string show(const std::vector<std::pair<std::uint64_t, std::string>>& states) {
  std::string out;
  for (const auto& s : states) {
    out += (out.empty() ? "(" : " (") + std::to_string(s.first) + "," + s.second + ")";
  }
  return out;
}

std::string kind_name(cano::RowKind k) {
  switch (k) {
    case cano::RowKind::state_entry: return "StateEntry";
    case cano::RowKind::compensation_completion: return "CompensationCompletion";
    case cano::RowKind::step_cursor: return "StepCursor";
  }
  return "?";
}

/// `serde_json::from_slice::<u32>(row.output_blob.as_ref().unwrap()).unwrap()`; -1 when the row
/// has no blob or the blob is not a JSON unsigned integer.
std::int64_t blob_u32(const cano::CheckpointRow& row) {
  if (!row.output_blob) {
    return -1;
  }
  try {
    return static_cast<std::int64_t>(cano::from_blob(*row.output_blob).get<std::uint32_t>());
  } catch (const std::exception&) {
    return -1;
  }
}

/// The CkptObserver's events: only on_checkpoint and on_resume, in order.
std::vector<std::string> ckpt_events(const cano::RecordingObserver& o) {
  std::vector<std::string> out;
  for (auto& e : o.events()) {
    if (e.rfind("checkpoint:", 0) == 0 || e.rfind("resume:", 0) == 0) {
      out.push_back(e);
    }
  }
  return out;
}

/// The Rust helper `three_state_checkpointed(store, id)`.
cano::Workflow<State> three_state_checkpointed(std::shared_ptr<Store> store, std::string id) {
  return cano::Workflow<State>::bare()
    .register_task(State::Start, simple(State::Process))
    .register_task(State::Process, simple(State::Complete))
    .add_exit_state(State::Complete)
    .with_checkpoint_store(std::move(store))
    .with_workflow_id(std::move(id))
    .with_timeout(bound);
}

/// The Rust tests' CountStepper: each step moves the cursor one on until it reaches `target`.
class CountStepper : public cano::SteppedTask<State, std::uint32_t> {
public:
  explicit CountStepper(std::uint32_t target) : target_(target) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "CountStepper"; }
  cano::expected<cano::StepOutcome<State, std::uint32_t>> step(cano::task_context&,
                                                               std::optional<std::uint32_t> cursor) override {
    ++*calls;
    std::uint32_t n = cursor.value_or(0) + 1;
    if (n >= target_) {
      return cano::StepOutcome<State, std::uint32_t>::done(State::Complete);
    }
    return cano::StepOutcome<State, std::uint32_t>::more(n);
  }
  std::shared_ptr<std::atomic<std::uint32_t>> calls = std::make_shared<std::atomic<std::uint32_t>>(0);

private:
  std::uint32_t target_;
};

// --- cross_model_chain_router_poll_batch_stepped_interop's types ---------------------------------

enum class TourStage { Route, Wait, Crunch, Grind, Done };

std::string to_string(TourStage s) {
  switch (s) {
    case TourStage::Route: return "Route";
    case TourStage::Wait: return "Wait";
    case TourStage::Crunch: return "Crunch";
    case TourStage::Grind: return "Grind";
    case TourStage::Done: return "Done";
  }
  return "?";
}

/// Route (RouterTask): unconditionally routes to Wait.
struct TourRouter : cano::RouterTask<TourStage> {
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "TourRouter"; }
  cano::expected<cano::TaskResult<TourStage>> route(cano::task_context&) override {
    return cano::TaskResult<TourStage>(TourStage::Wait);
  }
};

/// Wait (PollTask): Ready after 2 polls.
struct TourPoller : cano::PollTask<TourStage> {
  explicit TourPoller(std::shared_ptr<std::atomic<std::uint32_t>> c) : counter(std::move(c)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "TourPoller"; }
  cano::expected<cano::PollOutcome<TourStage>> poll(cano::task_context&) override {
    auto n = counter->fetch_add(1) + 1;
    if (n >= 2) {
      return cano::PollOutcome<TourStage>::ready(TourStage::Crunch);
    }
    return cano::PollOutcome<TourStage>::pending(0);
  }
  std::shared_ptr<std::atomic<std::uint32_t>> counter;
};

/// Crunch (BatchTask): [1,2,3] squared; finish sums them. The Rust `assert_eq!(sum, 14)` inside
/// `finish` runs on an engine thread, so the sum is recorded here and checked by the test body.
struct TourBatch : cano::BatchTask<TourStage, std::uint32_t, std::uint32_t> {
  explicit TourBatch(std::shared_ptr<std::atomic<std::int64_t>> s) : finish_sum(std::move(s)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "TourBatch"; }
  std::size_t concurrency() const override { return 4; }
  cano::expected<std::vector<std::uint32_t>> load(cano::task_context&) override {
    return std::vector<std::uint32_t>{1, 2, 3};
  }
  cano::expected<std::uint32_t> process_item(const std::uint32_t& item) override { return item * item; }
  cano::expected<cano::TaskResult<TourStage>> finish(cano::task_context&,
                                                     std::vector<cano::expected<std::uint32_t>> outputs) override {
    std::uint32_t sum = 0;
    for (auto& o : outputs) {
      if (o) {
        sum += *o;
      }
    }
    finish_sum->store(sum);
    return cano::TaskResult<TourStage>(TourStage::Grind);
  }
  std::shared_ptr<std::atomic<std::int64_t>> finish_sum;
};

/// Grind (SteppedTask): counts 0 → 3 (More(1), More(2), More(3), Done). The cursor is Rust's
/// newtype GrindCursor(u32), which serde encodes as the bare integer.
struct TourStepper : cano::SteppedTask<TourStage, std::uint32_t> {
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "TourStepper"; }
  cano::expected<cano::StepOutcome<TourStage, std::uint32_t>> step(cano::task_context&,
                                                                   std::optional<std::uint32_t> cursor) override {
    auto n = cursor.value_or(0);
    if (n >= 3) {
      return cano::StepOutcome<TourStage, std::uint32_t>::done(TourStage::Done);
    }
    return cano::StepOutcome<TourStage, std::uint32_t>::more(n + 1);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(checkpoint_resume_test)

// Rust asserts: 5; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(checkpoint_row_written_for_each_state_entered, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Process))
                    .register_task(State::Process, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("run-1")
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->run(workflow, State::Start)) == "Complete");

  // One row per state entered, in order — including the terminal exit state.
  BOOST_REQUIRE(show(store->audit_states("run-1")) == "(0,Start) (1,Process) (2,Complete)");
  auto rows = store->audit_rows("run-1");
  BOOST_TEST((!rows[0].task_id.empty() && !rows[1].task_id.empty()), "rows for registered states carry the task name");
  BOOST_TEST(rows[2].task_id.empty(), "the exit state has no task, so its row's task_id is empty");
  // A successful run clears its live log.
  BOOST_TEST(store->rows("run-1").empty());
}

// Rust asserts: 3; extra: 1 (the resume result is an error).
BOOST_AUTO_TEST_CASE(no_checkpoint_store_means_no_rows_and_resume_is_rejected) {
  test_system ts;
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_timeout(bound);
  BOOST_TEST(show(ts.rt->run(workflow, State::Start)) == "Complete");
  auto r = ts.rt->resume(workflow, "whatever");
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_TEST(err.category() == std::string("configuration"));
  BOOST_TEST(err.message().find("checkpoint store") != std::string::npos);
}

// Rust asserts: 5; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_continues_from_last_checkpointed_state, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  // Seed: the run got as far as entering `Process` before "crashing".
  seed(*store, "run-2", cano::CheckpointRow(0, "Start", ""));
  seed(*store, "run-2", cano::CheckpointRow(1, "Process", ""));

  auto start_task = simple(State::Process);
  auto process_task = simple(State::Complete);
  auto observer = std::make_shared<cano::RecordingObserver>();
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, start_task)
                    .register_task(State::Process, process_task)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_observer(observer)
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->resume(workflow, "run-2")) == "Complete");
  BOOST_TEST(start_task->count() == 0, "state before the resume point never runs");
  BOOST_TEST(process_task->count() == 1, "the resumed state's task re-runs once");

  // Continuation appended rows from sequence 2 onward (re-entering `Process`, then `Complete`).
  BOOST_TEST(show(store->audit_states("run-2")) == "(0,Start) (1,Process) (2,Process) (3,Complete)");
  BOOST_TEST(ckpt_events(*observer) ==
             (std::vector<std::string>{"resume:run-2:1", "checkpoint:run-2:2", "checkpoint:run-2:3"}));
}

// Rust asserts: 2; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_from_exit_state_returns_immediately, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  seed(*store, "done-run", cano::CheckpointRow(0, "Start", ""));
  seed(*store, "done-run", cano::CheckpointRow(1, "Complete", ""));
  auto work = simple(State::Complete);
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, work)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->resume(workflow, "done-run")) == "Complete");
  BOOST_TEST(work->count() == 0, "no task runs when resuming into an exit state");
}

// Rust asserts: 4; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(split_state_writes_a_single_checkpoint_row, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  std::vector<std::shared_ptr<cano::Task<State>>> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(simple(State::Complete));
  }
  cano::JoinConfig<State> join_config{cano::JoinStrategy::all(), State::Complete};
  auto workflow = cano::Workflow<State>::bare()
                    .register_split(State::Start, tasks, join_config)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("split-run")
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->run(workflow, State::Start)) == "Complete");

  // The 5-way split is one state ⇒ one entry row, not five.
  auto rows = store->audit_rows("split-run");
  BOOST_TEST(std::count_if(rows.begin(), rows.end(), [](const cano::CheckpointRow& r) { return r.state == "Start"; }) ==
               1,
             "the split state is checkpointed exactly once");
  BOOST_REQUIRE(show(store->audit_states("split-run")) == "(0,Start) (1,Complete)");
  BOOST_TEST(rows[0].task_id.empty(), "a split state's checkpoint row has no single task id");
}

// Rust asserts: 2; extra: 1 (the run is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(checkpoint_requires_workflow_id_on_orchestrate, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  // Store attached but no workflow id — orchestrate must error at the first checkpoint write.
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);
  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_TEST(err.category() == std::string("checkpoint_store"));
  BOOST_TEST(err.message().find("workflow id") != std::string::npos);
}

// Rust asserts: 2; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_unknown_workflow_id_errors, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);
  auto r = ts.rt->resume(workflow, "never-ran");
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_TEST(err.category() == std::string("checkpoint_store"));
  BOOST_TEST(err.message().find("no checkpoint rows") != std::string::npos);
}

// Rust asserts: 2; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_with_unrecognized_state_label_errors, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  seed(*store, "wrong-defn", cano::CheckpointRow(0, "NotAStateOfThisWorkflow", ""));
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);
  auto r = ts.rt->resume(workflow, "wrong-defn");
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_TEST(err.category() == std::string("workflow"));
  BOOST_TEST(err.message().find("is not a registered or exit state") != std::string::npos);
}

// --- Router checkpoint-skipping ------------------------------------------------------------------

// Rust asserts: 4; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(router_state_produces_no_checkpoint_row_and_sequences_are_dense, Kind,
                              test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  // Observe on_state_enter and on_checkpoint to verify the router fires the former but NOT the latter.
  auto observer = std::make_shared<cano::RecordingObserver>();
  auto ckpt_obs = std::make_shared<cano::RecordingObserver>();

  // Route (router) → Process (single) → Complete (exit)
  auto workflow = cano::Workflow<State>::bare()
                    .register_router(State::Start, std::make_shared<RouteToWork>())
                    .register_task(State::Process, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("router-run")
                    .with_observer(observer)
                    .with_observer(ckpt_obs)
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->run(workflow, State::Start)) == "Complete");

  // `on_state_enter` fires for ALL states (including the router).
  BOOST_TEST(observer->events_with("state_enter:") ==
               (std::vector<std::string>{"state_enter:Start", "state_enter:Process", "state_enter:Complete"}),
             "on_state_enter fires for every state including the router");

  // No router row: only Process (seq 0) and Complete (seq 1).
  BOOST_TEST(show(store->audit_states("router-run")) == "(0,Process) (1,Complete)",
             "router state leaves no checkpoint row; sequences are dense from 0");

  // `on_checkpoint` must not have fired for the Start/router state.
  BOOST_TEST(ckpt_events(*ckpt_obs) == (std::vector<std::string>{"checkpoint:router-run:0", "checkpoint:router-run:1"}),
             "on_checkpoint fires only for non-router states");
}

// Rust asserts: 3; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_from_skips_router_rows_not_present_in_checkpoint_log, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  // Only the Process row exists — as if the run crashed right after entering Process
  // (the Start router left no row).
  seed(*store, "router-resume", cano::CheckpointRow(0, "Process", ""));

  auto process_task = simple(State::Complete);
  auto workflow = cano::Workflow<State>::bare()
                    .register_router(State::Start, std::make_shared<RouteToWork>())
                    .register_task(State::Process, process_task)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->resume(workflow, "router-resume")) == "Complete");
  BOOST_TEST(process_task->count() == 1, "Process task re-runs once on resume");
  // Continuation wrote Process (seq 1) and Complete (seq 2).
  BOOST_TEST(show(store->audit_states("router-resume")) == "(0,Process) (1,Process) (2,Complete)");
}

// --- hardening: concurrency & high-error scenarios -----------------------------------------------

// Rust asserts: 3 (in loops: 16 results, then 2 per id); extra: 1 (all 16 results arrived).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(many_workflows_share_one_store_without_cross_talk, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  constexpr std::size_t RUNS = 16;

  caf::scoped_actor self{*ts.sys};
  for (std::size_t i = 0; i < RUNS; ++i) {
    ts.rt->start(three_state_checkpointed(store, "run-" + std::to_string(i)), State::Start, {},
                 caf::actor_cast<caf::actor>(self));
  }
  auto results = receive_results(self, RUNS);
  BOOST_REQUIRE(results.size() == RUNS); // extra
  for (auto& res : results) {
    BOOST_TEST(show(res.get<State>()) == "Complete");
  }

  for (std::size_t i = 0; i < RUNS; ++i) {
    auto id = "run-" + std::to_string(i);
    BOOST_TEST(show(store->audit_states(id)) == "(0,Start) (1,Process) (2,Complete)",
               id << ": exactly its own three rows, in order");
    BOOST_TEST(store->rows(id).empty(), id << ": a successful run clears its live log");
  }
}

// Rust asserts: 2; extra: 2 (both results arrived; a success ends at Complete — Rust's
// `Ok(other) => panic!`).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(racing_runs_of_one_id_never_corrupt_and_at_least_one_completes, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  caf::scoped_actor self{*ts.sys};
  for (int i = 0; i < 2; ++i) {
    ts.rt->start(three_state_checkpointed(store, "dup"), State::Start, {}, caf::actor_cast<caf::actor>(self));
  }
  auto results = receive_results(self, 2);
  BOOST_REQUIRE(results.size() == 2u); // extra
  int completed = 0;
  for (auto& res : results) {
    auto r = res.get<State>();
    if (r.has_value()) {
      BOOST_TEST(*r == State::Complete, "unexpected success state " << *r); // extra
      ++completed;
    } else {
      // The loser of the seq-0 race fails fast with a conflict, not corruption.
      BOOST_TEST(r.error().category() == std::string("checkpoint_store"), "unexpected error: " << r.error());
    }
  }
  BOOST_TEST(completed >= 1, "whichever run wins sequence 0 must run to completion");
}

// Rust asserts: 3; extra: 1 (the run is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(fresh_run_over_an_uncleared_log_is_rejected, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  // A previous run that failed left rows behind (no `clear`).
  seed(*store, "run", cano::CheckpointRow(0, "Start", "SimpleTask"));
  seed(*store, "run", cano::CheckpointRow(1, "Process", "SimpleTask"));

  auto r = ts.rt->run(three_state_checkpointed(store, "run"), State::Start);
  BOOST_REQUIRE(!r.has_value()); // extra
  const auto& err = r.error();
  BOOST_TEST(err.category() == std::string("checkpoint_store"));
  BOOST_TEST(err.message().find("conflict") != std::string::npos, "got: " << err);
  // The leftover log is intact — the run can still be resumed.
  BOOST_TEST(store->rows("run").size() == 2u);
}

// --- Cross-model interoperability ----------------------------------------------------------------

// Rust asserts: 6 (one inside TourBatch::finish, checked here after the run; one in a loop);
// extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(cross_model_chain_router_poll_batch_stepped_interop, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto poll_counter = std::make_shared<std::atomic<std::uint32_t>>(0);
  auto finish_sum = std::make_shared<std::atomic<std::int64_t>>(-1);

  auto workflow = cano::Workflow<TourStage>::bare()
                    .register_router(TourStage::Route, std::make_shared<TourRouter>())
                    .register_task(TourStage::Wait, std::make_shared<TourPoller>(poll_counter))
                    .register_task(TourStage::Crunch, std::make_shared<TourBatch>(finish_sum))
                    .register_stepped(TourStage::Grind, std::make_shared<TourStepper>())
                    .add_exit_state(TourStage::Done)
                    .with_checkpoint_store(store)
                    .with_workflow_id("tour-interop")
                    .with_timeout(bound);

  auto result = ts.rt->run(workflow, TourStage::Route);
  // Rust asserts this inside TourBatch::finish (during the run).
  BOOST_TEST(finish_sum->load() == 1 + 4 + 9, "1²+2²+3² = 14");
  BOOST_TEST(show(result) == "Done");

  // --- assertions on the audit log ---
  auto audit = store->audit_rows("tour-interop");

  // (1) No row whose state label is "Route" (the router skips the checkpoint).
  BOOST_TEST(std::all_of(audit.begin(), audit.end(), [](const cano::CheckpointRow& r) { return r.state != "Route"; }),
             "router state must leave no checkpoint row");

  // (2) Sequence numbers are dense from 0 (no gap where Route would have been).
  for (std::size_t idx = 0; idx < audit.size(); ++idx) {
    BOOST_TEST(audit[idx].sequence == idx,
               "sequence gap at index " << idx << ": got " << audit[idx].sequence << " expected " << idx);
  }

  // (3) The StateEntry rows, in order, must be: Wait, Crunch, Grind, Done.
  std::vector<std::string> state_entry_states;
  for (const auto& r : audit) {
    if (r.kind == cano::RowKind::state_entry) {
      state_entry_states.push_back(r.state);
    }
  }
  BOOST_TEST(state_entry_states == (std::vector<std::string>{"Wait", "Crunch", "Grind", "Done"}),
             "StateEntry rows must cover all non-router states in order");

  // (4) At least one StepCursor row exists for Grind.
  BOOST_TEST(std::any_of(
               audit.begin(), audit.end(),
               [](const cano::CheckpointRow& r) { return r.kind == cano::RowKind::step_cursor && r.state == "Grind"; }),
             "Grind stepped task must produce at least one StepCursor row");
}

// --- SteppedTask with checkpoint store -----------------------------------------------------------

// Rust asserts: 13; extra: 0 (the audit length assertion is a REQUIRE, guarding the indexing).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(stepped_forward_run_writes_cursor_rows_and_clears_on_success, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto stepper = std::make_shared<CountStepper>(4); // steps: None→1, 1→2, 2→3, 3→Done
  auto calls = stepper->calls;

  auto workflow = cano::Workflow<State>::bare()
                    .register_stepped(State::Start, stepper)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("step-fwd")
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->run(workflow, State::Start)) == "Complete");
  BOOST_TEST(calls->load() == 4u);

  // Audit: Start (seq 0), cursor 1 (seq 1), cursor 2 (seq 2), cursor 3 (seq 3),
  // Complete (seq 4). Live rows must be empty on success.
  auto audit = store->audit_rows("step-fwd");
  BOOST_REQUIRE_MESSAGE(audit.size() == 5u, "start + 3 cursors + exit = 5 rows");
  BOOST_TEST(kind_name(audit[0].kind) == "StateEntry");
  BOOST_TEST(audit[0].state == "Start");
  BOOST_TEST(kind_name(audit[1].kind) == "StepCursor");
  BOOST_TEST(kind_name(audit[2].kind) == "StepCursor");
  BOOST_TEST(kind_name(audit[3].kind) == "StepCursor");
  BOOST_TEST(kind_name(audit[4].kind) == "StateEntry");
  BOOST_TEST(audit[4].state == "Complete");
  // cursor values are JSON-encoded u32 bytes
  BOOST_TEST(blob_u32(audit[1]) == 1);
  BOOST_TEST(blob_u32(audit[3]) == 3);
  BOOST_TEST(store->rows("step-fwd").empty(), "live log cleared on success");
}

// Rust asserts: 2; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(stepped_resume_continues_from_last_cursor, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();

  // Seed: the run had entered Start (seq 0), written cursor=1 (seq 1), cursor=2 (seq 2),
  // then crashed. Resume should start from cursor=2, not from None.
  seed(*store, "step-resume", cano::CheckpointRow(0, "Start", "CountStepper"));
  seed(*store, "step-resume", cano::CheckpointRow(1, "Start", "CountStepper").with_cursor(json_blob(1)));
  seed(*store, "step-resume", cano::CheckpointRow(2, "Start", "CountStepper").with_cursor(json_blob(2)));

  // target=4 → steps: cursor=2→3, 3→Done (only 2 more calls, not 4).
  auto stepper = std::make_shared<CountStepper>(4);
  auto calls = stepper->calls;

  auto workflow = cano::Workflow<State>::bare()
                    .register_stepped(State::Start, stepper)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->resume(workflow, "step-resume")) == "Complete");
  // Only 2 step calls: cursor=2→More(3), cursor=3→Done.
  BOOST_TEST(calls->load() == 2u, "resumed run must not restart from None");
}

// Rust asserts: 5 (one in a loop); extra: 2 (the run succeeds — Rust's unwrap; 4 rows before
// indexing).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(stepped_sequences_are_dense_after_cursors, Kind, test::store_kinds) {
  // Verify that cursor rows consume sequence numbers and subsequent state rows
  // (e.g. the exit state) continue at the right sequence.
  test_system ts;
  auto store = Kind::make();
  auto stepper = std::make_shared<CountStepper>(3); // 2 cursor rows (1 and 2), then Done

  auto workflow = cano::Workflow<State>::bare()
                    .register_stepped(State::Start, stepper)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("dense")
                    .with_timeout(bound);

  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE_MESSAGE(r.has_value(), show(r)); // extra

  auto audit = store->audit_rows("dense");
  BOOST_REQUIRE(audit.size() >= 4u); // extra
  // seq 0: Start (StateEntry), seq 1: cursor=1, seq 2: cursor=2, seq 3: Complete (exit)
  BOOST_TEST(audit[0].sequence == 0u);
  BOOST_TEST(audit[1].sequence == 1u);
  BOOST_TEST(audit[2].sequence == 2u);
  BOOST_TEST(audit[3].sequence == 3u);
  for (std::size_t i = 0; i < audit.size(); ++i) {
    BOOST_TEST(audit[i].sequence == i, "sequences must be contiguous, gap at " << i);
  }
}

// Rust asserts: 2; extra: 0.
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(stepped_resume_without_cursor_rows_restarts_from_none, Kind, test::store_kinds) {
  // If the run crashed before any cursor was persisted (only the StateEntry row exists),
  // resume should start from None (same as a fresh run).
  test_system ts;
  auto store = Kind::make();
  seed(*store, "step-fresh-resume", cano::CheckpointRow(0, "Start", "CountStepper"));

  auto stepper = std::make_shared<CountStepper>(3); // needs 2 successful steps
  auto calls = stepper->calls;

  auto workflow = cano::Workflow<State>::bare()
                    .register_stepped(State::Start, stepper)
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_timeout(bound);

  BOOST_TEST(show(ts.rt->resume(workflow, "step-fresh-resume")) == "Complete");
  // Full 2 steps: None→1, 1→2, 2→Done = 3 calls
  BOOST_TEST(calls->load() == 3u);
}

// Rust asserts: 2; extra: 0.
BOOST_AUTO_TEST_CASE(stepped_no_store_path_unchanged) {
  // Without a checkpoint store, register_stepped behaves like register (no rows written).
  test_system ts;
  auto stepper = std::make_shared<CountStepper>(3);
  auto calls = stepper->calls;

  auto result = ts.rt->run(cano::Workflow<State>::bare()
                             .register_stepped(State::Start, stepper)
                             .add_exit_state(State::Complete)
                             .with_timeout(bound),
                           State::Start);
  BOOST_TEST(show(result) == "Complete");
  BOOST_TEST(calls->load() == 3u);
}

// --- workflow versions ---------------------------------------------------------------------------

// Rust asserts: 2; extra: 1 (the run succeeds — Rust's unwrap).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(workflow_version_is_stamped_on_every_appended_row, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Process))
                    .register_task(State::Process, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_id("ver-run")
                    .with_workflow_version(7)
                    .with_timeout(bound);
  auto r = ts.rt->run(workflow, State::Start);
  BOOST_REQUIRE_MESSAGE(r.has_value(), show(r)); // extra
  auto rows = store->audit_rows("ver-run");
  BOOST_TEST(
    std::all_of(rows.begin(), rows.end(), [](const cano::CheckpointRow& row) { return row.workflow_version == 7u; }));
  BOOST_TEST(!rows.empty(), "expected at least one appended row");
}

// Rust asserts: 1; extra: 1 (the resume is an error).
BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))
BOOST_AUTO_TEST_CASE_TEMPLATE(resume_from_rejects_workflow_version_mismatch, Kind, test::store_kinds) {
  test_system ts;
  auto store = Kind::make();
  seed(*store, "ver-mismatch", cano::CheckpointRow(0, "Start", "").with_workflow_version(1));
  auto workflow = cano::Workflow<State>::bare()
                    .register_task(State::Start, simple(State::Complete))
                    .add_exit_state(State::Complete)
                    .with_checkpoint_store(store)
                    .with_workflow_version(2)
                    .with_timeout(bound);
  auto r = ts.rt->resume(workflow, "ver-mismatch");
  BOOST_REQUIRE(!r.has_value()); // extra
  BOOST_TEST(r.error() == cano::error::workflow_version_mismatch(1, 2));
}

BOOST_AUTO_TEST_SUITE_END()
