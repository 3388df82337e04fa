// Resources — typed, keyed dependencies shared by a workflow's tasks (connections, clients,
// stores), with a lifecycle: setup in insertion order before a run, teardown in reverse after.
//
//   auto res = cano::Resources{}.insert("db", std::make_shared<Db>(dsn))
//                               .insert("store", std::make_shared<cano::MemoryStore>());
//   auto db = ctx.resources().get<Db>("db");   // expected<std::shared_ptr<Db>>
//
// When runs of one workflow overlap, setup runs for the first and teardown after the last
// (reference counted; ARCHITECTURE D5). Sequential runs each see setup and teardown, as in cano.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

#include "cano/error.hpp"

namespace cano {

/// A resource's health, from best to worst.
class HealthStatus {
public:
  enum class kind { healthy, degraded, unhealthy };
  static HealthStatus healthy() { return HealthStatus{kind::healthy, {}}; }
  static HealthStatus degraded(std::string why) { return HealthStatus{kind::degraded, std::move(why)}; }
  static HealthStatus unhealthy(std::string why) { return HealthStatus{kind::unhealthy, std::move(why)}; }
  kind status() const noexcept { return kind_; }
  const std::string& reason() const noexcept { return reason_; }
  bool is_healthy() const noexcept { return kind_ == kind::healthy; }
  int severity() const noexcept { return static_cast<int>(kind_); }
  friend bool operator==(const HealthStatus& a, const HealthStatus& b) {
    return a.kind_ == b.kind_ && a.reason_ == b.reason_;
  }
  friend bool operator!=(const HealthStatus& a, const HealthStatus& b) { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const HealthStatus& h);

private:
  HealthStatus(kind k, std::string reason) : kind_(k), reason_(std::move(reason)) {}
  kind kind_;
  std::string reason_;
};

/// Lifecycle hooks of a resource; every hook defaults to a no-op success.
class Resource {
public:
  virtual ~Resource() = default;
  virtual expected<void> setup() { return {}; }
  virtual expected<void> teardown() { return {}; }
  virtual HealthStatus health() { return HealthStatus::healthy(); }
};

namespace detail {
std::string demangle(const char* mangled);
}

class Resources {
public:
  Resources() = default;
  static Resources empty() { return {}; }
  static Resources with_capacity(std::size_t) { return {}; }

  Resources(Resources&&) = default;
  Resources& operator=(Resources&&) = default;
  Resources(const Resources&) = delete; // share through the workflow, never copy
  Resources& operator=(const Resources&) = delete;

  /// Adds `r` under `key`. Throws std::invalid_argument on a duplicate key (cano panics).
  template <class R>
  Resources& insert(std::string key, std::shared_ptr<R> r) & {
    if (!try_insert_impl(std::move(key), std::move(r))) {
      throw_duplicate();
    }
    return *this;
  }
  template <class R>
  Resources&& insert(std::string key, std::shared_ptr<R> r) && {
    return std::move(insert(std::move(key), std::move(r)));
  }
  /// Adds `r` under `key`, or resource_duplicate_key.
  template <class R>
  expected<void> try_insert(std::string key, std::shared_ptr<R> r) {
    if (!try_insert_impl(std::move(key), std::move(r))) {
      return error::resource_duplicate_key("duplicate resource key inserted into Resources");
    }
    return {};
  }

  /// The resource under `key` if it was inserted as exactly `R`.
  template <class R>
  expected<std::shared_ptr<R>> get(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      return error::resource_not_found(
        "no resource found for the given key (requested type: " + detail::demangle(typeid(R).name()) + ")");
    }
    if (it->second.type != std::type_index(typeid(R))) {
      return error::resource_type_mismatch("resource found but the requested type " +
                                           detail::demangle(typeid(R).name()) + " does not match the stored type");
    }
    return std::static_pointer_cast<R>(it->second.object);
  }

  std::size_t size() const noexcept { return order_.size(); }
  bool empty_set() const noexcept { return order_.empty(); }

  /// Sets up every resource in insertion order; on a failure at N tears down [0, N) in reverse
  /// and returns that failure.
  expected<void> setup_all();
  /// Tears every resource down in reverse order; failures are logged, never stop the sequence.
  void teardown_all();
  std::map<std::string, HealthStatus> check_all_health();
  /// The worst status in insertion order (ties keep the first); Healthy when empty.
  HealthStatus aggregate_health();

  /// Shared lifecycle (D5): the first acquirer sets up, the last releaser tears down. Blocking.
  expected<void> acquire();
  void release();

private:
  struct entry {
    std::shared_ptr<void> object;
    std::type_index type;
    std::size_t lifecycle_index;
  };
  template <class R>
  bool try_insert_impl(std::string key, std::shared_ptr<R> r) {
    static_assert(std::is_base_of_v<Resource, R>, "resources derive from cano::Resource");
    if (entries_.count(key) != 0) {
      return false;
    }
    std::shared_ptr<Resource> as_resource = r;
    entries_.emplace(std::move(key), entry{std::move(r), std::type_index(typeid(R)), order_.size()});
    order_.push_back(std::move(as_resource));
    return true;
  }
  [[noreturn]] static void throw_duplicate();
  void teardown_range(std::size_t end);

  std::map<std::string, entry> entries_;
  std::vector<std::shared_ptr<Resource>> order_;
  std::vector<std::string> keys_in_order() const;

  // Lease state for overlapping runs (D5).
  std::unique_ptr<std::mutex> lease_mutex_ = std::make_unique<std::mutex>();
  std::size_t holders_ = 0;
};

} // namespace cano
