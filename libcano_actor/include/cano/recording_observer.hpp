// RecordingObserver — an observer that records every hook as a string ("state_enter:Start",
// "checkpoint:order-42:3", "cancelled:Ship", "workflow_timeout:50ms", ...), for applications'
// tests.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "cano/observer.hpp"

namespace cano {

class RecordingObserver : public WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override { add("state_enter:" + s); }
  void on_task_start(const std::string& t) override { add("task_start:" + t); }
  void on_task_success(const std::string& t) override { add("task_success:" + t); }
  void on_task_failure(const std::string& t, const error&) override { add("task_failure:" + t); }
  void on_retry(const std::string& t, std::uint32_t a) override { add("retry:" + t + ":" + std::to_string(a)); }
  void on_circuit_open(const std::string& t) override { add("circuit_open:" + t); }
  void on_checkpoint(const std::string& id, std::uint64_t seq) override {
    add("checkpoint:" + id + ":" + std::to_string(seq));
  }
  void on_resume(const std::string& id, std::uint64_t seq) override { add("resume:" + id + ":" + std::to_string(seq)); }
  /// "workflow_timeout:<limit in ms>ms" (the elapsed time varies from run to run).
  void on_workflow_timeout(std::chrono::nanoseconds, std::chrono::nanoseconds limit) override {
    add("workflow_timeout:" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) +
        "ms");
  }
  void on_cancelled(const std::string& s) override { add("cancelled:" + s); }

  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> g(mutex_);
    return events_;
  }
  bool contains(const std::string& event) const {
    for (auto& e : events()) {
      if (e == event) {
        return true;
      }
    }
    return false;
  }
  /// Only the events starting with `prefix` (e.g. "checkpoint:").
  std::vector<std::string> events_with(const std::string& prefix) const {
    std::vector<std::string> out;
    for (auto& e : events()) {
      if (e.rfind(prefix, 0) == 0) {
        out.push_back(e);
      }
    }
    return out;
  }

private:
  void add(std::string e) {
    std::lock_guard<std::mutex> g(mutex_);
    events_.push_back(std::move(e));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> events_;
};

} // namespace cano
