// The durable workloads: linear10 with a PostgreSQL or SQLite checkpoint store at a given
// number of runs in flight, next to the raw ceiling of the same database (one connection, one
// transaction per 100 rows of one prepared multi-row INSERT) measured in the same process.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cano/checkpoint.hpp"

namespace bench {

/// Rows per second the database takes through the raw path.
nlohmann::json pg_raw_ceiling(double seconds);
nlohmann::json sqlite_raw_ceiling(const std::string& path, double seconds);

/// linear10 with `store`, `in_flight` runs at once; adds rows_per_sec, rows_per_commit and the
/// p50/p99 latency from a run sending a row to its acknowledgement.
nlohmann::json measure_durable(const std::string& name, std::shared_ptr<cano::CheckpointStore> store,
                               std::size_t in_flight, double seconds);

/// A temp dir for SQLite files, removed when the process ends.
std::string bench_temp_dir();

} // namespace bench
