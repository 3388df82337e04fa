// cluster_client's parts, shared with cano::node (which submits through a client of its own and
// starts the runs placed on itself without a message).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <pqxx/pqxx>

#include "cano/cluster.hpp"

namespace cano {

struct cluster_client::impl {
  explicit impl(caf::actor_system& s) : sys(s) {}

  /// A node's own way to start a run placed on it: its owner identity, and a start that says
  /// whether it took the run.
  struct local_start {
    std::string owner;
    std::function<bool(const std::string& id)> start;
    explicit operator bool() const { return static_cast<bool>(start); }
  };

  expected<std::string> submit(const std::string& definition, std::uint32_t version, nlohmann::json input,
                               std::string id, std::chrono::milliseconds ack_timeout, const local_start& local);
  pqxx::connection& connection();
  error database_error(const std::string& what, const std::exception& e);

  caf::actor_system& sys;
  PostgresOptions options;
  std::shared_ptr<PostgresCheckpointStore> store; // reads headers for await
  std::mutex mutex;                               // guards conn
  std::unique_ptr<pqxx::connection> conn;
};

} // namespace cano
