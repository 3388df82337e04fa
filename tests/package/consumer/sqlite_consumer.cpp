// Durable runs through cano_actor::sqlite, found by find_package(cano_actor COMPONENTS sqlite).
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

#include <cano/sqlite_checkpoint_store.hpp>

#include "durable_consumer.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sqlite_consumer <database file>\n";
    return 2;
  }
  std::string path = argv[1];
  auto open = [&path]() -> std::shared_ptr<cano::CheckpointStore> {
    auto store = cano::SqliteCheckpointStore::open(path);
    if (!store) {
      std::cerr << "sqlite consumer: " << store.error() << "\n";
      return nullptr;
    }
    return *store;
  };
  auto store = open();
  if (!store) {
    return 1;
  }
  return consumer::run_durable("sqlite", store, open, "sqlite-consumer-" + std::to_string(getpid()));
}
