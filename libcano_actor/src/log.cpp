#include "log.hpp"

#include "logger.hpp"

namespace cano::detail {
void log_error(const std::string& line) { default_logger()->diagnostic(log_level::error, line); }
} // namespace cano::detail
