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

std::string content_hash(const std::string& data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string file_hash(const std::string& path) {
  return content_hash(read_file(path));
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
