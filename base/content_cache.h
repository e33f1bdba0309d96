#pragma once
// A thread-safe, in-process cache of pure evaluations keyed by content hash (a Point's hash: canonical config
// plus model version). Two threads asking for the same key compute it once; the other waits for the value.
// Bounded: past `capacity` finished values the oldest is dropped (first in, first out; a caller holding it
// keeps its shared_ptr), so a long sweep through evaluate() does not grow without end.
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sushi {

template <typename Value>
class ContentCache {
 public:
  explicit ContentCache(size_t capacity = 4096) : capacity_(capacity < 1 ? 1 : capacity) {}

  // The cached value for `key`, computing it with `compute` the first time. An exception from `compute`
  // reaches every caller waiting for that key and is not cached.
  std::shared_ptr<const Value> get(const std::string& key, const std::function<Value()>& compute) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      auto it = slots_.find(key);
      if (it == slots_.end()) break;
      if (it->second.value) {
        ++hits_;
        return it->second.value;
      }
      ready_.wait(lock);  // being computed by another thread (or failed and removed: then retry)
    }
    slots_[key];  // marks the key as in flight
    ++misses_;
    lock.unlock();
    try {
      auto value = std::make_shared<const Value>(compute());
      lock.lock();
      slots_[key].value = value;
      order_.push_back(key);
      while (order_.size() > capacity_) {
        slots_.erase(order_.front());
        order_.pop_front();
      }
      ready_.notify_all();
      return value;
    } catch (...) {
      lock.lock();
      slots_.erase(key);
      ready_.notify_all();
      throw;
    }
  }
  size_t hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return order_.size();
  }
  size_t misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
  }

 private:
  struct Slot {
    std::shared_ptr<const Value> value;
  };
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::map<std::string, Slot> slots_;
  std::deque<std::string> order_;  // finished keys, oldest first
  size_t capacity_;
  size_t hits_ = 0, misses_ = 0;
};

}  // namespace sushi
