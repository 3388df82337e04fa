// Where the PostgreSQL tests find their server: CANO_PG_DSN (set by scripts/test.sh). Without
// it the tests are skipped — unless CANO_REQUIRE_PG=1, when they run and fail loudly.
#pragma once

#include <cstdlib>
#include <random>
#include <string>

#include <boost/test/unit_test.hpp>

namespace test {

inline std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

inline std::string pg_dsn() { return env_or_empty("CANO_PG_DSN"); }

/// The server that tests may stop and restart (CANO_PG_FAULT_DSN; controlled through the
/// command in CANO_PG_FAULT_CTL), apart from the one every other test shares.
inline std::string pg_fault_dsn() { return env_or_empty("CANO_PG_FAULT_DSN"); }

/// Boost.Test precondition: run when a server is configured or required.
struct postgres_configured {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    if (!pg_dsn().empty() || env_or_empty("CANO_REQUIRE_PG") == "1") {
      return true;
    }
    boost::test_tools::assertion_result r(false);
    r.message() << "CANO_PG_DSN is not set (scripts/test.sh starts a server and sets it)";
    return r;
  }
};

/// A workflow id no other test (or earlier run of this one) uses.
inline std::string unique_id(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + "-" + std::to_string(rng());
}

} // namespace test
