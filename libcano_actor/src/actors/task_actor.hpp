// The task actor: drives one state's blocking (or timed) work on the engine's pool through an
// attempt_runner — attempts, attempt timeouts, retries, poll/batch calls, stepped cursors — and
// sends the final outcome to its run supervisor. With a checkpoint store, each stepped cursor is
// sent to the supervisor (the owner of the run's sequence) and the next step waits for its row.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <nlohmann/json.hpp>

#include "../blocking_pool.hpp"
#include "run_context.hpp"

namespace cano::detail {

caf::actor spawn_task_actor(caf::local_actor* supervisor, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool, nlohmann::json cursor,
                            bool checkpoint_cursors, task_context::step_id step);

} // namespace cano::detail
