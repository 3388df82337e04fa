// The scheduler actor: owns the loops of every `every` and `cron` flow (their waits are delayed
// messages to itself, on the actor clock), starts each run through runtime::start, applies each
// run's outcome to the flow board, and drains and tears down on stop.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>

#include "cano/scheduler.hpp"
#include "flow_board.hpp"

namespace caf {
class actor_system;
} // namespace caf

namespace cano::detail {

class engine;

// Messages from RunningScheduler to the actor (sent under the board's mutex, so they arrive in
// the order the board saw them).
using sched_run_atom = caf::atom_constant<caf::atom("cano_srun")>;     // (flow): start a reserved run
using sched_cancel_atom = caf::atom_constant<caf::atom("cano_scanc")>; // (flow): cancel its run
using sched_stop_atom = caf::atom_constant<caf::atom("cano_sstop")>;   // stop: drain, tear down

struct scheduler_plan {
  std::vector<scheduled_flow> flows; // registration order, same indices as the board's
  std::shared_ptr<flow_board> board;
  // The runtime's engine, kept alive: a runtime shut down first only refuses further runs.
  std::shared_ptr<engine> eng;
  std::chrono::milliseconds stop_bound{30000};
};

caf::actor spawn_scheduler_actor(caf::actor_system& sys, scheduler_plan plan);

} // namespace cano::detail
