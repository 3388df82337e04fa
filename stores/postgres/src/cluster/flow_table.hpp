// flow_table — cano_flows, the cluster's flows (cano/cluster_flow.hpp): what a flow leader reads
// and writes on a connection of its own, and what any client reads (status) and writes (trigger,
// reset). Every write of a leader locks the flow's row and checks that the leader is still this
// node incarnation with the fence it took; time is always the server's now().
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "cano/cluster_flow.hpp"
#include "flow_schedule.hpp"

namespace cano::detail {

/// Where a flow's run stands, from its header.
struct flow_run_state {
  bool exists = false;
  bool finished = false;
  std::optional<error> failure; // finished and not completed
  std::string owner;            // who drives it
  std::uint64_t fence = 0;      // 1: never claimed since it was placed
};

/// A flow leader's side of cano_flows, on one connection it owns. Used by one thread at a time
/// (the node's flow leader actor). Throws pqxx/std exceptions (the caller words them).
class flow_table {
public:
  explicit flow_table(std::string dsn);

  /// The session's name, "cano-flows:<owner>": a burial of that owner ends the session (and its
  /// transaction, if the process stopped inside one).
  void identify(const std::string& owner);

  /// What one look gives a leader: the server's time and the rows of the flows it declares.
  struct view {
    flow_time now;
    std::vector<flow_row> rows;
  };
  /// Adds the rows of declared flows that have none (first tick from the server's now), takes
  /// over those whose leader is not an active node (fence + 1) when `me` is active, brings the
  /// declaration of the flows `me` leads up to date (a changed schedule starts from its first
  /// tick), and reads them all.
  view look(const std::vector<flow_plan>& plans, const std::string& me);

  enum class fire_result {
    placed,  // the run's header is written, owned by `me`: start it
    existed, // a run of that id exists already (start-or-get): nothing to start
    lost,    // no longer the leader (or not active, or the flow moved on): nothing done
  };
  /// Fires `tick` of a flow `me` leads with `fence` and which is not running: the header placed
  /// on `me`, the flow running (run_count + 1, last_run now, last_tick tick), in one transaction.
  fire_result fire(const flow_plan& plan, const std::string& me, std::uint64_t fence, flow_time tick);
  /// Places the header of the run a trigger reserved (flow running, its run id set, no header).
  fire_result place_triggered(const flow_plan& plan, const std::string& me, std::uint64_t fence,
                              const std::string& run_id);
  /// Under the row's lock, while `me` leads it with `fence`: `change` edits the row (the server's
  /// now given) and says whether to write it. False when the flow is no longer `me`'s.
  bool update(const std::string& flow_id, const std::string& me, std::uint64_t fence,
              const std::function<bool(flow_row&, flow_time)>& change);
  /// The headers of these runs.
  std::map<std::string, flow_run_state> runs(const std::vector<std::string>& run_ids);

private:
  pqxx::connection& connection();

  std::string dsn_;
  std::string name_;
  std::unique_ptr<pqxx::connection> conn_;
  std::map<std::string, std::uint64_t> synced_; // flow → the fence its declaration was written under
};

/// Every flow of the cluster, by id.
std::vector<cluster_flow_status> list_flows(pqxx::connection& c);
/// cano's trigger on flow `flow_id`: reserves it (running, run_count + 1) for a run id of the
/// server's now; its leader places and starts it. Errors (workflow, cano's texts): "No workflow
/// registered with id '<id>'", "Flow '<id>' is already running", "Flow '<id>' is tripped — call
/// reset_flow before triggering". Returns the run id.
expected<std::string> trigger_flow(pqxx::connection& c, const std::string& flow_id);
/// cano's reset_flow. Error: "No workflow registered with id '<id>'".
expected<void> reset_flow(pqxx::connection& c, const std::string& flow_id);

} // namespace cano::detail
