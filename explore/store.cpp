#include "explore/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/errors.h"
#include "base/provenance.h"

namespace sushi::explore {

std::map<std::string, std::string> read_store(const std::string& path, size_t* dropped) {
  std::map<std::string, std::string> out;
  size_t bad = 0;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::stringstream s;
    s << in.rdbuf();
    const std::string text = s.str();
    size_t start = 0;
    while (start < text.size()) {
      const size_t nl = text.find('\n', start);
      if (nl == std::string::npos) {  // torn last line: no newline
        ++bad;
        break;
      }
      const std::string line = text.substr(start, nl - start);
      start = nl + 1;
      const size_t t2 = line.rfind('\t');
      const size_t t1 = t2 == std::string::npos || t2 == 0 ? std::string::npos : line.rfind('\t', t2 - 1);
      if (t1 == std::string::npos || content_hash(line.substr(0, t2)) != line.substr(t2 + 1)) {
        ++bad;
        continue;
      }
      out[line.substr(0, t1)] = line.substr(t1 + 1, t2 - t1 - 1);
    }
  }
  if (dropped) *dropped = bad;
  return out;
}

namespace {
std::string store_line(const std::string& hash, const std::string& payload) {
  const std::string body = hash + "\t" + payload;
  return body + "\t" + content_hash(body) + "\n";
}
}  // namespace

ResultStore::ResultStore(std::string path, double sync_seconds)
    : path_(std::move(path)), sync_seconds_(sync_seconds), last_sync_(std::chrono::steady_clock::now()) {
  loaded_ = read_store(path_, &dropped_);
  if (dropped_ > 0) {  // rewrite the good lines so appends start on a clean line
    std::string text;
    for (const auto& [h, p] : loaded_) text += store_line(h, p);
    write_file_atomic(path_, text);
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path_ + ": cannot open the results store (" + std::strerror(errno) + ")");
}

ResultStore::~ResultStore() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

void ResultStore::append(const std::string& hash, const std::string& payload) {
  const std::string line = store_line(hash, payload);
  const std::lock_guard<std::mutex> lock(mutex_);
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(path_ + ": write failed (" + std::strerror(errno) + ")");
    off += size_t(n);
  }
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_sync_).count() >= sync_seconds_) {
    ::fdatasync(fd_);
    last_sync_ = now;
  }
}

const std::string* ResultStore::find(const std::string& hash) const {
  auto it = loaded_.find(hash);
  return it == loaded_.end() ? nullptr : &it->second;
}

void ResultStore::sync() {
  const std::lock_guard<std::mutex> lock(mutex_);
  ::fdatasync(fd_);
  last_sync_ = std::chrono::steady_clock::now();
}

}  // namespace sushi::explore
