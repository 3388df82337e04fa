// The cluster's membership table as tools show it (node::members, cluster_client::status).
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "../postgres_dsn.hpp"
#include "cano/cluster.hpp"
#include "cluster_members.hpp"

namespace cano {

namespace {

std::chrono::system_clock::time_point from_micros(long long us) {
  return std::chrono::system_clock::time_point(std::chrono::microseconds(us));
}

} // namespace

namespace detail {

std::vector<cluster_node> read_members(pqxx::connection& c, std::optional<std::chrono::seconds> dead_for) {
  pqxx::read_transaction tx(c);
  auto rows = tx.exec(std::string("SELECT node_id, incarnation, address, state, definitions::text,"
                                  " (extract(epoch FROM started_at) * 1000000)::bigint,"
                                  " (extract(epoch FROM lease_until) * 1000000)::bigint,"
                                  " (extract(epoch FROM (lease_until - now())) * 1000)::bigint,"
                                  " (SELECT count(*) FROM cano_runs r WHERE r.owner = n.node_id || '#' || n.incarnation"
                                  "  AND r.status NOT IN ('completed', 'failed', 'rolled_back'))"
                                  " FROM cano_nodes n") +
                      (dead_for ? " WHERE n.state <> 'dead' OR n.lease_until > now() - interval '" +
                                    std::to_string(dead_for->count()) + " seconds'"
                                : std::string()) +
                      " ORDER BY node_id, incarnation DESC");
  std::vector<cluster_node> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    cluster_node n;
    n.node_id = r[0].as<std::string>();
    n.incarnation = r[1].as<std::uint64_t>();
    n.address = r[2].as<std::string>();
    n.state = r[3].as<std::string>();
    auto served = nlohmann::json::parse(r[4].as<std::string>(), nullptr, false);
    if (served.is_array()) {
      for (const auto& d : served) {
        if (d.is_object() && d.contains("name") && d["name"].is_string()) {
          n.definitions.push_back(d["name"].get<std::string>() + "@" +
                                  (d.contains("version") ? d["version"].dump() : std::string("?")));
        }
      }
    }
    n.started_at = from_micros(r[5].as<long long>());
    n.lease_until = from_micros(r[6].as<long long>());
    n.lease_left = std::chrono::milliseconds(r[7].as<long long>());
    n.owned_unfinished = r[8].as<std::uint64_t>();
    out.push_back(std::move(n));
  }
  return out;
}

} // namespace detail

expected<std::vector<cluster_node>> node::members(const PostgresOptions& store) {
  auto dsn = store.dsn;
  if (dsn.empty()) {
    if (const char* env = std::getenv("CANO_PG_DSN")) {
      dsn = env;
    }
  }
  try {
    pqxx::connection conn(dsn);
    return detail::read_members(conn, std::nullopt);
  } catch (const std::exception& e) {
    return error::checkpoint_store("cluster members: " + detail::dsn_secrets::of(dsn).scrub(e.what()));
  }
}

} // namespace cano
