// log_sink — where the library's log lines go: its diagnostics and one structured line per run
// lifecycle event (started, resumed, compensating, completed, failed, ...).
//
//   struct to_my_logger : cano::log_sink {
//     void write(const cano::log_record& r) override { my_log(r.level, cano::logfmt(r)); }
//   };
//   cano::runtime_config cfg;
//   cfg.log = std::make_shared<to_my_logger>();   // default: stderr ("cano: ..."), as before
//   cfg.log_level = cano::log_level::info;        // default warn: diagnostics only
//
// A record is an event name, a human message and key/value fields (workflow_id, definition,
// state, attempt, node, duration_ms, error, ...). Field values are never a run's input or a task's
// output, error texts are cut at 512 bytes, and anything that looks like a password
// (`password=...` in a conninfo, `user:secret@` in a URI) is masked before a sink sees it.
// <cano/spdlog_log_sink.hpp> (target cano_actor::spdlog) adapts spdlog.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace cano {

enum class log_level : std::uint8_t { trace, debug, info, warn, error, off };

/// "trace", "debug", "info", "warn", "error", "off".
const char* to_string(log_level level) noexcept;
inline std::ostream& operator<<(std::ostream& os, log_level level) { return os << to_string(level); }

/// One key/value of a record. `quoted`: the value is text (logfmt quotes it when needed), not a
/// number.
struct log_field {
  std::string key;
  std::string value;
  bool quoted = true;
};

/// One log line, structured.
struct log_record {
  log_level level = log_level::info;
  /// What happened: "run_started", "run_completed", ...; empty for the engine's diagnostics.
  std::string event;
  /// The human text ("run completed", "observer hook threw (ignored): ...").
  std::string message;
  std::vector<log_field> fields;

  /// The value of field `key`, or nullptr.
  const std::string* field(const std::string& key) const;
};

/// Receives every record at or above the runtime's log_level. Called from engine threads,
/// possibly concurrently: implementations must be thread-safe, quick and must not throw (what
/// they throw is dropped).
class log_sink {
public:
  virtual ~log_sink() = default;
  virtual void write(const log_record& record) = 0;
};

/// `message key=value key="text with spaces" ...`: the message, then the fields as logfmt (text
/// quoted when it holds a space, `=` or `"`, with `"` and `\` escaped), control characters
/// escaped like Rust's Debug so a record is always one line.
std::string logfmt(const log_record& record);

/// The default sink: `cano: ` + logfmt(record), one write per line to stderr.
std::shared_ptr<log_sink> stderr_log_sink();

/// `text` with the secrets a log line must not carry masked as `***`: the values of `password=`
/// (and `pass=`, `secret=`, `token=`) pairs, and the password of `scheme://user:password@host`.
std::string mask_secrets(std::string text);

} // namespace cano
