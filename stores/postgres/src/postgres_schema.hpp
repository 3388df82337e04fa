// The PostgreSQL schema as numbered migrations, applied once under an advisory lock.
#pragma once

#include <pqxx/pqxx>

namespace cano::detail {

/// Applies the migrations not yet recorded in cano_schema_migrations; returns the version.
/// Safe when many processes call it at the same moment (one transaction-scoped advisory lock).
int apply_postgres_migrations(pqxx::connection& conn);

} // namespace cano::detail
