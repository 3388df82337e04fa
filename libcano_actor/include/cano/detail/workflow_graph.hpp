// The drawing of a workflow definition behind Workflow::to_dot and to_mermaid. Not part of the
// API.
#pragma once

#include <string>

#include "cano/detail/definition.hpp"

namespace cano::detail {

/// Graphviz DOT text of `def`; the same definition gives the same text, byte for byte.
std::string definition_to_dot(const definition& def);
/// Mermaid flowchart text of `def`; deterministic like definition_to_dot.
std::string definition_to_mermaid(const definition& def);

} // namespace cano::detail
