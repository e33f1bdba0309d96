#include "base/manifest.h"

#include <filesystem>
#include <set>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "base/yaml.h"

namespace sushi {

namespace fs = std::filesystem;

namespace {

// A manifest entry may only name a file inside the folder.
bool safe_relative(const std::string& p) {
  const fs::path path(p);
  if (p.empty() || path.is_absolute()) return false;
  for (const fs::path& part : path)
    if (part == ".." || part == ".") return false;
  return true;
}

}  // namespace

OutputManifest::OutputManifest(std::string dir) : dir_(std::move(dir)), previous_(read(dir_)) {}

std::vector<std::string> OutputManifest::read(const std::string& dir) {
  const fs::path file = fs::path(dir) / kFileName;
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  const YamlView root = YamlView::load_file(file.string());  // JSON is YAML
  std::vector<std::string> out;
  for (const YamlView& f : root.at("files").items()) {
    const std::string p = f.get<std::string>("path");
    if (!safe_relative(p)) f.at("path").fail("expected a path inside " + dir);
    out.push_back(p);
  }
  return out;
}

std::string OutputManifest::relative(const std::string& path) const {
  const std::string rel =
      fs::path(path).lexically_normal().lexically_relative(fs::path(dir_).lexically_normal());
  if (!safe_relative(rel)) throw std::logic_error("OutputManifest: " + path + " is not inside " + dir_);
  return rel;
}

void OutputManifest::write_file(const std::string& path, const std::string& data) {
  const std::string rel = relative(path);
  make_directories(fs::path(path).parent_path().string());
  write_file_atomic(path, data);
  written_[rel] = Entry{int64_t(data.size()), content_hash(data)};
}

std::vector<std::string> OutputManifest::finish() {
  std::vector<std::string> removed;
  std::set<fs::path> parents;
  for (const std::string& p : previous_) {
    if (written_.count(p) || p == kFileName) continue;
    const fs::path f = fs::path(dir_) / p;
    std::error_code ec;
    if (fs::is_regular_file(f, ec) && fs::remove(f, ec)) {
      removed.push_back(p);
      for (fs::path d = fs::path(p).parent_path(); !d.empty(); d = d.parent_path()) parents.insert(d);
    }
  }
  // Folders left empty, deepest first (a reverse walk of the sorted set visits children before parents).
  for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
    std::error_code ec;
    const fs::path d = fs::path(dir_) / *it;
    if (fs::is_directory(d, ec) && fs::is_empty(d, ec)) fs::remove(d, ec);
  }
  JsonWriter j;
  j.begin_object().field("written_by", "sushi").field("git_commit", git_commit()).key("files").begin_array();
  for (const auto& [p, e] : written_)
    j.begin_object().field("path", p).field("bytes", e.bytes).field("hash", e.hash).end_object();
  j.end_array().end_object();
  make_directories(dir_);
  write_file_atomic((fs::path(dir_) / kFileName).string(), j.str() + "\n");
  return removed;
}

}  // namespace sushi
