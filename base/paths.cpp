#include "base/paths.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "base/errors.h"

namespace sushi {

namespace fs = std::filesystem;

namespace {

const std::string kSharedPrefix = "../shared/data/";

bool is_project_root(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "workloads", ec) && fs::exists(dir / "CMakeLists.txt", ec);
}

std::string walk_up(fs::path dir) {
  std::error_code ec;
  dir = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  for (; !dir.empty(); dir = dir.parent_path()) {
    if (is_project_root(dir)) return dir.string();
    if (dir == dir.root_path()) break;
  }
  return "";
}

std::string executable_root() {
  static const std::string root = [] {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return std::string();
    return walk_up(fs::path(std::string(buf, size_t(n))).parent_path());
  }();
  return root;
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

}  // namespace

std::string project_root(const std::string& file) {
  if (!file.empty()) {
    std::string r =
        walk_up(fs::path(file).parent_path().empty() ? fs::path(".") : fs::path(file).parent_path());
    if (!r.empty()) return r;
  }
  return executable_root();
}

std::string data_dir(const std::string& project) {
  if (const char* env = std::getenv("SUSHI_DATA"); env && *env) return env;
  const std::string root = project.empty() ? executable_root() : project;
  if (!root.empty()) return (fs::path(root) / ".." / "shared" / "data").lexically_normal().string();
  return "../shared/data";
}

std::string data_file(const std::string& name) {
  const fs::path p = fs::path(data_dir()) / name;
  if (present(p)) return p.string();
  const char* env = std::getenv("SUSHI_DATA");
  throw InputError("missing shared data file " + name + ": looked for " + p.string() +
                   (env && *env ? " (from SUSHI_DATA)"
                                : " (the default: ../shared/data beside the project; set SUSHI_DATA to the "
                                  "folder that holds it)"));
}

std::string resolve_yaml_path(const std::string& given, const std::string& yaml_file,
                              std::vector<std::string>* tried) {
  std::vector<fs::path> candidates;
  const fs::path g(given);
  if (g.is_absolute()) {
    candidates.push_back(g);
  } else if (given.rfind(kSharedPrefix, 0) == 0) {
    candidates.push_back(fs::path(data_dir(project_root(yaml_file))) / given.substr(kSharedPrefix.size()));
  } else {
    const std::string root = project_root(yaml_file);
    if (!root.empty()) candidates.push_back(fs::path(root) / g);
    candidates.push_back(fs::path(yaml_file).parent_path() / g);
    candidates.push_back(g);
  }
  for (const fs::path& c : candidates) {
    if (!present(c)) continue;
    // Run from the project root, the path stays as written (so records and outputs do not change).
    std::error_code ec;
    if (!g.is_absolute() && present(g) && fs::equivalent(g, c, ec)) return given;
    return c.lexically_normal().string();
  }
  if (tried)
    for (const fs::path& c : candidates) tried->push_back(c.lexically_normal().string());
  return "";
}

std::string project_file(const std::string& relative) {
  if (present(relative) || fs::path(relative).is_absolute()) return relative;
  const std::string root = executable_root();
  if (root.empty()) return relative;
  const fs::path p = fs::path(root) / relative;
  return present(p) ? p.string() : relative;
}

}  // namespace sushi
