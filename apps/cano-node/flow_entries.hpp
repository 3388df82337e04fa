// cano-node's flows, from its configuration: the list `flows` of the [cano] section, one map per
// flow, read into cano::cluster_flow before the node joins anything.
//
//   [cano]
//   flows = [
//     { id = "sweep", workflow = "orders", every = 30s, input = "{\"order\":\"sweep\"}" },
//     { id = "nightly", workflow = "orders", cron = "0 0 2 * * *", trip-after = 3 },
//     { id = "rebuild", workflow = "orders", manual = true },
//   ]
//
// A list, not a [cano.flows.<id>] section per flow: CAF 0.17's INI reader keeps only the last
// such section and the last of two equal keys, so neither a second flow nor a duplicate id would
// survive to be seen. Every mistake is an error naming the entry: `cano.flows entry 2
// ("nightly"): Invalid cron expression: …`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/settings.hpp>

#include "cano/cluster_flow.hpp"

namespace cano_node {

/// A definition the node serves with an initial state (what a flow may name).
struct served_definition {
  std::string name;
  std::uint32_t version = 0;
};

/// Reads cano.flows from CAF's parsed configuration (none: no flows). Keys of an entry: id,
/// workflow, version (default: the served version of that name), exactly one of every (a
/// duration), cron (an expression) or manual (true), input (JSON text), backoff-initial and
/// backoff-max (durations), backoff-multiplier, backoff-jitter (0 to 1) and trip-after (a count).
/// Errors (configuration): the first wrong entry, by position and id, and what is wrong with it
/// — an unknown workflow, a bad cron expression or interval, a duplicate id, an unknown key, a
/// value of the wrong type, input that is not JSON.
cano::expected<std::vector<cano::cluster_flow>> read_flows(const caf::settings& content,
                                                           const std::vector<served_definition>& served);

} // namespace cano_node
