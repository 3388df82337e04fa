// The log sink of runtime_config: one structured line per run lifecycle event (workflow id,
// definition, state, attempt, node, duration), the level that filters them, the engine's
// diagnostics through the same sink, and what a line never carries (passwords, outputs, long
// texts).
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "cano/memory_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/workflow.hpp"
#include "support/recording_log_sink.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

/// A runtime whose log lines (at `level`) go to a recording sink.
struct logged {
  std::shared_ptr<recording_log_sink> sink = std::make_shared<recording_log_sink>();
  std::unique_ptr<test_system> ts;
  explicit logged(cano::log_level level = cano::log_level::info) {
    cano::runtime_config cfg;
    cfg.log = sink;
    cfg.log_level = level;
    cfg.node = "node-7";
    ts = std::make_unique<test_system>(cfg);
  }
  cano::runtime& rt() { return *ts->rt; }
};

/// A saga step whose output is a text that must never be logged.
class Reserve : public cano::CompensatableTask<State, std::string> {
public:
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  std::string name() const override { return "Reserve"; }
  cano::expected<std::pair<cano::TaskResult<State>, std::string>> run(cano::task_context&) override {
    return std::make_pair(cano::TaskResult<State>(State::Process), std::string("OUTPUT-BLOB-4711"));
  }
  cano::expected<void> compensate(cano::task_context&, std::string) override { return {}; }
};

std::shared_ptr<cano::Task<State>> failing(std::string message) {
  return cano::make_task<State>(
    "Charge", [message]() -> cano::expected<State> { return cano::error::task_execution(message); },
    cano::TaskConfig::minimal());
}

} // namespace

BOOST_AUTO_TEST_SUITE(log_sink_test)

BOOST_AUTO_TEST_CASE(a_completed_run_writes_a_started_and_a_completed_line_with_its_fields) {
  logged l;
  auto wf = cano::Workflow<State>{}
              .with_name("orders")
              .with_checkpoint_store(std::make_shared<cano::MemoryCheckpointStore>())
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Done))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(l.rt().run(wf, State::Start, {"order-1", {{"sku", "A1"}}}).has_value());
  auto started = l.sink->of("run_started");
  auto completed = l.sink->of("run_completed");
  BOOST_REQUIRE(started.size() == 1u);
  BOOST_REQUIRE(completed.size() == 1u);
  for (const auto& r : {started[0], completed[0]}) {
    BOOST_TEST(r.level == cano::log_level::info);
    BOOST_TEST(recording_log_sink::field(r, "workflow_id") == "order-1");
    BOOST_TEST(recording_log_sink::field(r, "definition") == "orders");
    BOOST_TEST(recording_log_sink::field(r, "attempt") == "1");
    BOOST_TEST(recording_log_sink::field(r, "node") == "node-7");
    BOOST_TEST(recording_log_sink::field(r, "run_id") == recording_log_sink::field(started[0], "run_id"));
  }
  BOOST_TEST(recording_log_sink::field(started[0], "state") == "Start");
  BOOST_TEST(recording_log_sink::field(completed[0], "state") == "Done");
  BOOST_TEST(recording_log_sink::field(completed[0], "status") == "completed");
  auto ms = recording_log_sink::field(completed[0], "duration_ms");
  BOOST_TEST(std::strtod(ms.c_str(), nullptr) >= 0.0);
  BOOST_TEST(ms.find('.') != std::string::npos);
  // One line each, logfmt: the message then the fields.
  auto line = cano::logfmt(completed[0]);
  BOOST_TEST(line.rfind("run completed event=run_completed workflow_id=order-1 ", 0) == 0, line);
  BOOST_TEST(line.find('\n') == std::string::npos);
  BOOST_TEST(!l.sink->mentions("A1")); // the run's input is never logged
}

BOOST_AUTO_TEST_CASE(a_rolled_back_run_logs_its_rollback_and_error_but_never_its_outputs) {
  logged l;
  auto wf = cano::Workflow<State>{}
              .with_name("orders")
              .register_with_compensation(State::Start, std::make_shared<Reserve>())
              .register_task(State::Process, failing("card declined"))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(!l.rt().run(wf, State::Start, {"order-2", nullptr}).has_value());
  auto compensating = l.sink->of("run_compensating");
  auto rolled_back = l.sink->of("run_rolled_back");
  BOOST_REQUIRE(compensating.size() == 1u);
  BOOST_REQUIRE(rolled_back.size() == 1u);
  BOOST_TEST(recording_log_sink::field(compensating[0], "state") == "Process");
  BOOST_TEST(recording_log_sink::field(compensating[0], "steps") == "1");
  BOOST_TEST(recording_log_sink::field(compensating[0], "error") ==
             "task_execution: Task execution error: card declined");
  BOOST_TEST(recording_log_sink::field(rolled_back[0], "status") == "rolled_back");
  BOOST_TEST(recording_log_sink::field(rolled_back[0], "error") ==
             "task_execution: Task execution error: card declined");
  BOOST_TEST(!l.sink->mentions("OUTPUT-BLOB-4711"));
}

BOOST_AUTO_TEST_CASE(a_resumed_run_logs_its_new_attempt) {
  logged l;
  auto store = std::make_shared<cano::MemoryCheckpointStore>();
  auto fail_first = make_calls();
  auto wf = cano::Workflow<State>{}
              .with_name("orders")
              .with_checkpoint_store(store)
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, flaky_task(fail_first, 1, State::Done, cano::TaskConfig::minimal()))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(!l.rt().run(wf, State::Start, {"order-3", nullptr}).has_value()); // failed, log kept
  BOOST_TEST(recording_log_sink::field(l.sink->of("run_failed").at(0), "state") == "Process");
  BOOST_REQUIRE(l.rt().resume(wf, "order-3").has_value());
  auto resumed = l.sink->of("run_resumed");
  BOOST_REQUIRE(resumed.size() == 1u);
  BOOST_TEST(recording_log_sink::field(resumed[0], "state") == "Process");
  BOOST_TEST(recording_log_sink::field(resumed[0], "attempt") == "2");
  BOOST_TEST(recording_log_sink::field(l.sink->of("run_completed").at(0), "attempt") == "2");
}

BOOST_AUTO_TEST_CASE(the_default_level_writes_no_lifecycle_lines_and_debug_adds_state_entries) {
  {
    logged quiet(cano::runtime_config{}.log_level);
    BOOST_TEST((cano::runtime_config{}.log_level == cano::log_level::warn));
    auto wf = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Done)).add_exit_state(State::Done);
    BOOST_REQUIRE(quiet.rt().run(wf, State::Start).has_value());
    BOOST_TEST(quiet.sink->records().empty());
  }
  logged chatty(cano::log_level::debug);
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Mid))
              .register_task(State::Mid, goto_task(State::Done))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(chatty.rt().run(wf, State::Start).has_value());
  auto entered = chatty.sink->of("state_entered");
  BOOST_REQUIRE(entered.size() == 3u);
  BOOST_TEST(recording_log_sink::field(entered[0], "state") == "Start");
  BOOST_TEST(recording_log_sink::field(entered[2], "state") == "Done");
  BOOST_TEST((entered[0].level == cano::log_level::debug));
  logged off(cano::log_level::off);
  BOOST_REQUIRE(off.rt().run(wf, State::Start).has_value());
  BOOST_TEST(off.sink->records().empty());
}

BOOST_AUTO_TEST_CASE(passwords_in_error_texts_are_masked_and_long_errors_cut) {
  logged l;
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, failing("cannot reach postgresql://app:hunter2-pw@db.internal/orders "
                                                   "(host=db port=5432 password=hunter2-pw sslmode=require)"))
              .add_exit_state(State::Done);
  BOOST_REQUIRE(!l.rt().run(wf, State::Start).has_value());
  BOOST_TEST(!l.sink->mentions("hunter2-pw"));
  auto err = recording_log_sink::field(l.sink->of("run_failed").at(0), "error");
  BOOST_TEST(err.find("postgresql://app:***@db.internal/orders") != std::string::npos, err);
  BOOST_TEST(err.find("password=***") != std::string::npos, err);

  logged big;
  auto huge =
    cano::Workflow<State>{}.register_task(State::Start, failing(std::string(100000, 'x'))).add_exit_state(State::Done);
  BOOST_REQUIRE(!big.rt().run(huge, State::Start).has_value());
  auto cut = recording_log_sink::field(big.sink->of("run_failed").at(0), "error");
  BOOST_TEST(cut.size() <= 512u + 3u); // 512 bytes and "…"
  BOOST_TEST(cut.substr(cut.size() - 3) == "…");
}

BOOST_AUTO_TEST_CASE(an_observer_that_throws_is_reported_through_the_runtimes_sink) {
  struct throwing : cano::WorkflowObserver {
    void on_state_enter(const std::string&) override { throw std::runtime_error("observer bug"); }
  };
  logged l(cano::log_level::warn);
  auto wf = cano::Workflow<State>{}
              .register_task(State::Start, goto_task(State::Done))
              .add_exit_state(State::Done)
              .with_observer(std::make_shared<throwing>());
  BOOST_REQUIRE(l.rt().run(wf, State::Start).has_value());
  auto records = l.sink->records();
  BOOST_REQUIRE(records.size() == 2u); // Start and Done
  BOOST_TEST((records[0].level == cano::log_level::error));
  BOOST_TEST(records[0].message == "observer hook threw (ignored): observer bug");
  BOOST_TEST(records[0].event.empty());
}

BOOST_AUTO_TEST_CASE(a_sink_that_throws_never_breaks_a_run) {
  struct throwing_sink : cano::log_sink {
    void write(const cano::log_record&) override { throw std::runtime_error("sink bug"); }
  };
  cano::runtime_config cfg;
  cfg.log = std::make_shared<throwing_sink>();
  cfg.log_level = cano::log_level::trace;
  test_system ts(cfg);
  auto wf = cano::Workflow<State>{}.register_task(State::Start, goto_task(State::Done)).add_exit_state(State::Done);
  auto r = ts.rt->run(wf, State::Start);
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(*r == State::Done);
}

BOOST_AUTO_TEST_CASE(runtime_log_writes_through_the_sink_with_secrets_masked) {
  logged l;
  cano::log_record r;
  r.level = cano::log_level::warn;
  r.event = "node_event";
  r.message = "joined with dsn host=db password=topsecret";
  r.fields.push_back({"dsn", "postgres://u:topsecret@h/db"});
  l.rt().log(r);
  r.level = cano::log_level::debug; // below the runtime's level: dropped
  l.rt().log(r);
  BOOST_REQUIRE(l.sink->records().size() == 1u);
  BOOST_TEST(!l.sink->mentions("topsecret"));
  BOOST_TEST(l.sink->records()[0].message == "joined with dsn host=db password=***");
}

BOOST_AUTO_TEST_CASE(logfmt_quotes_what_needs_quotes_and_keeps_a_record_on_one_line) {
  cano::log_record r;
  r.message = "run\nfailed";
  r.fields = {{"workflow_id", "a b"}, {"state", "Done"}, {"empty", ""}, {"n", "3", false}, {"q", "say \"hi\""}};
  BOOST_TEST(cano::logfmt(r) == R"(run\nfailed workflow_id="a b" state=Done empty="" n=3 q="say \"hi\"")");
}

BOOST_AUTO_TEST_CASE(mask_secrets_masks_conninfo_and_uri_passwords_only) {
  BOOST_TEST(cano::mask_secrets("host=h password=abc user=u") == "host=h password=*** user=u");
  BOOST_TEST(cano::mask_secrets("password='a b c' x=1") == "password=*** x=1");
  BOOST_TEST(cano::mask_secrets("sslpassword=k") == "sslpassword=***");
  BOOST_TEST(cano::mask_secrets("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x");
  BOOST_TEST(cano::mask_secrets("see https://example.org/a@b") == "see https://example.org/a@b");
  BOOST_TEST(cano::mask_secrets("postgresql://app@db/x") == "postgresql://app@db/x");
  BOOST_TEST(cano::mask_secrets("nopassword=here") == "nopassword=here");
  BOOST_TEST(cano::mask_secrets("plain text") == "plain text");
}

BOOST_AUTO_TEST_SUITE_END()
