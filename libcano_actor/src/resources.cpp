#include "cano/resources.hpp"

#include <ostream>
#include <stdexcept>

#include "log.hpp"
#include "user_code.hpp"

namespace cano {

std::ostream& operator<<(std::ostream& os, const HealthStatus& h) {
  switch (h.status()) {
    case HealthStatus::kind::healthy: return os << "Healthy";
    case HealthStatus::kind::degraded: return os << "Degraded(\"" << h.reason() << "\")";
    case HealthStatus::kind::unhealthy: return os << "Unhealthy(\"" << h.reason() << "\")";
  }
  return os;
}

void Resources::throw_duplicate() {
  throw std::invalid_argument(
    "duplicate resource key inserted into Resources; use try_insert to handle duplicates as Result");
}

expected<void> Resources::setup_all() {
  for (std::size_t i = 0; i < order_.size(); ++i) {
    // A setup that throws fails like one that returns an error: what was set up is torn down.
    auto r = detail::call_guarded(
      [&] { return order_[i]->setup(); },
      [](const std::string& text) -> expected<void> { return error::generic("resource setup threw: " + text); });
    if (!r) {
      teardown_range(i); // roll back what was set up, newest first; i itself is not torn down
      return r;
    }
  }
  return {};
}

void Resources::teardown_range(std::size_t end) {
  for (std::size_t i = end; i > 0; --i) {
    auto r = detail::call_guarded(
      [&] { return order_[i - 1]->teardown(); },
      [](const std::string& text) -> expected<void> { return error::generic("teardown threw: " + text); });
    if (!r) {
      detail::log_error("resource teardown error: " + r.error().to_string());
    }
  }
}

void Resources::teardown_all() { teardown_range(order_.size()); }

std::vector<std::string> Resources::keys_in_order() const {
  std::vector<std::string> keys(order_.size());
  for (const auto& [key, e] : entries_) {
    keys[e.lifecycle_index] = key;
  }
  return keys;
}

std::map<std::string, HealthStatus> Resources::check_all_health() {
  std::map<std::string, HealthStatus> out;
  auto keys = keys_in_order();
  for (std::size_t i = 0; i < order_.size(); ++i) {
    out.emplace(keys[i], order_[i]->health());
  }
  return out;
}

HealthStatus Resources::aggregate_health() {
  HealthStatus worst = HealthStatus::healthy();
  for (const auto& r : order_) {
    auto h = r->health();
    if (h.severity() > worst.severity()) {
      worst = h;
    }
  }
  return worst;
}

expected<void> Resources::acquire() {
  // Held during setup, so a concurrent second run waits until the resources are ready.
  std::lock_guard<std::mutex> guard(*lease_mutex_);
  if (holders_ == 0) {
    auto r = setup_all();
    if (!r) {
      return r;
    }
  }
  ++holders_;
  return {};
}

void Resources::release() {
  std::lock_guard<std::mutex> guard(*lease_mutex_);
  if (holders_ > 0 && --holders_ == 0) {
    teardown_all();
  }
}

} // namespace cano
