// The workflow definitions compiled into `cano`: the ones `cano graph` draws and `cano runs
// resume` can drive. Today the demo's order workflow ("orders"); an application embedding cano
// resumes its own runs through runtime::resume, or builds its own copy of this tool with its
// definitions added here.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cano/checkpoint.hpp"
#include "cano/runtime.hpp"

namespace cano_cli {

struct known_definition {
  std::string name;          // Workflow::with_name
  std::uint32_t version = 0; // Workflow::with_workflow_version
  std::string about;         // one line for `cano graph --help` and messages
  std::function<std::string()> dot;
  std::function<std::string()> mermaid;
  /// Resumes run `id` of `store` on `rt` (blocking); what its tasks report goes to `journal`.
  /// Returns the exit state's label, or the run's error.
  std::function<cano::expected<std::string>(cano::runtime& rt, std::shared_ptr<cano::CheckpointStore> store,
                                            const std::string& id, std::ostream& journal)>
    resume;
};

const std::vector<known_definition>& known_definitions();
/// The definition named `name`, or nullptr.
const known_definition* find_definition(const std::string& name);
/// "orders (version 0)", "…": for messages.
std::string known_definition_names();

} // namespace cano_cli
