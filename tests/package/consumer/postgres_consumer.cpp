// Durable runs through cano_actor::postgres, found by find_package(cano_actor COMPONENTS
// postgres). The server is the one $CANO_PG_DSN names.
#include <iostream>
#include <string>

#include <unistd.h>

#include <cano/postgres_checkpoint_store.hpp>

#include "durable_consumer.hpp"

int main() {
  auto open = []() -> std::shared_ptr<cano::CheckpointStore> {
    auto store = cano::PostgresCheckpointStore::open(); // $CANO_PG_DSN
    if (!store) {
      std::cerr << "postgres consumer: " << store.error() << "\n";
      return nullptr;
    }
    return *store;
  };
  auto store = open();
  if (!store) {
    return 1;
  }
  return consumer::run_durable("postgres", store, open, "postgres-consumer-" + std::to_string(getpid()));
}
