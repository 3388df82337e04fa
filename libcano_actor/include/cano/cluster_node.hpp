// cluster_node — one node incarnation of a cano-actor cluster as its membership table records it:
// what tools show about nodes (the status page's Nodes table). cano::node::members
// (<cano/cluster.hpp>, cano_actor::postgres) reads them from PostgreSQL.
//
//   for (const auto& n : cano::node::members(store_options).value()) {
//     std::cout << n.node_id << "#" << n.incarnation << " " << n.state << "\n";
//   }
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cano {

struct cluster_node {
  std::string node_id;
  std::uint64_t incarnation = 0;
  std::string address; // host:port of its node actor
  std::string state;   // joining | active | draining | dead
  std::chrono::system_clock::time_point started_at{};
  std::chrono::system_clock::time_point lease_until{};
  /// What is left of its lease by the database's clock when read (negative: expired).
  std::chrono::milliseconds lease_left{0};
  /// The definitions it serves, "name@version".
  std::vector<std::string> definitions;
  /// Unfinished runs (running, interrupted, compensating) whose header names it as their owner:
  /// the runs it has in flight, or had when it died (until a survivor claims them).
  std::uint64_t owned_unfinished = 0;

  /// "<node_id>#<incarnation>": the owner its runs' headers name.
  std::string owner() const { return node_id + "#" + std::to_string(incarnation); }
};

} // namespace cano
