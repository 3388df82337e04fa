// flow_leader — a node's flow leader actor (detached: it blocks on its database connection).
// Every renew_every, and sooner when a tick is due or a run of a flow it leads is in flight, it
// looks at the rows of the flows its node declares (taking over those without an active leader),
// fires the due ticks of the ones it leads, places and starts triggered runs, and applies the
// outcome of each finished run (flow_schedule's rules, flow_table's fenced writes).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/blocking_actor.hpp>

#include "cano/cluster_flow.hpp"
#include "flow_schedule.hpp"

namespace cano::detail {

using flow_stop_atom = caf::atom_constant<caf::atom("cano_fstop")>; // stop leading and end

struct flow_leader_setup {
  std::string dsn;
  std::vector<flow_plan> plans;
  /// How often it looks when nothing is due; while a run is in flight it looks every `poll`.
  std::chrono::milliseconds renew_every{500};
  std::chrono::milliseconds poll{100};
  /// How old a missed cron fire time may be and still fire (late, once).
  std::chrono::milliseconds misfire_grace{6000};
  /// The node's current owner identity ("<node_id>#<incarnation>").
  std::function<std::string()> owner;
  /// Starts a run placed on this node; false when the node takes no runs (draining).
  std::function<bool(const std::string& run_id, const std::string& definition, std::uint32_t version)> start;
  /// What it did (may be empty).
  std::function<void(const flow_event&)> on_event;
  /// A diagnostic line (a database error, scrubbed of the DSN's password).
  std::function<void(const std::string&)> say;
};

void flow_leader_loop(caf::blocking_actor* self, flow_leader_setup setup);

} // namespace cano::detail
