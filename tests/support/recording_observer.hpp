// An observer that records every hook as "hook:arg[:arg]" strings, thread-safely.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "cano/observer.hpp"

namespace test {

class recording_observer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override { add("state_enter:" + s); }
  void on_task_start(const std::string& t) override { add("task_start:" + t); }
  void on_task_success(const std::string& t) override { add("task_success:" + t); }
  void on_task_failure(const std::string& t, const cano::error&) override {
    add("task_failure:" + t);
  }
  void on_retry(const std::string& t, std::uint32_t a) override {
    add("retry:" + t + ":" + std::to_string(a));
  }
  void on_circuit_open(const std::string& t) override { add("circuit_open:" + t); }
  void on_checkpoint(const std::string& id, std::uint64_t seq) override {
    add("checkpoint:" + id + ":" + std::to_string(seq));
  }
  void on_resume(const std::string& id, std::uint64_t seq) override {
    add("resume:" + id + ":" + std::to_string(seq));
  }

  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> g(m_);
    return events_;
  }
  bool contains(const std::string& e) const {
    auto ev = events();
    return std::find(ev.begin(), ev.end(), e) != ev.end();
  }

private:
  void add(std::string e) {
    std::lock_guard<std::mutex> g(m_);
    events_.push_back(std::move(e));
  }
  mutable std::mutex m_;
  std::vector<std::string> events_;
};

} // namespace test
