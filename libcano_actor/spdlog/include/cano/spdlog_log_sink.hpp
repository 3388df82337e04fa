// spdlog_log_sink — cano's log lines through an spdlog logger (target cano_actor::spdlog).
//
//   auto logger = spdlog::stdout_color_mt("cano");
//   cano::runtime_config cfg;
//   cfg.log = std::make_shared<cano::spdlog_log_sink>(logger);
//   cfg.log_level = cano::log_level::info;     // lifecycle lines too
//
// Levels map one to one (trace, debug, info, warn, error); the text is cano::logfmt(record):
// the message, then key=value fields (workflow_id, definition, state, attempt, node, ...). The
// runtime's log_level filters first, then the logger's own level.
#pragma once

#include <memory>
#include <stdexcept>
#include <utility>

#include <spdlog/logger.h>

#include "cano/log_sink.hpp"

namespace cano {

class spdlog_log_sink final : public log_sink {
public:
  /// Throws std::invalid_argument for a null logger.
  explicit spdlog_log_sink(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {
    if (!logger_) {
      throw std::invalid_argument("spdlog_log_sink: the logger is null");
    }
  }

  void write(const log_record& record) override {
    if (record.level == log_level::off) {
      return;
    }
    logger_->log(level_of(record.level), "{}", logfmt(record));
  }

  const std::shared_ptr<spdlog::logger>& logger() const noexcept { return logger_; }

  static spdlog::level::level_enum level_of(log_level level) noexcept {
    switch (level) {
      case log_level::trace: return spdlog::level::trace;
      case log_level::debug: return spdlog::level::debug;
      case log_level::info: return spdlog::level::info;
      case log_level::warn: return spdlog::level::warn;
      case log_level::error: return spdlog::level::err;
      case log_level::off: return spdlog::level::off;
    }
    return spdlog::level::info;
  }

private:
  std::shared_ptr<spdlog::logger> logger_;
};

} // namespace cano
