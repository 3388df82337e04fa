// SqliteCheckpointStore (ARCHITECTURE D6, cano-semantics §2.4): cano's redb store scenarios
// (§5.14 #193–198, #202–204) and the redb saga resume (§5.8 #135) with the store swapped for a
// real SQLite file, plus what only this store has: one transaction per append_batch, run
// headers, concurrent openers of one new file, and its error texts.
//
// Every test works on fresh files in its own mkdtemp directory, removed at the end.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/scoped_actor.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "cano/actor_api.hpp"
#include "cano/checkpoint.hpp"
#include "cano/saga.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/headers.hpp"
#include "support/run_results.hpp"
#include "support/states.hpp"
#include "support/sync.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace std::chrono_literals;

namespace {

/// Bounds every engine run generously, so a hang fails the test instead of blocking it.
constexpr cano::duration bound = std::chrono::seconds(60);

using Store = cano::SqliteCheckpointStore;
using test::temp_dir;
using Rows = std::vector<cano::CheckpointRow>;

/// Opens a store that the test needs (not an assertion of the test).
std::shared_ptr<Store> open_store(const std::string& path, Store::Options opts = {}) {
  auto s = Store::open(path, opts);
  if (!s) {
    throw std::runtime_error("opening the SQLite store failed: " + s.error().to_string());
  }
  return *s;
}

/// `store.append(id, row)` for seeding (not an assertion of the test).
void seed(cano::CheckpointStore& store, const std::string& id, const cano::CheckpointRow& row) {
  auto r = store.append(id, row);
  if (!r) {
    throw std::runtime_error("seeding the checkpoint store failed: " + r.error().to_string());
  }
}

/// load_run that must succeed.
Rows load(cano::CheckpointStore& store, const std::string& id) {
  auto r = store.load_run(id);
  if (!r) {
    throw std::runtime_error("load_run failed: " + r.error().to_string());
  }
  return *r;
}

/// "ok", or the error's Display text (safe to build for a message whatever the outcome).
template <class T>
std::string outcome(const cano::expected<T>& r) {
  return r.has_value() ? "ok" : r.error().to_string();
}

std::vector<std::uint64_t> sequences(const Rows& rows) {
  std::vector<std::uint64_t> out;
  for (const auto& r : rows) {
    out.push_back(r.sequence);
  }
  return out;
}

std::vector<std::uint8_t> json_blob(std::uint32_t v) { return cano::to_blob(nlohmann::json(v)); }

/// A second, raw SQLite connection to the same file: what another process would see.
class raw_db {
public:
  explicit raw_db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_close_v2(db_);
      throw std::runtime_error("raw open failed: " + msg);
    }
  }
  ~raw_db() { sqlite3_close_v2(db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  /// Runs a fixed statement (no parameters) and returns its first row's columns as text.
  std::vector<std::string> first_row(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      throw std::runtime_error("prepare failed: " + std::string(sqlite3_errmsg(db_)));
    }
    std::vector<std::string> out;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        const auto* text = sqlite3_column_text(s, i);
        out.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
      }
    } else if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_finalize(s);
      throw std::runtime_error("step failed: " + msg);
    }
    sqlite3_finalize(s);
    return out;
  }
  std::string value(const std::string& sql) {
    auto row = first_row(sql);
    return row.empty() ? "" : row[0];
  }

private:
  sqlite3* db_ = nullptr;
};

cano::CheckpointWrite row_write(const std::string& id, cano::CheckpointRow row) {
  cano::CheckpointWrite w;
  w.workflow_id = id;
  w.row = std::move(row);
  return w;
}

cano::CheckpointWrite header_write(cano::RunHeader h) {
  cano::CheckpointWrite w;
  w.workflow_id = h.workflow_id;
  w.header = std::move(h);
  return w;
}

cano::CheckpointWrite clear_write(const std::string& id) {
  cano::CheckpointWrite w;
  w.workflow_id = id;
  w.clear_run = true;
  return w;
}

/// A time point on a whole millisecond (what the store keeps).
std::chrono::system_clock::time_point at_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

cano::RunHeader header(const std::string& id, cano::RunStatus status, std::int64_t created_ms,
                       std::int64_t updated_ms) {
  return test::make_header(id, "orders", 3, nlohmann::json{{"sku", "KB-42"}, {"qty", 2}}, status, at_ms(created_ms),
                           at_ms(updated_ms));
}

std::string conflict_text(const std::string& id, std::uint64_t seq) {
  return "checkpoint conflict: workflow \"" + id + "\" already has a row at sequence " + std::to_string(seq) +
         "; resume the existing run or clear it first";
}

// --- engine scenarios ---------------------------------------------------------------------------

enum class Step { Start, Work, Done };

std::string to_string(Step s) {
  switch (s) {
    case Step::Start: return "Start";
    case Step::Work: return "Work";
    case Step::Done: return "Done";
  }
  return "?";
}

/// Per-run side effects, in the order the tasks ran (the redb tests' side-effect files).
class side_effects {
public:
  void add(const std::string& id, std::string what) {
    std::lock_guard<std::mutex> g(m_);
    by_run_[id].push_back(std::move(what));
  }
  std::vector<std::string> of(const std::string& id) const {
    std::lock_guard<std::mutex> g(m_);
    auto it = by_run_.find(id);
    return it == by_run_.end() ? std::vector<std::string>{} : it->second;
  }

private:
  mutable std::mutex m_;
  std::map<std::string, std::vector<std::string>> by_run_;
};

/// Start → Work → Done; each task records its name for its run.
cano::Workflow<Step> start_work_done(std::shared_ptr<cano::CheckpointStore> store,
                                     std::shared_ptr<side_effects> effects) {
  return cano::Workflow<Step>{}
    .with_name("start-work-done")
    .register_task(
      Step::Start, "Start",
      [effects](cano::task_context& ctx) {
        effects->add(ctx.workflow_id(), "Start");
        return Step::Work;
      },
      cano::TaskConfig::minimal())
    .register_task(
      Step::Work, "Work",
      [effects](cano::task_context& ctx) {
        effects->add(ctx.workflow_id(), "Work");
        return Step::Done;
      },
      cano::TaskConfig::minimal())
    .add_exit_state(Step::Done)
    .with_checkpoint_store(std::move(store))
    .with_timeout(bound);
}

/// Forwards every call to a SqliteCheckpointStore.
class forwarding_store : public cano::CheckpointStore {
public:
  explicit forwarding_store(std::shared_ptr<Store> inner) : inner_(std::move(inner)) {}
  bool is_blocking() const override { return inner_->is_blocking(); }
  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& row) override {
    return inner_->append(id, row);
  }
  cano::expected<Rows> load_run(const std::string& id) override { return inner_->load_run(id); }
  cano::expected<void> clear(const std::string& id) override { return inner_->clear(id); }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& writes) override {
    return inner_->append_batch(writes);
  }
  cano::expected<void> put_run_header(const cano::RunHeader& h) override { return inner_->put_run_header(h); }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& id) override {
    return inner_->run_header(id);
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override { return inner_->unfinished_runs(); }

protected:
  std::shared_ptr<Store> inner_;
};

/// Lets the first `allowed` rows through and fails every later row (headers and clears pass).
class failing_after_store : public forwarding_store {
public:
  failing_after_store(std::shared_ptr<Store> inner, std::size_t allowed)
    : forwarding_store(std::move(inner)),
      allowed_(allowed) {}

  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& row) override {
    if (!take_row()) {
      return injected();
    }
    return forwarding_store::append(id, row);
  }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& writes) override {
    std::vector<cano::CheckpointWrite> passed;
    std::vector<std::optional<cano::expected<void>>> out(writes.size());
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < writes.size(); ++i) {
      if (writes[i].row && !take_row()) {
        out[i] = injected();
        continue;
      }
      passed.push_back(writes[i]);
      where.push_back(i);
    }
    auto inner = forwarding_store::append_batch(passed);
    for (std::size_t k = 0; k < where.size() && k < inner.size(); ++k) {
      out[where[k]] = inner[k];
    }
    std::vector<cano::expected<void>> result;
    for (auto& o : out) {
      result.push_back(o ? *o : cano::expected<void>{cano::error::checkpoint_store("missing outcome")});
    }
    return result;
  }

private:
  bool take_row() {
    std::lock_guard<std::mutex> g(m_);
    return rows_++ < allowed_;
  }
  static cano::error injected() { return cano::error::checkpoint_store("injected failure"); }

  std::mutex m_;
  std::size_t allowed_;
  std::size_t rows_ = 0;
};

/// Compensation calls, in order: "(B,2) (A,1)".
class comp_log {
public:
  void push(const std::string& name, int output) {
    std::lock_guard<std::mutex> g(m_);
    text_ += (text_.empty() ? "(" : " (") + name + "," + std::to_string(output) + ")";
  }
  std::string str() const {
    std::lock_guard<std::mutex> g(m_);
    return text_;
  }

private:
  mutable std::mutex m_;
  std::string text_;
};

/// A saga step with an int output that goes to `next`; compensate records (name, output).
class comp_step : public cano::CompensatableTask<test::State, int> {
public:
  comp_step(std::string name, int value, test::State next, std::shared_ptr<comp_log> log)
    : name_(std::move(name)),
      value_(value),
      next_(next),
      log_(std::move(log)) {}
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return name_; }
  cano::expected<std::pair<cano::TaskResult<test::State>, int>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<test::State>(next_), value_);
  }
  cano::expected<void> compensate(cano::task_context&, int output) override {
    log_->push(name_, output);
    return {};
  }

private:
  std::string name_;
  int value_;
  test::State next_;
  std::shared_ptr<comp_log> log_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(sqlite_store_test)

// --- §5.14 #193–198 with the store swapped ------------------------------------------------------

// §5.14 #193
BOOST_AUTO_TEST_CASE(fields_round_trip_and_clear_removes_a_run) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  Rows rows{cano::CheckpointRow(0, "A", "t0"), cano::CheckpointRow(1, "B", "t1"),
            cano::CheckpointRow(2, "C", "t2").with_output({7, 8, 9})};
  for (const auto& r : rows) {
    BOOST_REQUIRE(store->append("run", r).has_value());
  }
  auto loaded = store->load_run("run");
  BOOST_REQUIRE(loaded.has_value());
  BOOST_TEST(sequences(*loaded) == (std::vector<std::uint64_t>{0, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST((*loaded == rows));
  BOOST_TEST(!(*loaded)[0].output_blob.has_value());
  BOOST_TEST((*(*loaded)[2].output_blob == std::vector<std::uint8_t>{7, 8, 9}));
  BOOST_TEST(store->clear("run").has_value());
  BOOST_TEST(load(*store, "run").empty());
  BOOST_TEST(store->clear("never-existed").has_value());
}

// §5.14 #193: NULL and an empty blob stay apart.
BOOST_AUTO_TEST_CASE(an_empty_blob_is_not_a_missing_blob) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  seed(*store, "run", cano::CheckpointRow(0, "A", "t0"));
  seed(*store, "run", cano::CheckpointRow(1, "A", "t0").with_cursor({}));
  auto rows = load(*store, "run");
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(!rows[0].output_blob.has_value());
  BOOST_REQUIRE(rows[1].output_blob.has_value());
  BOOST_TEST(rows[1].output_blob->empty());
  BOOST_TEST((rows[1].kind == cano::RowKind::step_cursor));
}

// §5.14 #194
BOOST_AUTO_TEST_CASE(out_of_order_appends_load_in_sequence_order) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  for (std::uint64_t seq : {5, 1, 9, 0, 3}) {
    BOOST_REQUIRE(store->append("run", cano::CheckpointRow(seq, "S" + std::to_string(seq), "t")).has_value());
  }
  auto rows = load(*store, "run");
  BOOST_TEST(sequences(rows) == (std::vector<std::uint64_t>{0, 1, 3, 5, 9}), boost::test_tools::per_element());
  for (const auto& r : rows) {
    BOOST_TEST(r.state == "S" + std::to_string(r.sequence));
  }
}

// §5.14 #195
BOOST_AUTO_TEST_CASE(rows_survive_closing_and_reopening_the_file) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  Rows rows{cano::CheckpointRow(0, "Start", "T1"),
            cano::CheckpointRow(1, "Start", "T1").with_output(json_blob(7)).with_workflow_version(2)};
  {
    auto store = open_store(path);
    for (const auto& r : rows) {
      BOOST_REQUIRE(store->append("persisted", r).has_value());
    }
  } // the connection is closed here
  auto reopened = open_store(path);
  auto loaded = reopened->load_run("persisted");
  BOOST_REQUIRE(loaded.has_value());
  BOOST_TEST((*loaded == rows));
}

// §5.14 #196
BOOST_AUTO_TEST_CASE(clear_removes_only_its_own_run_and_unknown_runs_load_empty) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  seed(*store, "a", cano::CheckpointRow(0, "Start", "T"));
  seed(*store, "a", cano::CheckpointRow(1, "Process", "T"));
  seed(*store, "b", cano::CheckpointRow(0, "Start", "T"));
  BOOST_REQUIRE(store->clear("a").has_value());
  BOOST_TEST(load(*store, "a").empty());
  auto b = load(*store, "b");
  BOOST_REQUIRE(b.size() == 1u);
  BOOST_TEST((b[0] == cano::CheckpointRow(0, "Start", "T")));
  auto unknown = store->load_run("unknown");
  BOOST_REQUIRE(unknown.has_value());
  BOOST_TEST(unknown->empty());
}

// §5.14 #197 and D6's conflict text
BOOST_AUTO_TEST_CASE(a_duplicate_row_is_a_conflict_and_keeps_the_original) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  cano::CheckpointRow original(0, "Start", "T1");
  BOOST_REQUIRE(store->append("run", original).has_value());
  auto dup = store->append("run", cano::CheckpointRow(0, "Other", "T2").with_output({1}));
  BOOST_REQUIRE(!dup.has_value());
  BOOST_TEST(dup.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(dup.error().message() ==
             "checkpoint conflict: workflow \"run\" already has a row at sequence 0; resume the existing "
             "run or clear it first");
  BOOST_TEST(!dup.error().is_store_unavailable());
  BOOST_TEST((load(*store, "run") == Rows{original}));
  BOOST_TEST(store->append("run", cano::CheckpointRow(1, "Process", "T2")).has_value());
  BOOST_TEST(store->append("other", cano::CheckpointRow(0, "Start", "T1")).has_value());
  BOOST_TEST(sequences(load(*store, "run")) == (std::vector<std::uint64_t>{0, 1}), boost::test_tools::per_element());
  BOOST_TEST(sequences(load(*store, "other")) == (std::vector<std::uint64_t>{0}), boost::test_tools::per_element());
}

// §5.14 #198 (first half)
BOOST_AUTO_TEST_CASE(sixteen_runs_appending_concurrently_stay_isolated) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  constexpr int runs = 16;
  constexpr int per_run = 12;
  test::barrier start(runs * per_run);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < runs; ++r) {
    for (int s = 0; s < per_run; ++s) {
      threads.emplace_back([&, r, s] {
        start.arrive_and_wait();
        auto id = "run-" + std::to_string(r);
        auto state = "r" + std::to_string(r) + "-s" + std::to_string(s);
        if (!store->append(id, cano::CheckpointRow(static_cast<std::uint64_t>(s), state, "T"))) {
          ++failures;
        }
      });
    }
  }
  for (auto& t : threads) {
    t.join();
  }
  BOOST_TEST(failures.load() == 0);
  for (int r = 0; r < runs; ++r) {
    auto rows = load(*store, "run-" + std::to_string(r));
    BOOST_REQUIRE(rows.size() == static_cast<std::size_t>(per_run));
    for (int s = 0; s < per_run; ++s) {
      BOOST_TEST(rows[static_cast<std::size_t>(s)].sequence == static_cast<std::uint64_t>(s));
      BOOST_TEST(rows[static_cast<std::size_t>(s)].state == "r" + std::to_string(r) + "-s" + std::to_string(s));
    }
  }
}

// §5.14 #198 (second half)
BOOST_AUTO_TEST_CASE(thirty_two_concurrent_sequences_of_one_run_all_land) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  constexpr int n = 32;
  test::barrier start(n);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < n; ++s) {
    threads.emplace_back([&, s] {
      start.arrive_and_wait();
      if (!store->append("one", cano::CheckpointRow(static_cast<std::uint64_t>(s), "S", "T"))) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  BOOST_TEST(failures.load() == 0);
  std::vector<std::uint64_t> expected;
  for (std::uint64_t s = 0; s < n; ++s) {
    expected.push_back(s);
  }
  BOOST_TEST(sequences(load(*store, "one")) == expected, boost::test_tools::per_element());
}

// §5.14 #199 (first half; a SQLite row has no encoding to corrupt)
BOOST_AUTO_TEST_CASE(a_five_mib_blob_round_trips) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  std::vector<std::uint8_t> blob(5u * 1024u * 1024u);
  for (std::size_t i = 0; i < blob.size(); ++i) {
    blob[i] = static_cast<std::uint8_t>((i * 31u + 7u) & 0xFFu);
  }
  {
    auto store = open_store(path);
    BOOST_REQUIRE(store->append("big", cano::CheckpointRow(0, "Start", "T").with_output(blob)).has_value());
  }
  auto rows = load(*open_store(path), "big");
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_REQUIRE(rows[0].output_blob.has_value());
  BOOST_TEST(rows[0].output_blob->size() == blob.size());
  BOOST_TEST((*rows[0].output_blob == blob));
}

// §5.14 #200 (first half; SQLite has no legacy encoding)
BOOST_AUTO_TEST_CASE(all_row_kinds_and_the_workflow_version_round_trip) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  Rows rows{cano::CheckpointRow(0, "Start", "A").with_workflow_version(7),
            cano::CheckpointRow(1, "Start", "A").with_output(json_blob(42)).with_workflow_version(7),
            cano::CheckpointRow(2, "Grind", "G").with_cursor(json_blob(3)).with_workflow_version(7)};
  for (const auto& r : rows) {
    BOOST_REQUIRE(store->append("kinds", r).has_value());
  }
  auto loaded = load(*store, "kinds");
  BOOST_REQUIRE(loaded.size() == 3u);
  BOOST_TEST((loaded[0].kind == cano::RowKind::state_entry));
  BOOST_TEST((loaded[1].kind == cano::RowKind::compensation_completion));
  BOOST_TEST((loaded[2].kind == cano::RowKind::step_cursor));
  for (const auto& r : loaded) {
    BOOST_TEST(r.workflow_version == 7u);
  }
  BOOST_TEST((loaded == rows));
}

BOOST_AUTO_TEST_CASE(an_unknown_kind_reads_as_a_state_entry) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto store = open_store(path);
  seed(*store, "odd", cano::CheckpointRow(0, "Start", "A").with_output({1}));
  raw_db(path).first_row("UPDATE cano_checkpoints SET kind = 9 WHERE workflow_id = 'odd'");
  auto rows = load(*store, "odd");
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST((rows[0].kind == cano::RowKind::state_entry));
}

BOOST_AUTO_TEST_CASE(every_row_records_when_it_was_appended_and_a_random_token) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto store = open_store(path);
  auto before =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (std::uint64_t s = 0; s < 50; ++s) {
    seed(*store, "tok", cano::CheckpointRow(s, "S", "T"));
  }
  auto after =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  raw_db db(path);
  auto stats = db.first_row("SELECT COUNT(*), COUNT(DISTINCT append_token), MIN(length(append_token)), "
                            "MAX(length(append_token)), SUM(append_token GLOB '*[^0-9a-f]*'), "
                            "MIN(created_at), MAX(created_at) FROM cano_checkpoints");
  BOOST_REQUIRE(stats.size() == 7u);
  BOOST_TEST(stats[0] == "50");
  BOOST_TEST(stats[1] == "50"); // one token per row, all different
  BOOST_TEST(stats[2] == "32");
  BOOST_TEST(stats[3] == "32");
  BOOST_TEST(stats[4] == "0"); // lowercase hex only
  BOOST_TEST(std::stoll(stats[5]) >= before);
  BOOST_TEST(std::stoll(stats[6]) <= after);
}

// --- append_batch -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_conflicting_row_fails_only_its_own_write_in_a_batch) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  cano::CheckpointRow original(1, "Original", "T");
  seed(*store, "b", original);
  std::vector<cano::CheckpointWrite> writes{
    row_write("b", cano::CheckpointRow(0, "Start", "T")), row_write("c", cano::CheckpointRow(0, "Start", "T")),
    row_write("b", cano::CheckpointRow(1, "Process", "T")), row_write("b", cano::CheckpointRow(2, "Complete", ""))};
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 4u);
  BOOST_TEST(out[0].has_value());
  BOOST_TEST(out[1].has_value());
  BOOST_REQUIRE(!out[2].has_value());
  BOOST_TEST(out[2].error().category() == std::string("checkpoint_store"));
  BOOST_TEST(out[2].error().message() == conflict_text("b", 1));
  BOOST_TEST(!out[2].error().is_store_unavailable());
  BOOST_TEST(out[3].has_value());
  auto rows = load(*store, "b");
  BOOST_TEST((rows == Rows{cano::CheckpointRow(0, "Start", "T"), original, cano::CheckpointRow(2, "Complete", "")}));
  BOOST_TEST(sequences(load(*store, "c")) == (std::vector<std::uint64_t>{0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_row_twice_in_one_batch_keeps_the_first) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  std::vector<cano::CheckpointWrite> writes{row_write("d", cano::CheckpointRow(0, "First", "T")),
                                            row_write("d", cano::CheckpointRow(0, "Second", "T"))};
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].has_value());
  BOOST_REQUIRE(!out[1].has_value());
  BOOST_TEST(out[1].error().category() == std::string("checkpoint_store"));
  BOOST_TEST(out[1].error().message() == conflict_text("d", 0));
  BOOST_TEST((load(*store, "d") == Rows{cano::CheckpointRow(0, "First", "T")}));
}

BOOST_AUTO_TEST_CASE(a_row_the_store_cannot_hold_fails_alone_in_a_batch) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto store = open_store(path);
  std::vector<cano::CheckpointWrite> writes{row_write("big-seq", cano::CheckpointRow(0, "Start", "T")),
                                            row_write("big-seq", cano::CheckpointRow(UINT64_MAX, "Far", "T")),
                                            row_write("big-seq", cano::CheckpointRow(1, "Process", "T"))};
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].has_value());
  BOOST_REQUIRE(!out[1].has_value());
  BOOST_TEST(out[1].error().category() == std::string("checkpoint_store"));
  BOOST_TEST(out[1].error().message() ==
             "sqlite: append (" + path + "): sequence 18446744073709551615 is out of SQLite's INTEGER range");
  BOOST_TEST(!out[1].error().is_store_unavailable());
  BOOST_TEST(out[2].has_value());
  BOOST_TEST(sequences(load(*store, "big-seq")) == (std::vector<std::uint64_t>{0, 1}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(headers_rows_and_clears_share_one_batch_in_order) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  seed(*store, "h", cano::CheckpointRow(0, "Start", "T"));
  seed(*store, "h", cano::CheckpointRow(1, "Process", "T"));
  std::vector<cano::CheckpointWrite> writes{
    header_write(header("h", cano::RunStatus::running, 1000, 1000)),
    clear_write("h"),
    header_write(header("h", cano::RunStatus::completed, 5000, 2000)),
    row_write("h2", cano::CheckpointRow(0, "Start", "T")),
    header_write(header("h2", cano::RunStatus::interrupted, 3000, 3000)),
    row_write("h3", cano::CheckpointRow(0, "Start", "T")),
    clear_write("h3"),
    cano::CheckpointWrite{}, // an empty write is fine
  };
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == writes.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    BOOST_TEST(out[i].has_value(), "write " << i);
  }
  BOOST_TEST(load(*store, "h").empty());
  BOOST_TEST(sequences(load(*store, "h2")) == (std::vector<std::uint64_t>{0}), boost::test_tools::per_element());
  BOOST_TEST(load(*store, "h3").empty()); // cleared after its row, in the same transaction
  auto h = store->run_header("h");
  BOOST_REQUIRE(h.has_value());
  BOOST_REQUIRE(h->has_value());
  BOOST_TEST(((*h)->status == cano::RunStatus::completed)); // the header outlives clear
  BOOST_TEST(((*h)->created_at == at_ms(1000)));
  BOOST_TEST(((*h)->updated_at == at_ms(2000)));
  auto h2 = store->run_header("h2");
  BOOST_REQUIRE(h2.has_value());
  BOOST_REQUIRE(h2->has_value());
  BOOST_TEST(((*h2)->status == cano::RunStatus::interrupted));
  BOOST_TEST(store->append_batch({}).empty());
}

// A write may carry a row, a clear and a header (the engine's first and exit writes): applied in
// that order, and not past a row that did not land.
BOOST_AUTO_TEST_CASE(a_write_applies_its_row_then_clear_then_header_and_stops_at_a_conflict) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  auto first = row_write("x", cano::CheckpointRow(0, "Start", "T"));
  first.header = header("x", cano::RunStatus::running, 1000, 1000);
  auto duplicate = row_write("x", cano::CheckpointRow(0, "Again", "T"));
  duplicate.header = header("x", cano::RunStatus::failed, 1000, 1500);
  duplicate.clear_run = true;
  auto middle = row_write("x", cano::CheckpointRow(1, "Process", "T"));
  auto exit = row_write("x", cano::CheckpointRow(2, "Complete", ""));
  exit.clear_run = true;
  exit.header = header("x", cano::RunStatus::completed, 9000, 3000);
  auto out = store->append_batch({first, duplicate, middle});
  BOOST_REQUIRE(out.size() == 3u);
  BOOST_TEST(out[0].has_value());
  BOOST_REQUIRE(!out[1].has_value());
  BOOST_TEST(out[1].error().message() == conflict_text("x", 0));
  BOOST_TEST(out[2].has_value());
  // the duplicate's clear and header were skipped
  BOOST_TEST(sequences(load(*store, "x")) == (std::vector<std::uint64_t>{0, 1}), boost::test_tools::per_element());
  auto running = store->run_header("x");
  BOOST_REQUIRE(running.has_value());
  BOOST_REQUIRE(running->has_value());
  BOOST_TEST(((*running)->status == cano::RunStatus::running));
  BOOST_TEST(((*running)->updated_at == at_ms(1000)));
  // the exit write: its row lands, then the clear removes the run's rows, then the header
  out = store->append_batch({exit});
  BOOST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].has_value());
  BOOST_TEST(load(*store, "x").empty());
  auto done = store->run_header("x");
  BOOST_REQUIRE(done.has_value());
  BOOST_REQUIRE(done->has_value());
  BOOST_TEST(((*done)->status == cano::RunStatus::completed));
  BOOST_TEST(((*done)->created_at == at_ms(1000)));
  BOOST_TEST(((*done)->updated_at == at_ms(3000)));
}

BOOST_AUTO_TEST_CASE(a_locked_database_fails_every_write_of_a_batch_as_unavailable) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  Store::Options opts;
  opts.busy_timeout = 100ms;
  auto store = open_store(path, opts);
  raw_db other(path);
  other.first_row("BEGIN IMMEDIATE"); // another process holds the write lock
  std::vector<cano::CheckpointWrite> writes{row_write("l", cano::CheckpointRow(0, "Start", "T")),
                                            header_write(header("l", cano::RunStatus::running, 1, 1))};
  auto out = store->append_batch(writes);
  BOOST_REQUIRE(out.size() == 2u);
  for (const auto& o : out) {
    BOOST_REQUIRE(!o.has_value());
    BOOST_TEST(o.error().category() == std::string("checkpoint_store"));
    BOOST_TEST(o.error().is_store_unavailable());
    BOOST_TEST(o.error().message() == "sqlite: begin append_batch (" + path + "): database is locked");
  }
  auto single = store->append("l", cano::CheckpointRow(0, "Start", "T"));
  BOOST_REQUIRE(!single.has_value());
  BOOST_TEST(single.error().is_store_unavailable());
  BOOST_TEST(single.error().message() == "sqlite: append (" + path + "): database is locked");
  other.first_row("ROLLBACK");
  out = store->append_batch(writes); // the store is back: the same writes go through
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].has_value());
  BOOST_TEST(out[1].has_value());
  BOOST_TEST(sequences(load(*store, "l")) == (std::vector<std::uint64_t>{0}), boost::test_tools::per_element());
}

// --- run headers --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_run_header_round_trips_and_keeps_its_first_created_at) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto store = open_store(path);
  auto none = store->run_header("order-1");
  BOOST_REQUIRE(none.has_value());
  BOOST_TEST(!none->has_value());
  BOOST_REQUIRE(
    store->put_run_header(header("order-1", cano::RunStatus::running, 1700000000123, 1700000000123)).has_value());
  auto got = store->run_header("order-1");
  BOOST_REQUIRE(got.has_value());
  BOOST_REQUIRE(got->has_value());
  const auto& h = **got;
  BOOST_TEST(h.workflow_id == "order-1");
  BOOST_TEST(h.definition == "orders");
  BOOST_TEST(h.workflow_version == 3u);
  BOOST_TEST(h.input == (nlohmann::json{{"sku", "KB-42"}, {"qty", 2}}));
  BOOST_TEST((h.status == cano::RunStatus::running));
  BOOST_TEST((h.created_at == at_ms(1700000000123)));
  BOOST_TEST((h.updated_at == at_ms(1700000000123)));

  auto update = header("order-1", cano::RunStatus::failed, 1800000000000, 1700000009999);
  update.definition = "orders-v2";
  update.workflow_version = 4;
  update.input = nullptr;
  BOOST_REQUIRE(store->put_run_header(update).has_value());
  {
    auto reopened = open_store(path); // what another process reads
    auto again = reopened->run_header("order-1");
    BOOST_REQUIRE(again.has_value());
    BOOST_REQUIRE(again->has_value());
    const auto& u = **again;
    BOOST_TEST(u.definition == "orders-v2");
    BOOST_TEST(u.workflow_version == 4u);
    BOOST_TEST(u.input.is_null());
    BOOST_TEST((u.status == cano::RunStatus::failed));
    BOOST_TEST((u.created_at == at_ms(1700000000123))); // the first created_at stays
    BOOST_TEST((u.updated_at == at_ms(1700000009999)));
  }
  raw_db db(path);
  BOOST_TEST(db.value("SELECT status FROM cano_runs WHERE workflow_id = 'order-1'") == "failed");
  BOOST_TEST(db.value("SELECT input FROM cano_runs WHERE workflow_id = 'order-1'") == "null");
}

BOOST_AUTO_TEST_CASE(unfinished_runs_lists_only_running_and_interrupted_runs) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  BOOST_REQUIRE(store->put_run_header(header("e-completed", cano::RunStatus::completed, 1, 1)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("d-running", cano::RunStatus::running, 1, 1)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("c-failed", cano::RunStatus::failed, 1, 1)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("b-interrupted", cano::RunStatus::interrupted, 1, 1)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("a-rolled-back", cano::RunStatus::rolled_back, 1, 1)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("f-done-later", cano::RunStatus::running, 1, 1)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("f-done-later", cano::RunStatus::completed, 1, 2)).has_value());
  auto runs = store->unfinished_runs();
  BOOST_REQUIRE(runs.has_value());
  std::vector<std::string> ids;
  for (const auto& h : *runs) {
    ids.push_back(h.workflow_id + ":" + cano::to_string(h.status));
  }
  BOOST_TEST(ids == (std::vector<std::string>{"b-interrupted:interrupted", "d-running:running"}),
             boost::test_tools::per_element());
}

// --- opening
// --------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(eight_openers_of_one_new_file_migrate_it_exactly_once) {
  temp_dir dir;
  constexpr std::size_t openers = 8;
  for (int round = 0; round < 10; ++round) { // several rounds: each a new file and a new race
    auto path = dir.file("race-" + std::to_string(round) + ".db");
    test::barrier together(openers);
    std::vector<std::optional<cano::expected<std::shared_ptr<Store>>>> opened(openers);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < openers; ++i) {
      threads.emplace_back([&, i] {
        together.arrive_and_wait();
        opened[i] = Store::open(path);
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    for (std::size_t i = 0; i < openers; ++i) {
      BOOST_REQUIRE(opened[i].has_value());
      BOOST_REQUIRE_MESSAGE(opened[i]->has_value(),
                            "round " << round << " opener " << i << ": " << outcome(*opened[i]));
      // every connection works: each writes its own row
      BOOST_TEST((**opened[i])->append("shared", cano::CheckpointRow(i, "S", "T")).has_value());
    }
    raw_db db(path);
    BOOST_TEST(db.value("PRAGMA user_version") == std::to_string(Store::schema_version));
    BOOST_TEST(db.value("PRAGMA journal_mode") == "wal");
    BOOST_TEST(db.value("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'cano_checkpoints'") ==
               "1");
    BOOST_TEST(db.value("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'cano_runs'") == "1");
    BOOST_TEST(db.value("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = "
                        "'cano_checkpoint_history'") == "1");
    BOOST_TEST(db.value("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'") == "3");
    BOOST_TEST(db.value("SELECT COUNT(*) FROM cano_checkpoints WHERE workflow_id = 'shared'") == "8");
  }
}

BOOST_AUTO_TEST_CASE(a_path_in_a_missing_directory_is_an_error_naming_the_path) {
  temp_dir dir;
  auto path = dir.file("no-such-dir/ckpt.db");
  auto store = Store::open(path);
  BOOST_REQUIRE(!store.has_value());
  BOOST_TEST(store.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(store.error().message() == "sqlite: open (" + path + "): unable to open database file");
  BOOST_TEST(!std::filesystem::exists(dir.file("no-such-dir")));
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_an_error_not_a_crash) {
  temp_dir dir;
  auto path = dir.file("garbage.db");
  {
    std::ofstream f(path, std::ios::binary);
    f << std::string(4096, 'x');
  }
  auto store = Store::open(path);
  BOOST_REQUIRE(!store.has_value());
  BOOST_TEST(store.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(store.error().message() == "sqlite: set journal_mode=WAL (" + path + "): file is not a database");
}

BOOST_AUTO_TEST_CASE(synchronous_off_is_refused_and_the_safe_settings_are_taken) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  Store::Options off;
  off.synchronous = "OFF";
  auto refused = Store::open(path, off);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(refused.error().message() == "sqlite: open (" + path +
                                            "): synchronous=OFF is not allowed (use NORMAL, "
                                            "FULL or EXTRA; a checkpoint store never turns "
                                            "fsync off)");
  BOOST_TEST(!std::filesystem::exists(path)); // refused before the file was touched
  for (const char* setting : {"NORMAL", "full", "EXTRA"}) {
    Store::Options opts;
    opts.synchronous = setting;
    auto store = Store::open(path, opts);
    BOOST_TEST(store.has_value(), setting);
  }
}

BOOST_AUTO_TEST_CASE(a_newer_schema_version_is_refused) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  open_store(path);
  const auto newer = std::to_string(Store::schema_version + 1);
  raw_db(path).first_row("PRAGMA user_version = " + newer);
  auto store = Store::open(path);
  BOOST_REQUIRE(!store.has_value());
  BOOST_TEST(store.error().message() == "sqlite: open (" + path + "): schema version " + newer +
                                          " is not one this build knows (it knows 0 to " +
                                          std::to_string(Store::schema_version) + ")");
}

// --- engine scenarios on a SQLite file
// ------------------------------------------------------------

// §5.14 #202
BOOST_AUTO_TEST_CASE(twelve_concurrent_runs_on_one_file_all_complete_and_clear_their_logs) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  auto effects = std::make_shared<side_effects>();
  auto wf = start_work_done(store, effects);
  test::test_system ts;
  caf::scoped_actor self{*ts.sys};
  constexpr int runs = 12;
  for (int i = 0; i < runs; ++i) {
    ts.rt->start(wf, Step::Start, {"run-" + std::to_string(i), nullptr}, caf::actor_cast<caf::actor>(self));
  }
  auto results = test::receive_results(self, runs);
  BOOST_REQUIRE(results.size() == static_cast<std::size_t>(runs));
  for (const auto& r : results) {
    auto final_state = r.get<Step>();
    BOOST_REQUIRE_MESSAGE(final_state.has_value(), r.workflow_id << ": " << outcome(final_state));
    BOOST_TEST((*final_state == Step::Done));
  }
  for (int i = 0; i < runs; ++i) {
    auto id = "run-" + std::to_string(i);
    BOOST_TEST(load(*store, id).empty(), id);
    BOOST_TEST(effects->of(id) == (std::vector<std::string>{"Start", "Work"}), boost::test_tools::per_element());
    auto h = store->run_header(id);
    BOOST_REQUIRE(h.has_value());
    BOOST_REQUIRE(h->has_value());
    BOOST_TEST(((*h)->status == cano::RunStatus::completed));
  }
}

// §5.14 #203
BOOST_AUTO_TEST_CASE(two_racing_runs_of_one_id_never_corrupt_and_at_least_one_completes) {
  temp_dir dir;
  auto store = open_store(dir.file("ckpt.db"));
  auto effects = std::make_shared<side_effects>();
  auto wf = start_work_done(store, effects);
  test::test_system ts;
  caf::scoped_actor self{*ts.sys};
  ts.rt->start(wf, Step::Start, {"dup", nullptr}, caf::actor_cast<caf::actor>(self));
  ts.rt->start(wf, Step::Start, {"dup", nullptr}, caf::actor_cast<caf::actor>(self));
  auto results = test::receive_results(self, 2);
  BOOST_REQUIRE(results.size() == 2u);
  int done = 0;
  for (const auto& r : results) {
    auto final_state = r.get<Step>();
    if (final_state.has_value()) {
      BOOST_TEST((*final_state == Step::Done));
      ++done;
    } else {
      BOOST_TEST(final_state.error().category() == std::string("checkpoint_store"), outcome(final_state));
    }
  }
  BOOST_TEST(done >= 1);
}

// §5.14 #204
BOOST_AUTO_TEST_CASE(a_run_whose_store_failed_resumes_from_the_same_file) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto effects = std::make_shared<side_effects>();
  const std::string id = "e2e-run";
  {
    // Generation 1: the Done entry row (the 3rd row) fails.
    auto failing = std::make_shared<failing_after_store>(open_store(path), 2);
    test::test_system ts;
    auto r = ts.rt->run(start_work_done(failing, effects), Step::Start, {id, {{"order", 42}}});
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().category() == std::string("checkpoint_store"));
    BOOST_TEST(r.error().message() == "append checkpoint: Checkpoint store error: injected failure");
    BOOST_TEST(effects->of(id) == (std::vector<std::string>{"Start", "Work"}), boost::test_tools::per_element());
  }
  // Generation 2: a new store and runtime over the same file, like a new process.
  auto store = open_store(path);
  BOOST_TEST(sequences(load(*store, id)) == (std::vector<std::uint64_t>{0, 1}), boost::test_tools::per_element());
  test::test_system ts;
  auto r = ts.rt->resume(start_work_done(store, effects), id);
  BOOST_REQUIRE_MESSAGE(r.has_value(), outcome(r));
  BOOST_TEST((*r == Step::Done));
  BOOST_TEST(effects->of(id) == (std::vector<std::string>{"Start", "Work", "Work"}), boost::test_tools::per_element());
  BOOST_TEST(load(*store, id).empty());
  auto h = store->run_header(id);
  BOOST_REQUIRE(h.has_value());
  BOOST_REQUIRE(h->has_value());
  BOOST_TEST(((*h)->status == cano::RunStatus::completed));
  BOOST_TEST((*h)->input == (nlohmann::json{{"order", 42}}));
}

// D6: a store that stays locked past busy_timeout interrupts the run (no compensation, log kept),
// and the run resumes once the lock is gone.
BOOST_AUTO_TEST_CASE(a_locked_file_interrupts_the_run_and_it_resumes_when_the_lock_is_gone) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  Store::Options opts;
  opts.busy_timeout = 100ms;
  auto store = open_store(path, opts);
  auto other = std::make_shared<raw_db>(path); // another process
  auto first = std::make_shared<std::atomic<bool>>(true);
  auto effects = std::make_shared<side_effects>();
  auto wf = cano::Workflow<Step>{}
              .with_name("locked")
              .register_task(
                Step::Start, "Start",
                [effects, other, first](cano::task_context& ctx) {
                  effects->add(ctx.workflow_id(), "Start");
                  if (first->exchange(false)) {
                    other->first_row("BEGIN IMMEDIATE"); // it takes the write lock and keeps it
                  }
                  return Step::Work;
                },
                cano::TaskConfig::minimal())
              .register_task(
                Step::Work, "Work",
                [effects](cano::task_context& ctx) {
                  effects->add(ctx.workflow_id(), "Work");
                  return Step::Done;
                },
                cano::TaskConfig::minimal())
              .add_exit_state(Step::Done)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  test::test_system ts;
  auto r = ts.rt->run(wf, Step::Start, {"locked-run", nullptr});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().category() == std::string("checkpoint_store"));
  BOOST_TEST(r.error().is_store_unavailable());
  BOOST_TEST(r.error().message() == "append checkpoint: Checkpoint store error: sqlite: begin append_batch (" + path +
                                      "): database is locked");
  other->first_row("ROLLBACK"); // the store is back
  BOOST_TEST((load(*store, "locked-run") == Rows{cano::CheckpointRow(0, "Start", "Start")}));
  auto unfinished = store->unfinished_runs();
  BOOST_REQUIRE(unfinished.has_value());
  BOOST_REQUIRE(unfinished->size() == 1u); // running, or interrupted if that write got through
  BOOST_TEST((*unfinished)[0].workflow_id == "locked-run");
  auto resumed = ts.rt->resume(wf, "locked-run");
  BOOST_REQUIRE_MESSAGE(resumed.has_value(), outcome(resumed));
  BOOST_TEST((*resumed == Step::Done));
  BOOST_TEST(effects->of("locked-run") == (std::vector<std::string>{"Start", "Start", "Work"}),
             boost::test_tools::per_element());
  BOOST_TEST(load(*store, "locked-run").empty());
}

// §5.8 #135 (redb there, SQLite here)
BOOST_AUTO_TEST_CASE(a_saga_resumed_from_a_sqlite_file_rolls_back_and_clears) {
  using test::State;
  temp_dir dir;
  auto path = dir.file("g.db");
  {
    auto seeder = open_store(path);
    seed(*seeder, "g", cano::CheckpointRow(0, "Start", "A"));
    seed(*seeder, "g", cano::CheckpointRow(1, "Start", "A").with_output(json_blob(1)));
    seed(*seeder, "g", cano::CheckpointRow(2, "Process", "B"));
    seed(*seeder, "g", cano::CheckpointRow(3, "Process", "B").with_output(json_blob(2)));
  }
  auto store = open_store(path);
  auto log = std::make_shared<comp_log>();
  auto wf = cano::Workflow<State>::bare()
              .register_with_compensation(State::Start, std::make_shared<comp_step>("A", 1, State::Process, log))
              .register_with_compensation(State::Process, std::make_shared<comp_step>("B", 2, State::Split, log))
              .register_task(
                State::Split, "C", []() -> cano::expected<State> { return cano::error::task_execution("C failed"); },
                cano::TaskConfig::minimal())
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store)
              .with_timeout(bound);
  test::test_system ts;
  auto r = ts.rt->resume(wf, "g");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message() == "C failed");
  BOOST_TEST(log->str() == "(B,2) (A,1)");
  auto rows = store->load_run("g");
  BOOST_REQUIRE(rows.has_value());
  BOOST_TEST(rows->empty());
}

BOOST_AUTO_TEST_CASE(list_runs_reports_an_unreadable_header_by_id_in_its_place) {
  temp_dir dir;
  auto path = dir.file("ckpt.db");
  auto store = open_store(path);
  BOOST_REQUIRE(store->put_run_header(header("a", cano::RunStatus::completed, 1000, 1500)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("b", cano::RunStatus::failed, 2000, 2500)).has_value());
  BOOST_REQUIRE(store->put_run_header(header("c", cano::RunStatus::running, 3000, 3000)).has_value());
  raw_db(path).first_row("UPDATE cano_runs SET status = 'sideways' WHERE workflow_id = 'b'");
  cano::RunQuery q;
  q.limit = 2;
  auto first = store->list_runs(q);
  BOOST_REQUIRE(first.has_value());
  BOOST_REQUIRE(first->runs.size() == 1u);
  BOOST_TEST(first->runs[0].workflow_id == "c");
  BOOST_REQUIRE(first->unreadable.size() == 1u);
  BOOST_TEST(first->unreadable[0].workflow_id == "b");
  BOOST_TEST(first->unreadable[0].reason.find("unknown status \"sideways\"") != std::string::npos);
  q.cursor = first->next_cursor;
  auto second = store->list_runs(q);
  BOOST_REQUIRE(second.has_value());
  BOOST_REQUIRE(second->runs.size() == 1u);
  BOOST_TEST(second->runs[0].workflow_id == "a");
  BOOST_TEST(second->next_cursor.empty());
  // The header is left as it was.
  BOOST_TEST(raw_db(path).value("SELECT status FROM cano_runs WHERE workflow_id = 'b'") == "sideways");
}

BOOST_AUTO_TEST_CASE(a_file_of_schema_version_2_is_migrated_and_its_runs_listed) {
  temp_dir dir;
  auto path = dir.file("old.db");
  open_store(path);
  {
    // What version 2 left: no history table, no last_state, no listing index (nor the cancel
    // requests of version 4).
    raw_db db(path);
    db.first_row("DROP TABLE cano_checkpoint_history");
    db.first_row("DROP INDEX cano_runs_by_created");
    db.first_row("ALTER TABLE cano_runs DROP COLUMN last_state");
    db.first_row("DROP INDEX cano_runs_cancel_requested");
    db.first_row("ALTER TABLE cano_runs DROP COLUMN cancel_requested_at");
    db.first_row("INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, "
                 "created_at, "
                 "updated_at, final_state, attempts) VALUES ('old-run', 'orders', 3, '{}', "
                 "'completed', 5, 6, 'Done', 1)");
    db.first_row("PRAGMA user_version = 2");
  }
  auto store = open_store(path);
  BOOST_TEST(raw_db(path).value("PRAGMA user_version") == std::to_string(Store::schema_version));
  auto page = store->list_runs({});
  BOOST_REQUIRE(page.has_value());
  BOOST_REQUIRE(page->runs.size() == 1u);
  BOOST_TEST(page->runs[0].workflow_id == "old-run");
  BOOST_TEST(page->runs[0].last_state == "Done");
  BOOST_TEST(page->runs[0].attempts == 1u);
}

BOOST_AUTO_TEST_CASE(opening_without_create_refuses_a_missing_file_and_creates_nothing) {
  temp_dir dir;
  auto path = dir.file("typo.db");
  Store::Options opts;
  opts.create = false;
  auto store = Store::open(path, opts);
  BOOST_REQUIRE(!store.has_value());
  BOOST_TEST(store.error().message().find("no such store") != std::string::npos);
  BOOST_TEST(store.error().message().find(path) != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(path));
  open_store(path);
  BOOST_TEST(Store::open(path, opts).has_value()); // an existing file opens
}

BOOST_AUTO_TEST_SUITE_END()
