#include "split_workflow.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/local_actor.hpp>

#include "cano/workflow.hpp"
#include "closed_loop.hpp"
#include "memory.hpp"

namespace bench {

nlohmann::json measure_split(const std::string& name, std::size_t branches, double seconds, double warmup_seconds) {
  auto baseline = rss_bytes();
  caf::actor_system_config cfg;
  cano::apply_scheduler_defaults(cfg); // as a user gets it: one CAF worker per hardware thread
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto branch = cano::make_task<int>(
    "branch", [] { return 1; }, cano::TaskConfig::minimal().with_blocking(false));
  std::vector<std::shared_ptr<cano::Task<int>>> tasks(branches, branch);
  auto wf = cano::Workflow<int>{}
              .register_split(0, tasks, cano::JoinConfig<int>{cano::JoinStrategy::all(), 1})
              .add_exit_state(1);
  auto figures =
    run_closed_loop(sys, 1, warmup_seconds, seconds, [&](caf::local_actor* self) { return rt.start(wf, 0, {}, self); });
  double runs = static_cast<double>(figures.runs);
  return {
    {"workload", name},
    {"branches", branches},
    {"runs", figures.runs},
    {"failures", figures.failures},
    {"seconds", figures.seconds},
    {"runs_per_sec", runs / figures.seconds},
    {"seconds_per_run", runs > 0 ? figures.seconds / runs : 0.0},
    {"ns_per_branch", runs > 0 ? figures.seconds * 1e9 / (runs * static_cast<double>(branches)) : 0.0},
    {"rss_bytes", figures.rss_at_end > baseline ? figures.rss_at_end - baseline : 0},
  };
}

} // namespace bench
