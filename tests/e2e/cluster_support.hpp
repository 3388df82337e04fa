// Cluster test nodes: real saga_worker processes in `node` mode on 127.0.0.1 (each a cano::node
// with its own actor system), and the database queries that judge what they did.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "child_process.hpp"

namespace test {

/// One node process: started, its owner identity read from its "NODE <owner> <port>" line.
struct node_process {
  std::unique_ptr<cano_apps::child_process> proc;
  std::string node_id;
  std::string owner;

  /// Starts `saga_worker ... node` with the given environment (restored afterwards).
  static node_process start(const std::string& worker, const std::string& ledger, const std::string& node_id,
                            const std::string& prefix, int runs, int in_flight, int lease_ms,
                            const std::vector<std::pair<std::string, std::string>>& env) {
    std::vector<std::pair<std::string, std::optional<std::string>>> saved;
    for (const auto& [k, v] : env) {
      const char* old = std::getenv(k.c_str());
      saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      setenv(k.c_str(), v.c_str(), 1);
    }
    node_process n;
    n.node_id = node_id;
    n.proc = std::make_unique<cano_apps::child_process>(
      std::vector<std::string>{worker, "postgres", "-", ledger, "node", node_id, prefix, std::to_string(runs),
                               std::to_string(in_flight), std::to_string(lease_ms)});
    for (const auto& [k, v] : saved) {
      if (v) {
        setenv(k.c_str(), v->c_str(), 1);
      } else {
        unsetenv(k.c_str());
      }
    }
    auto hello =
      n.proc->read_until([](const std::string& l) { return l.rfind("NODE ", 0) == 0; }, std::chrono::seconds(60));
    if (hello) {
      auto rest = hello->substr(5);
      n.owner = rest.substr(0, rest.find(' '));
    }
    return n;
  }

  /// Reads output until a line starting with `prefix` (bounded); that line, or nothing.
  std::optional<std::string> wait_for(const std::string& prefix,
                                      std::chrono::seconds bound = std::chrono::seconds(120)) {
    return proc->read_until([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, bound);
  }
  int results_seen() const {
    int n = 0;
    for (const auto& l : proc->lines()) {
      n += l.rfind("RESULT ", 0) == 0 ? 1 : 0;
    }
    return n;
  }
};

/// Polls `done(tx)` on a fresh read transaction every 100 ms until true or `bound` passed.
template <class Pred>
bool eventually(const std::string& dsn, Pred done, std::chrono::seconds bound = std::chrono::seconds(120)) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      pqxx::connection c(dsn);
      pqxx::read_transaction tx(c);
      if (done(tx)) {
        return true;
      }
    } catch (const std::exception&) {
      // the server may be restarting
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

} // namespace test
