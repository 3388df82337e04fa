// The join actor: runs the branches of one split state — at most `bulkhead` at a time, each
// with its own retry policy — collects their outcomes under the join strategy, stops the losers
// when the strategy decides early or the join times out, and reports the join state (or the
// failure) to its run supervisor.
//
// Where branches run: blocking ones (and timed ones) on the engine's pool, driven from here.
// Non-blocking ones either inline here (cheap ones: a child actor would cost more than it
// saves) or on branch actors, one per branch, spread over every scheduler thread (expensive
// ones, and, until their cost is known, those of a split with a join timeout, so that the join
// stays free to act on it). The cost is learned per split state, from the inline runs (at 1, 2,
// 4, ... branches) and from the branch actors' reports. Once the join timeout or the run's
// deadline has passed, no branch starts any more, here or on a branch actor.
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
