// The PostgreSQL store against a real server: cano's store contract (§2.4, §5.14 with the store
// swapped), group commit with per-row outcomes, run headers, concurrent migrations, passwords.
#include <thread>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>
#include <pqxx/pqxx>

#include "cano/actor_api.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/headers.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using cano::CheckpointRow;
using cano::RowKind;

namespace {

std::shared_ptr<cano::PostgresCheckpointStore> open_store() {
  auto s = cano::PostgresCheckpointStore::open();
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().to_string()));
  return *s;
}

std::vector<std::uint64_t> sequences(const std::vector<CheckpointRow>& rows) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rows) {
    out.push_back(r.sequence);
  }
  return out;
}

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

} // namespace

BOOST_AUTO_TEST_SUITE(postgres_store_test, *boost::unit_test::precondition(postgres_configured()))

BOOST_AUTO_TEST_CASE(rows_round_trip_and_clear_removes_them) {
  auto store = open_store();
  auto id = unique_id("rt");
  BOOST_REQUIRE(store->append(id, CheckpointRow(0, "A", "t0")).has_value());
  BOOST_REQUIRE(store->append(id, CheckpointRow(1, "B", "t1")).has_value());
  BOOST_REQUIRE(store->append(id, CheckpointRow(2, "C", "t2").with_output({7, 8, 9})).has_value());
  auto rows = store->load_run(id);
  BOOST_REQUIRE(rows.has_value());
  BOOST_TEST(sequences(*rows) == (std::vector<std::uint64_t>{0, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST((*rows)[1].state == "B");
  BOOST_TEST((*rows)[1].task_id == "t1");
  BOOST_TEST(!(*rows)[1].output_blob.has_value());
  BOOST_TEST(((*rows)[2].output_blob == std::vector<std::uint8_t>{7, 8, 9}));
  BOOST_TEST(((*rows)[2].kind == RowKind::compensation_completion));
  BOOST_REQUIRE(store->clear(id).has_value());
  BOOST_TEST(store->load_run(id)->empty());
  BOOST_TEST(store->clear(unique_id("never")).has_value());
}

BOOST_AUTO_TEST_CASE(rows_load_in_ascending_sequence_whatever_the_append_order) {
  auto store = open_store();
  auto id = unique_id("order");
  for (std::uint64_t s : {5, 1, 9, 0, 3}) {
    BOOST_REQUIRE(store->append(id, CheckpointRow(s, "S", "t")).has_value());
  }
  BOOST_TEST(sequences(*store->load_run(id)) == (std::vector<std::uint64_t>{0, 1, 3, 5, 9}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(rows_survive_a_new_store_on_the_same_database) {
  auto id = unique_id("reopen");
  {
    auto store = open_store();
    BOOST_REQUIRE(store->append(id, CheckpointRow(0, "Start", "t")).has_value());
  }
  auto again = open_store();
  BOOST_TEST(again->load_run(id)->size() == 1u);
}

BOOST_AUTO_TEST_CASE(clear_is_per_run_and_unknown_runs_load_empty) {
  auto store = open_store();
  auto a = unique_id("a");
  auto b = unique_id("b");
  BOOST_REQUIRE(store->append(a, CheckpointRow(0, "S", "t")).has_value());
  BOOST_REQUIRE(store->append(b, CheckpointRow(0, "S", "t")).has_value());
  BOOST_REQUIRE(store->clear(a).has_value());
  BOOST_TEST(store->load_run(a)->empty());
  BOOST_TEST(store->load_run(b)->size() == 1u);
  BOOST_TEST(store->load_run(unique_id("unknown"))->empty());
}

BOOST_AUTO_TEST_CASE(a_duplicate_sequence_is_rejected_with_the_conflict_text) {
  auto store = open_store();
  auto id = unique_id("dup");
  BOOST_REQUIRE(store->append(id, CheckpointRow(0, "First", "t")).has_value());
  auto r = store->append(id, CheckpointRow(0, "Second", "t"));
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(r.error().message() == "checkpoint conflict: workflow \"" + id +
                                      "\" already has a row at sequence 0; resume the existing run or clear it first");
  BOOST_TEST(store->load_run(id)->front().state == "First");
  BOOST_TEST(store->append(id, CheckpointRow(1, "Next", "t")).has_value());
  BOOST_TEST(store->append(unique_id("other"), CheckpointRow(0, "S", "t")).has_value());
}

BOOST_AUTO_TEST_CASE(a_batch_reports_each_rows_own_outcome) {
  auto store = open_store();
  auto a = unique_id("ba");
  auto b = unique_id("bb");
  BOOST_REQUIRE(store->append(b, CheckpointRow(0, "Taken", "t")).has_value());
  std::vector<cano::CheckpointWrite> writes(5);
  writes[0].workflow_id = a;
  writes[0].row = CheckpointRow(0, "S", "t");
  writes[1].workflow_id = b;
  writes[1].row = CheckpointRow(0, "Conflict", "t"); // someone else's row is there
  writes[2].workflow_id = a;
  writes[2].row = CheckpointRow(0, "Twice", "t"); // the same key twice in one batch: first wins
  writes[3].workflow_id = a;
  writes[3].header = test::make_header(a, "def", 1, {{"k", 1}}, cano::RunStatus::running,
                                       std::chrono::system_clock::now(), std::chrono::system_clock::now());
  writes[4].workflow_id = a;
  writes[4].row = CheckpointRow(1, "S2", "t");
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 5u);
  BOOST_TEST(out[0].has_value());
  BOOST_TEST(!out[1].has_value());
  BOOST_TEST(!out[2].has_value());
  BOOST_TEST(out[3].has_value());
  BOOST_TEST(out[4].has_value());
  BOOST_TEST(out[1].error().message().find("checkpoint conflict: workflow \"" + b + "\"") == 0);
  auto rows = *store->load_run(a);
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].state == "S");
  BOOST_TEST(store->load_run(b)->front().state == "Taken");
  auto h = store->run_header(a);
  BOOST_REQUIRE(h.has_value());
  BOOST_REQUIRE(h->has_value());
  BOOST_TEST((*h)->definition == "def");
  BOOST_TEST((*h)->input.at("k") == 1);
}

BOOST_AUTO_TEST_CASE(sixteen_concurrent_runs_of_twelve_rows_stay_isolated) {
  auto store = open_store();
  auto prefix = unique_id("iso");
  std::vector<std::thread> threads;
  for (int run = 0; run < 16; ++run) {
    threads.emplace_back([&, run] {
      for (std::uint64_t s = 0; s < 12; ++s) {
        auto r = store->append(prefix + "-" + std::to_string(run), CheckpointRow(s, "R" + std::to_string(run), "t"));
        if (!r) {
          throw std::runtime_error(r.error().to_string());
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (int run = 0; run < 16; ++run) {
    auto rows = *store->load_run(prefix + "-" + std::to_string(run));
    BOOST_REQUIRE(rows.size() == 12u);
    for (std::uint64_t s = 0; s < 12; ++s) {
      BOOST_TEST(rows[s].sequence == s);
      BOOST_TEST(rows[s].state == "R" + std::to_string(run));
    }
  }
}

BOOST_AUTO_TEST_CASE(thirty_two_concurrent_sequences_of_one_run_all_land) {
  auto store = open_store();
  auto id = unique_id("many");
  std::vector<std::thread> threads;
  for (std::uint64_t s = 0; s < 32; ++s) {
    threads.emplace_back([&, s] { (void)store->append(id, CheckpointRow(s, "S", "t")); });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::vector<std::uint64_t> expected(32);
  for (std::uint64_t s = 0; s < 32; ++s) {
    expected[s] = s;
  }
  BOOST_TEST(sequences(*store->load_run(id)) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_five_mebibyte_blob_round_trips) {
  auto store = open_store();
  auto id = unique_id("big");
  std::vector<std::uint8_t> blob(5 * 1024 * 1024);
  for (std::size_t i = 0; i < blob.size(); ++i) {
    blob[i] = static_cast<std::uint8_t>(i * 31 + 7);
  }
  BOOST_REQUIRE(store->append(id, CheckpointRow(0, "S", "t").with_cursor(blob)).has_value());
  auto rows = *store->load_run(id);
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST((rows[0].output_blob == blob));
}

BOOST_AUTO_TEST_CASE(every_row_kind_and_the_version_round_trip) {
  auto store = open_store();
  auto id = unique_id("kinds");
  BOOST_REQUIRE(store->append(id, CheckpointRow(0, "A", "t").with_workflow_version(7)).has_value());
  BOOST_REQUIRE(
    store->append(id, CheckpointRow(1, "A", "t").with_output(bytes("7")).with_workflow_version(7)).has_value());
  BOOST_REQUIRE(
    store->append(id, CheckpointRow(2, "B", "t").with_cursor(bytes("[1,2]")).with_workflow_version(7)).has_value());
  auto rows = *store->load_run(id);
  BOOST_REQUIRE(rows.size() == 3u);
  BOOST_TEST((rows[0].kind == RowKind::state_entry));
  BOOST_TEST((rows[1].kind == RowKind::compensation_completion));
  BOOST_TEST((rows[2].kind == RowKind::step_cursor));
  for (const auto& r : rows) {
    BOOST_TEST(r.workflow_version == 7u);
  }
  BOOST_TEST((rows[2] == CheckpointRow(2, "B", "t").with_cursor(bytes("[1,2]")).with_workflow_version(7)));
}

BOOST_AUTO_TEST_CASE(run_headers_keep_their_creation_time_and_list_unfinished_runs) {
  auto store = open_store();
  auto running = unique_id("running");
  auto done = unique_id("done");
  auto t0 = std::chrono::system_clock::now() - std::chrono::hours(1);
  BOOST_REQUIRE(
    store->put_run_header(test::make_header(running, "orders", 2, {{"sku", "A"}}, cano::RunStatus::running, t0, t0))
      .has_value());
  BOOST_REQUIRE(
    store->put_run_header(test::make_header(done, "orders", 2, nullptr, cano::RunStatus::running, t0, t0)).has_value());
  BOOST_REQUIRE(
    store
      ->put_run_header(test::make_header(done, "orders", 2, nullptr, cano::RunStatus::completed,
                                         std::chrono::system_clock::now(), std::chrono::system_clock::now()))
      .has_value());
  auto h = *store->run_header(done);
  BOOST_REQUIRE(h.has_value());
  BOOST_TEST((h->status == cano::RunStatus::completed));
  BOOST_TEST((std::chrono::abs(h->created_at - t0) < std::chrono::seconds(1))); // kept from the first write
  auto unfinished = *store->unfinished_runs();
  bool has_running = false;
  bool has_done = false;
  for (const auto& u : unfinished) {
    has_running = has_running || u.workflow_id == running;
    has_done = has_done || u.workflow_id == done;
    if (u.workflow_id == running) {
      BOOST_TEST(u.input.at("sku") == "A");
      BOOST_TEST(u.workflow_version == 2u);
    }
  }
  BOOST_TEST(has_running);
  BOOST_TEST(!has_done);
  BOOST_TEST(!store->run_header(unique_id("none"))->has_value());
}

BOOST_AUTO_TEST_CASE(eight_processes_migrating_one_new_database_apply_each_migration_once) {
  auto db = unique_id("cano_mig");
  std::replace(db.begin(), db.end(), '-', '_');
  {
    pqxx::connection admin(pg_dsn());
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + tx.quote_name(db));
  }
  auto dsn = pg_dsn() + " dbname=" + db;
  barrier together(8);
  std::vector<std::string> failures(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      together.arrive_and_wait();
      auto s = cano::PostgresCheckpointStore::open({dsn});
      if (!s) {
        failures[static_cast<std::size_t>(i)] = s.error().to_string();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& f : failures) {
    BOOST_TEST(f.empty(), f);
  }
  {
    pqxx::connection c(dsn);
    pqxx::work tx(c);
    auto migrations = (*cano::PostgresCheckpointStore::open({dsn}))->schema_version();
    BOOST_TEST(migrations >= 3);
    BOOST_TEST(tx.exec("SELECT count(*) FROM cano_schema_migrations")[0][0].as<int>() == migrations); // each once
    BOOST_TEST(tx.exec("SELECT count(*) FROM pg_tables WHERE tablename = 'cano_checkpoints'")[0][0].as<int>() == 1);
  }
  pqxx::connection admin(pg_dsn());
  pqxx::nontransaction tx(admin);
  tx.exec("DROP DATABASE " + tx.quote_name(db));
}

BOOST_AUTO_TEST_CASE(a_wrong_password_is_a_clear_error_that_hides_the_password) {
  auto auth_dsn = env_or_empty("CANO_PG_AUTH_DSN");
  BOOST_REQUIRE_MESSAGE(!auth_dsn.empty(), "CANO_PG_AUTH_DSN is not set (scripts/test.sh sets it)");
  const std::string wrong = "not-the-Secret-42";
  auto bad = cano::PostgresCheckpointStore::open({auth_dsn + " password=" + wrong});
  BOOST_REQUIRE(!bad);
  auto text = bad.error().to_string();
  BOOST_TEST(bad.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(text.find("password authentication failed") != std::string::npos, text);
  BOOST_TEST(text.find(wrong) == std::string::npos, text);
  auto good = cano::PostgresCheckpointStore::open({auth_dsn + " password=" + env_or_empty("CANO_PG_AUTH_PASSWORD")});
  BOOST_TEST(good.has_value(), (good ? "" : good.error().to_string()));
}

BOOST_AUTO_TEST_CASE(no_connection_string_is_a_configuration_error) {
  auto saved = pg_dsn();
  unsetenv("CANO_PG_DSN");
  auto r = cano::PostgresCheckpointStore::open({""});
  setenv("CANO_PG_DSN", saved.c_str(), 1);
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().category() == std::string("configuration"));
}

BOOST_AUTO_TEST_CASE(twelve_concurrent_runs_complete_and_leave_no_log) {
  auto store = open_store();
  test_system ts;
  auto prefix = unique_id("e2e");
  auto effects = std::make_shared<std::vector<std::string>>();
  auto effects_mutex = std::make_shared<std::mutex>();
  auto record = [effects, effects_mutex](cano::task_context& ctx, const std::string& what) {
    std::lock_guard<std::mutex> g(*effects_mutex);
    effects->push_back(ctx.workflow_id() + ":" + what);
  };
  auto wf = cano::Workflow<State>{}
              .with_name("pg-e2e")
              .register_task(State::Start, "Start",
                             [record](cano::task_context& c) {
                               record(c, "Start");
                               return State::Process;
                             })
              .register_task(State::Process, "Work",
                             [record](cano::task_context& c) {
                               record(c, "Work");
                               return State::Done;
                             })
              .add_exit_state(State::Done)
              .with_checkpoint_store(store);
  caf::scoped_actor self{*ts.sys};
  for (int i = 0; i < 12; ++i) {
    ts.rt->start(wf, State::Start, {prefix + "-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  for (int i = 0; i < 12; ++i) {
    bool got = false;
    self->receive(
      [&](cano::run_result& r) {
        got = true;
        BOOST_TEST(r.ok(), (r.ok() ? "" : r.failure->to_string()));
        BOOST_TEST(store->load_run(r.workflow_id)->empty());
        BOOST_TEST(((*store->run_header(r.workflow_id))->status == cano::RunStatus::completed));
      },
      caf::after(std::chrono::seconds(120)) >> [] {});
    BOOST_REQUIRE(got);
  }
  BOOST_TEST(effects->size() == 24u);
}

BOOST_AUTO_TEST_CASE(racing_runs_of_one_id_never_corrupt_the_log) {
  auto store = open_store();
  test_system ts;
  auto id = unique_id("race");
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Done))
              .add_exit_state(State::Done)
              .with_checkpoint_store(store);
  caf::scoped_actor self{*ts.sys};
  ts.rt->start(wf, State::Start, {id, nullptr}, caf::actor_cast<caf::actor>(self));
  ts.rt->start(wf, State::Start, {id, nullptr}, caf::actor_cast<caf::actor>(self));
  std::size_t done = 0;
  for (int i = 0; i < 2; ++i) {
    self->receive(
      [&](cano::run_result& r) {
        if (r.ok()) {
          ++done;
        } else {
          BOOST_TEST(r.failure->category() == std::string("checkpoint_store"));
        }
      },
      caf::after(std::chrono::seconds(120)) >> [] {});
  }
  BOOST_TEST(done >= 1u);
}

BOOST_AUTO_TEST_CASE(list_runs_reports_an_unreadable_header_by_id_in_its_place) {
  auto store = open_store();
  auto def = unique_id("listing"); // this test's runs only: the database is shared
  auto t0 = std::chrono::system_clock::now();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(unique_id("lr"));
    BOOST_REQUIRE(store
                    ->put_run_header(make_header(ids.back(), def, 0, {}, cano::RunStatus::completed,
                                                 t0 + std::chrono::seconds(i), t0 + std::chrono::seconds(i)))
                    .has_value());
  }
  {
    pqxx::connection c(pg_dsn());
    pqxx::work tx(c);
    tx.exec_params("UPDATE cano_runs SET status = 'sideways' WHERE workflow_id = $1", ids[1]);
    tx.commit();
  }
  cano::RunQuery q;
  q.definition = def;
  q.limit = 2;
  auto first = store->list_runs(q);
  BOOST_REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().to_string()));
  BOOST_REQUIRE(first->runs.size() == 1u);
  BOOST_TEST(first->runs[0].workflow_id == ids[2]);
  BOOST_REQUIRE(first->unreadable.size() == 1u);
  BOOST_TEST(first->unreadable[0].workflow_id == ids[1]);
  BOOST_TEST(first->unreadable[0].reason.find("unknown status \"sideways\"") != std::string::npos);
  q.cursor = first->next_cursor;
  auto second = store->list_runs(q);
  BOOST_REQUIRE(second.has_value());
  BOOST_REQUIRE(second->runs.size() == 1u);
  BOOST_TEST(second->runs[0].workflow_id == ids[0]);
  BOOST_TEST(second->next_cursor.empty());
}

BOOST_AUTO_TEST_CASE(a_cleared_log_moves_to_history_in_one_statement_only_with_retention) {
  auto store = open_store();
  auto id = unique_id("hist");
  auto h = make_header(id, "hist", 0, {}, cano::RunStatus::running, std::chrono::system_clock::now(),
                       std::chrono::system_clock::now());
  BOOST_REQUIRE(store->put_run_header(h).has_value());
  BOOST_REQUIRE(store->append(id, CheckpointRow(0, "A", "t0")).has_value());
  BOOST_REQUIRE(store->append(id, CheckpointRow(1, "B", "t1").with_output(bytes("{}"))).has_value());
  BOOST_REQUIRE(store->clear(id).has_value()); // retention off: deleted
  BOOST_TEST(store->run_log(id)->empty());
  BOOST_TEST(store->run_header(id)->has_value()); // the header stays
  BOOST_REQUIRE(store->append(id, CheckpointRow(0, "A", "t0")).has_value());
  store->with_history_retention(std::chrono::hours(1));
  BOOST_REQUIRE(store->clear(id).has_value());
  BOOST_TEST(store->load_run(id)->empty());
  auto log = store->run_log(id);
  BOOST_REQUIRE(log.has_value());
  BOOST_REQUIRE(log->size() == 1u);
  BOOST_TEST(log->front().archived);
  BOOST_TEST((*store->run_header(id))->last_state == ""); // running: only its live log would say
}

// A batch's rows go in with a plain INSERT; a row another writer holds aborts it, and the batch
// runs again telling taken rows apart. Nothing of the first attempt may stay or apply twice.
BOOST_AUTO_TEST_CASE(a_taken_row_runs_its_batch_again_and_everything_else_lands_once) {
  auto store = open_store();
  auto fresh = unique_id("again-new");
  auto taken = unique_id("again-taken");
  auto ending = unique_id("again-end");
  BOOST_REQUIRE(store->append(taken, CheckpointRow(0, "Theirs", "t")).has_value());
  BOOST_REQUIRE(store->append(ending, CheckpointRow(0, "Start", "t")).has_value());
  std::vector<cano::CheckpointWrite> writes(3);
  writes[0] = test::first_write(fresh, "def");
  writes[1].workflow_id = taken;
  writes[1].row = CheckpointRow(0, "Ours", "t");
  writes[1].header = test::make_header(taken, "mine", 0, nullptr, cano::RunStatus::running,
                                       std::chrono::system_clock::now(), std::chrono::system_clock::now());
  writes[2].workflow_id = ending;
  writes[2].row = CheckpointRow(1, "Done", "t");
  writes[2].clear_run = true;
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].has_value());
  BOOST_REQUIRE(!out[1].has_value());
  BOOST_TEST(out[1].error().message() == "checkpoint conflict: workflow \"" + taken +
                                           "\" already has a row at sequence 0; resume the existing run or clear it "
                                           "first");
  BOOST_TEST(out[2].has_value());
  auto created = store->run_header(fresh);
  BOOST_REQUIRE(created.has_value());
  BOOST_REQUIRE(created->has_value());
  BOOST_TEST((*created)->fence == 1u); // created once: the aborted attempt left nothing
  BOOST_TEST(store->load_run(fresh)->size() == 1u);
  BOOST_TEST(store->load_run(taken)->front().state == "Theirs");
  BOOST_TEST(!store->run_header(taken)->has_value()); // its header rode on the row that did not land
  BOOST_TEST(store->load_run(ending)->empty());
  // The next batch of the same store goes the plain way again.
  auto next = store->append_batch({test::first_write(unique_id("again-next"), "def")});
  BOOST_REQUIRE(next.size() == 1u);
  BOOST_TEST(next[0].has_value());
}

BOOST_AUTO_TEST_CASE(a_key_twice_in_one_batch_conflicts_once_without_aborting_the_batch) {
  auto store = open_store();
  auto id = unique_id("twice");
  std::vector<cano::CheckpointWrite> writes(3);
  writes[0].workflow_id = id;
  writes[0].row = CheckpointRow(0, "First", "t");
  writes[1].workflow_id = id;
  writes[1].row = CheckpointRow(0, "Second", "t");
  writes[1].clear_run = true; // applies only with its row: the log stays
  writes[2].workflow_id = id;
  writes[2].row = CheckpointRow(1, "Next", "t");
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].has_value());
  BOOST_REQUIRE(!out[1].has_value());
  BOOST_TEST(out[1].error().message().find("checkpoint conflict: workflow \"" + id +
                                           "\" already has a row at "
                                           "sequence 0") == 0);
  BOOST_TEST(out[2].has_value());
  auto rows = *store->load_run(id);
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].state == "First");
  BOOST_TEST(rows[1].state == "Next");
}

// One DELETE clears many runs (one batch); its trigger notes the newest state entry of each run
// not completed, in that run's header, and leaves completed runs as they are.
BOOST_AUTO_TEST_CASE(one_clear_of_many_runs_notes_the_last_state_of_each_run_not_completed) {
  auto store = open_store();
  auto now = std::chrono::system_clock::now();
  const std::vector<std::pair<std::string, cano::RunStatus>> runs = {
    {unique_id("note-done"), cano::RunStatus::completed},
    {unique_id("note-failed"), cano::RunStatus::failed},
    {unique_id("note-back"), cano::RunStatus::rolled_back},
    {unique_id("note-running"), cano::RunStatus::running},
  };
  std::vector<cano::CheckpointWrite> clears;
  for (const auto& [id, status] : runs) {
    BOOST_REQUIRE(store->append(id, CheckpointRow(0, "Start", "t")).has_value());
    BOOST_REQUIRE(store->append(id, CheckpointRow(1, "Work", "t")).has_value());
    // A saga output after the newest entry: not a state entry, never the last state.
    BOOST_REQUIRE(store->append(id, CheckpointRow(2, "Undo", "t").with_output(bytes("{}"))).has_value());
    BOOST_REQUIRE(store->put_run_header(test::make_header(id, "def", 0, nullptr, status, now, now)).has_value());
    cano::CheckpointWrite w;
    w.workflow_id = id;
    w.clear_run = true;
    clears.push_back(w);
  }
  for (const auto& r : store->append_batch(clears)) {
    BOOST_TEST(r.has_value());
  }
  pqxx::connection c(pg_dsn());
  pqxx::read_transaction tx(c);
  std::vector<std::string> noted;
  for (const auto& [id, status] : runs) {
    auto row = tx.exec_params("SELECT last_state FROM cano_runs WHERE workflow_id = $1", id);
    BOOST_REQUIRE(row.size() == 1u);
    noted.push_back(std::string(to_string(status)) + " " + row[0][0].as<std::string>());
    BOOST_TEST(store->load_run(id)->empty());
  }
  BOOST_TEST(noted == (std::vector<std::string>{"completed ", "failed Work", "rolled_back Work", "running Work"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
