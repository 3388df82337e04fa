// One driver per run (ARCHITECTURE D8) and one rule for run ids (D9): a start with the id of an
// unfinished run writes nothing; a runtime never resumes what it drives; results are readable by
// id after a restart; submit is start-or-get; idempotency keys name a step across retries and
// resumes; SQLite has one driving process; PostgreSQL fences a claimed run's previous owner.
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "child_process.hpp"
#include "support/headers.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/sync.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

constexpr cano::duration bound = std::chrono::seconds(60);

/// Start → (blocks on `hold` once `entered` arrives) → Complete; counts its bodies.
struct held_workflow {
  std::shared_ptr<gate> hold = std::make_shared<gate>();
  std::shared_ptr<counter> entered = std::make_shared<counter>();
  std::shared_ptr<std::atomic<int>> bodies = std::make_shared<std::atomic<int>>(0);
  cano::Workflow<State> wf;
  explicit held_workflow(std::shared_ptr<cano::CheckpointStore> store) {
    auto hold_ = hold;
    auto entered_ = entered;
    auto bodies_ = bodies;
    wf = cano::Workflow<State>{}
           .with_name("held")
           .register_task(State::Start, "start",
                          [=] {
                            ++*bodies_;
                            entered_->arrive();
                            hold_->wait();
                            return State::Complete;
                          })
           .add_exit_state(State::Complete)
           .with_checkpoint_store(std::move(store))
           .with_timeout(bound);
  }
};

#define FOR_EVERY_STORE(name)                                                                                          \
  BOOST_TEST_DECORATOR(*boost::unit_test::precondition(test::store_kind_available()))                                  \
  BOOST_AUTO_TEST_CASE_TEMPLATE(name, Kind, test::store_kinds)

} // namespace

BOOST_AUTO_TEST_SUITE(one_driver_test)

FOR_EVERY_STORE(a_second_start_of_a_live_id_is_refused_and_writes_nothing) {
  auto store = Kind::make();
  held_workflow a(store);
  test_system first, second; // two runtimes sharing one store (as two processes would)
  auto running = std::async(std::launch::async, [&] {
    return first.rt->run(a.wf, State::Start, {"order-7", {{"who", "A"}}});
  });
  BOOST_REQUIRE(a.entered->wait_for_at_least(1));
  auto rows_before = store->rows("order-7");
  for (auto* rt : {second.rt.get(), first.rt.get()}) { // another runtime, and the same one
    auto dup = rt->run(a.wf, State::Start, {"order-7", {{"who", "B"}}});
    BOOST_REQUIRE(!dup.has_value());
    BOOST_TEST(dup.error().category() == std::string("checkpoint_store"));
    BOOST_TEST(dup.error().message().find("checkpoint conflict") != std::string::npos, dup.error().message());
  }
  // A's header and rows are as A left them.
  auto h = store->header("order-7");
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST(h->input == (nlohmann::json{{"who", "A"}}));
  BOOST_TEST(to_string(h->status) == std::string("running"));
  BOOST_TEST((store->rows("order-7") == rows_before));
  a.hold->open();
  auto end = running.get();
  BOOST_REQUIRE(end.has_value());
  BOOST_TEST(a.bodies->load() == 1);
  // Finished: a new run may take the id (cano parity), and replaces the header.
  auto again = second.rt->run(a.wf, State::Start, {"order-7", {{"who", "C"}}});
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(store->header("order-7")->input == (nlohmann::json{{"who", "C"}}));
}

FOR_EVERY_STORE(resume_and_resume_all_never_drive_a_run_this_runtime_drives) {
  auto store = Kind::make();
  held_workflow a(store);
  test_system ts;
  auto running = std::async(std::launch::async, [&] { return ts.rt->run(a.wf, State::Start, {"live-1", nullptr}); });
  BOOST_REQUIRE(a.entered->wait_for_at_least(1));
  auto all = ts.rt->resume_all(std::vector<cano::Workflow<State>>{a.wf});
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].first == "live-1");
  BOOST_REQUIRE(!all[0].second.has_value());
  BOOST_TEST(all[0].second.error().message() == "run \"live-1\" is already running in this runtime");
  auto one = ts.rt->resume(a.wf, "live-1");
  BOOST_REQUIRE(!one.has_value());
  BOOST_TEST(one.error().message().find("already running") != std::string::npos);
  a.hold->open();
  BOOST_REQUIRE(running.get().has_value());
  BOOST_TEST(a.bodies->load() == 1); // the body ran once
}

FOR_EVERY_STORE(results_are_read_by_id_from_the_header_after_a_restart) {
  auto store = Kind::make();
  struct undo : cano::CompensatableTask<State, int> {
    std::string name() const override { return "reserve"; }
    cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
    cano::expected<std::pair<cano::TaskResult<State>, int>> run(cano::task_context&) override {
      return std::make_pair(cano::TaskResult<State>(State::Process), 1);
    }
    cano::expected<void> compensate(cano::task_context&, int) override { return {}; }
  };
  auto wf = cano::Workflow<State>{}
              .with_name("results")
              .register_with_compensation(State::Start, std::make_shared<undo>())
              .register_task(
                State::Process, "process",
                [](cano::task_context& ctx) -> cano::expected<State> {
                  if (ctx.input().is_object() && ctx.input().value("fail", false)) {
                    return cano::error::task_execution("no stock for " + ctx.workflow_id());
                  }
                  return State::Complete;
                },
                cano::TaskConfig::minimal())
              .register_task(
                State::Mid, "mid",
                [](cano::task_context&) -> cano::expected<State> { return cano::error::timeout("mid timed out"); },
                cano::TaskConfig::minimal())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  {
    test_system before;
    auto done_first = before.rt->run(wf, State::Start, {"r-done", nullptr});
    BOOST_REQUIRE_MESSAGE(done_first.has_value(), (done_first ? "" : done_first.error().to_string()));
    BOOST_REQUIRE(!before.rt->run(wf, State::Start, {"r-rolled", {{"fail", true}}}).has_value());
    BOOST_REQUIRE(!before.rt->run(wf, State::Mid, {"r-failed", nullptr}).has_value());
  }
  test_system after; // a new runtime: nothing of the first one lives on
  auto done = after.rt->result(wf, "r-done");
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(*done == State::Complete);
  auto rolled = after.rt->result(wf, "r-rolled");
  BOOST_REQUIRE(!rolled.has_value());
  BOOST_TEST(rolled.error().category() == std::string("task_execution"));
  BOOST_TEST(rolled.error().message() == "no stock for r-rolled");
  auto failed = after.rt->result(wf, "r-failed");
  BOOST_REQUIRE(!failed.has_value());
  BOOST_TEST(failed.error().category() == std::string("timeout"));
  BOOST_TEST(failed.error().message() == "mid timed out");
  auto unknown = after.rt->result(wf, "r-never");
  BOOST_REQUIRE(!unknown.has_value());
  BOOST_TEST(unknown.error().message() == "no run with workflow id \"r-never\"");
}

FOR_EVERY_STORE(result_of_a_live_run_waits_for_its_end) {
  auto store = Kind::make();
  held_workflow a(store);
  test_system ts;
  auto running = std::async(std::launch::async, [&] { return ts.rt->run(a.wf, State::Start, {"wait-1", nullptr}); });
  BOOST_REQUIRE(a.entered->wait_for_at_least(1));
  auto waiting = std::async(std::launch::async, [&] { return ts.rt->result(a.wf, "wait-1"); });
  BOOST_TEST((waiting.wait_for(50ms) == std::future_status::timeout)); // not before the run ends
  a.hold->open();
  auto r = waiting.get();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Complete);
  BOOST_REQUIRE(running.get().has_value());
}

FOR_EVERY_STORE(submit_starts_a_run_once_and_then_answers_from_its_header) {
  auto store = Kind::make();
  held_workflow a(store);
  test_system ts;
  auto first = std::async(std::launch::async, [&] { return ts.rt->submit(a.wf, State::Start, {"sub-1", nullptr}); });
  BOOST_REQUIRE(a.entered->wait_for_at_least(1));
  auto while_live = std::async(std::launch::async, [&] {
    return ts.rt->submit(a.wf, State::Start, {"sub-1", nullptr});
  });
  a.hold->open();
  BOOST_REQUIRE(first.get().has_value());
  BOOST_REQUIRE(while_live.get().has_value());
  test_system later;
  auto answered = later.rt->submit(a.wf, State::Start, {"sub-1", nullptr});
  BOOST_REQUIRE(answered.has_value());
  BOOST_TEST(*answered == State::Complete);
  BOOST_TEST(a.bodies->load() == 1);
  auto no_store = later.rt->submit(cano::Workflow<State>{}
                                     .register_task(State::Start, "s", [] { return State::Complete; })
                                     .add_exit_state(State::Complete),
                                   State::Start, {"x", nullptr});
  BOOST_REQUIRE(!no_store.has_value());
  BOOST_TEST(no_store.error().category() == std::string("configuration"));
}

FOR_EVERY_STORE(idempotency_keys_name_a_step_across_retries_and_resumes) {
  auto store = Kind::make();
  auto keys = std::make_shared<std::vector<std::string>>();
  auto keys_mutex = std::make_shared<std::mutex>();
  auto fail_first = std::make_shared<std::atomic<int>>(1);
  auto visits = std::make_shared<std::atomic<int>>(0);
  auto record = [=](cano::task_context& ctx) {
    std::lock_guard<std::mutex> guard(*keys_mutex);
    keys->push_back(ctx.state_label() + "=" + ctx.idempotency_key());
  };
  auto wf = cano::Workflow<State>{}
              .with_name("keys")
              .register_task(
                State::Start, "start",
                [=](cano::task_context& ctx) -> cano::expected<State> {
                  record(ctx);
                  if ((*fail_first)-- > 0) {
                    return cano::error::task_execution("try again"); // retried
                  }
                  return State::Process;
                },
                cano::TaskConfig::minimal().with_fixed_retry(2, std::chrono::milliseconds(1)))
              .register_task(State::Process, "process",
                             [=](cano::task_context& ctx) -> cano::expected<State> {
                               record(ctx);
                               return ++*visits < 2 ? State::Start : State::Complete; // Process twice
                             })
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  test_system ts;
  BOOST_REQUIRE(ts.rt->run(wf, State::Start, {"k1", nullptr}).has_value());
  // Rows: 0 Start, 1 Process, 2 Start, 3 Process, 4 Complete.
  std::vector<std::string> expected{"Start=k1/0", "Start=k1/0", "Process=k1/1", "Start=k1/2", "Process=k1/3"};
  BOOST_TEST(*keys == expected, boost::test_tools::per_element());
  // A resume re-runs the state of the last row under the key of that visit.
  keys->clear();
  visits->store(1);
  BOOST_REQUIRE(store->append("k2", cano::CheckpointRow(0, "Start", "start")));
  BOOST_REQUIRE(store->append("k2", cano::CheckpointRow(1, "Process", "process")));
  BOOST_REQUIRE(ts.rt->resume(wf, "k2").has_value());
  std::vector<std::string> resumed{"Process=k2/1"};
  BOOST_TEST(*keys == resumed, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_second_process_cannot_drive_runs_of_a_sqlite_file_another_drives) {
  temp_dir dir;
  auto file = dir.file("saga.db");
  auto ledger = dir.file("ledger");
  // Process A drives a run and hangs in the middle of its rollback, holding the driver lock.
  setenv("CANO_TEST_BLOCK_UNDO", "Reserve", 1);
  cano_apps::child_process a({CANO_SAGA_WORKER, "sqlite", file, ledger, "run", "fail-held"});
  unsetenv("CANO_TEST_BLOCK_UNDO");
  BOOST_REQUIRE(a.started());
  BOOST_REQUIRE(a.read_until([](const std::string& l) { return l == "UNDO-BLOCKED Reserve"; }, 120s).has_value());
  // Reading needs no lock: another process lists A's run as unfinished.
  {
    auto reader = cano::SqliteCheckpointStore::open(file);
    BOOST_REQUIRE(reader.has_value());
    auto unfinished = (*reader)->unfinished_runs();
    BOOST_REQUIRE(unfinished.has_value());
    BOOST_TEST(unfinished->size() == 1u);
  }
  // Process B tries to drive it: a clear error naming A's pid, and A's run untouched.
  cano_apps::child_process b({CANO_SAGA_WORKER, "sqlite", file, ledger, "resume", "fail-held"});
  BOOST_REQUIRE(b.started());
  auto said = b.read_until([](const std::string& l) { return l.rfind("RESULT ", 0) == 0; }, 120s);
  b.wait_exit();
  BOOST_REQUIRE(said.has_value());
  BOOST_TEST(said->find("another process drives the runs of " + file) != std::string::npos, *said);
  BOOST_TEST(said->find("pid " + std::to_string(a.pid())) != std::string::npos, *said);
  a.sigkill();
  a.wait_exit();
  // A is gone (the kernel freed its lock): now B's successor drives the run to its end.
  cano_apps::child_process c({CANO_SAGA_WORKER, "sqlite", file, ledger, "resume", "fail-held"});
  auto done = c.read_until([](const std::string& l) { return l.rfind("RESULT ", 0) == 0; }, 120s);
  c.wait_exit();
  BOOST_REQUIRE(done.has_value());
  BOOST_TEST(*done == "RESULT fail-held FAILED Task execution error: the carrier refused fail-held");
}

BOOST_AUTO_TEST_CASE(a_claim_fences_the_previous_owner_even_with_a_batch_in_flight,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto zombie = *cano::PostgresCheckpointStore::open();
  auto successor = *cano::PostgresCheckpointStore::open();
  BOOST_REQUIRE(zombie->owner() != successor->owner());
  auto id = unique_id("fenced");
  BOOST_REQUIRE(zombie->append_batch({first_write(id, "fence")}).front().has_value());
  // The zombie keeps appending while the successor claims the run.
  std::atomic<std::uint64_t> last_landed{0};
  std::atomic<bool> fenced{false};
  std::string refusal;
  std::thread writer([&] {
    for (std::uint64_t seq = 1; seq < 100000 && !fenced; ++seq) {
      auto r = zombie->append(id, cano::CheckpointRow(seq, "Start", "t"));
      if (r) {
        last_landed = seq;
      } else {
        refusal = r.error().to_string();
        fenced = r.error().code() == cano::errc::fenced;
        break;
      }
    }
  });
  while (last_landed < 20) {
    std::this_thread::yield();
  }
  BOOST_REQUIRE(successor->claim_run(id).has_value());
  auto rows_at_claim = successor->load_run(id)->size();
  writer.join();
  BOOST_TEST(fenced.load(), refusal);
  BOOST_TEST(refusal.find("taken over") != std::string::npos, refusal);
  // Not one row of the zombie landed after the claim committed.
  BOOST_TEST(successor->load_run(id)->size() == rows_at_claim);
  BOOST_TEST(last_landed.load() + 1 == rows_at_claim);
  auto h = *successor->run_header(id);
  BOOST_TEST(h->owner == successor->owner());
  BOOST_TEST(h->fence == 2u);
  // The successor writes on.
  BOOST_TEST(successor->append(id, cano::CheckpointRow(rows_at_claim, "Start", "t")).has_value());
}

BOOST_AUTO_TEST_CASE(a_run_left_from_a_previous_owner_name_is_fenced_after_the_store_is_renamed,
                     *boost::unit_test::precondition(postgres_configured())) {
  // A node declared dead rejoins under a new owner name (set_owner) while runs of its old name
  // still drive in the process: once another node claimed such a run, its writes must be refused
  // even though the new name's epoch never moved (the rejoin left the old name's fences behind).
  auto node = *cano::PostgresCheckpointStore::open();
  auto survivor = *cano::PostgresCheckpointStore::open();
  auto create = [&](const std::string& id) { return node->append_batch({first_write(id, "rejoin")}).front(); };
  auto left_over = unique_id("left-over");
  BOOST_REQUIRE(create(left_over).has_value());
  BOOST_REQUIRE(node->set_owner(unique_id("node-next-incarnation")).has_value());
  BOOST_REQUIRE(survivor->claim_run(left_over).has_value());
  // A run of the new name settles this name's epoch as checked …
  BOOST_REQUIRE(create(unique_id("fresh")).has_value());
  // … and the left-over driver's next row is refused all the same; the survivor's log is intact.
  auto r = node->append(left_over, cano::CheckpointRow(1, "Start", "t"));
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == cano::errc::fenced, r.error().to_string());
  BOOST_TEST(survivor->load_run(left_over)->size() == 1u);
  auto header_write = cano::CheckpointWrite{};
  header_write.workflow_id = left_over;
  header_write.clear_run = true;
  header_write.header = make_header(left_over, "rejoin", 0, nullptr, cano::RunStatus::completed);
  auto cleared = node->append_batch({header_write}).front();
  BOOST_TEST(!cleared.has_value());
  BOOST_TEST(survivor->load_run(left_over)->size() == 1u);
  BOOST_TEST(cano::to_string((*survivor->run_header(left_over))->status) == std::string("running"));
  BOOST_TEST(survivor->append(left_over, cano::CheckpointRow(1, "Start", "t")).has_value());
}

BOOST_AUTO_TEST_CASE(a_driver_once_fenced_stays_fenced_on_every_later_write,
                     *boost::unit_test::precondition(postgres_configured())) {
  // The first write after a claim finds the run taken over; later batches see no new epoch and
  // must not take the fence the store once held as still good (a woken node's drain once
  // overwrote its successor's final header that way).
  auto zombie = *cano::PostgresCheckpointStore::open();
  auto successor = *cano::PostgresCheckpointStore::open();
  auto id = unique_id("fenced-twice");
  BOOST_REQUIRE(zombie->append_batch({first_write(id, "fence")}).front().has_value());
  BOOST_REQUIRE(successor->claim_run(id).has_value());
  auto first = zombie->append(id, cano::CheckpointRow(1, "Start", "t"));
  BOOST_REQUIRE(!first.has_value());
  BOOST_TEST(first.error().code() == cano::errc::fenced, first.error().to_string());
  // The successor ends the run; the zombie's late header must not undo that.
  cano::CheckpointWrite end;
  end.workflow_id = id;
  end.clear_run = true;
  end.header = make_header(id, "fence", 0, nullptr, cano::RunStatus::completed);
  BOOST_REQUIRE(successor->append_batch({end}).front().has_value());
  cano::CheckpointWrite late;
  late.workflow_id = id;
  late.header = make_header(id, "fence", 0, nullptr, cano::RunStatus::compensating);
  auto second = zombie->append_batch({late}).front();
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == cano::errc::fenced, second.error().to_string());
  BOOST_TEST(cano::to_string((*successor->run_header(id))->status) == std::string("completed"));
}

BOOST_AUTO_TEST_CASE(a_claim_fences_its_run_even_when_the_next_batch_holds_only_other_runs,
                     *boost::unit_test::precondition(postgres_configured())) {
  // The batch that first sees the moved epoch writes another run of the same store: the claimed
  // run must still be fenced in every later batch (a woken node's drain once overwrote its
  // successor's final header that way).
  auto zombie = *cano::PostgresCheckpointStore::open();
  auto successor = *cano::PostgresCheckpointStore::open();
  auto create = [&](const std::string& id) { return zombie->append_batch({first_write(id, "fence")}).front(); };
  auto claimed = unique_id("claimed");
  auto kept = unique_id("kept");
  BOOST_REQUIRE(create(claimed).has_value());
  BOOST_REQUIRE(create(kept).has_value());
  BOOST_REQUIRE(successor->claim_run(claimed).has_value());
  BOOST_REQUIRE(zombie->append(kept, cano::CheckpointRow(1, "Start", "t")).has_value()); // still ours
  auto late = zombie->append(claimed, cano::CheckpointRow(1, "Start", "t"));
  BOOST_REQUIRE(!late.has_value());
  BOOST_TEST(late.error().code() == cano::errc::fenced, late.error().to_string());
  BOOST_TEST(successor->load_run(claimed)->size() == 1u);
  BOOST_TEST(zombie->append(kept, cano::CheckpointRow(2, "Start", "t")).has_value());
}

BOOST_AUTO_TEST_CASE(two_batches_in_flight_on_two_connections_are_fenced_alike_by_a_claim,
                     *boost::unit_test::precondition(postgres_configured())) {
  // A store commits batches on two connections at once. Both hold the owner's epoch row FOR
  // SHARE, so a claim waits for both; after it, the claimed run is refused in whichever batch
  // it rides, and the other run goes on — in the same round of two batches and in every later one.
  auto zombie = *cano::PostgresCheckpointStore::open();
  auto successor = *cano::PostgresCheckpointStore::open();
  BOOST_REQUIRE(zombie->batch_lanes() == 2u);
  auto claimed = unique_id("claimed-2");
  auto kept = unique_id("kept-2");
  BOOST_REQUIRE(zombie->append_batch({first_write(claimed, "fence")}).front().has_value());
  BOOST_REQUIRE(zombie->append_batch({first_write(kept, "fence")}).front().has_value());
  auto row = [](const std::string& id, std::uint64_t seq) {
    cano::CheckpointWrite w;
    w.workflow_id = id;
    w.row = cano::CheckpointRow(seq, "Start", "t");
    return w;
  };
  pqxx::connection blocker(pg_dsn());
  pqxx::connection probe(pg_dsn());
  // The zombie's sessions waiting on a lock, seen from outside.
  auto waiting = [&](const std::string& application) {
    pqxx::nontransaction tx(probe);
    return tx
      .exec_params("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                   application)[0][0]
      .as<int>();
  };
  auto wait_until = [&](const std::string& application, int n) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (waiting(application) < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return waiting(application) >= n;
  };
  // One round: the two runs' rows in two batches at once, both held at the owner's row until
  // the blocker lets go; with `claim`, the successor's claim queues behind them.
  auto round = [&](std::uint64_t seq, bool claim) {
    // Declared before `hold`: should a check fail, the lock goes first and the batches end.
    std::future<cano::expected<void>> a, b, c;
    pqxx::work hold(blocker);
    hold.exec_params("SELECT 1 FROM cano_owners WHERE owner = $1 FOR UPDATE", zombie->owner());
    a = std::async(std::launch::async, [&] { return zombie->append_batch({row(claimed, seq)}).front(); });
    b = std::async(std::launch::async, [&] { return zombie->append_batch({row(kept, seq)}).front(); });
    BOOST_REQUIRE_MESSAGE(wait_until("cano:" + zombie->owner(), 2), "two batches in flight, on two connections");
    if (claim) {
      c = std::async(std::launch::async, [&] { return successor->claim_run(claimed); });
      BOOST_REQUIRE(wait_until("cano:" + successor->owner(), 1));
    }
    hold.abort();
    auto out = std::make_pair(a.get(), b.get());
    if (claim) {
      BOOST_REQUIRE(c.get().has_value());
    }
    return out;
  };
  auto first = round(1, true);
  BOOST_TEST(first.second.has_value(), (first.second ? "" : first.second.error().to_string()));
  // The claimed run's row landed before the claim, or was refused: never both, never after it.
  auto log = successor->load_run(claimed);
  BOOST_REQUIRE(log.has_value());
  if (first.first.has_value()) {
    BOOST_TEST(log->size() == 2u);
  } else {
    BOOST_TEST(first.first.error().code() == cano::errc::fenced, first.first.error().to_string());
    BOOST_TEST(log->size() == 1u);
  }
  auto rows_at_claim = log->size();
  for (std::uint64_t seq = 2; seq <= 3; ++seq) {
    auto later = round(seq, false);
    BOOST_REQUIRE(!later.first.has_value());
    BOOST_TEST(later.first.error().code() == cano::errc::fenced, later.first.error().to_string());
    BOOST_TEST(later.second.has_value(), (later.second ? "" : later.second.error().to_string()));
  }
  BOOST_TEST(successor->load_run(claimed)->size() == rows_at_claim);
  BOOST_TEST(successor->load_run(kept)->size() == 4u);
  BOOST_TEST(successor->append(claimed, cano::CheckpointRow(rows_at_claim, "Start", "t")).has_value());
}

BOOST_AUTO_TEST_CASE(batch_connections_out_of_range_are_a_configuration_error,
                     *boost::unit_test::precondition(postgres_configured())) {
  for (std::size_t n : {std::size_t{0}, std::size_t{9}}) {
    cano::PostgresOptions o;
    o.batch_connections = n;
    auto s = cano::PostgresCheckpointStore::open(o);
    BOOST_REQUIRE(!s.has_value());
    BOOST_TEST(s.error().category() == std::string("configuration"));
    BOOST_TEST(s.error().message() == "postgres: batch_connections must be 1 to 8, not " + std::to_string(n));
  }
  cano::PostgresOptions one;
  one.batch_connections = 1;
  auto s = cano::PostgresCheckpointStore::open(one);
  BOOST_REQUIRE(s.has_value());
  BOOST_TEST((*s)->batch_lanes() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
