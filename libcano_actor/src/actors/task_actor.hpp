// The task actor: drives one state's blocking (or timed) work on the engine's pool through an
// attempt_runner — attempts, attempt timeouts, retries, poll/batch calls, stepped cursors — and
// sends the final outcome to its run supervisor.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "../blocking_pool.hpp"
#include "run_context.hpp"

namespace cano::detail {

caf::actor spawn_task_actor(caf::local_actor* supervisor, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool);

} // namespace cano::detail
