// `cano graph NAME --format dot|mermaid|svg`: a compiled-in definition drawn by
// Workflow::to_dot / to_mermaid; SVG through Graphviz.
#include <fstream>
#include <ostream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "graphviz.hpp"
#include "known_definitions.hpp"

namespace cano_cli {

int graph(std::ostream& out, std::ostream& err, const std::string& name, const std::string& format,
          const std::string& output) {
  const auto* def = find_definition(name);
  if (def == nullptr) {
    err << "cano: no definition \"" << name << "\" in this binary; it has " << known_definition_names() << "\n";
    return exit_not_found;
  }
  std::string text;
  if (format == "dot") {
    text = def->dot();
  } else if (format == "mermaid") {
    text = def->mermaid();
  } else {
    auto svg = render_svg(def->dot());
    if (!svg) {
      err << "cano: " << svg.error().message() << "\n";
      return exit_failed;
    }
    text = std::move(*svg);
  }
  if (output.empty()) {
    out << text;
    return exit_ok;
  }
  std::ofstream file(output, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    err << "cano: cannot write " << output << "\n";
    return exit_failed;
  }
  return exit_ok;
}

} // namespace cano_cli
