// Atomic, durable file writes, stale-temporary clean-up and the failure injection the fault tests use.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "base/errors.h"
#include "base/provenance.h"

namespace sushi {

namespace fs = std::filesystem;

namespace {

std::string reason(int err) {
  return err ? std::string(std::strerror(err)) : std::string("unknown error");
}

// Failure injection (tests/faults.sh): SUSHI_FAULT=KIND:N[:MATCH] acts on the (N+1)-th atomic write whose
// path contains MATCH (every write when MATCH is absent), counting from 0 in this process:
//   kill-mid     SIGKILL after half of the first chunk is in the temporary file (a crash during the write)
//   kill-before  SIGKILL just before the rename (the temporary complete, the target untouched)
//   enospc       the write fails as on a full disk (ENOSPC)
struct Fault {
  std::string kind, match;
  long n = -1;
};

const Fault& fault() {
  static const Fault f = [] {
    Fault r;
    const char* env = std::getenv("SUSHI_FAULT");
    if (!env || !*env) return r;
    const std::string s = env;
    const size_t c1 = s.find(':');
    const size_t c2 = c1 == std::string::npos ? c1 : s.find(':', c1 + 1);
    r.kind = s.substr(0, c1);
    r.n = c1 == std::string::npos ? 0 : std::atol(s.substr(c1 + 1, c2 - c1 - 1).c_str());
    if (c2 != std::string::npos) r.match = s.substr(c2 + 1);
    return r;
  }();
  return f;
}

// The fault to inject into this write ("" for none).
std::string fault_for(const std::string& path) {
  const Fault& f = fault();
  if (f.kind.empty() || path.find(f.match) == std::string::npos) return "";
  static std::atomic<long> seen{0};
  return seen++ == f.n ? f.kind : "";
}

bool pid_alive(long pid) {
  return pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
}

// "NAME.tmp.PID" -> PID, or -1.
long temporary_pid(const std::string& name) {
  const size_t at = name.rfind(".tmp.");
  if (at == std::string::npos || at + 5 >= name.size()) return -1;
  const std::string digits = name.substr(at + 5);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return -1;
  return std::atol(digits.c_str());
}

bool remove_if_stale(const fs::path& p) {
  const long pid = temporary_pid(p.filename().string());
  if (pid < 0 || pid == long(::getpid()) || pid_alive(pid)) return false;
  std::error_code ec;
  return fs::is_regular_file(p, ec) && fs::remove(p, ec);
}

}  // namespace

size_t remove_stale_temporaries(const std::string& dir, bool recursive) {
  size_t n = 0;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return 0;
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      n += remove_if_stale(it->path());
  } else {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      n += remove_if_stale(it->path());
  }
  return n;
}

void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), inject_(fault_for(path_)) {
  const fs::path parent = fs::path(path_).parent_path();
  {  // temporaries of this very file left by a killed writer
    const std::string prefix = fs::path(path_).filename().string() + ".tmp.";
    std::error_code ec;
    for (auto it = fs::directory_iterator(parent.empty() ? "." : parent, ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
      if (it->path().filename().string().rfind(prefix, 0) == 0) remove_if_stale(it->path());
  }
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  errno = 0;
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path_ + ": cannot write: " + reason(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    std::error_code ec;
    fs::remove(tmp_, ec);
  }
}

void AtomicFile::fail(int err) {
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  fs::remove(tmp_, ec);
  throw InputError(path_ + ": cannot write: " + reason(err));
}

void AtomicFile::write(std::string_view data) {
  if (inject_ == "enospc") fail(ENOSPC);
  if (inject_ == "kill-mid") {  // half of this write reaches the temporary, then the process dies
    (void)::write(fd_, data.data(), data.size() / 2);
    ::raise(SIGKILL);
  }
  size_t done = 0;
  while (done < data.size()) {
    errno = 0;
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : EIO);
    done += size_t(n);
  }
}

void AtomicFile::commit() {
  if (inject_ == "kill-mid") ::raise(SIGKILL);  // nothing was written: killed with the temporary created
  if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) fail(errno);
  ::close(fd_);
  fd_ = -1;
  if (inject_ == "kill-before") ::raise(SIGKILL);
  std::error_code ec;
  fs::rename(tmp_, path_, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp_, ec);
    throw InputError(path_ + ": cannot write: rename of the temporary file failed: " + why);
  }
  committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& data) {
  AtomicFile f(path);
  f.write(data);
  f.commit();
}

}  // namespace sushi
