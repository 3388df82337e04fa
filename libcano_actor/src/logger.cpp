#include "logger.hpp"

#include <unistd.h>

namespace cano::detail {

logger::logger(std::shared_ptr<log_sink> sink, log_level level, std::string node)
  : sink_(sink ? std::move(sink) : stderr_log_sink()),
    level_(level),
    node_(node.empty() ? host_name() : std::move(node)) {}

void logger::write(log_record record) const {
  if (!enabled(record.level)) {
    return;
  }
  record.message = mask_secrets(std::move(record.message));
  for (auto& f : record.fields) {
    if (f.quoted) {
      f.value = mask_secrets(std::move(f.value));
    }
  }
  try {
    sink_->write(record);
  } catch (...) {
    // A sink that throws loses its line; the engine goes on.
  }
}

void logger::diagnostic(log_level level, const std::string& message) const {
  if (!enabled(level)) {
    return;
  }
  log_record r;
  r.level = level;
  r.message = message;
  write(std::move(r));
}

const std::shared_ptr<const logger>& default_logger() {
  static const std::shared_ptr<const logger> instance =
    std::make_shared<const logger>(stderr_log_sink(), log_level::warn, host_name());
  return instance;
}

std::string cut_text(const std::string& text, std::size_t max) {
  if (text.size() <= max) {
    return text;
  }
  auto end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end; // never split a UTF-8 sequence
  }
  return text.substr(0, end) + "…";
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
    return "localhost";
  }
  return buf;
}

} // namespace cano::detail
