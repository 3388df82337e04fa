// placement — where a submitted run goes (cluster, part 2): the live node serving its definition
// and version that owns the fewest unfinished runs. A placed run is a header with status running,
// an owner and fence 1 and no rows yet; its owner starts it (adopting it), or anyone who takes it
// over later starts it from its first state. Re-placing is a claim (fence + 1), so a first owner
// that starts it late is fenced. Every statement here is on the caller's own connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace cano::detail {

struct placement_target {
  std::string owner;   // "<node_id>#<incarnation>"
  std::string address; // its node actor, host:port
};

/// The least loaded live (active, lease running) node serving `definition` at `version`, other
/// than those in `excluded`; nothing when there is none.
std::optional<placement_target> choose_owner(pqxx::connection& c, const std::string& definition, std::uint32_t version,
                                             const std::vector<std::string>& excluded);

/// Writes the header of a new run placed on `owner`. False when the id exists already (in any
/// status: start-or-get, D9).
bool place_header(pqxx::connection& c, const std::string& workflow_id, const std::string& definition,
                  std::uint32_t version, const nlohmann::json& input, const std::string& owner);
/// The same inside the caller's transaction (a flow's fire writes the header with its tick).
bool place_header(pqxx::transaction_base& tx, const std::string& workflow_id, const std::string& definition,
                  std::uint32_t version, const nlohmann::json& input, const std::string& owner);

/// Moves a run placed on `from` (not started: no rows) to `to`, fence + 1. False when it is no
/// longer placed on `from` or has started.
bool replace_owner(pqxx::connection& c, const std::string& workflow_id, const std::string& from, const std::string& to);

/// A run's stored state: status text, final state label, failure (JSON text, or empty).
struct stored_result {
  std::string status;
  std::string final_state;
  std::string failure;
};
std::optional<stored_result> read_result(pqxx::connection& c, const std::string& workflow_id);

} // namespace cano::detail
