// The engine's own diagnostics where no runtime is at hand (CAF's logger is compiled out in
// Debian's build). Code with a runtime writes through its logger (logger.hpp) instead.
#pragma once

#include <string>

namespace cano::detail {
/// Writes one error line through the default logger: stderr, "cano: " then the line, its control
/// characters escaped like Rust's Debug (a NUL never cuts it, a newline never splits it).
void log_error(const std::string& line);
} // namespace cano::detail
