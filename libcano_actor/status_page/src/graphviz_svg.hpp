// Renders a DOT graph to SVG with Graphviz's `dot`, as a child process fed through pipes.
#pragma once

#include <chrono>
#include <string>

#include "cano/error.hpp"

namespace cano::detail {

/// SVG text of `dot_text` made by `dot -Tsvg`, within `limit` (then the child is killed).
/// Errors: `dot` is not on PATH (saying how to install it), it failed (with what it printed), it
/// took too long.
expected<std::string> render_svg(const std::string& dot_text, std::chrono::milliseconds limit);

} // namespace cano::detail
