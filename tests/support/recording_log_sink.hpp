// A log sink that keeps every record, for tests of what the library logs.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "cano/log_sink.hpp"

namespace test {

class recording_log_sink : public cano::log_sink {
public:
  void write(const cano::log_record& r) override {
    std::lock_guard<std::mutex> g(mutex_);
    records_.push_back(r);
  }
  std::vector<cano::log_record> records() const {
    std::lock_guard<std::mutex> g(mutex_);
    return records_;
  }
  /// The records of one event ("run_started", ...), in order.
  std::vector<cano::log_record> of(const std::string& event) const {
    std::vector<cano::log_record> out;
    for (auto& r : records()) {
      if (r.event == event) {
        out.push_back(r);
      }
    }
    return out;
  }
  /// Every record as its logfmt line.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (auto& r : records()) {
      out.push_back(cano::logfmt(r));
    }
    return out;
  }
  /// True when some line contains `text`.
  bool mentions(const std::string& text) const {
    for (auto& l : lines()) {
      if (l.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  /// The value of `key` in `r`, or "<absent>".
  static std::string field(const cano::log_record& r, const std::string& key) {
    auto v = r.field(key);
    return v == nullptr ? "<absent>" : *v;
  }

private:
  mutable std::mutex mutex_;
  std::vector<cano::log_record> records_;
};

} // namespace test
