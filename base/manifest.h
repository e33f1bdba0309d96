#pragma once
// An output folder that a run owns: every file of the run is written through OutputManifest::write_file, and
// finish() writes MANIFEST.json last (each file's path relative to the folder, size and content hash) and
// removes the files that the previous run's MANIFEST.json listed but this run did not write, so a folder
// never mixes two runs' files. Files the previous manifest did not list (the user's own) are left alone.
//
// A run killed part-way (SIGKILL, power loss) leaves no MANIFEST.json: the constructor replaces it by
// MANIFEST.pending (the previous run's files, then each file as this run starts writing it), which finish()
// removes. Readers of run outputs call verify_output_file(), which rejects a file of a folder whose run did
// not finish or that differs from its manifest entry; the next run removes what the killed one left (the
// files MANIFEST.pending lists and stale temporaries).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sushi {

class OutputManifest {
 public:
  static constexpr const char* kFileName = "MANIFEST.json";
  static constexpr const char* kPendingName = "MANIFEST.pending";
  explicit OutputManifest(std::string dir);  // reads dir/MANIFEST.json when there is one

  // Writes `path` (inside the folder; its parent folders are created) atomically and records it. Throws
  // InputError naming the file when it cannot be written.
  void write_file(const std::string& path, const std::string& data);
  // The same for a file produced piece by piece (a long queries.csv): `produce` calls `put` with each piece
  // in order; nothing is held whole.
  using PieceWriter = std::function<void(std::string_view)>;
  void write_file_pieces(const std::string& path, const std::function<void(const PieceWriter& put)>& produce);
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
  // MANIFEST.pending's paths (a killed run's); empty when there is none.
  static std::vector<std::string> read_pending(const std::string& dir);

 private:
  std::string relative(const std::string& path) const;
  void mark_pending();  // MANIFEST.json -> MANIFEST.pending, once
  bool pending_ = false;
  std::string dir_;
  std::vector<std::string> previous_;
  std::map<std::string, Entry> written_;
};

// For readers of files a run may have written (traces, results CSVs, checkpoints): walks up from the file's
// folder to the nearest folder with MANIFEST.json or MANIFEST.pending. Throws InputError naming the file when
// that run did not finish (MANIFEST.pending without MANIFEST.json) or when the manifest lists the file with
// another size or hash (written by another run, or edited). Files outside any run's folder, and files the
// manifest does not list, pass.
void verify_output_file(const std::string& path);

}  // namespace sushi
