#include "resume_plan.hpp"

#include "format.hpp"

namespace cano::detail {

std::string blob_location(const std::string& workflow_id, std::uint64_t sequence) {
  return " (workflow_id=" + debug_quote(workflow_id) + ", sequence=" + std::to_string(sequence) + ")";
}

expected<resume_plan> plan_resume(const definition& def, const std::string& workflow_id,
                                  const std::vector<CheckpointRow>& rows) {
  if (rows.empty()) {
    return error::checkpoint_store("no checkpoint rows for workflow id " + debug_quote(workflow_id));
  }
  const CheckpointRow* last = &rows.front();
  for (const auto& r : rows) {
    if (r.sequence > last->sequence) {
      last = &r; // the highest sequence of any kind
    }
  }
  if (last->workflow_version != def.version) {
    return error::workflow_version_mismatch(last->workflow_version, def.version);
  }
  resume_plan plan;
  bool found = false;
  for (const auto& kv : def.states) {
    if (def.label(kv.first) == last->state) {
      plan.state = kv.first;
      found = true;
      break;
    }
  }
  for (auto code : def.exit_states) {
    if (!found && def.label(code) == last->state) {
      plan.state = code;
      found = true;
    }
  }
  if (!found) {
    return error::workflow("checkpoint state " + debug_quote(last->state) +
                           " is not a registered or exit state of this workflow");
  }
  plan.last_sequence = last->sequence;
  for (const auto& r : rows) { // ascending: the stack keeps run order, the last cursor wins
    if (r.kind == RowKind::compensation_completion && r.sequence != last->sequence && r.output_blob) {
      plan.stack.push_back({r.task_id, *r.output_blob, r.sequence});
    } else if (r.kind == RowKind::step_cursor && r.output_blob) {
      plan.cursors[r.state] = saved_cursor{*r.output_blob, r.sequence};
    }
  }
  return plan;
}

} // namespace cano::detail
