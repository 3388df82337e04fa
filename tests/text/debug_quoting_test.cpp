// Ids and labels in messages and logs are quoted like Rust's `{:?}` (ARCHITECTURE D3), escapes
// included (issue 10, item 6): a workflow id holding ESC, BEL or NUL never reaches a message or
// a log line raw, and a NUL never cuts a log line short.
#include <stdio.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// boost::function (behind Boost.Test preconditions) trips a false -Wuninitialized in GCC 12.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/test/unit_test.hpp>

#include "cano/checkpoint.hpp"
#include "cano/memory_checkpoint_store.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/postgres.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::string_literals;

namespace {

const std::string tail = " already has a row at sequence 0; resume the existing run or clear it first";

std::string conflict(const std::string& id) {
  auto r = cano::checkpoint_conflict_message(id, 0);
  auto head = std::string("checkpoint conflict: workflow ");
  BOOST_REQUIRE(r.size() >= head.size() + tail.size());
  return r.substr(head.size(), r.size() - head.size() - tail.size()); // the quoted id alone
}

/// A hostile id: a terminal escape, a bell, a NUL, then more text.
const std::string hostile_id = "run\x1b[2J\x07\0tail"s;
const std::string hostile_quoted = R"("run\u{1b}[2J\u{7}\0tail")";
/// The same without the NUL, for PostgreSQL (text columns cannot hold one).
const std::string hostile_id_pg = "run\x1b[2J\x07-tail";
const std::string hostile_quoted_pg = R"("run\u{1b}[2J\u{7}-tail")";

/// Appends row 0 twice and returns the second append's error text.
std::string duplicate_append(cano::CheckpointStore& store, const std::string& id) {
  auto first = store.append(id, cano::CheckpointRow(0, "Start", "t"));
  BOOST_REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().to_string()));
  auto second = store.append(id, cano::CheckpointRow(0, "Start", "t"));
  BOOST_REQUIRE(!second.has_value());
  return second.error().message();
}

/// A fresh SQLite file in its own directory, removed at the end.
struct sqlite_file {
  sqlite_file() {
    char tmpl[] = "/tmp/cano-quoting-XXXXXX";
    BOOST_REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
  }
  ~sqlite_file() { (void)std::system(("rm -rf '" + dir + "'").c_str()); }
  std::string path() const { return dir + "/runs.db"; }
  std::string dir;
};

/// A memory store whose final header writes fail with a message full of control characters
/// (its writes go through CheckpointStore's own append_batch, so every header meets this check).
class FailingFinalHeaders : public cano::CheckpointStore {
public:
  bool is_blocking() const override { return false; }
  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& row) override {
    return inner_.append(id, row);
  }
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string& id) override {
    return inner_.load_run(id);
  }
  cano::expected<void> clear(const std::string& id) override { return inner_.clear(id); }
  cano::expected<void> put_run_header(const cano::RunHeader& h) override {
    if (h.status == cano::RunStatus::running) {
      return inner_.put_run_header(h);
    }
    return cano::error::checkpoint_store("disk\0full\x1b[0m\nnext"s);
  }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& id) override {
    return inner_.run_header(id);
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override { return inner_.unfinished_runs(); }

private:
  cano::MemoryCheckpointStore inner_;
};

/// Everything written to stderr (fd 2) while `fn` runs.
template <class F>
std::string capture_stderr(F fn) {
  std::fflush(stderr);
  FILE* sink = std::tmpfile();
  BOOST_REQUIRE(sink != nullptr);
  int saved = dup(2);
  dup2(fileno(sink), 2);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string out;
  std::rewind(sink);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), sink)) > 0) {
    out.append(buf, n);
  }
  std::fclose(sink);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(debug_quoting_test)

BOOST_AUTO_TEST_CASE(quotes_and_backslashes_and_the_named_escapes_match_rust) {
  BOOST_TEST(conflict("a\"b\\c") == R"("a\"b\\c")");
  BOOST_TEST(conflict("\t\r\n") == R"("\t\r\n")");
  BOOST_TEST(conflict("x\0y"s) == R"("x\0y")");
  BOOST_TEST(conflict("it's") == R"("it's")"); // a single quote is not escaped in a str
}

BOOST_AUTO_TEST_CASE(other_control_characters_become_unicode_escapes_in_lowercase_hex) {
  BOOST_TEST(conflict("\x07") == R"("\u{7}")");
  BOOST_TEST(conflict("\x0c") == R"("\u{c}")");
  BOOST_TEST(conflict("\x1b[31m") == R"("\u{1b}[31m")");
  BOOST_TEST(conflict("\x7f") == R"("\u{7f}")");
  BOOST_TEST(conflict("\xc2\x85") == R"("\u{85}")"); // NEL, a C1 control
  BOOST_TEST(conflict("\xc2\x9f") == R"("\u{9f}")");
}

BOOST_AUTO_TEST_CASE(invisible_separators_and_format_characters_are_escaped) {
  BOOST_TEST(conflict("\xc2\xa0") == R"("\u{a0}")"); // no-break space
  BOOST_TEST(conflict("a\xe2\x80\x8b"
                      "b") == R"("a\u{200b}b")"); // zero-width space
  BOOST_TEST(conflict("\xe2\x80\xae"
                      "evil") == R"("\u{202e}evil")");     // right-to-left override
  BOOST_TEST(conflict("\xe2\x80\xa8") == R"("\u{2028}")"); // line separator
  BOOST_TEST(conflict("\xef\xbb\xbf"
                      "id") == R"("\u{feff}id")"); // byte order mark
}

BOOST_AUTO_TEST_CASE(printable_unicode_stays_as_it_is) {
  BOOST_TEST(conflict("h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xf0\x9f\x98\x80") ==
             "\"h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xf0\x9f\x98\x80\"");
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_become_hex_escapes) {
  BOOST_TEST(conflict("a\xff"
                      "b") == R"("a\xFFb")");
  BOOST_TEST(conflict("\xe2\x80") == R"("\xE2\x80")");                 // truncated sequence
  BOOST_TEST(conflict("\xc0\xaf") == R"("\xC0\xAF")");                 // overlong encoding
  BOOST_TEST(conflict("\xed\xa0\x80") == R"("\xED\xA0\x80")");         // a surrogate
  BOOST_TEST(conflict("\xf4\x90\x80\x80") == R"("\xF4\x90\x80\x80")"); // past U+10FFFF
}

BOOST_AUTO_TEST_CASE(the_memory_store_conflict_escapes_a_hostile_id) {
  cano::MemoryCheckpointStore store;
  BOOST_TEST(duplicate_append(store, hostile_id) == "checkpoint conflict: workflow " + hostile_quoted + tail);
}

BOOST_AUTO_TEST_CASE(the_sqlite_store_conflict_escapes_a_hostile_id) {
  sqlite_file f;
  auto store = cano::SqliteCheckpointStore::open(f.path());
  BOOST_REQUIRE(store.has_value());
  BOOST_TEST(duplicate_append(**store, hostile_id) == "checkpoint conflict: workflow " + hostile_quoted + tail);
}

BOOST_AUTO_TEST_CASE(the_postgres_store_conflict_escapes_a_hostile_id,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto store = cano::PostgresCheckpointStore::open();
  BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().to_string()));
  auto id = unique_id(hostile_id_pg);
  auto quoted = hostile_quoted_pg.substr(0, hostile_quoted_pg.size() - 1) + id.substr(hostile_id_pg.size()) + "\"";
  BOOST_TEST(duplicate_append(**store, id) == "checkpoint conflict: workflow " + quoted + tail);
  (void)(*store)->clear(id);
}

BOOST_AUTO_TEST_CASE(resuming_an_unknown_hostile_id_escapes_it_in_the_error) {
  auto expect = [](cano::expected<State> r, const std::string& quoted) {
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message() == "no checkpoint rows for workflow id " + quoted);
  };
  test_system ts;
  auto wf =
    cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Complete)).add_exit_state(State::Complete);
  expect(ts.rt->resume(wf.with_checkpoint_store(std::make_shared<cano::MemoryCheckpointStore>()), hostile_id),
         hostile_quoted);
  sqlite_file f;
  auto sqlite = cano::SqliteCheckpointStore::open(f.path());
  BOOST_REQUIRE(sqlite.has_value());
  expect(ts.rt->resume(wf.with_checkpoint_store(*sqlite), hostile_id), hostile_quoted);
}

BOOST_AUTO_TEST_CASE(resuming_an_unknown_hostile_id_on_postgres_escapes_it_in_the_error,
                     *boost::unit_test::precondition(postgres_configured())) {
  auto store = cano::PostgresCheckpointStore::open();
  BOOST_REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().to_string()));
  test_system ts;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Complete))
              .add_exit_state(State::Complete)
              .with_checkpoint_store(*store);
  auto r = ts.rt->resume(wf, hostile_id_pg);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message() == "no checkpoint rows for workflow id " + hostile_quoted_pg);
}

BOOST_AUTO_TEST_CASE(a_log_line_escapes_control_characters_and_is_never_cut_at_a_nul) {
  test_system ts;
  auto store = std::make_shared<FailingFinalHeaders>();
  auto fail = cano::make_task<State>(
    "Fail", []() -> cano::expected<State> { return cano::error::task_execution("no"); }, cano::TaskConfig::minimal());
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, fail)
              .add_exit_state(State::Complete)
              .with_checkpoint_store(store);
  std::string err = capture_stderr([&] {
    auto r = ts.rt->run(wf, State::Start, cano::run_options{hostile_id, nullptr});
    BOOST_TEST(!r.has_value()); // the task's own failure; the final header is only logged
  });
  auto line = "cano: writing the final run header of " + hostile_quoted +
              R"( failed: Checkpoint store error: disk\0full\u{1b}[0m\nnext)" + "\n";
  BOOST_TEST(err.find(line) != std::string::npos, err);
  BOOST_TEST(err.find('\0') == std::string::npos);
  BOOST_TEST(err.find('\x1b') == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
