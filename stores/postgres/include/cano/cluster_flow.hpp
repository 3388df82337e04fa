// Cluster flows — cano's scheduler flows (every / cron / manual, with backoff and trip; spec
// §1.20) scheduled by a cluster of cano::node processes: each tick fires once cluster-wide, not
// once per node, and scheduling survives the death of the node doing it.
//
//   cano::cluster_flow sweep;
//   sweep.id = "sweep";
//   sweep.definition = "orders";                    // a definition the node serves (serve(wf, initial))
//   sweep.trigger = cano::flow_trigger::every;
//   sweep.interval = std::chrono::seconds(30);      // 30 s after each run ends
//   sweep.input = {{"order", "sweep"}};
//   if (auto ok = (*node)->add_flow(sweep); !ok) { … } // before node->start()
//
// Each flow has one leader at a time: the node incarnation ("<node_id>#<incarnation>") whose id
// is in the flow's row of cano_flows. A node leads the flows it declares whose leader is not an
// active node (none yet, dead, draining); the row's fence moves by one at each change of leader.
// So leadership rides on the membership of ARCHITECTURE D8: a SIGKILLed leader is dead as soon
// as a peer sees its node actor go and its advisory lock free, a silent one when its lease ran
// out, and its flows move to a survivor at the survivor's next look (every renew_every).
//
// A fire is one transaction on the flow's row (locked): it checks that this node is still the
// leader with the fence it took and still active, writes the run's header — placed on the
// leader, run id "<flow id>@<tick>" (flow_run_id), start-or-get (D9) — and marks the flow
// running. The tick is the scheduled time from the flow's row, never the clock of whoever fires,
// so a leader change around a tick cannot fire it twice, and a leader that dies after the fire
// leaves a run that its death hands to a survivor like any other.
//
// What a tick is, as in cano's scheduler (cano/scheduler.hpp): an `every` flow fires when the
// cluster first schedules it, then `interval` (or what is left of a backoff window, if longer)
// after each run ends; a `cron` flow fires at the expression's times (UTC), skipping those while
// its run is in flight and those inside its backoff window; a `manual` flow fires only when
// triggered (cluster_client::trigger_flow). After a failure the streak grows and the flow backs
// off or trips (BackoffPolicy); a success clears it; reset_flow clears a trip.
//
// What a leader change costs: nothing for `every` flows (an overdue tick fires late, once). A
// `cron` fire time that passed while no node led the flow (the takeover: about renew_every after
// a SIGKILL, a lease after a silent death) fires late, once, if it is at most the misfire grace
// (two leases) old; older ones are skipped, as cano skips fire times its scheduler was not
// running for — and of several missed ones only the latest fires (cano never catches up).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cano/error.hpp"
#include "cano/scheduler.hpp"

namespace cano {

/// How a flow's ticks come.
enum class flow_trigger { every, cron, manual };
/// "every", "cron", "manual".
const char* to_string(flow_trigger t) noexcept;

/// A flow a node schedules for its cluster (node::add_flow).
struct cluster_flow {
  /// The flow's id, one per cluster (a run id is "<id>@<tick>").
  std::string id;
  /// The name of a definition the node serves with an initial state (node::serve(wf, initial)).
  std::string definition;
  /// That definition's version.
  std::uint32_t version = 0;
  flow_trigger trigger = flow_trigger::manual;
  /// every: the delay after each run ends; positive.
  std::chrono::milliseconds interval{0};
  /// cron: the expression (cano/cron.hpp: 6 or 7 fields, seconds first, UTC).
  std::string cron;
  /// Each run's input.
  nlohmann::json input;
  /// How a failing flow backs off and when it trips (cano's default: 1 s, ×2, 300 s, ±10 %, never).
  BackoffPolicy backoff;
};

/// Checks a flow on its own, before any node exists. Errors (configuration): an empty id or
/// definition; every: "Flow '<id>' has a negative interval (…)" (cano's text) or a zero one;
/// cron: "Invalid cron expression: …" (cano's text), an expression given to a non-cron flow.
expected<void> check_flow(const cluster_flow& flow);

/// The run id of flow `flow_id`'s fire at `tick`: "<flow_id>@2025-01-06T09:00:00.000Z" (UTC, to
/// the millisecond).
std::string flow_run_id(const std::string& flow_id, std::chrono::system_clock::time_point tick);

/// One flow as the cluster's database holds it (cluster_client::flows, `cano-node status`).
struct cluster_flow_status {
  using time_point = std::chrono::system_clock::time_point;
  /// id, status (Idle, Running, Completed, Backoff, Tripped), run_count, last_run (when the last
  /// run was dispatched), failure_streak, next_eligible: cano's FlowInfo.
  FlowInfo info;
  /// The leader's owner identity ("" before any), and whether that node is active now.
  std::string leader;
  bool leader_active = false;
  /// Moves by one at each change of leader.
  std::uint64_t fence = 0;
  /// As the leader declared it: "every", "cron" or "manual"; "every 30s", "cron 0 0 2 * * *".
  std::string trigger;
  std::string schedule;
  std::string definition;
  std::uint32_t version = 0;
  /// The scheduled time of the last fire, and its run's id ("" before any).
  std::optional<time_point> last_tick;
  std::string last_run_id;
  /// When the next tick is due (every and cron flows, while not running their own tick).
  std::optional<time_point> next_tick;
};

/// What a node's flow leader did, for its logs (node_config::on_flow_event).
struct flow_event {
  enum class kind {
    lead,    // this node became the flow's leader (fence)
    lost,    // it no longer is (detail: the new leader, or "" when it stopped leading)
    fire,    // it fired a tick (run_id)
    outcome, // a run of the flow ended (run_id; detail: the flow's new status)
    skip,    // a cron fire time was skipped (detail: why)
  };
  kind what = kind::fire;
  std::string flow_id;
  std::string run_id;
  std::uint64_t fence = 0;
  std::string detail;
};

} // namespace cano
