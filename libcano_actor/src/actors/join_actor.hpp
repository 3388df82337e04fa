// The join actor: runs the branches of one split state — at most `bulkhead` at a time, each
// with its own retry policy — collects their outcomes under the join strategy, stops the losers
// when the strategy decides early or the join times out, and reports the join state (or the
// failure) to its run supervisor.
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "../blocking_pool.hpp"
#include "run_context.hpp"

namespace cano::detail {

caf::actor spawn_join_actor(caf::local_actor* supervisor, std::shared_ptr<const run_context> ctx,
                            std::shared_ptr<const state_entry> entry, std::string label,
                            std::shared_ptr<blocking_pool> pool);

} // namespace cano::detail
