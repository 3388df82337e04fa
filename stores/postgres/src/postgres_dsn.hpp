// The secrets of a PostgreSQL connection string, and messages rebuilt without them.
//
// libpq's own parser (PQconninfoParse) reads the DSN in both of its forms — key/value
// (`host=h password='p w'`) and URI (`postgresql://u:p%40w@h/db?password=...`) — and gives the
// password as libpq will use it. Its raw spellings in the DSN (quoted, escaped, percent-encoded)
// are found too, since a message may quote the DSN as written. When the DSN cannot be parsed,
// libpq's error quotes fragments of it that may hold the password: every quoted fragment of such
// a message is masked, and so is any part of the DSN that could hold a password — except a
// fragment that is exactly one of the DSN's option names (`invalid connection option "bogus"`),
// which holds no value.
#pragma once

#include <string>
#include <vector>

namespace cano::detail {

/// The libpq `connect_timeout` (seconds) every connection of the stores gets when neither its
/// DSN nor $PGCONNECT_TIMEOUT sets one: a server that accepts TCP but never answers fails the
/// connection instead of hanging it.
inline constexpr int default_connect_timeout_seconds = 10;

/// `dsn` with `connect_timeout=10` added (as a key/value option or a URI query parameter) when it
/// sets none; unchanged when it sets one, when $PGCONNECT_TIMEOUT is set, or when libpq cannot
/// parse it (the connection then fails with libpq's own error).
std::string with_default_connect_timeout(const std::string& dsn);

class dsn_secrets {
public:
  dsn_secrets() = default;
  /// Reads the secrets of `dsn` (never fails: an unparseable DSN is remembered as such).
  static dsn_secrets of(const std::string& dsn);

  /// `message` with every secret replaced by `***` (and, when the DSN could not be parsed, every
  /// double-quoted fragment replaced by `"***"`).
  std::string scrub(std::string message) const;

  /// False when libpq could not parse the DSN.
  bool parsed() const noexcept { return parsed_; }

  /// A span of the DSN as written.
  struct range {
    std::size_t start = 0;
    std::size_t size = 0;
  };

private:
  /// True when `fragment` appears in the DSN over a span that may hold the password.
  bool overlaps_range(const std::string& fragment) const;

  std::string dsn_;
  std::vector<range> ranges_;        // where the DSN may spell a password
  std::vector<std::string> secrets_; // every spelling of it, longest first
  std::vector<std::string> keys_;    // the option names of a key/value DSN, as written
  bool parsed_ = true;
};

} // namespace cano::detail
