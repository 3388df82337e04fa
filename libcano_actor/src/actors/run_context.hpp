// What every actor of one run shares: the definition, the run's id and input, its stop flag.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cano/detail/definition.hpp"

namespace cano::detail {

struct run_context {
  std::shared_ptr<const definition> def;
  std::string workflow_id;
  nlohmann::json input; // set before any task runs (a resumed run reads it from its header)
};

} // namespace cano::detail
