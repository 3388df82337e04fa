// An actor system on CAF's test coordinator (`scheduler.policy=testing`) with a cano runtime:
// nothing runs until the test says so, and time moves only when the test moves it. Timers,
// delayed messages and the scheduler's clock all read this virtual time; non-blocking task
// bodies run inline, so a whole scheduled run happens inside `run()`. Blocking bodies would run
// on real pool threads and are not for these tests.
#pragma once

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "cano/runtime.hpp"

namespace test {

struct virtual_system {
  virtual_system() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    coordinator = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    rt = std::make_unique<cano::runtime>(*sys);
  }
  ~virtual_system() {
    run();
    rt.reset();
    run();
    sys.reset();
  }

  /// Runs every queued job (messages included) at the current virtual time.
  void run() { coordinator->run(); }

  /// Moves virtual time forward by `d`, firing every timer due on the way in order and running
  /// what each one causes before the next fires.
  void advance(std::chrono::nanoseconds d) {
    auto& clock = coordinator->clock();
    const auto target = clock.now() + std::chrono::duration_cast<caf::actor_clock::duration_type>(d);
    run();
    while (!clock.schedule().empty() && clock.schedule().begin()->first <= target) {
      clock.trigger_timeout();
      run();
    }
    if (clock.current_time < target) {
      clock.current_time = target;
    }
  }

  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* coordinator = nullptr;
  std::unique_ptr<cano::runtime> rt;
};

} // namespace test
