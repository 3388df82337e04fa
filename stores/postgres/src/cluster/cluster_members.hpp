// The cluster's membership table as tools read it: one query serves node::members (the status
// page, cano-node) and cluster_client::status (cano-node status).
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include <pqxx/pqxx>

#include "cano/cluster_node.hpp"

namespace cano::detail {

/// Every incarnation in the table, ordered by node id then incarnation (newest first); with
/// `dead_for`, dead ones only if their lease ended less than that long ago. Throws what pqxx
/// throws; the callers turn it into their error.
std::vector<cluster_node> read_members(pqxx::connection& c, std::optional<std::chrono::seconds> dead_for);

} // namespace cano::detail
