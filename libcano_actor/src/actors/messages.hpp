// Messages between the engine's actors. They never leave the process, so they are whitelisted
// as unsafe (not serializable) message types instead of being announced.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "../attempt_runner.hpp"
#include "../engine.hpp"
#include "cano/actor_api.hpp"

namespace cano::detail {

using start_run_atom = caf::atom_constant<caf::atom("cano_start")>; // an idle supervisor's next run
using step_atom = caf::atom_constant<caf::atom("cano_step")>;       // (run id) continue the FSM
using resources_atom = caf::atom_constant<caf::atom("cano_res")>;   // (run id) setup/teardown finished
using task_done_atom = caf::atom_constant<caf::atom("cano_tdone")>; // a task/join actor's result
// Messages to a supervisor that name a run carry its run id: a recycled supervisor drops those
// of its earlier runs.
using run_timeout_atom = caf::atom_constant<caf::atom("cano_rto")>;   // (run id) workflow timeout fired
using drop_atom = caf::atom_constant<caf::atom("cano_drop")>;         // (run id) shutdown drops the run
using cancel_atom = caf::atom_constant<caf::atom("cano_cncl")>;       // (run id) cancel the run (§4.3)
using total_timeout_atom = caf::atom_constant<caf::atom("cano_tto")>; // (run id) the total timeout's timer
using join_timeout_atom = caf::atom_constant<caf::atom("cano_jto")>;  // a split's timeout fired
using launch_atom = caf::atom_constant<caf::atom("cano_more")>;       // start more split branches
using branch_done_atom = caf::atom_constant<caf::atom("cano_bdone")>; // a branch actor's outcome

// Runner messages: (tag, attempt seq, ...) — the tag picks the runner inside its host.
using call_done_atom = caf::atom_constant<caf::atom("cano_cdone")>;  // a pool call returned
using call_due_atom = caf::atom_constant<caf::atom("cano_cdue")>;    // a delayed call is due
using att_timeout_atom = caf::atom_constant<caf::atom("cano_atto")>; // attempt_timeout fired
using retry_atom = caf::atom_constant<caf::atom("cano_retry")>;      // a retry delay elapsed

// Checkpoint actor messages.
using ckpt_write_atom = caf::atom_constant<caf::atom("cano_ckw")>; // request (write) → outcome
using ckpt_stop_atom = caf::atom_constant<caf::atom("cano_cks")>;
using loaded_atom = caf::atom_constant<caf::atom("cano_load")>;   // (run id) resume data loaded
using comp_done_atom = caf::atom_constant<caf::atom("cano_cdn")>; // a compensate returned
using comp_timeout_atom = caf::atom_constant<caf::atom("cano_cto")>;

/// The final outcome of a join actor, for its run supervisor.
struct work_outcome {
  expected<step_result> value;
};
using work_outcome_ptr = std::shared_ptr<work_outcome>;
using void_result_ptr = std::shared_ptr<expected<void>>;
/// A write on its way to the checkpoint actor, stamped when it was sent (for latency figures).
struct queued_write {
  CheckpointWrite write;
  std::chrono::steady_clock::time_point sent;
};
using write_ptr = std::shared_ptr<const queued_write>;

/// What a resumed run needs from its store: its rows and its header.
struct resume_data {
  expected<std::vector<CheckpointRow>> rows = std::vector<CheckpointRow>{};
  expected<std::optional<RunHeader>> header = std::optional<RunHeader>{};
};
using resume_data_ptr = std::shared_ptr<resume_data>;

} // namespace cano::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::call_result_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::work_outcome_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::void_result_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::write_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::resume_data_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<cano::detail::engine>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cano::detail::run_spec)
