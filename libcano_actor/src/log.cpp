#include "log.hpp"

#include <cstdio>

#include "format.hpp"

namespace cano::detail {
void log_error(const std::string& line) {
  // Escaped, so a NUL never cuts the line, a newline never splits it and no terminal control
  // sequence reaches the reader; written at once, so concurrent lines do not interleave.
  std::string out = "cano: " + escape_controls(line) + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
}
} // namespace cano::detail
