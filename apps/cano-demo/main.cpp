// cano-demo: runs orders through the order workflow on a cano::runtime inside a CAF actor
// system and prints each order's state trail and the observer events.
#include <iostream>
#include <mutex>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "order_workflow.hpp"

namespace {

/// Prints every observer event, prefixed with the order it belongs to where known.
class printing_observer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override { print("enter  " + s); }
  void on_task_start(const std::string& t) override { print("start  " + t); }
  void on_task_success(const std::string& t) override { print("ok     " + t); }
  void on_task_failure(const std::string& t, const cano::error& e) override {
    print("failed " + t + ": " + e.to_string());
  }
  void on_retry(const std::string& t, std::uint32_t attempt) override {
    print("retry  " + t + " after failed attempt " + std::to_string(attempt));
  }

private:
  void print(const std::string& line) {
    std::lock_guard<std::mutex> guard(mutex_);
    std::cout << "    [observer] " << line << '\n';
  }
  std::mutex mutex_;
};

/// Records the trail of states one run went through.
class trail_observer : public cano::WorkflowObserver {
public:
  void on_state_enter(const std::string& s) override {
    std::lock_guard<std::mutex> guard(mutex_);
    trail_.push_back(s);
  }
  std::string take() {
    std::lock_guard<std::mutex> guard(mutex_);
    std::string out;
    for (const auto& s : trail_) {
      out += (out.empty() ? "" : " -> ") + s;
    }
    trail_.clear();
    return out;
  }

private:
  std::mutex mutex_;
  std::vector<std::string> trail_;
};

} // namespace

int main() {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  cano::runtime rt{sys};
  auto trail = std::make_shared<trail_observer>();
  auto wf = demo::order_workflow(/*flaky_failures=*/2)
              .with_observer(std::make_shared<printing_observer>())
              .with_observer(trail);

  struct order {
    std::string id;
    nlohmann::json input;
  };
  std::vector<order> orders{
    {"order-1001", {{"sku", "KB-42"}, {"amount", 59.90}}},
    {"order-1002", {{"sku", "TV-88"}, {"amount", 2499.00}}},
    {"order-1003", {{"sku", "??"}}},
  };
  int failures = 0;
  for (const auto& o : orders) {
    std::cout << "== " << o.id << " " << o.input.dump() << '\n';
    auto end = rt.run(wf, demo::Order::Validate, {o.id, o.input});
    std::cout << "  trail: " << trail->take() << '\n';
    if (end) {
      std::cout << "  result: " << demo::to_string(*end) << "\n\n";
    } else {
      ++failures;
      std::cout << "  result: error: " << end.error_value() << "\n\n";
    }
  }
  std::cout << "cano-demo: " << orders.size() << " orders, " << failures
            << " failed as expected (the order without an amount)\n";
  return failures == 1 ? 0 : 1;
}
