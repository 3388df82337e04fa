// MemoryStore — a thread-safe, type-erased key/value map that tasks share as a resource.
//
//   cano::MemoryStore store;
//   store.put("total", 42);
//   int total = store.get<int>("total").value();
//   store.append<std::string>("log", "charged");   // a std::vector<std::string> under "log"
//
// Copies share the same map (cano's Clone). Values of any copyable type; reading a value as
// another type is a TypeMismatch, not undefined behaviour.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "cano/error.hpp"
#include "cano/resources.hpp"

namespace cano {

/// cano's StoreError; converts to a `store` category error carrying its Display text.
class StoreError {
public:
  enum class kind { key_not_found, type_mismatch, lock_error, append_type_mismatch, generic };

  static StoreError key_not_found(const std::string& key) {
    return {kind::key_not_found, "Key '" + key + "' not found in store"};
  }
  static StoreError type_mismatch(std::string m) { return {kind::type_mismatch, std::move(m)}; }
  static StoreError lock_error(std::string m) { return {kind::lock_error, std::move(m)}; }
  static StoreError append_type_mismatch(const std::string& key) {
    return {kind::append_type_mismatch, "Cannot append to key '" + key + "': existing value is not a Vec<TState>"};
  }
  static StoreError generic(std::string m) { return {kind::generic, std::move(m)}; }

  kind type() const noexcept { return kind_; }
  const std::string& message() const noexcept { return message_; }
  /// "Key not found: ...", "Type mismatch: ...", ...
  std::string to_string() const;
  operator error() const { return error::store(to_string()); }
  friend bool operator==(const StoreError& a, const StoreError& b) {
    return a.kind_ == b.kind_ && a.message_ == b.message_;
  }

private:
  StoreError(kind k, std::string m) : kind_(k), message_(std::move(m)) {}
  kind kind_;
  std::string message_;
};

/// A MemoryStore result: a value or a StoreError (cano's StoreResult), with expected's checks.
template <class T>
using store_result = expected<T, StoreError>;

class MemoryStore : public Resource {
public:
  MemoryStore() : data_(std::make_shared<shared>()) {}

  template <class T>
  void put(const std::string& key, T value) {
    auto v = std::make_shared<T>(std::move(value));
    std::unique_lock<std::shared_mutex> lock(data_->mutex);
    data_->map[key] = slot{std::move(v), std::type_index(typeid(T))};
  }

  /// A copy of the value under `key`.
  template <class T>
  store_result<T> get(const std::string& key) const {
    auto r = get_shared<T>(key);
    if (!r) {
      return r.error();
    }
    return T(*r.value());
  }

  /// The stored value itself, shared (no copy).
  template <class T>
  store_result<std::shared_ptr<const T>> get_shared(const std::string& key) const {
    std::shared_lock<std::shared_mutex> lock(data_->mutex);
    auto it = data_->map.find(key);
    if (it == data_->map.end()) {
      return StoreError::key_not_found(key);
    }
    if (it->second.type != std::type_index(typeid(T))) {
      return StoreError::type_mismatch("Cannot downcast value for key '" + key + "' to requested type");
    }
    return std::shared_ptr<const T>(std::static_pointer_cast<const T>(it->second.value));
  }

  /// Appends to the std::vector<T> under `key` (created when absent). A value of another type
  /// is an AppendTypeMismatch and stays untouched.
  template <class T>
  store_result<bool> append(const std::string& key, T item) {
    std::unique_lock<std::shared_mutex> lock(data_->mutex);
    auto it = data_->map.find(key);
    if (it == data_->map.end()) {
      data_->map[key] = slot{std::make_shared<std::vector<T>>(std::vector<T>{std::move(item)}),
                             std::type_index(typeid(std::vector<T>))};
      return true;
    }
    if (it->second.type != std::type_index(typeid(std::vector<T>))) {
      return StoreError::append_type_mismatch(key);
    }
    auto current = std::static_pointer_cast<const std::vector<T>>(it->second.value);
    // Readers may hold the old vector through get_shared: copy on write.
    auto next = std::make_shared<std::vector<T>>(*current);
    next->push_back(std::move(item));
    it->second.value = std::move(next);
    return true;
  }

  void remove(const std::string& key);
  bool contains_key(const std::string& key) const;
  std::vector<std::string> keys() const;
  std::size_t len() const;
  bool is_empty() const { return len() == 0; }
  void clear();

private:
  struct slot {
    std::shared_ptr<const void> value;
    std::type_index type = std::type_index(typeid(void));
  };
  struct shared {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, slot> map;
  };
  std::shared_ptr<shared> data_;
};

} // namespace cano
