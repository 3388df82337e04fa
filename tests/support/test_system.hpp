// A CAF actor system and cano runtime for tests: 2 scheduler threads, like the CI machine.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "cano/runtime.hpp"

namespace test {

struct test_system {
  explicit test_system(cano::runtime_config config = {});
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<cano::runtime> rt;
  ~test_system();
};

} // namespace test
