// logger — the engine's side of a log_sink: the runtime's sink, level and node name, and the
// rules every line obeys (secrets masked, error texts cut, a throwing sink ignored).
#pragma once

#include <memory>
#include <string>

#include "cano/log_sink.hpp"

namespace cano::detail {

/// Longest error text a log line carries (bytes; longer ones are cut at a UTF-8 boundary).
constexpr std::size_t max_logged_error = 512;

class logger {
public:
  logger(std::shared_ptr<log_sink> sink, log_level level, std::string node);

  bool enabled(log_level level) const noexcept { return level_ != log_level::off && level >= level_; }
  /// Masks secrets in the message and every field, then hands the record to the sink.
  void write(log_record record) const;
  /// A diagnostic (no event, no fields) at `level`.
  void diagnostic(log_level level, const std::string& message) const;
  /// The name of this process in log lines (runtime_config::node, or the host name).
  const std::string& node() const noexcept { return node_; }

private:
  std::shared_ptr<log_sink> sink_;
  log_level level_;
  std::string node_;
};

/// The logger of code that has no runtime at hand: stderr, level warn.
const std::shared_ptr<const logger>& default_logger();

/// `text` cut to at most `max` bytes at a UTF-8 boundary, with "…" appended when cut.
std::string cut_text(const std::string& text, std::size_t max);

/// This host's name ("localhost" when unknown).
std::string host_name();

} // namespace cano::detail
