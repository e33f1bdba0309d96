#include "base/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
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

OutputManifest::OutputManifest(std::string dir) : dir_(std::move(dir)), previous_(read(dir_)) {
  for (const std::string& p : read_pending(dir_))
    if (std::find(previous_.begin(), previous_.end(), p) == previous_.end()) previous_.push_back(p);
  remove_stale_temporaries(dir_, true);
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return;  // a new folder: nothing to mark until the first file
  mark_pending();
}

void OutputManifest::mark_pending() {
  if (pending_) return;
  std::string text;
  for (const std::string& p : previous_) text += p + "\n";
  make_directories(dir_);
  write_file_atomic((fs::path(dir_) / kPendingName).string(), text);
  std::error_code ec;
  fs::remove(fs::path(dir_) / kFileName,
             ec);  // the folder is now being rewritten: not trusted until finish()
  pending_ = true;
}

std::vector<std::string> OutputManifest::read_pending(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in(fs::path(dir) / kPendingName);
  std::string line;
  while (std::getline(in, line))
    if (safe_relative(line)) out.push_back(line);
  return out;
}

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
  std::string rel = fs::path(path).lexically_normal().lexically_relative(fs::path(dir_).lexically_normal());
  if (!safe_relative(rel)) throw std::logic_error("OutputManifest: " + path + " is not inside " + dir_);
  return rel;
}

void OutputManifest::write_file(const std::string& path, const std::string& data) {
  write_file_pieces(path, [&](const PieceWriter& put) { put(data); });
}

void OutputManifest::write_file_pieces(const std::string& path,
                                       const std::function<void(const PieceWriter& put)>& produce) {
  const std::string rel = relative(path);
  mark_pending();
  {  // listed before it is written, so a killed run's files are known to the next run
    std::ofstream pending(fs::path(dir_) / kPendingName, std::ios::app);
    pending << rel << "\n";
    if (!pending) throw InputError((fs::path(dir_) / kPendingName).string() + ": cannot write");
  }
  make_directories(fs::path(path).parent_path().string());
  AtomicFile f(path);
  ContentHasher hash;
  int64_t bytes = 0;
  produce([&](std::string_view piece) {
    f.write(piece);
    hash.add(piece);
    bytes += int64_t(piece.size());
  });
  f.commit();
  written_[rel] = Entry{bytes, hash.hex()};
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
  std::error_code ec;
  fs::remove(fs::path(dir_) / kPendingName, ec);
  sync_directory(dir_);
  pending_ = false;
  return removed;
}

namespace {

// The entry of `rel` in the MANIFEST.json of `dir`: {bytes, hash}, or bytes -1 when it is not listed.
OutputManifest::Entry manifest_entry(const fs::path& dir, const std::string& rel) {
  const YamlView root = YamlView::load_file((dir / OutputManifest::kFileName).string());
  for (const YamlView& f : root.at("files").items())
    if (f.get<std::string>("path") == rel) return {f.get<int64_t>("bytes"), f.get<std::string>("hash")};
  return {-1, ""};
}

}  // namespace

void verify_output_file(const std::string& path) {
  std::error_code ec;
  const fs::path file = fs::absolute(path, ec).lexically_normal();
  if (ec) return;
  for (fs::path dir = file.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    const bool done = fs::exists(dir / OutputManifest::kFileName, ec);
    if (!done && fs::exists(dir / OutputManifest::kPendingName, ec))
      throw InputError(path + ": incomplete output: the run writing " + dir.string() +
                       " did not finish (MANIFEST.pending, no MANIFEST.json); run it again");
    if (done) {
      const OutputManifest::Entry e = manifest_entry(dir, file.lexically_relative(dir).generic_string());
      if (e.bytes < 0) return;  // not the run's file
      const std::string text = read_file(path);
      if (int64_t(text.size()) != e.bytes || content_hash(text) != e.hash)
        throw InputError(path + ": does not match " + (dir / OutputManifest::kFileName).string() + " (" +
                         std::to_string(text.size()) + " bytes, hash " + content_hash(text) + "; listed " +
                         std::to_string(e.bytes) + " bytes, hash " + e.hash + "): written by another run");
      return;
    }
    if (dir == dir.root_path()) return;
  }
}

}  // namespace sushi
