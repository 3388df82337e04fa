// The node processes of the cluster workloads (cluster_workloads.cpp): this binary run with
// --node-role ROLE runs one cano::node until it is told to stop.
#pragma once

#include <string>

namespace bench {

int run_node_role(const std::string& role, const std::string& node_id, const std::string& definition, int lease_ms,
                  int load, double seconds);

} // namespace bench
