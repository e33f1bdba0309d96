#pragma once
// Provenance of every result (ARCHITECTURE.md contract 9): the git commit baked in at build time, content
// hashes of the inputs as they were read, and atomic writes so a crash never leaves a half-written file.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sushi {

const char* git_commit();
// Hash of the sources that shape simulated results (layer lists, accelerator models), fixed at build time.
const char* model_version();
// 64-bit FNV-1a, printed as 16 hex digits: the content hash used for configs and cache keys.
std::string content_hash(const std::string& data);
std::string file_hash(const std::string& path);  // throws InputError when unreadable
// content_hash of data given piece by piece (a file written in pieces).
class ContentHasher {
 public:
  void add(std::string_view data);
  std::string hex() const;

 private:
  uint64_t h_ = 1469598103934665603ull;  // the FNV-1a offset basis
};
std::string read_file(const std::string& path);  // throws InputError naming the file
// Writes to path.tmp.PID, flushes it to disk (fsync), then renames over path; first removes temporaries of
// `path` left by processes that no longer run (a killed write). Throws InputError "PATH: cannot write:
// REASON" when the file or its folder is not writable, the disk is full or the file-size limit is hit (a
// bad --out is the user's input, exit status 2). Failure injection for tests: base/files.cpp (SUSHI_FAULT).
void write_file_atomic(const std::string& path, const std::string& data);
// The same, for a file written piece by piece (a long trace): write() appends to the temporary, commit()
// flushes and renames; destroyed before commit(), the temporary is removed. Errors as write_file_atomic.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(std::string_view data);
  void commit();

 private:
  [[noreturn]] void fail(int err);
  std::string path_, tmp_, inject_;
  int fd_ = -1;
  bool committed_ = false;
};
// Removes the `NAME.tmp.PID` files under `dir` (recursively when asked) whose PID no longer runs; returns
// how many.
size_t remove_stale_temporaries(const std::string& dir, bool recursive);
// fsync of a folder, so the renames in it survive a crash (best effort).
void sync_directory(const std::string& dir);
// Checks that `path` can be written by creating it (empty) when it does not exist, for files that a library
// such as SystemC writes itself; throws InputError "PATH: cannot write: REASON".
void check_writable(const std::string& path);
// Creates a folder and its parents (no-op when it exists); throws InputError naming it and the reason.
void make_directories(const std::string& dir);

class JsonWriter;

// Where a result came from, filled once while its inputs are loaded (from the bytes actually read, never by
// re-reading files at write time) and handed to every writer with the result.
class Provenance {
 public:
  struct Input {
    std::string role;  // "experiment", "supernet", "accel", ...
    std::string path;
    std::string hash;  // content_hash of the text that was parsed
  };

  explicit Provenance(std::string command = "") : command_(std::move(command)) {}

  // Reads `path`, records it as input `role` and returns its text: load through this, then parse.
  std::string read_input(const std::string& role, const std::string& path);
  void add_input(const std::string& role, const std::string& path, const std::string& hash);
  // The canonical config tree of the run (JSON text) and its hash.
  void set_config(const std::string& canonical_json);
  void set_seed(const std::string& name, uint64_t seed) { seeds_[name] = seed; }
  void set_fidelity(const std::string& fidelity) { fidelity_ = fidelity; }
  void set(const std::string& key, const std::string& value) { extra_[key] = value; }

  const std::vector<Input>& inputs() const { return inputs_; }
  const std::string& config_hash() const { return config_hash_; }
  const std::string& fidelity() const { return fidelity_; }

  // "provenance": {...} as one JSON object value (the caller has written the key).
  void write_json(JsonWriter& w) const;
  // One line for CSV comments and SVG footers.
  std::string line() const;

 private:
  std::string command_;
  std::vector<Input> inputs_;
  std::string config_json_, config_hash_;
  std::map<std::string, uint64_t> seeds_;
  std::string fidelity_;
  std::map<std::string, std::string> extra_;
};

}  // namespace sushi
