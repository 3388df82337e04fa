// A cluster client in a test: its own actor system with CAF's middleman, optionally with TLS.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/cluster.hpp"

namespace test {

/// An actor system with CAF's middleman (as cano::node::configure sets it up) and a client.
struct client_side {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<cano::cluster_client> client;
  explicit client_side(const std::vector<std::pair<std::string, std::string>>& tls = {}) {
    cfg.set("scheduler.max-threads", 2);
    cano::node::configure(cfg);
    for (const auto& [k, v] : tls) {
      if (k == "cert") {
        cfg.openssl_certificate = v;
      } else if (k == "key") {
        cfg.openssl_key = v;
      } else if (k == "ca") {
        cfg.openssl_cafile = v;
      }
    }
    BOOST_REQUIRE(cano::node::configure_tls(cfg).has_value());
    sys = std::make_unique<caf::actor_system>(cfg);
    auto c = cano::cluster_client::open(*sys, cano::PostgresOptions{});
    BOOST_REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().to_string()));
    client = std::move(*c);
  }
  ~client_side() {
    client.reset();
    sys.reset();
  }
};

} // namespace test
