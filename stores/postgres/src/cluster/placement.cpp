#include "placement.hpp"

#include "../postgres_array.hpp"

namespace cano::detail {

namespace {
constexpr const char* unfinished = "status NOT IN ('completed', 'failed', 'rolled_back')";
}

std::optional<placement_target> choose_owner(pqxx::connection& c, const std::string& definition, std::uint32_t version,
                                             const std::vector<std::string>& excluded) {
  array_literal skip;
  for (const auto& e : excluded) {
    skip.add(e);
  }
  pqxx::read_transaction tx(c);
  auto r = tx.exec_params(
    std::string("SELECT n.node_id || '#' || n.incarnation AS owner, n.address, "
                "(SELECT count(*) FROM cano_runs r WHERE r.owner = n.node_id || '#' || n.incarnation AND r.") +
      unfinished +
      ") AS load, (SELECT count(*) FROM cano_runs r WHERE r.owner = n.node_id || '#' || n.incarnation "
      "AND r.created_at > now() - interval '1 minute') AS recent "
      "FROM cano_nodes n WHERE n.state = 'active' AND n.lease_until > now() "
      "AND n.definitions @> jsonb_build_array(jsonb_build_object('name', $1::text, 'version', $2::bigint)) "
      "AND NOT (n.node_id || '#' || n.incarnation = ANY($3::text[])) "
      // Fewest unfinished runs first; among equals, the one given fewest lately (even when runs
      // finish faster than they come).
      "ORDER BY load, recent, random() LIMIT 1",
    definition, static_cast<long long>(version), skip.text());
  if (r.empty()) {
    return std::nullopt;
  }
  return placement_target{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
}

bool place_header(pqxx::transaction_base& tx, const std::string& workflow_id, const std::string& definition,
                  std::uint32_t version, const nlohmann::json& input, const std::string& owner) {
  auto r = tx.exec_params(
    "INSERT INTO cano_runs (workflow_id, definition, workflow_version, input, status, created_at, updated_at, "
    "owner, fence) VALUES ($1, $2, $3, $4::jsonb, 'running', now(), now(), $5, 1) "
    "ON CONFLICT (workflow_id) DO NOTHING RETURNING 1",
    workflow_id, definition, static_cast<long long>(version), input.dump(), owner);
  return !r.empty();
}

bool place_header(pqxx::connection& c, const std::string& workflow_id, const std::string& definition,
                  std::uint32_t version, const nlohmann::json& input, const std::string& owner) {
  pqxx::work tx(c);
  bool placed = place_header(tx, workflow_id, definition, version, input, owner);
  tx.commit();
  return placed;
}

bool replace_owner(pqxx::connection& c, const std::string& workflow_id, const std::string& from,
                   const std::string& to) {
  pqxx::work tx(c);
  // The row lock waits for the first owner's batch in flight, if it had begun after all; then
  // the log tells whether it started (no move) or not.
  tx.exec_params("UPDATE cano_owners SET epoch = epoch + 1 WHERE owner = $1", from);
  auto r = tx.exec_params(
    std::string("UPDATE cano_runs r SET owner = $3, fence = r.fence + 1 WHERE r.workflow_id = $1 AND r.owner = $2 "
                "AND r.") +
      unfinished +
      " AND (SELECT c.sequence FROM cano_checkpoints c WHERE c.workflow_id = $1 LIMIT 1) IS NULL RETURNING 1",
    workflow_id, from, to);
  tx.commit();
  return !r.empty();
}

std::optional<stored_result> read_result(pqxx::connection& c, const std::string& workflow_id) {
  pqxx::read_transaction tx(c);
  auto r = tx.exec_params(
    "SELECT status, final_state, coalesce(failure::text, '') FROM cano_runs WHERE workflow_id = $1", workflow_id);
  if (r.empty()) {
    return std::nullopt;
  }
  return stored_result{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>()};
}

} // namespace cano::detail
