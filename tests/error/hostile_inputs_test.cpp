// Hostile inputs get errors, never hangs, leaks or blocked recoveries (issue "any exception, any
// record"): user code that throws anything at all (resource hooks, stores), a setup that fails
// half-way, and store records this version cannot read.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>
#include <sqlite3.h>

#include "cano/memory_checkpoint_store.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/headers.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/store_kinds.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;

namespace {

constexpr cano::duration bound = std::chrono::seconds(60);

/// A resource whose setup and teardown count their calls and throw what they are told.
class fragile : public cano::Resource {
public:
  std::function<void()> on_setup, on_teardown;
  std::atomic<int> setups{0}, teardowns{0};
  cano::expected<void> setup() override {
    ++setups;
    if (on_setup) {
      on_setup();
    }
    return {};
  }
  cano::expected<void> teardown() override {
    ++teardowns;
    if (on_teardown) {
      on_teardown();
    }
    return {};
  }
};

cano::Workflow<State> two_steps(cano::Resources resources) {
  return cano::Workflow<State>(std::move(resources))
    .register_task(State::Start, "start", [] { return State::Process; })
    .register_task(State::Process, "process", [] { return State::Complete; })
    .add_exit_state(State::Complete)
    .with_timeout(bound);
}

/// A store that throws `what` from the call named `where` (append, append_batch, load_run,
/// run_header, list_unfinished); otherwise it is the store it wraps.
template <class Thrown>
class throwing_store : public cano::CheckpointStore {
public:
  throwing_store(std::shared_ptr<cano::CheckpointStore> inner, std::string where, Thrown what)
    : inner_(std::move(inner)),
      where_(std::move(where)),
      what_(std::move(what)) {}
  std::atomic<bool> armed{true};

  bool is_blocking() const override { return inner_->is_blocking(); }
  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& row) override {
    maybe_throw("append");
    return inner_->append(id, row);
  }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& w) override {
    maybe_throw("append_batch");
    return inner_->append_batch(w);
  }
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string& id) override {
    maybe_throw("load_run");
    return inner_->load_run(id);
  }
  cano::expected<void> clear(const std::string& id) override { return inner_->clear(id); }
  cano::expected<void> put_run_header(const cano::RunHeader& h) override { return inner_->put_run_header(h); }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& id) override {
    maybe_throw("run_header");
    return inner_->run_header(id);
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override { return inner_->unfinished_runs(); }
  cano::expected<cano::RunListing> list_unfinished() override {
    maybe_throw("list_unfinished");
    return inner_->list_unfinished();
  }

private:
  void maybe_throw(const char* call) {
    if (armed && where_ == call) {
      throw what_;
    }
  }
  std::shared_ptr<cano::CheckpointStore> inner_;
  std::string where_;
  Thrown what_;
};

template <class Thrown>
std::shared_ptr<throwing_store<Thrown>> throwing(std::shared_ptr<cano::CheckpointStore> inner, std::string where,
                                                 Thrown what) {
  return std::make_shared<throwing_store<Thrown>>(std::move(inner), std::move(where), std::move(what));
}

cano::Workflow<State> checkpointed(std::shared_ptr<cano::CheckpointStore> store) {
  return cano::Workflow<State>{}
    .with_name("hostile")
    .register_task(State::Start, "start", [] { return State::Process; })
    .register_task(State::Process, "process", [] { return State::Complete; })
    .add_exit_state(State::Complete)
    .with_checkpoint_store(std::move(store))
    .with_timeout(bound);
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_inputs_test)

// --- exceptions of any type ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_resource_setup_throwing_a_non_exception_fails_the_run_instead_of_hanging_it) {
  test_system ts;
  auto r = std::make_shared<fragile>();
  r->on_setup = [] { throw 42; };
  auto wf = two_steps(cano::Resources{}.insert("r", r));
  auto end = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(!end.has_value());
  BOOST_TEST(end.error().message() == "resource setup threw: <non-string panic payload>");
}

BOOST_AUTO_TEST_CASE(a_resource_teardown_throwing_anything_never_stops_the_run_from_reporting) {
  test_system ts;
  auto r = std::make_shared<fragile>();
  r->on_teardown = [] { throw std::string("teardown string"); };
  auto wf = two_steps(cano::Resources{}.insert("r", r));
  auto end = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(end.has_value());
  BOOST_TEST(*end == State::Complete);
  BOOST_TEST(r->teardowns.load() == 1);
}

BOOST_AUTO_TEST_CASE(a_store_throwing_a_non_exception_is_a_checkpoint_store_error) {
  test_system ts;
  auto store = throwing(std::make_shared<cano::MemoryCheckpointStore>(), "append", 42);
  auto end = ts.rt->run(checkpointed(store), State::Start, {"throw-42", nullptr});
  BOOST_REQUIRE(!end.has_value());
  BOOST_TEST(end.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(end.error().message().find("the store threw: <non-string panic payload>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(append_batch_throwing_keeps_its_text_and_the_checkpoint_actor_serves_the_next_run) {
  temp_dir dir;
  auto sqlite = *cano::SqliteCheckpointStore::open(dir.file("ckpt.db"));
  auto store = throwing(sqlite, "append_batch", std::runtime_error("disk on fire"));
  test_system ts;
  auto wf = checkpointed(store);
  auto end = ts.rt->run(wf, State::Start, {"disk-1", nullptr});
  BOOST_REQUIRE(!end.has_value());
  BOOST_TEST(end.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(end.error().message().find("disk on fire") != std::string::npos, end.error().message());
  // A non-exception next time: the actor survives that as well, then a healthy run goes through.
  auto store42 = throwing(sqlite, "append_batch", 42);
  auto end42 = ts.rt->run(checkpointed(store42), State::Start, {"disk-2", nullptr});
  BOOST_REQUIRE(!end42.has_value());
  BOOST_TEST(end42.error().message().find("<non-string panic payload>") != std::string::npos);
  store->armed = false;
  auto healthy = ts.rt->run(wf, State::Start, {"disk-3", nullptr});
  BOOST_REQUIRE_MESSAGE(healthy.has_value(), (healthy ? "" : healthy.error().to_string()));
  BOOST_TEST(*healthy == State::Complete);
}

BOOST_AUTO_TEST_CASE(stores_throwing_while_a_run_is_resumed_or_listed_give_errors) {
  test_system ts;
  auto inner = std::make_shared<cano::MemoryCheckpointStore>();
  BOOST_REQUIRE(inner->append("r1", cano::CheckpointRow(0, "Start", "start")));
  for (const char* where : {"load_run", "run_header"}) {
    auto end = ts.rt->resume(checkpointed(throwing(inner, where, 7)), "r1");
    BOOST_REQUIRE(!end.has_value());
    BOOST_TEST(end.error().message().find(std::string(where) + ": the store threw") != std::string::npos,
               end.error().message());
  }
  auto listed = ts.rt->resume_all(std::vector<cano::Workflow<State>>{
    checkpointed(throwing(inner, "list_unfinished", std::logic_error("listing broke")))});
  BOOST_REQUIRE(listed.size() == 1u);
  BOOST_TEST(listed[0].second.error().message().find("listing broke") != std::string::npos);
}

// --- setup rollback ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_setup_failing_half_way_tears_down_what_was_set_up_however_it_fails) {
  test_system ts;
  auto first = std::make_shared<fragile>();
  auto second = std::make_shared<fragile>();
  int n = 0;
  second->on_setup = [&n] { ++n % 2 == 0 ? throw std::runtime_error("second setup failed") : throw 23; };
  auto wf = two_steps(cano::Resources{}.insert("first", first).insert("second", second));
  for (int i = 0; i < 23; ++i) {
    auto end = ts.rt->run(wf, State::Start);
    BOOST_REQUIRE(!end.has_value());
  }
  BOOST_TEST(first->setups.load() == 23);
  BOOST_TEST(first->teardowns.load() == 23); // each setup undone, newest first
  BOOST_TEST(second->teardowns.load() == 0); // its own setup never completed
}

// --- records this version cannot read -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(sqlite_headers_that_cannot_be_read_are_reported_and_the_others_resume) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto store = *cano::SqliteCheckpointStore::open(path);
  auto wf = checkpointed(store);
  for (const char* id : {"healthy", "bad-input", "bad-version"}) {
    BOOST_REQUIRE(store->append(id, cano::CheckpointRow(0, "Start", "start")));
    BOOST_REQUIRE(store->put_run_header(make_header(id, "hostile", 0, {{"n", 1}}, cano::RunStatus::running)));
  }
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(db,
                             "UPDATE cano_runs SET input = '{not json' WHERE workflow_id = 'bad-input';"
                             "UPDATE cano_runs SET workflow_version = 4294967296 WHERE workflow_id = 'bad-version';",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
  test_system ts;
  auto results = ts.rt->resume_all(std::vector<cano::Workflow<State>>{wf});
  std::map<std::string, std::string> by_id;
  for (const auto& [id, r] : results) {
    by_id[id] = r ? std::string("completed") : r.error().message();
  }
  BOOST_TEST(by_id["healthy"] == "completed");
  BOOST_TEST(by_id["bad-input"].find("decode its input") != std::string::npos, by_id["bad-input"]);
  BOOST_TEST(by_id["bad-version"].find("4294967296 out of u32 range") != std::string::npos, by_id["bad-version"]);
  // Nothing deleted, nothing changed.
  auto value = [&](const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    std::string out = sqlite3_step(st) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "";
    sqlite3_finalize(st);
    return out;
  };
  BOOST_TEST(value("SELECT input FROM cano_runs WHERE workflow_id = 'bad-input'") == "{not json");
  BOOST_TEST(value("SELECT workflow_version FROM cano_runs WHERE workflow_id = 'bad-version'") == "4294967296");
  BOOST_TEST(value("SELECT count(*) FROM cano_checkpoints WHERE workflow_id LIKE 'bad-%'") == "2");
  sqlite3_close(db);
}

BOOST_AUTO_TEST_CASE(postgres_headers_that_cannot_be_read_are_reported_and_the_others_resume,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto store = postgres_store::make(); // a schema of its own
  auto wf = checkpointed(store);
  for (const char* id : {"healthy", "bad-status", "bad-version"}) {
    BOOST_REQUIRE(store->append(id, cano::CheckpointRow(0, "Start", "start")));
    BOOST_REQUIRE(store->put_run_header(make_header(id, "hostile", 0, {{"n", 1}}, cano::RunStatus::running)));
  }
  auto exec = [&](const std::string& sql) {
    pqxx::connection c(pg_dsn());
    pqxx::work tx(c);
    tx.exec("SET LOCAL search_path = " + tx.quote_name(store->location));
    auto r = tx.exec(sql);
    tx.commit();
    return r;
  };
  exec("UPDATE cano_runs SET status = 'paused-by-hand' WHERE workflow_id = 'bad-status'");
  exec("UPDATE cano_runs SET workflow_version = 4294967296 WHERE workflow_id = 'bad-version'");
  test_system ts;
  auto results = ts.rt->resume_all(std::vector<cano::Workflow<State>>{wf});
  std::map<std::string, std::string> by_id;
  for (const auto& [id, r] : results) {
    by_id[id] = r ? std::string("completed") : r.error().message();
  }
  BOOST_TEST(by_id["healthy"] == "completed");
  BOOST_TEST(by_id["bad-status"].find("unknown status \"paused-by-hand\"") != std::string::npos, by_id["bad-status"]);
  BOOST_TEST(by_id["bad-version"].find("4294967296 out of u32 range") != std::string::npos, by_id["bad-version"]);
  auto single = store->run_header("bad-status");
  BOOST_REQUIRE(!single.has_value()); // read alone, it is an error too, never "running"
  BOOST_TEST(single.error().message().find("unknown status") != std::string::npos);
  auto kept = exec("SELECT status FROM cano_runs WHERE workflow_id = 'bad-status'");
  BOOST_TEST(kept[0][0].as<std::string>() == "paused-by-hand");
  auto version = exec("SELECT workflow_version FROM cano_runs WHERE workflow_id = 'bad-version'");
  BOOST_TEST(version[0][0].as<long long>() == 4294967296LL);
}

BOOST_AUTO_TEST_CASE(a_postgres_run_whose_input_holds_a_nul_character_is_refused_before_any_write,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto store = postgres_store::make(); // a schema of its own
  auto wf = checkpointed(store);
  test_system ts;
  auto input = nlohmann::json::parse(R"({"order":{"note":"a\u0000b"}})");
  auto r = ts.rt->run(wf, State::Start, {"nul-input", input});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("configuration"));
  BOOST_TEST(r.error().message().find("/order/note holds the character U+0000") != std::string::npos,
             r.error().message());
  auto header = store->run_header("nul-input");
  BOOST_REQUIRE(header.has_value());
  BOOST_TEST(!header->has_value()); // nothing was written
  auto rows = store->load_run("nul-input");
  BOOST_REQUIRE(rows.has_value());
  BOOST_TEST(rows->empty());
  // A key holding it, too; the same input without it runs.
  BOOST_TEST(!store->check_input(nlohmann::json{{std::string("k\0", 2), 1}}).has_value());
  BOOST_TEST(ts.rt->run(wf, State::Start, {"plain-input", nlohmann::json{{"order", {{"note", "ab"}}}}}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
