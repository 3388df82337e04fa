// Run headers and first writes for store tests, built field by field (RunHeader grows with the
// schema).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cano/checkpoint.hpp"

namespace test {

inline cano::RunHeader make_header(std::string id, std::string definition, std::uint32_t version, nlohmann::json input,
                                   cano::RunStatus status, std::chrono::system_clock::time_point created = {},
                                   std::chrono::system_clock::time_point updated = {}) {
  cano::RunHeader h;
  h.workflow_id = std::move(id);
  h.definition = std::move(definition);
  h.workflow_version = version;
  h.input = std::move(input);
  h.status = status;
  h.created_at = created;
  h.updated_at = updated;
  return h;
}

/// The write that starts run `id` of `definition` at `version`: its first row (state Start, task
/// `task`) and a running header, created now.
inline cano::CheckpointWrite first_write(const std::string& id, const std::string& definition,
                                         std::uint32_t version = 0, const std::string& task = "t") {
  cano::CheckpointWrite w;
  w.workflow_id = id;
  w.create = true;
  w.row = cano::CheckpointRow(0, "Start", task).with_workflow_version(version);
  auto now = std::chrono::system_clock::now();
  w.header = make_header(id, definition, version, nullptr, cano::RunStatus::running, now, now);
  w.header->attempts = 1;
  return w;
}

} // namespace test
