#pragma once
// Provenance of every result (ARCHITECTURE.md contract 7): the git commit baked in at build time, a content
// hash of the inputs, and atomic writes so a crash never leaves a half-written file behind.
#include <cstdint>
#include <string>

namespace sushi {

const char* git_commit();
// Hash of the sources that shape simulated results (layer lists, accelerator models), fixed at build time.
const char* model_version();
// 64-bit FNV-1a, printed as 16 hex digits: the content hash used for configs and cache keys.
std::string content_hash(const std::string& data);
std::string file_hash(const std::string& path);  // throws InputError when unreadable
std::string read_file(const std::string& path);  // throws InputError naming the file
// Writes to path.tmp.PID, then renames over path. Throws InputError "PATH: cannot write: REASON" when the
// file or its folder is not writable (a bad --out is the user's input, exit status 2).
void write_file_atomic(const std::string& path, const std::string& data);
// Creates a folder and its parents (no-op when it exists); throws InputError naming it and the reason.
void make_directories(const std::string& dir);

}  // namespace sushi
