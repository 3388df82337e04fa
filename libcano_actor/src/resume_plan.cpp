#include "resume_plan.hpp"

#include <algorithm>

#include "format.hpp"

namespace cano::detail {

namespace {

constexpr const char supersede_prefix[] = "{\"supersedes\":";

/// The completion sequence an entry row's mark names, if it carries one.
std::optional<std::uint64_t> superseded_by(const CheckpointRow& r) {
  if (r.kind != RowKind::state_entry || !r.output_blob) {
    return std::nullopt;
  }
  std::string text(r.output_blob->begin(), r.output_blob->end());
  const std::string prefix = supersede_prefix;
  if (text.compare(0, prefix.size(), prefix) != 0 || text.back() != '}') {
    return std::nullopt;
  }
  auto digits = text.substr(prefix.size(), text.size() - prefix.size() - 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 19) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

} // namespace

std::vector<std::uint8_t> supersede_mark(std::uint64_t completion_sequence) {
  auto text = std::string(supersede_prefix) + std::to_string(completion_sequence) + "}";
  return {text.begin(), text.end()};
}

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
  auto state = def.state_of(last->state);
  if (!state) {
    return error::workflow("checkpoint state " + debug_quote(last->state) +
                           " is not a registered or exit state of this workflow");
  }
  plan.state = *state;
  plan.last_sequence = last->sequence;
  plan.resume_step = last->sequence;
  std::vector<std::uint64_t> superseded;
  for (const auto& r : rows) {
    if (auto s = superseded_by(r)) {
      superseded.push_back(*s);
    }
  }
  auto is_superseded = [&](std::uint64_t seq) {
    return std::find(superseded.begin(), superseded.end(), seq) != superseded.end();
  };
  if (last->kind == RowKind::compensation_completion && last->output_blob) {
    plan.superseded = last->sequence;
  }
  for (const auto& r : rows) { // ascending: the stack keeps run order, the last cursor wins
    if (r.kind == RowKind::state_entry && r.state == last->state) {
      plan.resume_step = r.sequence; // the latest entry of the resumed state
    }
    if (r.kind == RowKind::compensation_completion && r.sequence != last->sequence && r.output_blob &&
        !is_superseded(r.sequence)) {
      plan.stack.push_back({r.task_id, *r.output_blob, r.sequence});
    } else if (r.kind == RowKind::step_cursor && r.output_blob) {
      plan.cursors[r.state] = saved_cursor{*r.output_blob, r.sequence};
    }
  }
  return plan;
}

resume_start decide_resume(const definition& def, const std::string& workflow_id,
                           const std::vector<CheckpointRow>& rows, std::optional<RunHeader> header,
                           std::optional<state_code> start_if_empty) {
  resume_start out;
  out.header = std::move(header);
  auto refuse = [&](error e) {
    out.how = resume_start::path::refuse;
    out.failure = std::move(e);
    return std::move(out);
  };
  std::uint64_t last_sequence = 0;
  for (const auto& r : rows) {
    last_sequence = std::max(last_sequence, r.sequence);
  }
  if (out.header) {
    const auto& h = *out.header;
    if (h.status == RunStatus::rolled_back) {
      // D6: a run whose compensations ran is never resumed forward.
      return refuse(error::workflow("run " + debug_quote(workflow_id) +
                                    " was rolled back (its compensations ran); it cannot be resumed"));
    }
    if (h.status == RunStatus::compensating) {
      // D7: the rollback goes on where it stopped; no forward state runs again.
      if (!h.rollback) {
        return refuse(error::checkpoint_store("run " + debug_quote(workflow_id) +
                                              " is compensating but its header holds no rollback record"));
      }
      out.how = resume_start::path::drain;
      out.rollback = *h.rollback;
      out.plan.last_sequence = last_sequence;
      return out;
    }
    if (rows.empty() && is_unfinished(h.status) && start_if_empty) {
      // Placed and not started yet (or its start never wrote a row): start it.
      if (auto valid = def.validate_initial_state(*start_if_empty); !valid) {
        return refuse(valid.error());
      }
      out.plan.state = *start_if_empty;
      out.plan.resume_step = 0;
      out.plan.last_sequence = 0;
      out.fresh = true;
      return out;
    }
    if (rows.empty() && is_unfinished(h.status)) {
      // A run whose end was written in two steps by an older version: its log is gone, so it
      // ended, but its final header never landed. Close it instead of failing forever.
      out.how = resume_start::path::close;
      out.failure = error::checkpoint_store("no checkpoint rows for workflow id " + debug_quote(workflow_id) +
                                            " although its header says " + to_string(h.status) +
                                            ": the run ended without its final header; closed as failed");
      return out;
    }
  }
  auto plan = plan_resume(def, workflow_id, rows);
  if (!plan) {
    return refuse(plan.error());
  }
  out.plan = std::move(*plan);
  return out;
}

} // namespace cano::detail
