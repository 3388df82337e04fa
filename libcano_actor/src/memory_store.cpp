#include "cano/memory_store.hpp"

namespace cano {

std::string StoreError::to_string() const {
  switch (kind_) {
    case kind::key_not_found: return "Key not found: " + message_;
    case kind::type_mismatch: return "Type mismatch: " + message_;
    case kind::lock_error: return "Lock error: " + message_;
    case kind::append_type_mismatch: return "Append type mismatch: " + message_;
    case kind::generic: return "Store error: " + message_;
  }
  return message_;
}

void MemoryStore::remove(const std::string& key) {
  std::unique_lock<std::shared_mutex> lock(data_->mutex);
  data_->map.erase(key);
}

bool MemoryStore::contains_key(const std::string& key) const {
  std::shared_lock<std::shared_mutex> lock(data_->mutex);
  return data_->map.count(key) != 0;
}

std::vector<std::string> MemoryStore::keys() const {
  std::shared_lock<std::shared_mutex> lock(data_->mutex);
  std::vector<std::string> out;
  out.reserve(data_->map.size());
  for (const auto& kv : data_->map) {
    out.push_back(kv.first);
  }
  return out;
}

std::size_t MemoryStore::len() const {
  std::shared_lock<std::shared_mutex> lock(data_->mutex);
  return data_->map.size();
}

void MemoryStore::clear() {
  std::unique_lock<std::shared_mutex> lock(data_->mutex);
  data_->map.clear();
}

} // namespace cano
