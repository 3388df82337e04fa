// How nodes reach each other: CAF's middleman, over TLS when the configuration gives a
// certificate (caf::openssl: TLS 1.2, peers verified against openssl.cafile), plain TCP otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman_actor.hpp>

#include "cano/error.hpp"

namespace cano::detail {

// Between nodes and clients: types every CAF node knows (atoms, strings, integers).
using place_atom = caf::atom_constant<caf::atom("cano_place")>;  // (id, definition, version) → ok | refused
using refused_atom = caf::atom_constant<caf::atom("cano_nope")>; // a draining node takes nothing

/// True when this system's nodes talk TLS (openssl.certificate is set).
bool uses_tls(const caf::actor_system& sys);

/// The middleman actor that connects and publishes: CAF's own, or the openssl manager's.
caf::io::middleman_actor transport_of(caf::actor_system& sys);

/// Publishes `whom` on host:port (port 0: any); returns the port.
expected<std::uint16_t> publish_node_actor(caf::actor_system& sys, const caf::actor& whom, const std::string& host,
                                           std::uint16_t port);

/// "host:port" as its parts (port 0 when there is none).
std::pair<std::string, std::uint16_t> split_address(const std::string& address);

} // namespace cano::detail
