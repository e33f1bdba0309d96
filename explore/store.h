#pragma once
// The results store of a sweep (OUTPUT/results.store): one line per finished point, appended with one
// write(2) as the point finishes, so a SIGKILL at any moment loses nothing finished (the kernel holds what
// was written; fdatasync runs at most once per `sync_seconds` while appending, and on close, against a
// machine crash: a sync per few points would cost more than evaluating them).
//
//   HASH \t PAYLOAD \t CHECKSUM \n      CHECKSUM = content_hash(HASH \t PAYLOAD)
//
// Opening the store drops a torn or corrupted last line (a kill in the middle of a write) by rewriting the
// good lines atomically before appending. Keys are point hashes (canonical config + model version).
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace sushi::explore {

class ResultStore {
 public:
  explicit ResultStore(std::string path, double sync_seconds = 1.0);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  // Thread-safe. The payload must not contain tabs or newlines.
  void append(const std::string& hash, const std::string& payload);
  // Read-only after construction apart from append(); lookups are safe from any thread.
  const std::string* find(const std::string& hash) const;
  size_t loaded() const { return loaded_.size(); }
  size_t dropped_lines() const { return dropped_; }
  void sync();

 private:
  std::string path_;
  int fd_ = -1;
  double sync_seconds_;
  std::chrono::steady_clock::time_point last_sync_;
  std::map<std::string, std::string> loaded_;
  size_t dropped_ = 0;
  std::mutex mutex_;
};

// Reads the good lines of a store file (none when it does not exist).
std::map<std::string, std::string> read_store(const std::string& path, size_t* dropped = nullptr);

}  // namespace sushi::explore
