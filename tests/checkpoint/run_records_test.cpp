// Run records and history on every store (issue 15): list_runs pages through every run newest
// first with its status, last state and attempts; history retention keeps a finished run's rows
// readable (run_log) while its live log is cleared as cano says; purges remove old runs and
// history, never an unfinished run. Runs are real runs of the engine.
#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include "cano/actor_api.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/workflow.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A saga step that goes to `next`; its undo fails when `undo_fails`.
class saga_step : public cano::CompensatableTask<State, int> {
public:
  saga_step(std::string name, State next, bool undo_fails)
    : name_(std::move(name)),
      next_(next),
      undo_fails_(undo_fails) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(next_), 7);
  }
  cano::expected<void> compensate(cano::task_context&, int) override {
    if (undo_fails_) {
      return cano::error::generic(name_ + " could not be undone");
    }
    return {};
  }

private:
  std::string name_;
  State next_;
  bool undo_fails_;
};

std::shared_ptr<cano::Task<State>> failing_task(const std::string& why) {
  return cano::make_task<State>(
    "break", [why]() -> cano::expected<State> { return cano::error::task_execution(why); },
    cano::TaskConfig::minimal());
}

/// Start → Process → Complete.
cano::Workflow<State> completing(std::shared_ptr<cano::CheckpointStore> store) {
  return cano::Workflow<State>{}
    .with_name("completes")
    .register_task(State::Start, goto_task(State::Process, cano::TaskConfig::minimal(), "begin"))
    .register_task(State::Process, goto_task(State::Complete, cano::TaskConfig::minimal(), "work"))
    .add_exit_state(State::Complete)
    .with_checkpoint_store(std::move(store));
}

/// Start (a saga step, or a plain task without `saga`) → Process, which fails.
cano::Workflow<State> failing(std::shared_ptr<cano::CheckpointStore> store, std::string name, bool saga,
                              bool undo_fails) {
  auto wf = cano::Workflow<State>{}.with_name(std::move(name));
  if (saga) {
    wf =
      wf.register_with_compensation(State::Start, std::make_shared<saga_step>("reserve", State::Process, undo_fails));
  } else {
    wf = wf.register_task(State::Start, goto_task(State::Process, cano::TaskConfig::minimal(), "begin"));
  }
  return wf.register_task(State::Process, failing_task("the carrier refused"))
    .add_exit_state(State::Complete)
    .with_checkpoint_store(std::move(store));
}

/// Runs "rr-1" to "rr-5": completed, failed, rolled back cleanly, rolled back with a failed undo,
/// and one interrupted (its runtime shut down while it waited in Process). Later runs get larger
/// ids, so runs created within one clock tick still list newest first.
void fill(const std::shared_ptr<audited_store>& store) {
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"rr-1", {{"n", 1}}}).has_value());
  BOOST_REQUIRE(!ts.rt->run(failing(store, "fails", false, false), State::Start, {"rr-2", {}}).has_value());
  BOOST_REQUIRE(!ts.rt->run(failing(store, "clean", true, false), State::Start, {"rr-3", {}}).has_value());
  BOOST_REQUIRE(!ts.rt->run(failing(store, "dirty", true, true), State::Start, {"rr-4", {}}).has_value());
  auto entered = std::make_shared<counter>();
  auto release = std::make_shared<gate>();
  auto hangs = cano::Workflow<State>{}
                 .with_name("hangs")
                 .register_task(State::Start, goto_task(State::Process, cano::TaskConfig::minimal(), "begin"))
                 .register_task(
                   State::Process, "wait",
                   [entered, release]() -> cano::expected<State> {
                     entered->arrive();
                     release->wait();
                     return State::Complete;
                   },
                   cano::TaskConfig::minimal())
                 .add_exit_state(State::Complete)
                 .with_checkpoint_store(store);
  {
    test_system other;
    caf::scoped_actor self{*other.sys};
    other.rt->start(hangs, State::Start, {"rr-5", {}}, caf::actor_cast<caf::actor>(self));
    BOOST_REQUIRE(entered->wait_for_at_least(1));
    BOOST_TEST(!other.rt->shutdown(10ms)); // dropped: interrupted, its log kept
    BOOST_TEST(receive_results(self, 1).size() == 1u);
    release->open();
  }
}

std::vector<std::string> ids_of(const std::vector<cano::RunHeader>& runs) {
  std::vector<std::string> out;
  for (const auto& h : runs) {
    out.push_back(h.workflow_id);
  }
  return out;
}

cano::RunPage page(cano::CheckpointStore& store, cano::RunQuery q) {
  auto p = store.list_runs(q);
  BOOST_REQUIRE_MESSAGE(p.has_value(), (p ? "" : p.error().to_string()));
  BOOST_TEST(p->unreadable.empty());
  return std::move(*p);
}

std::vector<std::string> states_of(const std::vector<cano::RunLogEntry>& log) {
  std::vector<std::string> out;
  for (const auto& e : log) {
    out.push_back(std::to_string(e.row.sequence) + ":" + e.row.state + (e.archived ? "" : " (live)"));
  }
  return out;
}

#define FOR_EVERY_STORE(name)                                                                                          \
  BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))                                  \
  BOOST_AUTO_TEST_CASE_TEMPLATE(name, Kind, test::store_kinds)

} // namespace

BOOST_AUTO_TEST_SUITE(run_records_test)

FOR_EVERY_STORE(every_run_is_listed_newest_first_with_its_status_last_state_and_attempts) {
  auto store = Kind::make();
  fill(store);
  auto all = page(*store, {});
  BOOST_TEST(ids_of(all.runs) == (std::vector<std::string>{"rr-5", "rr-4", "rr-3", "rr-2", "rr-1"}),
             boost::test_tools::per_element());
  BOOST_TEST(all.next_cursor.empty());
  std::vector<std::string> seen;
  for (const auto& h : all.runs) {
    seen.push_back(h.workflow_id + " " + h.definition + " " + to_string(h.status) + " " + h.last_state + " " +
                   std::to_string(h.attempts));
  }
  BOOST_TEST(seen == (std::vector<std::string>{"rr-5 hangs interrupted Process 1", "rr-4 dirty rolled_back Process 1",
                                               "rr-3 clean rolled_back Process 1", "rr-2 fails failed Process 1",
                                               "rr-1 completes completed Complete 1"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(all.runs[1].failure.has_value());
  BOOST_TEST(all.runs[1].failure->category() == std::string("compensation_failed"));
  BOOST_TEST(all.runs[4].input == (nlohmann::json{{"n", 1}}));
  for (const auto& h : all.runs) {
    BOOST_TEST((h.created_at <= h.updated_at), h.workflow_id << ": updated before it was created");
    BOOST_TEST((h.created_at > std::chrono::system_clock::time_point{}), h.workflow_id);
  }

  // Pages of two: every run once, in the same order, the last page without a cursor.
  std::vector<std::string> paged;
  cano::RunQuery q;
  q.limit = 2;
  for (int pages = 1;; ++pages) {
    auto p = page(*store, q);
    BOOST_TEST(p.runs.size() <= 2u);
    auto ids = ids_of(p.runs);
    paged.insert(paged.end(), ids.begin(), ids.end());
    if (p.next_cursor.empty()) {
      BOOST_TEST(pages == 3);
      break;
    }
    BOOST_REQUIRE(pages < 5);
    q.cursor = p.next_cursor;
  }
  BOOST_TEST(paged == ids_of(all.runs), boost::test_tools::per_element());
}

FOR_EVERY_STORE(runs_are_filtered_by_status_definition_and_creation_time) {
  auto store = Kind::make();
  fill(store);
  cano::RunQuery q;
  q.statuses = {cano::RunStatus::rolled_back, cano::RunStatus::interrupted};
  BOOST_TEST(ids_of(page(*store, q).runs) == (std::vector<std::string>{"rr-5", "rr-4", "rr-3"}),
             boost::test_tools::per_element());
  q = {};
  q.definition = "clean";
  BOOST_TEST(ids_of(page(*store, q).runs) == (std::vector<std::string>{"rr-3"}), boost::test_tools::per_element());
  q.definition = "nobody";
  BOOST_TEST(page(*store, q).runs.empty());

  auto third = store->header("rr-3");
  BOOST_REQUIRE(third.has_value());
  q = {};
  q.created_from = third->created_at;
  auto from = ids_of(page(*store, q).runs);
  BOOST_TEST((std::find(from.begin(), from.end(), "rr-3") != from.end()));
  BOOST_TEST((std::find(from.begin(), from.end(), "rr-5") != from.end()));
  BOOST_TEST((std::find(from.begin(), from.end(), "rr-1") == from.end() || from.size() == 5u));
  q = {};
  q.created_before = third->created_at;
  auto before = ids_of(page(*store, q).runs);
  BOOST_TEST((std::find(before.begin(), before.end(), "rr-3") == before.end()));
  BOOST_TEST((std::find(before.begin(), before.end(), "rr-5") == before.end()));
  BOOST_TEST(from.size() + before.size() == 5u); // the two halves cover every run once
}

FOR_EVERY_STORE(a_query_with_a_zero_limit_or_a_cursor_that_is_not_one_is_refused) {
  auto store = Kind::make();
  cano::RunQuery q;
  q.limit = 0;
  auto zero = store->list_runs(q);
  BOOST_REQUIRE(!zero.has_value());
  BOOST_TEST(zero.error().category() == std::string("configuration"));
  BOOST_TEST(zero.error().message().find("limit of 0") != std::string::npos);
  q = {};
  q.cursor = "page-2";
  auto bad = store->list_runs(q);
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().message().find("\"page-2\" is not a cursor") != std::string::npos);
}

FOR_EVERY_STORE(a_finished_runs_rows_stay_readable_in_its_history_while_its_live_log_is_cleared) {
  auto store = Kind::make();
  BOOST_REQUIRE(store->history_retention().has_value());
  fill(store);
  // Completed and cleanly rolled back: no live rows (cano's contract), the rows in history.
  BOOST_TEST(store->rows("rr-1").empty());
  BOOST_TEST(store->rows("rr-3").empty());
  auto done = store->run_log("rr-1");
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(states_of(*done) == (std::vector<std::string>{"0:Start", "1:Process", "2:Complete"}),
             boost::test_tools::per_element());
  auto clean = store->run_log("rr-3");
  BOOST_REQUIRE(clean.has_value());
  BOOST_TEST(states_of(*clean) == (std::vector<std::string>{"0:Start", "1:Start", "2:Process"}),
             boost::test_tools::per_element());
  BOOST_TEST((clean->at(1).row.kind == cano::RowKind::compensation_completion));
  BOOST_TEST((clean->at(1).row.output_blob == cano::to_blob(7)));
  // A failed run and a dirty rollback keep their live log: shown as live.
  auto dirty = store->run_log("rr-4");
  BOOST_REQUIRE(dirty.has_value());
  BOOST_TEST(states_of(*dirty) == (std::vector<std::string>{"0:Start (live)", "1:Start (live)", "2:Process (live)"}),
             boost::test_tools::per_element());
  BOOST_TEST(store->run_log("no-such-run")->empty());
  if (store->kind() != "memory") { // the memory store keeps no write times
    for (const auto& e : *done) {
      BOOST_TEST((e.written_at > std::chrono::system_clock::now() - std::chrono::hours(1)));
    }
  }
  // The run is done: resume finds no log, as without history.
  test_system ts;
  auto again = ts.rt->resume(completing(store), "rr-1");
  BOOST_TEST(!again.has_value());
}

FOR_EVERY_STORE(a_new_run_of_a_finished_id_shows_only_its_own_history) {
  auto store = Kind::make();
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"again", {{"round", 1}}}).has_value());
  auto first = store->header("again");
  BOOST_REQUIRE(first.has_value());
  // Wait out the store's clock resolution, so the second run's creation time differs.
  while (std::chrono::system_clock::now() < first->created_at + 5ms) {
    std::this_thread::sleep_for(1ms);
  }
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"again", {{"round", 2}}}).has_value());
  auto log = store->run_log("again");
  BOOST_REQUIRE(log.has_value());
  BOOST_TEST(states_of(*log) == (std::vector<std::string>{"0:Start", "1:Process", "2:Complete"}),
             boost::test_tools::per_element());
  BOOST_TEST(store->header("again")->input == (nlohmann::json{{"round", 2}}));
}

FOR_EVERY_STORE(purge_runs_removes_old_finished_runs_and_never_an_unfinished_one) {
  auto store = Kind::make();
  fill(store);
  auto none = store->purge_runs(std::chrono::system_clock::now() - std::chrono::hours(1));
  BOOST_REQUIRE(none.has_value());
  BOOST_TEST(none->runs == 0u);
  BOOST_TEST(page(*store, {}).runs.size() == 5u);

  auto purged = store->purge_runs(std::chrono::system_clock::now() + std::chrono::hours(1));
  BOOST_REQUIRE_MESSAGE(purged.has_value(), (purged ? "" : purged.error().to_string()));
  BOOST_TEST(purged->runs == 4u);
  // rr-1 and rr-3 (history: 3 rows each), rr-2 (live: Start, Process), rr-4 (live: 3 rows).
  BOOST_TEST(purged->rows == 11u);
  BOOST_TEST(ids_of(page(*store, {}).runs) == (std::vector<std::string>{"rr-5"}), boost::test_tools::per_element());
  BOOST_TEST(store->run_log("rr-1")->empty());
  BOOST_TEST(store->rows("rr-4").empty());
  BOOST_TEST(store->rows("rr-5").size() == 2u); // the interrupted run keeps its log
  auto twice = store->purge_runs(std::chrono::system_clock::now() + std::chrono::hours(1));
  BOOST_REQUIRE(twice.has_value());
  BOOST_TEST(twice->runs == 0u);
  BOOST_TEST(twice->rows == 0u);
}

FOR_EVERY_STORE(purge_history_removes_only_rows_archived_before_its_cut) {
  auto store = Kind::make();
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"h-old", {}}).has_value());
  auto kept = store->purge_history(std::chrono::system_clock::now() - std::chrono::hours(1));
  BOOST_REQUIRE(kept.has_value());
  BOOST_TEST(*kept == 0u);
  BOOST_TEST(store->run_log("h-old")->size() == 3u);
  auto gone = store->purge_history(std::chrono::system_clock::now() + std::chrono::hours(1));
  BOOST_REQUIRE(gone.has_value());
  BOOST_TEST(*gone == 3u);
  BOOST_TEST(store->run_log("h-old")->empty());
  BOOST_TEST(store->header("h-old").has_value()); // the header stays
}

FOR_EVERY_STORE(history_past_its_retention_is_purged_by_a_later_write) {
  auto store = Kind::make();
  store->with_history_retention(20ms);
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"ret-1", {}}).has_value());
  BOOST_TEST(store->run_log("ret-1")->size() == 3u);
  auto finished = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < finished + 60ms) { // past the retention, and past the next purge slot
    std::this_thread::sleep_for(5ms);
  }
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"ret-2", {}}).has_value());
  BOOST_TEST(store->run_log("ret-1")->empty());
  BOOST_TEST(store->header("ret-1").has_value());
  store->with_history_retention(0ms); // off: a cleared log is deleted
  BOOST_TEST(!store->history_retention().has_value());
  BOOST_REQUIRE(ts.rt->run(completing(store), State::Start, {"ret-3", {}}).has_value());
  BOOST_TEST(store->run_log("ret-3")->empty());
}

FOR_EVERY_STORE(clearing_a_log_by_hand_notes_its_last_state) {
  auto store = Kind::make();
  BOOST_REQUIRE(store->append("by-hand", cano::CheckpointRow(0, "Start", "begin")).has_value());
  BOOST_REQUIRE(store->append("by-hand", cano::CheckpointRow(1, "Process", "work")).has_value());
  BOOST_REQUIRE(
    store->append("by-hand", cano::CheckpointRow(2, "Process", "work").with_cursor(cano::to_blob(1))).has_value());
  cano::RunHeader h;
  h.workflow_id = "by-hand";
  h.definition = "manual";
  h.status = cano::RunStatus::running;
  h.created_at = h.updated_at = std::chrono::system_clock::now();
  BOOST_REQUIRE(store->put_run_header(h).has_value());
  BOOST_TEST(store->header("by-hand")->last_state == "Process"); // from the live log
  BOOST_REQUIRE(store->clear("by-hand").has_value());
  h.status = cano::RunStatus::failed;
  BOOST_REQUIRE(store->put_run_header(h).has_value());
  BOOST_TEST(store->header("by-hand")->last_state == "Process"); // noted when it was cleared
  BOOST_TEST(store->run_log("by-hand")->size() == 3u);           // and kept in history
}

namespace {

/// A store of one's own, implementing only what CheckpointStore requires.
class minimal_store : public cano::CheckpointStore {
public:
  bool is_blocking() const override { return false; }
  cano::expected<void> append(const std::string&, const cano::CheckpointRow&) override { return {}; }
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string&) override {
    return std::vector<cano::CheckpointRow>{cano::CheckpointRow(0, "Start", "begin")};
  }
  cano::expected<void> clear(const std::string&) override { return {}; }
  cano::expected<void> put_run_header(const cano::RunHeader&) override { return {}; }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string&) override {
    return std::optional<cano::RunHeader>{};
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override {
    std::vector<cano::RunHeader> out(3);
    for (int i = 0; i < 3; ++i) {
      out[i].workflow_id = "u" + std::to_string(i);
      out[i].status = i == 1 ? cano::RunStatus::interrupted : cano::RunStatus::running;
      out[i].created_at = std::chrono::system_clock::time_point(std::chrono::seconds(100 + i));
    }
    return out;
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_store_of_ones_own_lists_its_unfinished_runs_and_refuses_history) {
  minimal_store store;
  cano::RunQuery q;
  q.limit = 2;
  auto first = store.list_runs(q);
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(ids_of(first->runs) == (std::vector<std::string>{"u2", "u1"}), boost::test_tools::per_element());
  q.cursor = first->next_cursor;
  auto second = store.list_runs(q);
  BOOST_REQUIRE(second.has_value());
  BOOST_TEST(ids_of(second->runs) == (std::vector<std::string>{"u0"}), boost::test_tools::per_element());
  BOOST_TEST(second->next_cursor.empty());
  q = {};
  q.statuses = {cano::RunStatus::interrupted};
  BOOST_TEST(ids_of(store.list_runs(q)->runs) == (std::vector<std::string>{"u1"}), boost::test_tools::per_element());

  auto log = store.run_log("u0");
  BOOST_REQUIRE(log.has_value());
  BOOST_REQUIRE(log->size() == 1u);
  BOOST_TEST(!log->front().archived);
  BOOST_TEST((log->front().written_at == std::chrono::system_clock::time_point{}));
  BOOST_TEST(!store.keeps_history());
  BOOST_CHECK_THROW(store.with_history_retention(std::chrono::hours(1)), std::invalid_argument);
  BOOST_CHECK_NO_THROW(store.with_history_retention(std::chrono::milliseconds(0)));
  auto purge = store.purge_runs(std::chrono::system_clock::now());
  BOOST_REQUIRE(!purge.has_value());
  BOOST_TEST(purge.error().message().find("cannot purge runs") != std::string::npos);
  BOOST_TEST(*store.purge_history(std::chrono::system_clock::now()) == 0u);
}

BOOST_AUTO_TEST_CASE(a_negative_retention_is_refused) {
  cano::MemoryCheckpointStore store;
  BOOST_CHECK_THROW(store.with_history_retention(std::chrono::milliseconds(-1)), std::invalid_argument);
  BOOST_TEST(!store.history_retention().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
