// Which store a `cano` command works on (--store or CANO_STORE), opened without creating
// anything and without taking a driver lock (ARCHITECTURE D8), and how its password is kept out
// of every line the tool prints.
//
//   auto spec = parse_store_spec("postgres:host=db user=ops password=s3cret");
//   auto store = open_store(*spec);          // errors already scrubbed of "s3cret"
#pragma once

#include <memory>
#include <string>

#include "cano/checkpoint.hpp"

namespace cano_cli {

struct store_spec {
  enum class kind { sqlite, postgres };
  kind type = kind::sqlite;
  std::string target;   // the SQLite path, or the libpq connection string (key/value or URI)
  std::string password; // the DSN's password, if it has one (to scrub)
  std::string shown;    // how messages name the store: the password replaced by ***
};

/// `sqlite:PATH`, `postgres:DSN`, or a libpq URI (postgres://... / postgresql://...). Errors name
/// what is wrong without repeating a password.
cano::expected<store_spec> parse_store_spec(const std::string& text);

/// The password of a libpq connection string in key/value form (password=... or
/// password='...') or URI form (user:password@ or ?password=), as written; empty when none.
std::string dsn_password(const std::string& dsn);

/// `text` with every occurrence of the spec's password (as written and percent-decoded)
/// replaced by ***.
std::string scrub(std::string text, const store_spec& spec);

/// Opens the store for a command: SQLite without creating a missing file, PostgreSQL with a
/// short retry deadline. The error's message is scrubbed and names the store as `shown`.
cano::expected<std::shared_ptr<cano::CheckpointStore>> open_store(const store_spec& spec);

} // namespace cano_cli
