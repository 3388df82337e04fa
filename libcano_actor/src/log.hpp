// The engine's own diagnostics (CAF's logger is compiled out in Debian's build).
#pragma once

#include <string>

namespace cano::detail {
/// Writes one line to stderr, prefixed "cano: ", its control characters escaped like Rust's
/// Debug (a NUL never cuts it, a newline never splits it).
void log_error(const std::string& line);
} // namespace cano::detail
