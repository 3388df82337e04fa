// Which store a `cano` command works on (--store or CANO_STORE), opened without creating
// anything and without taking a driver lock (ARCHITECTURE D8), and how its password is kept out
// of every line the tool prints.
//
//   auto spec = parse_store_spec("postgres:host=db user=ops password=s3cret");
//   auto store = open_store(*spec, store_access::read); // errors already scrubbed of "s3cret"
#pragma once

#include <memory>
#include <string>

#include "cano/checkpoint.hpp"

namespace cano_cli {

struct store_spec {
  enum class kind { sqlite, postgres };
  kind type = kind::sqlite;
  std::string target; // the SQLite path, or the libpq connection string (key/value or URI)
  std::string shown;  // how messages name the store: the password replaced by ***
};

/// `sqlite:PATH`, `postgres:DSN`, or a libpq URI (postgres://... / postgresql://...). Errors name
/// what is wrong without repeating a password.
cano::expected<store_spec> parse_store_spec(const std::string& text);

/// `text` with the spec's password replaced by ***, in every spelling (the library's masking:
/// cano::mask_dsn_password).
std::string scrub(std::string text, const store_spec& spec);

/// What a command does with the store: reading commands (list, show) never write, not even a
/// migration, so they work for a role that may only SELECT and leave an empty database empty.
enum class store_access { read, write };

/// Opens the store for a command: SQLite without creating a missing file, PostgreSQL with a
/// short retry deadline; for `read`, read-only (no migration: a missing or older schema is an
/// error saying so). The error's message is scrubbed and names the store as `shown`.
cano::expected<std::shared_ptr<cano::CheckpointStore>> open_store(const store_spec& spec, store_access access);

} // namespace cano_cli
