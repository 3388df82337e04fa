// Run headers for store tests, built field by field (RunHeader grows with the schema).
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

} // namespace test
