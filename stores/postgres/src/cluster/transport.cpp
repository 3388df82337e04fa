#include "transport.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

namespace cano::detail {

bool uses_tls(const caf::actor_system& sys) {
  return !sys.config().openssl_certificate.empty() && sys.has_openssl_manager();
}

caf::io::middleman_actor transport_of(caf::actor_system& sys) {
  return uses_tls(sys) ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
}

expected<std::uint16_t> publish_node_actor(caf::actor_system& sys, const caf::actor& whom, const std::string& host,
                                           std::uint16_t port) {
  auto published = uses_tls(sys) ? caf::openssl::publish(whom, port, host.c_str(), true)
                                 : sys.middleman().publish(whom, port, host.c_str(), true);
  if (!published) {
    return error::configuration("cano::node: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                sys.render(published.error()));
  }
  return *published;
}

std::pair<std::string, std::uint16_t> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return {address, 0};
  }
  try {
    return {address.substr(0, colon), static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))};
  } catch (const std::exception&) {
    return {address, 0};
  }
}

} // namespace cano::detail
