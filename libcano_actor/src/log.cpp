#include "log.hpp"

#include <cstdio>

namespace cano::detail {
void log_error(const std::string& line) {
  std::fprintf(stderr, "cano: %s\n", line.c_str());
}
} // namespace cano::detail
