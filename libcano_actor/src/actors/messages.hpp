// Messages between the engine's actors. They never leave the process, so they are whitelisted
// as unsafe (not serializable) message types instead of being announced.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "../attempt_loop.hpp"
#include "cano/actor_api.hpp"

namespace cano::detail {

using step_atom = caf::atom_constant<caf::atom("cano_step")>;         // continue the FSM
using retry_atom = caf::atom_constant<caf::atom("cano_retry")>;       // a retry delay elapsed
using resources_atom = caf::atom_constant<caf::atom("cano_res")>;     // setup/teardown finished
using task_done_atom = caf::atom_constant<caf::atom("cano_tdone")>;   // a task actor's result
using attempt_atom = caf::atom_constant<caf::atom("cano_att")>;       // a pool attempt finished
using att_timeout_atom = caf::atom_constant<caf::atom("cano_atto")>;  // attempt_timeout fired
using run_timeout_atom = caf::atom_constant<caf::atom("cano_rto")>;   // workflow timeout fired
using drop_atom = caf::atom_constant<caf::atom("cano_drop")>;         // shutdown drops the run

using outcome_ptr = std::shared_ptr<attempt_outcome>;
using void_result_ptr = std::shared_ptr<expected<void>>;

} // namespace cano::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::outcome_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::void_result_ptr)
