#include "base/provenance.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/errors.h"

namespace sushi {

const char* git_commit() {
  return SUSHI_GIT_COMMIT;
}
const char* model_version() {
  return SUSHI_MODEL_VERSION;
}

namespace {
constexpr uint64_t kFnvOffset = 1469598103934665603ull;
uint64_t fnv1a(uint64_t h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}
std::string hex16(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

std::string content_hash(const std::string& data) {
  return hex16(fnv1a(kFnvOffset, data.data(), data.size()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void ContentHasher::add(std::string_view data) {
  h_ = fnv1a(h_, data.data(), data.size());
}
std::string ContentHasher::hex() const {
  return hex16(h_);
}

std::string file_hash(const std::string& path) {  // streamed: a long trace is not read into memory
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  uint64_t h = kFnvOffset;
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), std::streamsize(buf.size())) || in.gcount() > 0)
    h = fnv1a(h, buf.data(), size_t(in.gcount()));
  if (in.bad()) throw InputError(path + ": read failed");
  return hex16(h);
}

namespace {
std::string reason(int err) {
  return err ? std::string(std::strerror(err)) : std::string("unknown error");
}
}  // namespace

void make_directories(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw InputError(dir + ": cannot create folder: " + (ec ? ec.message() : std::string("not a folder")));
}

void check_writable(const std::string& path) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) throw InputError(path + ": cannot write: " + reason(errno));
}

}  // namespace sushi
