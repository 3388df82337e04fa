#include <mutex>
#include <thread>

#include <caf/scoped_actor.hpp>

#include "../postgres_dsn.hpp"
#include "cano/cluster.hpp"
#include "cano/detail/random_token.hpp"
#include "client_impl.hpp"
#include "cluster_members.hpp"
#include "flow_table.hpp"
#include "placement.hpp"
#include "transport.hpp"

namespace cano {

namespace {

/// Asks the node actor at `address` to start run `id`; true when it accepted it in time.
bool deliver(caf::actor_system& sys, const std::string& address, const std::string& id, const std::string& definition,
             std::uint32_t version, std::chrono::milliseconds ack_timeout) {
  auto [host, port] = detail::split_address(address);
  caf::scoped_actor self{sys};
  caf::actor peer;
  self->request(detail::transport_of(sys), ack_timeout, caf::connect_atom::value, host, port)
    .receive([&](const caf::node_id&, caf::strong_actor_ptr& whom,
                 const std::set<std::string>&) { peer = caf::actor_cast<caf::actor>(std::move(whom)); },
             [](caf::error&) {});
  if (!peer) {
    return false;
  }
  bool accepted = false;
  self->request(peer, ack_timeout, detail::place_atom::value, id, definition, static_cast<std::uint64_t>(version))
    .receive([&](caf::atom_value answer) { accepted = answer == caf::ok_atom::value; }, [](caf::error&) {});
  return accepted;
}

} // namespace

cluster_client::cluster_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
cluster_client::~cluster_client() = default;

expected<std::unique_ptr<cluster_client>> cluster_client::open(caf::actor_system& sys, PostgresOptions store) {
  if (!sys.has_middleman()) {
    return error::configuration("cano::cluster_client: the actor system has no middleman; call "
                                "cano::node::configure(cfg) before creating it");
  }
  if (store.dsn.empty()) {
    if (const char* env = std::getenv("CANO_PG_DSN")) {
      store.dsn = env;
    }
  }
  auto opened = PostgresCheckpointStore::open(store); // migrates, and reads headers for await
  if (!opened) {
    return opened.error();
  }
  auto p = std::make_unique<impl>(sys);
  p->options = store;
  p->store = *opened;
  return std::make_unique<cluster_client>(std::move(p));
}

pqxx::connection& cluster_client::impl::connection() {
  if (!conn || !conn->is_open()) {
    conn.reset();
    conn = std::make_unique<pqxx::connection>(detail::with_default_connect_timeout(options.dsn));
  }
  return *conn;
}

error cluster_client::impl::database_error(const std::string& what, const std::exception& e) {
  conn.reset();
  return error::checkpoint_store("cano cluster: " + what + ": " + detail::dsn_secrets::of(options.dsn).scrub(e.what()));
}

expected<std::string> cluster_client::impl::submit(const std::string& definition, std::uint32_t version,
                                                   nlohmann::json input, std::string id,
                                                   std::chrono::milliseconds ack_timeout, const local_start& local) {
  if (auto ok = store->check_input(input); !ok) {
    return ok.error(); // refused before anything is placed
  }
  if (id.empty()) {
    id = definition + "-" + detail::random_token().substr(0, 16);
  }
  std::lock_guard<std::mutex> guard(mutex);
  try {
    std::vector<std::string> tried;
    auto target = detail::choose_owner(connection(), definition, version, tried);
    if (!target) {
      // A run of that id may exist anyway (start-or-get answers before anything is placed).
      if (detail::read_result(connection(), id)) {
        return id;
      }
      return error::workflow("no live node serves definition \"" + definition + "\" version " +
                             std::to_string(version));
    }
    if (!detail::place_header(connection(), id, definition, version, input, target->owner)) {
      return id; // it exists: start-or-get
    }
    for (;;) {
      bool accepted = local && target->owner == local.owner
                        ? local.start(id)
                        : deliver(sys, target->address, id, definition, version, ack_timeout);
      if (accepted) {
        return id;
      }
      // Refused or silent: place it elsewhere. Moving it is a claim (fence + 1): a late start by
      // the first node is fenced. Once it started, it stays where it is.
      tried.push_back(target->owner);
      auto next = detail::choose_owner(connection(), definition, version, tried);
      if (!next) {
        return id; // nobody else: it stays placed; the first node may still start it, or a takeover will
      }
      if (!detail::replace_owner(connection(), id, target->owner, next->owner)) {
        return id; // it started after all
      }
      target = next;
    }
  } catch (const std::exception& e) {
    return database_error("submit", e);
  }
}

expected<std::string> cluster_client::submit(const std::string& definition, std::uint32_t version, nlohmann::json input,
                                             std::string workflow_id, std::chrono::milliseconds ack_timeout) {
  return impl_->submit(definition, version, std::move(input), std::move(workflow_id), ack_timeout, {});
}

expected<RunHeader> cluster_client::await_header(const std::string& workflow_id, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto header = impl_->store->run_header(workflow_id);
    if (!header) {
      return header.error();
    }
    if (!*header) {
      return error::workflow("no run with workflow id \"" + workflow_id + "\"");
    }
    if (!is_unfinished((*header)->status)) {
      return std::move(**header);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return error::timeout("run \"" + workflow_id + "\" did not finish in time (status " +
                            to_string((*header)->status) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

expected<void> cluster_client::cancel(const std::string& workflow_id) {
  // A request, not a write into the run: no ownership taken, no fence moved (D8). The owner's
  // runtime asks its store for requests on the runs it owns once per interval.
  return impl_->store->request_cancel(workflow_id);
}

expected<std::vector<node_status>> cluster_client::status(std::optional<std::chrono::seconds> dead_for) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  try {
    std::vector<node_status> out;
    for (const auto& m : detail::read_members(impl_->connection(), dead_for)) {
      // A dead incarnation has no lease left, whatever its row says (it left, or was declared
      // dead before its lease ran out); its lease_until tells when it was last known alive.
      double left = m.state == "dead" ? 0.0 : std::chrono::duration<double>(m.lease_left).count();
      out.push_back({m.node_id, m.incarnation, m.state, m.address, left, m.owned_unfinished});
    }
    return out;
  } catch (const std::exception& e) {
    return impl_->database_error("status", e);
  }
}

expected<std::vector<cluster_flow_status>> cluster_client::flows() {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  try {
    return detail::list_flows(impl_->connection());
  } catch (const std::exception& e) {
    return impl_->database_error("flows", e);
  }
}

expected<std::string> cluster_client::trigger_flow(const std::string& flow_id) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  try {
    return detail::trigger_flow(impl_->connection(), flow_id);
  } catch (const std::exception& e) {
    return impl_->database_error("trigger flow", e);
  }
}

expected<void> cluster_client::reset_flow(const std::string& flow_id) {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  try {
    return detail::reset_flow(impl_->connection(), flow_id);
  } catch (const std::exception& e) {
    return impl_->database_error("reset flow", e);
  }
}

} // namespace cano
