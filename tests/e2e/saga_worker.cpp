// The child process of the rollback crash tests (ARCHITECTURE D7), the kill loop and the cancel
// tests: an order saga — Reserve ⇄ Release, Charge ⇄ Refund, Ship (fails for the runs told to,
// waits to be cancelled for others), Done — on a
// SQLite file or PostgreSQL, with every effect appended to a ledger file as
// "<FWD|UNDO> <run> <step> <pid>", so a test can check, across SIGKILLs, that no forward step
// ran after a rollback began and that each undo was done once (or twice when a kill cut the
// first one short).
//
//   saga_worker <sqlite|postgres> <file|-> <ledger> run <id>      (ids starting "fail" fail at Ship;
//                                                                  ids starting "hold" wait in Ship
//                                                                  until the run is cancelled)
//   saga_worker <sqlite|postgres> <file|-> <ledger> resume <id>
//   saga_worker <sqlite|postgres> <file|-> <ledger> loop <prefix> <runs> <in flight>
//   saga_worker postgres - <ledger> node <node id> <prefix> <runs> <in flight> <lease ms>
//
// `loop` resumes every unfinished run (resume_all), then submits runs <prefix>-0 … -<runs-1>
// (start-or-get: finished ones just answer); run i fails at Ship when i % 3 == 0; steps take
// 20–60 ms (CANO_TEST_STEP_MS=<n>: n ms). `node` joins a cluster as a cano::node serving the saga
// (definition "order-saga/<prefix>"), prints "NODE <owner> <port>", runs <prefix>-<node id>-0 …
// on itself, prints "LOCAL-DONE", then keeps serving (taking over orphans and runs submitted to
// it) until killed (SIGTERM: it drains for 200 ms, then hands the rest over); after a rejoin it starts as many runs
// again, named …-after-<n>, and prints "STATS claimed=<n> rejoins=<n>" whenever those figures change. Output lines
// (flushed): "RESULT <id> <DONE state|FAILED error>", "RESUMED <n>", "ALL-DONE", "SHIP-WAITING <id>" (a "hold" run is
// in Ship, in any mode; a cancel drops it — the Ship body sees stop_requested() and ends). Environment, for crash
// points:
//   CANO_TEST_BLOCK_UNDO=<step>  the undo of that step prints "UNDO-BLOCKED <step>" and hangs
//                                before its effect (the test kills the process then);
//   CANO_TEST_KILL_AT=final      SIGKILL on itself just before the write that ends a rollback;
//   CANO_TEST_KILL_AT=after-clear  SIGKILL on itself just after a write clearing a log committed.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/cluster.hpp"
#include "cano/postgres_checkpoint_store.hpp"
#include "cano/saga.hpp"
#include "cano/sqlite_checkpoint_store.hpp"
#include "cano/workflow.hpp"

namespace {

enum class Order { Reserve, Charge, Ship, Done };
std::string to_string(Order s) {
  switch (s) {
    case Order::Reserve: return "Reserve";
    case Order::Charge: return "Charge";
    case Order::Ship: return "Ship";
    case Order::Done: return "Done";
  }
  return "?";
}

std::mutex out_mutex;
void line(const std::string& text) {
  std::lock_guard<std::mutex> guard(out_mutex);
  std::cout << text << std::endl;
}

/// Appends whole lines with O_APPEND: a line is written at once or not at all.
class ledger {
public:
  explicit ledger(const std::string& path) : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644)) {}
  void record(const std::string& kind, const std::string& run, const std::string& step) {
    auto text = kind + " " + run + " " + step + " " + std::to_string(::getpid()) + "\n";
    if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      std::abort();
    }
  }

private:
  int fd_;
};

void pause_a_little() {
  static const int fixed = std::getenv("CANO_TEST_STEP_MS") ? std::atoi(std::getenv("CANO_TEST_STEP_MS")) : 0;
  thread_local std::mt19937 rng{std::random_device{}()};
  std::this_thread::sleep_for(
    std::chrono::milliseconds(fixed > 0 ? fixed : std::uniform_int_distribution<int>(20, 60)(rng)));
}

bool fails(const std::string& id) {
  // "fail…" ids fail; in a loop, "<prefix>-<n>" fails for every third n.
  auto dash = id.rfind('-');
  return id.rfind("fail", 0) == 0 || (dash != std::string::npos && std::stoi(id.substr(dash + 1)) % 3 == 0);
}

class saga_step : public cano::CompensatableTask<Order, std::string> {
public:
  saga_step(std::string name, Order next, std::shared_ptr<ledger> fx)
    : name_(std::move(name)),
      next_(next),
      fx_(std::move(fx)) {}
  std::string name() const override { return name_; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<std::pair<cano::TaskResult<Order>, std::string>> run(cano::task_context& ctx) override {
    fx_->record("FWD", ctx.workflow_id(), name_);
    pause_a_little();
    return std::make_pair(cano::TaskResult<Order>(next_), name_ + "-of-" + ctx.workflow_id());
  }
  cano::expected<void> compensate(cano::task_context& ctx, std::string) override {
    if (const char* block = std::getenv("CANO_TEST_BLOCK_UNDO"); block != nullptr && name_ == block) {
      line("UNDO-BLOCKED " + name_);
      std::this_thread::sleep_for(std::chrono::hours(1));
    }
    fx_->record("UNDO", ctx.workflow_id(), name_);
    pause_a_little();
    return {};
  }

private:
  std::string name_;
  Order next_;
  std::shared_ptr<ledger> fx_;
};

/// Passes everything to the real store, dying at the crash point the environment names.
class crashing_store : public cano::CheckpointStore {
public:
  explicit crashing_store(std::shared_ptr<cano::CheckpointStore> inner) : inner_(std::move(inner)) {
    if (const char* at = std::getenv("CANO_TEST_KILL_AT")) {
      kill_at_ = at;
    }
  }
  bool is_blocking() const override { return inner_->is_blocking(); }
  std::vector<cano::expected<void>> append_batch(const std::vector<cano::CheckpointWrite>& writes) override {
    bool clears = false;
    for (const auto& w : writes) {
      bool ends_rollback = w.header && w.header->status == cano::RunStatus::rolled_back;
      if (kill_at_ == "final" && ends_rollback) {
        ::raise(SIGKILL);
      }
      clears = clears || w.clear_run;
    }
    auto out = inner_->append_batch(writes);
    if (kill_at_ == "after-clear" && clears) {
      ::raise(SIGKILL);
    }
    return out;
  }
  cano::expected<void> append(const std::string& id, const cano::CheckpointRow& row) override {
    return inner_->append(id, row);
  }
  cano::expected<std::vector<cano::CheckpointRow>> load_run(const std::string& id) override {
    return inner_->load_run(id);
  }
  cano::expected<void> clear(const std::string& id) override { return inner_->clear(id); }
  cano::expected<void> put_run_header(const cano::RunHeader& h) override { return inner_->put_run_header(h); }
  cano::expected<std::optional<cano::RunHeader>> run_header(const std::string& id) override {
    return inner_->run_header(id);
  }
  cano::expected<std::vector<cano::RunHeader>> unfinished_runs() override { return inner_->unfinished_runs(); }
  cano::expected<cano::RunListing> list_unfinished() override { return inner_->list_unfinished(); }
  cano::expected<void> acquire_driver() override { return inner_->acquire_driver(); }
  cano::expected<void> claim_run(const std::string& id) override { return inner_->claim_run(id); }
  cano::expected<void> request_cancel(const std::string& id) override { return inner_->request_cancel(id); }
  cano::expected<std::vector<std::string>> cancel_requests() override { return inner_->cancel_requests(); }

private:
  std::shared_ptr<cano::CheckpointStore> inner_;
  std::string kill_at_;
};

std::string outcome(const cano::expected<Order>& r) {
  return r ? "DONE " + to_string(*r) : "FAILED " + r.error().to_string();
}

struct ship : cano::Task<Order> {
  std::shared_ptr<ledger> fx;
  std::string name() const override { return "ship"; }
  cano::TaskConfig config() const override { return cano::TaskConfig::minimal(); }
  cano::expected<cano::TaskResult<Order>> run(cano::task_context& ctx) override {
    fx->record("FWD", ctx.workflow_id(), "Ship");
    if (ctx.workflow_id().rfind("hold", 0) == 0) {
      line("SHIP-WAITING " + ctx.workflow_id());
      auto until = std::chrono::steady_clock::now() + std::chrono::minutes(2);
      while (!ctx.stop_requested() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      return cano::error::task_execution("ship of " + ctx.workflow_id() + " was never cancelled");
    }
    pause_a_little();
    if (fails(ctx.workflow_id())) {
      return cano::error::task_execution("the carrier refused " + ctx.workflow_id());
    }
    return cano::TaskResult<Order>(Order::Done);
  }
};

/// The order saga, under `definition`.
cano::Workflow<Order> order_saga(const std::string& definition, const std::shared_ptr<ledger>& fx) {
  auto shipping = std::make_shared<ship>();
  shipping->fx = fx;
  return cano::Workflow<Order>{}
    .with_name(definition)
    .register_with_compensation(Order::Reserve, std::make_shared<saga_step>("Reserve", Order::Charge, fx))
    .register_with_compensation(Order::Charge, std::make_shared<saga_step>("Charge", Order::Ship, fx))
    .register_task(Order::Ship, shipping)
    .add_exit_state(Order::Done);
}

/// Runs `ids` on `rt` with at most `in_flight` at a time, printing each result.
void run_all(cano::runtime& rt, const cano::Workflow<Order>& wf, const std::vector<std::string>& ids, int in_flight,
             bool submit) {
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < in_flight; ++t) {
    threads.emplace_back([&] {
      for (auto i = next++; i < ids.size(); i = next++) {
        const auto& id = ids[i];
        auto r = submit ? rt.submit(wf, Order::Reserve, {id, {{"order", id}}})
                        : rt.run(wf, Order::Reserve, {id, {{"order", id}}});
        line("RESULT " + id + " " + outcome(r));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
}

volatile std::sig_atomic_t terminated = 0;

/// A cluster node serving the saga; see the header comment.
int node_mode(const std::shared_ptr<ledger>& fx, const std::string& node_id, const std::string& prefix, int runs,
              int in_flight, int lease_ms) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cano::node::configure(cfg);
  // TLS when the test gives certificates (CANO_TEST_TLS_CERT / _KEY / _CA).
  if (const char* cert = std::getenv("CANO_TEST_TLS_CERT")) {
    cfg.openssl_certificate = cert;
    cfg.openssl_key = std::getenv("CANO_TEST_TLS_KEY") ? std::getenv("CANO_TEST_TLS_KEY") : "";
    cfg.openssl_cafile = std::getenv("CANO_TEST_TLS_CA") ? std::getenv("CANO_TEST_TLS_CA") : "";
  }
  if (auto tls = cano::node::configure_tls(cfg); !tls) {
    std::cerr << tls.error() << "\n";
    return 2;
  }
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  cano::node_config config;
  config.node_id = node_id;
  config.lease = std::chrono::milliseconds(lease_ms);
  config.renew_every = std::chrono::milliseconds(std::max(lease_ms / 5, 20));
  auto n = cano::node::open(sys, rt, config);
  if (!n) {
    std::cerr << n.error() << "\n";
    return 3;
  }
  auto wf = (*n)->serve(order_saga("order-saga/" + prefix, fx), Order::Reserve); // submittable
  if (auto started = (*n)->start(); !started) {
    std::cerr << started.error() << "\n";
    return 3;
  }
  line("NODE " + (*n)->owner() + " " + std::to_string((*n)->port()));
  std::vector<std::string> ids;
  for (int i = 0; i < runs; ++i) {
    ids.push_back(prefix + "-" + node_id + "-" + std::to_string(i));
  }
  run_all(rt, wf, ids, in_flight, false);
  line("LOCAL-DONE");
  // Serve on until SIGTERM: report the figures as they change, and after a rejoin take new work.
  std::signal(SIGTERM, [](int) { terminated = 1; });
  cano::node_stats last{};
  std::uint64_t rejoins_served = 0;
  while (!terminated) {
    auto s = (*n)->stats();
    if (s.claimed != last.claimed || s.rejoins != last.rejoins) {
      line("STATS claimed=" + std::to_string(s.claimed) + " rejoins=" + std::to_string(s.rejoins) +
           " owner=" + (*n)->owner());
      last = s;
    }
    if (s.rejoins > rejoins_served) {
      rejoins_served = s.rejoins;
      std::vector<std::string> after;
      for (int i = 0; i < runs; ++i) {
        after.push_back(prefix + "-" + node_id + "-after" + std::to_string(rejoins_served) + "-" + std::to_string(i));
      }
      run_all(rt, wf, after, in_flight, false);
      line("AFTER-DONE " + std::to_string(rejoins_served));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  line("DRAINING");
  (*n)->drain(std::chrono::milliseconds(200)); // hands what is left to the survivors at once
  line("DRAINED");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::cerr << "usage: saga_worker <sqlite|postgres> <file|-> <ledger> <run ID | resume ID | loop PREFIX RUNS "
                 "IN_FLIGHT | node NODE_ID PREFIX RUNS IN_FLIGHT LEASE_MS>\n";
    return 2;
  }
  std::string kind = argv[1], file = argv[2], mode = argv[4];
  auto fx = std::make_shared<ledger>(argv[3]);
  if (mode == "node" && argc == 10 && kind == "postgres") {
    return node_mode(fx, argv[5], argv[6], std::stoi(argv[7]), std::stoi(argv[8]), std::stoi(argv[9]));
  }
  std::shared_ptr<cano::CheckpointStore> store;
  if (kind == "sqlite") {
    auto s = cano::SqliteCheckpointStore::open(file);
    if (!s) {
      std::cerr << s.error() << "\n";
      return 3;
    }
    store = *s;
  } else {
    auto s = cano::PostgresCheckpointStore::open();
    if (!s) {
      std::cerr << s.error() << "\n";
      return 3;
    }
    store = *s;
  }
  store = std::make_shared<crashing_store>(store);
  // A loop's runs have a definition name of their own: its resume_all must not take over the
  // runs other tests drive in the same database at the same time.
  auto definition = mode == "loop" ? "order-saga/" + std::string(argv[5]) : std::string("order-saga");
  auto wf = order_saga(definition, fx).with_checkpoint_store(store);

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  if (mode == "run") {
    auto r = rt.run(wf, Order::Reserve, {argv[5], {{"order", argv[5]}}});
    line("RESULT " + std::string(argv[5]) + " " + outcome(r));
    return r ? 0 : 1;
  }
  if (mode == "resume") {
    auto r = rt.resume(wf, argv[5]);
    line("RESULT " + std::string(argv[5]) + " " + outcome(r));
    return r ? 0 : 1;
  }
  if (mode == "loop" && argc == 8) {
    std::string prefix = argv[5];
    int runs = std::stoi(argv[6]), in_flight = std::stoi(argv[7]);
    auto resumed = rt.resume_all(std::vector<cano::Workflow<Order>>{wf});
    for (const auto& [id, r] : resumed) {
      line("RESULT " + id + " " + outcome(r));
    }
    line("RESUMED " + std::to_string(resumed.size()));
    std::vector<std::string> ids;
    for (int i = 0; i < runs; ++i) {
      ids.push_back(prefix + "-" + std::to_string(i));
    }
    run_all(rt, wf, ids, in_flight, true);
    line("ALL-DONE");
    return 0;
  }
  std::cerr << "saga_worker: unknown mode " << mode << "\n";
  return 2;
}
