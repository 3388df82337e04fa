// The store a saga_worker process runs against in a crash or cancel test: how the worker is told
// which one (kind and file), and a store the test opens to look at it.
#pragma once

#include <memory>
#include <string>

#include "cano/postgres_checkpoint_store.hpp"
#include "cano/sqlite_checkpoint_store.hpp"

namespace test {

struct target {
  std::string kind; // sqlite | postgres
  std::string file; // the SQLite file, or "-"
  std::shared_ptr<cano::CheckpointStore> open() const {
    if (kind == "sqlite") {
      return *cano::SqliteCheckpointStore::open(file);
    }
    return *cano::PostgresCheckpointStore::open();
  }
};

} // namespace test
