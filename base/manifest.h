#pragma once
// An output folder that a run owns: every file of the run is written through OutputManifest::write_file, and
// finish() writes MANIFEST.json last (each file's path relative to the folder, size and content hash) and
// removes the files that the previous run's MANIFEST.json listed but this run did not write, so a folder
// never mixes two runs' files. Files the previous manifest did not list (the user's own) are left alone.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sushi {

class OutputManifest {
 public:
  static constexpr const char* kFileName = "MANIFEST.json";
  explicit OutputManifest(std::string dir);  // reads dir/MANIFEST.json when there is one

  // Writes `path` (inside the folder; its parent folders are created) atomically and records it. Throws
  // InputError naming the file when it cannot be written.
  void write_file(const std::string& path, const std::string& data);
  // Removes the previous run's files that this run did not write (and folders left empty by that), then
  // writes MANIFEST.json. Returns the removed files, relative to the folder.
  std::vector<std::string> finish();

  const std::string& dir() const { return dir_; }

  struct Entry {
    int64_t bytes = 0;
    std::string hash;
  };
  const std::map<std::string, Entry>& written() const { return written_; }
  // The files a MANIFEST.json lists (relative paths); empty when there is none. Throws InputError when it
  // is malformed.
  static std::vector<std::string> read(const std::string& dir);

 private:
  std::string relative(const std::string& path) const;
  std::string dir_;
  std::vector<std::string> previous_;
  std::map<std::string, Entry> written_;
};

}  // namespace sushi
