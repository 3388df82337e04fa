// The PostgreSQL schema as numbered migrations, applied once under an advisory lock.
#pragma once

#include <pqxx/pqxx>

namespace cano::detail {

/// Applies the migrations not yet recorded in cano_schema_migrations; returns the version.
/// Safe when many processes call it at the same moment (one transaction-scoped advisory lock).
int apply_postgres_migrations(pqxx::connection& conn);

/// The schema version of the database, for a reader that must not write: throws
/// std::runtime_error "no cano schema in this database (nothing has run here)" when there is
/// none, and one naming the first missing migration when it is older than readers need (an
/// older schema that has what reading uses is read as it is).
int check_postgres_schema(pqxx::connection& conn);

} // namespace cano::detail
