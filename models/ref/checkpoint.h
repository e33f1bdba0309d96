#pragma once
// Named fp32 tensors (a supernet's weights, or one subnet extracted into standalone tensors) and their
// binary file format. Every number is little-endian:
//
//   offset 0   8 bytes  magic "SUSHICKP"
//          8   u32      format version (1)
//         12   u64      total file size in bytes (detects truncation before anything else is read)
//         20   u32      metadata length M, then M bytes of UTF-8 metadata (JSON written by the producer)
//              u32      tensor count N, then N tensor records:
//                         u32 name length L, L bytes of name,
//                         u32 dtype (1 = float32, the only dtype of version 1),
//                         u32 rank R, R x i64 dimensions,
//                         prod(dims) x 4 bytes of data, row-major
//   size - 16  16 bytes checksum: content_hash() (FNV-1a 64, hex) of every byte before it
//
// Reading checks size, magic, version, checksum and every record's bounds, and throws InputError naming the
// file and what is wrong.
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "models/ref/tensor.h"

namespace sushi {

class Checkpoint {
 public:
  std::string metadata;  // JSON object describing the content (space, seed, subnet)

  bool has(const std::string& name) const { return index_.count(name) > 0; }
  const NdArray& at(const std::string& name) const;  // throws InputError naming the tensor
  const NdArray* find(const std::string& name) const;
  NdArray* find_mutable(const std::string& name);        // training updates tensors in place
  NdArray& add(const std::string& name, NdArray array);  // replaces an existing tensor of that name
  const std::vector<std::string>& names() const { return names_; }  // insertion order (the file order)
  size_t size() const { return names_.size(); }
  int64_t parameter_count() const;
  bool operator==(const Checkpoint& o) const {
    return metadata == o.metadata && names_ == o.names_ && arrays_ == o.arrays_;
  }

  std::string serialize() const;
  // `origin` names the source in error messages (usually the file path).
  static Checkpoint deserialize(const std::string& bytes, const std::string& origin);
  void save(const std::string& path) const;  // atomic (write_file_atomic)
  static Checkpoint load(const std::string& path);

 private:
  std::vector<std::string> names_;
  // A deque: references returned by add() and find_mutable() stay valid while more tensors are added
  // (training takes the gradient of one tensor, then adds the next).
  std::deque<NdArray> arrays_;
  std::map<std::string, size_t> index_;
};

// NumPy .npy (format 1.0, '<f4', C order), written atomically.
std::string npy_bytes(const NdArray& array);
void write_npy(const std::string& path, const NdArray& array);
// A tensor name turned into a portable file name (characters outside [A-Za-z0-9._-] become '_').
std::string npy_file_name(const std::string& tensor_name);

}  // namespace sushi
