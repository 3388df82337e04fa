// Rendering DOT text to SVG with Graphviz's `dot`, when it is installed (Debian: graphviz).
#pragma once

#include <string>

#include "cano/error.hpp"

namespace cano_cli {

/// The path of `program` on $PATH, or empty.
std::string find_on_path(const std::string& program);

/// SVG text of `dot_text`, made by `dot -Tsvg` (at most 60 s). Errors: dot not found (saying how
/// to install it), dot failing (with what it printed).
cano::expected<std::string> render_svg(const std::string& dot_text);

} // namespace cano_cli
