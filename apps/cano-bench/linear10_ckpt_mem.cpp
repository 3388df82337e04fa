// linear10_ckpt_mem: linear10 with the in-memory checkpoint store and a workflow id per run,
// so every state writes its entry row (write-ahead) and every run its header and clear.
#include <atomic>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>

#include "cano/memory_checkpoint_store.hpp"
#include "closed_loop.hpp"
#include "linear_workflow.hpp"
#include "memory.hpp"
#include "workload.hpp"

namespace {

nlohmann::json measure(double seconds) {
  auto baseline = bench::rss_bytes();
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  // No audit trail or finished headers: they are test aids whose growth is not the engine's.
  auto store = std::make_shared<cano::MemoryCheckpointStore>(cano::MemoryCheckpointStore::options{false, false});
  auto wf = bench::linear_workflow(false).with_checkpoint_store(store);
  std::uint64_t next_id = 0;
  auto figures = bench::run_closed_loop(sys, 1, 0.5, seconds, [&](caf::local_actor* self) {
    return rt.start(wf, 0, {"run-" + std::to_string(next_id++), nullptr}, self);
  });
  double rows = static_cast<double>(store->rows_appended());
  double calls = static_cast<double>(store->store_calls());
  double transitions = static_cast<double>(figures.runs) * bench::linear_states;
  return {
    {"workload", "linear10_ckpt_mem"},
    {"runs", figures.runs},
    {"failures", figures.failures},
    {"seconds", figures.seconds},
    {"runs_per_sec", static_cast<double>(figures.runs) / figures.seconds},
    {"ns_per_transition", transitions > 0 ? figures.seconds * 1e9 / transitions : 0.0},
    {"rows_per_commit", calls > 0 ? rows / calls : 0.0},
    {"cpu_us_per_run", bench::cpu_us_per_run(figures)},
    {"p99_transition_us", figures.p99_run_latency_us / bench::linear_states},
    {"rss_bytes", figures.rss_at_end > baseline ? figures.rss_at_end - baseline : 0},
  };
}

bench::register_workload linear10_ckpt_mem{"linear10_ckpt_mem", measure};

} // namespace
