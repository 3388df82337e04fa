// Our metrics of the actor runtime, scraped from the endpoint: runs in flight by definition, runs
// finished by status, blocking-pool threads (busy, idle, abandoned), checkpoint batches and
// group-commit latency (histograms), the checkpoint backlog and fenced writes.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cano/memory_checkpoint_store.hpp"
#include "cano/prometheus_metrics.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"
#include "support/http.hpp"
#include "support/states.hpp"
#include "support/tasks.hpp"
#include "support/temp_dir.hpp"
#include "support/test_system.hpp"

using namespace test;
using namespace std::chrono_literals;

namespace {

struct metered {
  std::shared_ptr<cano::prometheus_metrics> metrics;
  std::unique_ptr<test_system> ts;

  metered() {
    auto made = cano::prometheus_metrics::make({nullptr, true, "127.0.0.1", 0});
    BOOST_REQUIRE(made.has_value());
    metrics = *made;
    cano::runtime_config cfg;
    cfg.metrics = metrics;
    ts = std::make_unique<test_system>(cfg);
  }
  ~metered() { ts.reset(); }
  cano::runtime& rt() { return *ts->rt; }
  scrape now() const { return scrape_metrics(metrics->port()); }
  /// Scrapes until `ok(scrape)` holds (bounded); the last scrape.
  template <class Pred>
  scrape until(Pred ok, std::chrono::seconds bound = 30s) const {
    auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
      auto s = now();
      if (ok(s) || std::chrono::steady_clock::now() >= deadline) {
        return s;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
};

/// A gate a blocking body waits at until opened (bounded, so a failed test never hangs).
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};
  void wait() {
    ++waiting;
    std::unique_lock<std::mutex> lock(m);
    cv.wait_for(lock, 60s, [this] { return open; });
    --waiting;
  }
  void release() {
    {
      std::lock_guard<std::mutex> g(m);
      open = true;
    }
    cv.notify_all();
  }
};

/// A memory store whose appends after the first row are refused as fenced (another driver took
/// the run over, D8).
class fencing_store : public cano::CheckpointStore {
public:
  bool is_blocking() const override { return false; }
  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& row) override {
    if (row.sequence >= 1) {
      return cano::fenced_error(id, "owner changed");
    }
    return inner_.append(id, row);
  }
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string& id) override {
    return inner_.load_run(id);
  }
  cano::expected<void> clear(const std::string& id) override { return inner_.clear(id); }
  cano::expected<void> put_run_header(const cano::RunHeader& h) override { return inner_.put_run_header(h); }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& id) override {
    return inner_.run_header(id);
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override { return inner_.unfinished_runs(); }

private:
  cano::MemoryCheckpointStore inner_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(runtime_metrics_test)

BOOST_AUTO_TEST_CASE(runs_in_flight_are_counted_by_definition_while_they_run) {
  metered m;
  auto g = std::make_shared<gate>();
  auto wf = cano::Workflow<State>{}
              .with_name("held")
              .register_task(State::Start, "Hold",
                             [g]() -> cano::expected<State> {
                               g->wait();
                               return State::Done;
                             })
              .add_exit_state(State::Done);
  std::thread runner([&] { (void)m.rt().run(wf, State::Start); });
  // The body may start after a scrape was taken: wait for a scrape that saw its thread busy (it
  // stays busy until the gate opens).
  auto during = m.until([&](const scrape& s) {
    return g->waiting.load() == 1 && s.count("cano_runs_in_flight", {{"definition", "held"}}) == 1 &&
           s.count("cano_blocking_pool_threads", {{"state", "busy"}}) >= 1;
  });
  BOOST_TEST(during.count("cano_runs_in_flight", {{"definition", "held"}}) == 1);
  BOOST_TEST(during.count("cano_blocking_pool_threads", {{"state", "busy"}}) >= 1);
  BOOST_TEST(during.count("cano_blocking_pool_threads", {{"state", "abandoned"}}) == 0);
  g->release();
  runner.join();
  auto after = m.now();
  BOOST_TEST(after.count("cano_runs_in_flight", {{"definition", "held"}}) == 0);
  BOOST_TEST(after.count("cano_runs_finished_total", {{"status", "completed"}}) == 1);
}

// The engine keeps the entries of ended runs for later ones: a later run must be counted under
// its own definition, never under the one whose entry it took over.
BOOST_AUTO_TEST_CASE(a_run_after_another_is_counted_under_its_own_definition) {
  metered m;
  auto first = cano::Workflow<State>{}
                 .with_name("first")
                 .register_task(State::Start, goto_task(State::Done))
                 .add_exit_state(State::Done);
  BOOST_REQUIRE(m.rt().run(first, State::Start).has_value());
  auto g = std::make_shared<gate>();
  auto second = cano::Workflow<State>{}
                  .with_name("second")
                  .register_task(State::Start, "Hold",
                                 [g]() -> cano::expected<State> {
                                   g->wait();
                                   return State::Done;
                                 })
                  .add_exit_state(State::Done);
  std::thread runner([&] { (void)m.rt().run(second, State::Start); });
  auto during = m.until([&](const scrape& s) {
    return g->waiting.load() == 1 && s.count("cano_runs_in_flight", {{"definition", "second"}}) == 1;
  });
  BOOST_TEST(during.count("cano_runs_in_flight", {{"definition", "second"}}) == 1);
  BOOST_TEST(during.count("cano_runs_in_flight", {{"definition", "first"}}) == 0);
  g->release();
  runner.join();
  BOOST_TEST(m.now().count("cano_runs_in_flight", {{"definition", "second"}}) == 0);
}

BOOST_AUTO_TEST_CASE(a_thread_whose_attempt_timed_out_counts_as_abandoned_until_its_body_returns) {
  metered m;
  auto g = std::make_shared<gate>();
  auto wf = cano::Workflow<State>{}
              .register_task(
                State::Start, "Hung",
                [g]() -> cano::expected<State> {
                  g->wait();
                  return State::Done;
                },
                cano::TaskConfig::minimal().with_attempt_timeout(50ms))
              .add_exit_state(State::Done);
  auto r = m.rt().run(wf, State::Start);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == cano::errc::timeout);
  auto hung = m.now();
  BOOST_TEST(hung.count("cano_blocking_pool_threads", {{"state", "abandoned"}}) == 1);
  BOOST_TEST(hung.count("cano_blocking_pool_threads", {{"state", "busy"}}) >= 1);
  BOOST_TEST(hung.count("cano_task_attempts_total", {{"outcome", "failed"}}) == 1);
  g->release();
  auto freed = m.until([](const scrape& s) {
    return s.count("cano_blocking_pool_threads", {{"state", "abandoned"}}) == 0;
  });
  BOOST_TEST(freed.count("cano_blocking_pool_threads", {{"state", "abandoned"}}) == 0);
  BOOST_TEST(freed.count("cano_blocking_pool_threads", {{"state", "idle"}}) >= 1);
}

BOOST_AUTO_TEST_CASE(a_blocking_store_reports_batches_commit_times_and_write_latencies) {
  temp_dir dir;
  auto store = cano::SqliteCheckpointStore::open(dir.file("ck.db"));
  BOOST_REQUIRE(store.has_value());
  metered m;
  auto wf =
    cano::Workflow<State>{}
      .with_checkpoint_store(*store)
      .register_task(State::Start, goto_task(State::Process, cano::TaskConfig::minimal().with_blocking(false)))
      .register_task(State::Process, goto_task(State::Complete, cano::TaskConfig::minimal().with_blocking(false)))
      .add_exit_state(State::Complete);
  constexpr int runs = 5;
  for (int i = 0; i < runs; ++i) {
    BOOST_REQUIRE(m.rt().run(wf, State::Start, {"batched-" + std::to_string(i), nullptr}).has_value());
  }
  auto s = m.now();
  // Three writes a run (Start with its header, Process, Complete with the clear and final header).
  const double writes = 3 * runs;
  BOOST_TEST(s.count("cano_checkpoint_batch_writes_sum") == writes);
  BOOST_TEST(s.count("cano_checkpoint_batch_writes_count") >= 1);
  BOOST_TEST(s.count("cano_checkpoint_commit_seconds_count") == s.count("cano_checkpoint_batch_writes_count"));
  BOOST_TEST(s.count("cano_checkpoint_write_latency_seconds_count") == writes);
  BOOST_TEST(s.count("cano_checkpoint_write_latency_seconds_bucket", {{"le", "+Inf"}}) == writes);
  BOOST_TEST(s.count("cano_checkpoint_write_latency_seconds_sum") > 0);
  BOOST_TEST(s.value("cano_checkpoint_backlog") == 0);
  BOOST_TEST(s.count("cano_checkpoint_appends_total", {{"result", "ok"}}) == writes);
  BOOST_TEST(s.count("cano_checkpoint_clears_total", {{"result", "ok"}}) == runs);
  // The runtime's own figures come from the same histogram of latencies.
  auto stats = m.rt().checkpoint_statistics();
  BOOST_TEST(stats.writes == static_cast<std::uint64_t>(writes));
  BOOST_TEST(stats.p50_append_ms > 0);
  BOOST_TEST(stats.p99_append_ms >= stats.p50_append_ms);
  auto reset = m.rt().checkpoint_statistics(true);
  BOOST_TEST(reset.p50_append_ms == stats.p50_append_ms);
  BOOST_TEST(m.rt().checkpoint_statistics().p50_append_ms == 0); // a new, empty window
}

BOOST_AUTO_TEST_CASE(a_fenced_write_is_counted_and_the_run_ends_interrupted) {
  metered m;
  auto wf = cano::Workflow<State>{}
              .with_checkpoint_store(std::make_shared<fencing_store>())
              .register_task(State::Start, goto_task(State::Process))
              .register_task(State::Process, goto_task(State::Complete))
              .add_exit_state(State::Complete);
  auto r = m.rt().run(wf, State::Start, {"fenced-run", nullptr});
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == cano::errc::fenced);
  auto s = m.now();
  BOOST_TEST(s.count("cano_fenced_writes_total") == 1);
  BOOST_TEST(s.count("cano_checkpoint_appends_total", {{"result", "err"}}) == 1);
  BOOST_TEST(s.count("cano_runs_finished_total", {{"status", "interrupted"}}) == 1);
}

BOOST_AUTO_TEST_CASE(two_runtimes_on_one_sink_add_up_and_a_gone_runtime_is_forgotten) {
  auto made = cano::prometheus_metrics::make({nullptr, true, "127.0.0.1", 0});
  BOOST_REQUIRE(made.has_value());
  cano::runtime_config cfg;
  cfg.metrics = *made;
  auto g = std::make_shared<gate>();
  auto wf = cano::Workflow<State>{}
              .with_name("shared")
              .register_task(State::Start, "Hold",
                             [g]() -> cano::expected<State> {
                               g->wait();
                               return State::Done;
                             })
              .add_exit_state(State::Done);
  {
    test_system a(cfg), b(cfg);
    std::thread ra([&] { (void)a.rt->run(wf, State::Start); });
    std::thread rb([&] { (void)b.rt->run(wf, State::Start); });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (g->waiting.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(2ms);
    }
    auto s = scrape_metrics((*made)->port());
    BOOST_TEST(s.count("cano_runs_in_flight", {{"definition", "shared"}}) == 2);
    BOOST_TEST(s.count("cano_blocking_pool_threads", {{"state", "busy"}}) >= 2);
    g->release();
    ra.join();
    rb.join();
  }
  auto s = scrape_metrics((*made)->port());
  BOOST_TEST(s.count("cano_runs_in_flight", {{"definition", "shared"}}) == 0);
  BOOST_TEST(s.count("cano_blocking_pool_threads", {{"state", "busy"}}) == 0);
  BOOST_TEST(s.count("cano_workflow_runs_total", {{"outcome", "completed"}}) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
