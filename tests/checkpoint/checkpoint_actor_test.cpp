// The checkpoint actor and the run log (ARCHITECTURE D6): write-ahead, group commit, isolation
// of concurrent runs, corrupt blobs on resume, the bounded queue, run headers and resume_all.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/recording_observer.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A memory store that says it blocks, so the engine writes through a checkpoint actor; its
/// batches can be held on a gate and are recorded by size.
class gated_store : public cano::MemoryCheckpointStore {
public:
  bool is_blocking() const override { return true; }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& writes) override {
    {
      std::lock_guard<std::mutex> g(m_);
      batch_sizes_.push_back(writes.size());
    }
    entered_.arrive();
    if (hold_) {
      hold_->wait();
    }
    return cano::MemoryCheckpointStore::append_batch(writes);
  }
  std::vector<std::size_t> batch_sizes() const {
    std::lock_guard<std::mutex> g(m_);
    return batch_sizes_;
  }
  std::shared_ptr<gate> hold_;
  counter entered_;

private:
  mutable std::mutex m_;
  std::vector<std::size_t> batch_sizes_;
};

/// A memory store that says it commits two batches at once (two lanes): it records which thread
/// (which lane's checkpoint actor) wrote each row, in call order, and whether two batches were
/// ever in flight together. Until they were, a batch waits (at most 10 s) for another.
class laned_store : public cano::MemoryCheckpointStore {
public:
  bool is_blocking() const override { return true; }
  std::size_t batch_lanes() const override { return 2; }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& writes) override {
    if (++in_flight_ >= 2) {
      overlapped_ = true;
    }
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!overlapped_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    {
      std::lock_guard<std::mutex> g(m_);
      for (const auto& w : writes) {
        if (w.row) {
          rows_[w.workflow_id].push_back({std::this_thread::get_id(), w.row->sequence});
        }
      }
    }
    auto out = cano::MemoryCheckpointStore::append_batch(writes);
    --in_flight_;
    return out;
  }
  bool overlapped() const { return overlapped_; }
  std::map<std::string, std::vector<std::pair<std::thread::id, std::uint64_t>>> rows() const {
    std::lock_guard<std::mutex> g(m_);
    return rows_;
  }

private:
  std::atomic<int> in_flight_{0};
  std::atomic<bool> overlapped_{false};
  mutable std::mutex m_;
  std::map<std::string, std::vector<std::pair<std::thread::id, std::uint64_t>>> rows_;
};

cano::Workflow<State> three_states(std::shared_ptr<cano::CheckpointStore> store,
                                   std::shared_ptr<std::atomic<int>> started = nullptr) {
  return cano::Workflow<State>{}
    .with_name("three")
    .register_task(
      State::Start, "T1",
      [started] {
        if (started) {
          ++*started;
        }
        return State::Process;
      },
      cano::TaskConfig::minimal().with_blocking(false))
    .register_task(State::Process, goto_task(State::Complete, cano::TaskConfig::minimal(), "T2"))
    .add_exit_state(State::Complete)
    .with_checkpoint_store(std::move(store));
}

/// Waits (bounded) until `pred` holds, yielding meanwhile.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 60s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::yield();
  }
  return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(checkpoint_actor_test)

BOOST_AUTO_TEST_CASE(a_task_never_starts_before_its_entry_row_is_durable) {
  auto store = std::make_shared<gated_store>();
  store->hold_ = std::make_shared<gate>();
  auto started = std::make_shared<std::atomic<int>>(0);
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  ts.rt->start(three_states(store, started), State::Start, {"wa-1", nullptr}, caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(store->entered_.wait_for_at_least(1)); // the entry row's commit is in progress
  BOOST_TEST(started->load() == 0);                    // ... and the task has not started
  store->hold_->open();
  auto results = receive_results(self, 1);
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results[0].ok());
  BOOST_TEST(started->load() == 1);
  auto states = store->audit_states("wa-1");
  BOOST_REQUIRE(states.size() == 3u);
  BOOST_TEST(states[0].second == "Start");
  BOOST_TEST(store->rows("wa-1").empty());
}

BOOST_AUTO_TEST_CASE(rows_waiting_behind_a_slow_commit_go_out_in_one_batch) {
  auto store = std::make_shared<gated_store>();
  store->hold_ = std::make_shared<gate>();
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  auto wf = three_states(store);
  ts.rt->start(wf, State::Start, {"gc-0", nullptr}, caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(store->entered_.wait_for_at_least(1)); // the first batch is committing
  for (int i = 1; i < 100; ++i) {
    ts.rt->start(wf, State::Start, {"gc-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  // 99 entry rows (each carrying its run's header) queue up behind the held commit.
  BOOST_REQUIRE(eventually([&] { return ts.rt->checkpoint_writes_pending() >= 99 + 1; }));
  store->hold_->open();
  auto results = receive_results(self, 100);
  BOOST_REQUIRE(results.size() == 100u);
  for (auto& r : results) {
    BOOST_TEST(r.ok());
  }
  auto sizes = store->batch_sizes();
  BOOST_REQUIRE(sizes.size() >= 2u);
  BOOST_TEST(sizes[1] >= 90u); // the next store call carried the queued rows together
}

BOOST_AUTO_TEST_CASE(a_thousand_runs_sharing_a_checkpoint_actor_get_their_own_dense_rows) {
  auto store = std::make_shared<gated_store>();
  // One run meets a row that is already there: only that run fails.
  BOOST_REQUIRE(store->append("run-7", cano::CheckpointRow(0, "Start", "T1")).has_value());
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  auto wf = three_states(store);
  for (int i = 0; i < 1000; ++i) {
    ts.rt->start(wf, State::Start, {"run-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  auto results = receive_results(self, 1000);
  BOOST_REQUIRE(results.size() == 1000u);
  std::size_t ok = 0;
  for (auto& r : results) {
    if (r.workflow_id == "run-7") {
      BOOST_REQUIRE(!r.ok());
      BOOST_TEST(r.failure->category() == std::string("checkpoint_store"));
      BOOST_TEST(r.failure->message() ==
                 "append checkpoint: Checkpoint store error: checkpoint conflict: workflow \"run-7\" already has a "
                 "row at sequence 0; resume the existing run or clear it first");
      continue;
    }
    ok += r.ok() ? 1 : 0;
    auto states = store->audit_states(r.workflow_id);
    std::vector<std::pair<std::uint64_t, std::string>> expected{{0, "Start"}, {1, "Process"}, {2, "Complete"}};
    BOOST_TEST((states == expected));
  }
  BOOST_TEST(ok == 999u);
  BOOST_TEST(store->rows("run-7").size() == 1u);   // the existing log is left intact
  BOOST_TEST(store->batch_sizes().size() < 3000u); // rows of many runs shared store calls
}

BOOST_AUTO_TEST_CASE(past_the_queue_bound_writes_fail_at_once_and_nothing_hangs) {
  auto store = std::make_shared<gated_store>();
  store->hold_ = std::make_shared<gate>();
  cano::runtime_config cfg;
  cfg.checkpoint_queue_bound = 4;
  test_system ts(cfg);
  caf::scoped_actor self{*ts.sys};
  auto wf = three_states(store);
  ts.rt->start(wf, State::Start, {"q-0", nullptr}, caf::actor_cast<caf::actor>(self));
  BOOST_REQUIRE(store->entered_.wait_for_at_least(1));
  for (int i = 1; i < 10; ++i) {
    ts.rt->start(wf, State::Start, {"q-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  // Runs that found the queue full have already failed, while the store is still held.
  std::size_t full = 0;
  auto early = receive_results(self, 1);
  BOOST_REQUIRE(early.size() == 1u);
  BOOST_REQUIRE(!early[0].ok());
  BOOST_TEST(early[0].failure->category() == std::string("checkpoint_store"));
  BOOST_TEST(early[0].failure->message() ==
             "append checkpoint: Checkpoint store error: checkpoint queue is full: 4 writes are already waiting "
             "for the store");
  ++full;
  store->hold_->open();
  auto rest = receive_results(self, 9);
  BOOST_REQUIRE(rest.size() == 9u);
  std::size_t ok = 0;
  for (auto& r : rest) {
    if (r.ok()) {
      ++ok;
    } else {
      BOOST_TEST(r.failure->message().find("checkpoint queue is full") != std::string::npos);
      ++full;
    }
  }
  BOOST_TEST(ok >= 1u);
  BOOST_TEST(full >= 1u);
  BOOST_TEST(ok + full == 10u);
}

BOOST_AUTO_TEST_CASE(a_corrupt_cursor_on_resume_names_the_run_and_row) {
  struct stepper : cano::SteppedTask<State, int> {
    std::string name() const override { return "Stepper"; }
    cano::expected<cano::StepOutcome<State, int>> step(cano::task_context&, std::optional<int>) override {
      return cano::StepOutcome<State, int>::done(State::Complete);
    }
  };
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  BOOST_REQUIRE(store->append("bad-cursor", cano::CheckpointRow(0, "Start", "Stepper")).has_value());
  std::string garbage = "{not json";
  BOOST_REQUIRE(
    store
      ->append("bad-cursor", cano::CheckpointRow(1, "Start", "Stepper").with_cursor({garbage.begin(), garbage.end()}))
      .has_value());
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_stepped(State::Start, std::make_shared<stepper>())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store);
  auto r = ts.rt->resume(wf, "bad-cursor");
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("task_execution"));
  BOOST_TEST(r.error().message().find("deserialize cursor for `Stepper`: ") == 0);
  BOOST_TEST(r.error().message().find("(workflow_id=\"bad-cursor\", sequence=1)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_corrupt_saga_output_on_resume_names_the_run_and_row) {
  struct step : cano::CompensatableTask<State, int> {
    std::string name() const override { return "A"; }
    cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
      return std::make_pair(cano::TaskResult<State>(State::Process), 1);
    }
    cano::expected<void> compensate(cano::task_context&, int) override { return {}; }
  };
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  std::string garbage = "[1,";
  BOOST_REQUIRE(store->append("bad-blob", cano::CheckpointRow(0, "Start", "A")).has_value());
  BOOST_REQUIRE(
    store->append("bad-blob", cano::CheckpointRow(1, "Start", "A").with_output({garbage.begin(), garbage.end()}))
      .has_value());
  BOOST_REQUIRE(store->append("bad-blob", cano::CheckpointRow(2, "Process", "C")).has_value());
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<step>())
              .register_task(
                State::Process, "C", []() -> cano::expected<State> { return cano::error::task_execution("C failed"); },
                cano::TaskConfig::minimal())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store);
  auto r = ts.rt->resume(wf, "bad-blob");
  BOOST_REQUIRE(!r);
  BOOST_TEST((r.error().code() == cano::errc::compensation_failed));
  BOOST_REQUIRE(r.error().nested().size() == 2u);
  BOOST_TEST(r.error().nested()[0].message() == "C failed");
  const auto& bad = r.error().nested()[1];
  BOOST_TEST(bad.category() == std::string("generic"));
  BOOST_TEST(bad.message().find("deserialize compensation output for `A`: ") == 0);
  BOOST_TEST(bad.message().find("(workflow_id=\"bad-blob\", sequence=1)") != std::string::npos);
  BOOST_TEST(store->rows("bad-blob").size() == 4u); // a dirty rollback keeps the log
}

BOOST_AUTO_TEST_CASE(the_run_input_survives_a_resume_in_a_new_runtime) {
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto entered = std::make_shared<counter>();
  auto g = std::make_shared<gate>();
  auto seen = std::make_shared<std::vector<std::string>>();
  auto seen_mutex = std::make_shared<std::mutex>();
  auto wf = cano::Workflow<State>{}
              .with_name("orders")
              .register_task(State::Start, goto_task(State::Process, cano::TaskConfig::minimal(), "T1"))
              .register_task(
                State::Process, "T2",
                [=](cano::task_context& ctx) -> cano::expected<State> {
                  {
                    std::lock_guard<std::mutex> l(*seen_mutex);
                    seen->push_back(ctx.input().at("sku").get<std::string>());
                  }
                  entered->arrive();
                  if (entered->value() == 1) {
                    g->wait(); // the first process "crashes" here
                    return cano::error::task_execution("crashed");
                  }
                  return State::Complete;
                },
                cano::TaskConfig::minimal())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store);
  {
    test_system first;
    caf::scoped_actor self{*first.sys};
    first.rt->start(wf, State::Start, {"in-1", {{"sku", "KB-42"}}}, caf::actor_cast<caf::actor>(self));
    BOOST_REQUIRE(entered->wait_for_at_least(1));
    BOOST_TEST(!first.rt->shutdown(10ms)); // the run is dropped: interrupted, log kept
    auto dropped = receive_results(self, 1);
    BOOST_REQUIRE(dropped.size() == 1u);
    BOOST_TEST(!dropped[0].ok());
  }
  auto header = store->run_header("in-1");
  BOOST_REQUIRE(header.has_value());
  BOOST_REQUIRE(header->has_value());
  BOOST_TEST(((*header)->status == cano::RunStatus::interrupted));
  BOOST_TEST((*header)->definition == "orders");
  test_system second;
  auto results = second.rt->resume_all(std::vector<cano::Workflow<State>>{wf});
  g->open();
  BOOST_REQUIRE(results.size() == 1u);
  BOOST_TEST(results[0].first == "in-1");
  BOOST_REQUIRE(results[0].second.has_value());
  BOOST_TEST(*results[0].second == State::Complete);
  BOOST_REQUIRE(seen->size() == 2u);
  BOOST_TEST((*seen)[1] == "KB-42"); // the resumed process saw the original input
  auto states = store->audit_states("in-1");
  std::vector<std::pair<std::uint64_t, std::string>> expected{
    {0, "Start"}, {1, "Process"}, {2, "Process"}, {3, "Complete"}};
  BOOST_TEST((states == expected));
  auto done = store->run_header("in-1");
  BOOST_TEST(((*done)->status == cano::RunStatus::completed));
}

/// A header as a run of `definition` (version `version`) would have written it.
cano::RunHeader header_of(std::string id, std::string definition, std::uint32_t version, cano::RunStatus status) {
  cano::RunHeader h;
  h.workflow_id = std::move(id);
  h.definition = std::move(definition);
  h.workflow_version = version;
  h.status = status;
  return h;
}

BOOST_AUTO_TEST_CASE(resume_all_leaves_other_definitions_and_finished_runs_alone) {
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto wf = three_states(store);
  BOOST_REQUIRE(store->append("other", cano::CheckpointRow(0, "Start", "T1")).has_value());
  BOOST_REQUIRE(store->put_run_header(header_of("other", "someone-else", 0, cano::RunStatus::interrupted)).has_value());
  BOOST_REQUIRE(store->append("old-version", cano::CheckpointRow(0, "Start", "T1")).has_value());
  BOOST_REQUIRE(store->put_run_header(header_of("old-version", "three", 3, cano::RunStatus::running)).has_value());
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(wf, State::Start, {"finished", nullptr}).has_value());
  auto results = ts.rt->resume_all(std::vector<cano::Workflow<State>>{wf});
  BOOST_TEST(results.empty());
  BOOST_TEST(store->rows("other").size() == 1u);
  BOOST_TEST(store->rows("old-version").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_rolled_back_run_is_never_resumed_forward) {
  struct step : cano::CompensatableTask<State, int> {
    std::string name() const override { return "A"; }
    cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
      return std::make_pair(cano::TaskResult<State>(State::Process), 1);
    }
    cano::expected<void> compensate(cano::task_context&, int) override {
      return cano::error::task_execution("refund failed");
    }
  };
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto wf = cano::Workflow<State>{}
              .register_with_compensation(State::Start, std::make_shared<step>())
              .register_task(
                State::Process, "C", []() -> cano::expected<State> { return cano::error::task_execution("C failed"); },
                cano::TaskConfig::minimal())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store);
  test_system ts;
  auto first = ts.rt->run(wf, State::Start, {"rb", nullptr});
  BOOST_REQUIRE(!first);
  BOOST_TEST((first.error().code() == cano::errc::compensation_failed));
  BOOST_TEST(!store->rows("rb").empty()); // a dirty rollback keeps its log ...
  auto again = ts.rt->resume(wf, "rb");
  BOOST_REQUIRE(!again); // ... but never resumes forward
  BOOST_TEST(again.error().message() == "run \"rb\" was rolled back (its compensations ran); it cannot be resumed");
  BOOST_TEST(ts.rt->resume_all(std::vector<cano::Workflow<State>>{wf}).empty());
}

BOOST_AUTO_TEST_CASE(entry_rows_come_before_the_task_starts) {
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto obs = std::make_shared<recording_observer>();
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(three_states(store).with_observer(obs), State::Start, {"order", nullptr}).has_value());
  std::vector<std::string> expected{"state_enter:Start",    "checkpoint:order:0", "task_start:T1", "task_success:T1",
                                    "state_enter:Process",  "checkpoint:order:1", "task_start:T2", "task_success:T2",
                                    "state_enter:Complete", "checkpoint:order:2"};
  BOOST_TEST(obs->events() == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_store_of_two_lanes_commits_two_batches_at_once_and_each_run_stays_in_one_lane_in_order) {
  auto store = std::make_shared<laned_store>();
  auto wf = three_states(store);
  test_system ts;
  caf::scoped_actor self{*ts.sys};
  constexpr std::size_t runs = 64; // ids spread over both lanes (all in one: 2^-63)
  for (std::size_t i = 0; i < runs; ++i) {
    ts.rt->start(wf, State::Start, {"lane-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  auto results = receive_results(self, runs);
  BOOST_REQUIRE(results.size() == runs);
  for (const auto& r : results) {
    BOOST_TEST(r.ok(), r.workflow_id << ": " << (r.ok() ? std::string() : r.failure->to_string()));
  }
  BOOST_TEST(store->overlapped()); // two batches were in flight together
  std::set<std::thread::id> lanes;
  auto rows = store->rows();
  BOOST_REQUIRE(rows.size() == runs);
  for (const auto& [id, written] : rows) {
    BOOST_REQUIRE(!written.empty());
    std::set<std::thread::id> of_run;
    for (std::size_t k = 0; k < written.size(); ++k) {
      of_run.insert(written[k].first);
      BOOST_TEST(written[k].second == k, id << ": row " << k << " arrived as sequence " << written[k].second);
    }
    BOOST_TEST(of_run.size() == 1u, id << ": its rows went through " << of_run.size() << " lanes");
    lanes.insert(of_run.begin(), of_run.end());
  }
  BOOST_TEST(lanes.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
