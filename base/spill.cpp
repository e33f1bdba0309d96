#include "base/spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "base/errors.h"

namespace sushi {

namespace {
constexpr size_t kPiece = size_t(1) << 20;

std::string temp_dir() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::temp_directory_path(ec);
  return ec ? std::string("/tmp") : p.string();
}

// The order-preserving key of a double: unsigned comparison of keys = numeric comparison of values.
uint64_t order_key(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return (b >> 63) ? ~b : b ^ (uint64_t(1) << 63);
}
double from_key(uint64_t k) {
  const uint64_t b = (k >> 63) ? k ^ (uint64_t(1) << 63) : ~k;
  double v = 0;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
}  // namespace

SpillFile::SpillFile() : dir_(temp_dir()) {
  std::string name = dir_ + "/sushi-spill-XXXXXX";
  errno = 0;
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) fail("cannot create a temporary file");
  ::unlink(name.c_str());  // anonymous from now on: removed when closed, even by a kill
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

void SpillFile::fail(const std::string& what) const {
  throw InputError(dir_ + " (temporary folder, $TMPDIR): " + what + ": " +
                   (errno ? std::strerror(errno) : "unknown error"));
}

void SpillFile::append(std::string_view data) {
  buffer_.append(data.data(), data.size());
  bytes_ += int64_t(data.size());
  if (buffer_.size() >= kPiece) flush();
}

void SpillFile::flush() const {
  size_t done = 0;
  while (done < buffer_.size()) {
    errno = 0;
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write a temporary file");
    done += size_t(n);
  }
  buffer_.clear();
}

void SpillFile::read(const std::function<void(std::string_view)>& piece) const {
  flush();
  std::string buf(kPiece, '\0');
  for (int64_t off = 0; off < bytes_;) {
    errno = 0;
    const ssize_t n = ::pread(fd_, buf.data(), std::min<int64_t>(int64_t(kPiece), bytes_ - off), off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot read a temporary file");
    piece(std::string_view(buf.data(), size_t(n)));
    off += n;
  }
}

void SpilledDoubles::push(double v) {
  memory_.push_back(v);
  ++n_;
  if (memory_.size() < kInMemory) return;
  if (!file_) file_ = std::make_unique<SpillFile>();
  file_->append(std::string_view(reinterpret_cast<const char*>(memory_.data()), memory_.size() * sizeof v));
  memory_.clear();
}

void SpilledDoubles::for_each(const std::function<void(double)>& f) const {
  if (file_)
    file_->read([&](std::string_view p) {  // pieces are whole doubles: 1 MiB from multiples of 1 MiB
      for (size_t i = 0; i + sizeof(double) <= p.size(); i += sizeof(double)) {
        double v = 0;
        std::memcpy(&v, p.data() + i, sizeof v);
        f(v);
      }
    });
  for (double v : memory_) f(v);
}

std::vector<double> SpilledDoubles::select(const std::vector<size_t>& ranks) const {
  for (size_t r : ranks)
    if (r >= n_) throw std::logic_error("SpilledDoubles::select: rank beyond the values");
  std::vector<double> out;
  if (!file_) {  // all in memory
    std::vector<double> v = memory_;
    std::sort(v.begin(), v.end());
    for (size_t r : ranks) out.push_back(v[r]);
    return out;
  }
  // Radix selection: per pass, the next 8 bits of each target's key, from a histogram of the values that
  // share the bits found so far (targets with one prefix share a histogram).
  std::vector<std::pair<uint64_t, size_t>> t;  // (key prefix found so far, rank within that prefix)
  for (size_t r : ranks) t.emplace_back(0, r);
  for (int shift = 56; shift >= 0; shift -= 8) {
    std::unordered_map<uint64_t, std::array<uint64_t, 256>> hist;
    for (const auto& [prefix, rank] : t) hist.emplace(prefix, std::array<uint64_t, 256>{});
    for_each([&](double v) {
      const uint64_t k = order_key(v);
      const uint64_t prefix = shift == 56 ? 0 : k >> (shift + 8);
      const auto it = hist.find(prefix);
      if (it != hist.end()) ++it->second[(k >> shift) & 255];
    });
    for (auto& [prefix, rank] : t) {
      const std::array<uint64_t, 256>& h = hist.at(prefix);
      size_t b = 0;
      while (rank >= h[b]) rank -= h[b++];
      prefix = (prefix << 8) | b;
    }
  }
  for (const auto& [key, rank] : t) out.push_back(from_key(key));
  return out;
}

}  // namespace sushi
