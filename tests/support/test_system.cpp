#include "support/test_system.hpp"

namespace test {

test_system::test_system(cano::runtime_config config) {
  cfg.set("scheduler.max-threads", 2);
  sys = std::make_unique<caf::actor_system>(cfg);
  rt = std::make_unique<cano::runtime>(*sys, config);
}

test_system::~test_system() {
  rt.reset(); // runs end before the actor system goes away
  sys.reset();
}

} // namespace test
