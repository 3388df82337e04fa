// The task actor: drives one state's blocking task on the engine's pool — attempts, attempt
// timeouts, retries with their delays — and sends the final outcome to its run supervisor.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "../blocking_pool.hpp"
#include "run_context.hpp"

namespace cano::detail {

caf::actor spawn_task_actor(caf::actor_system& sys, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool, caf::actor supervisor);

} // namespace cano::detail
