#include "models/ref/checkpoint.h"

#include <cctype>
#include <cstring>

#include "base/errors.h"
#include "base/manifest.h"
#include "base/provenance.h"

namespace sushi {

namespace {

constexpr char kMagic[8] = {'S', 'U', 'S', 'H', 'I', 'C', 'K', 'P'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kFloat32 = 1;
constexpr size_t kChecksumBytes = 16;
constexpr int64_t kMaxRank = 8;

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // the project targets little-endian hosts only
  out.append(buf, sizeof(T));
}

// Bounds-checked reader: every failure names the file and the field that did not fit.
class Reader {
 public:
  Reader(const std::string& bytes, size_t end, std::string origin)
      : bytes_(bytes), end_(end), origin_(std::move(origin)) {}
  template <typename T>
  T get(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str(size_t n, const std::string& what) {
    need(n, what);
    std::string s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  const char* take(size_t n, const std::string& what) {
    need(n, what);
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  size_t pos() const { return pos_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(origin_ + ": corrupted checkpoint: " + what);
  }

 private:
  void need(size_t n, const std::string& what) const {
    if (n > end_ - pos_)
      fail(what + " runs past the end of the data (offset " + std::to_string(pos_) + ", " +
           std::to_string(n) + " bytes needed)");
  }
  const std::string& bytes_;
  size_t end_;
  size_t pos_ = 0;
  std::string origin_;
};

}  // namespace

const NdArray* Checkpoint::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &arrays_[it->second];
}

NdArray* Checkpoint::find_mutable(const std::string& name) {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &arrays_[it->second];
}

const NdArray& Checkpoint::at(const std::string& name) const {
  const NdArray* a = find(name);
  if (!a) throw InputError("checkpoint has no tensor '" + name + "'");
  return *a;
}

NdArray& Checkpoint::add(const std::string& name, NdArray array) {
  auto it = index_.find(name);
  if (it != index_.end()) return arrays_[it->second] = std::move(array);
  index_[name] = names_.size();
  names_.push_back(name);
  arrays_.push_back(std::move(array));
  return arrays_.back();
}

int64_t Checkpoint::parameter_count() const {
  int64_t n = 0;
  for (const NdArray& a : arrays_) n += int64_t(a.data.size());
  return n;
}

std::string Checkpoint::serialize() const {
  std::string out(kMagic, sizeof kMagic);
  put<uint32_t>(out, kVersion);
  const size_t size_at = out.size();
  put<uint64_t>(out, 0);  // patched below
  put<uint32_t>(out, uint32_t(metadata.size()));
  out += metadata;
  put<uint32_t>(out, uint32_t(names_.size()));
  for (size_t t = 0; t < names_.size(); ++t) {
    const NdArray& a = arrays_[t];
    put<uint32_t>(out, uint32_t(names_[t].size()));
    out += names_[t];
    put<uint32_t>(out, kFloat32);
    put<uint32_t>(out, uint32_t(a.shape.size()));
    for (int64_t d : a.shape) put<int64_t>(out, d);
    out.append(reinterpret_cast<const char*>(a.data.data()), a.data.size() * sizeof(float));
  }
  const uint64_t total = out.size() + kChecksumBytes;
  std::memcpy(&out[size_at], &total, sizeof total);
  out += content_hash(out);
  return out;
}

Checkpoint Checkpoint::deserialize(const std::string& bytes, const std::string& origin) {
  const size_t header = sizeof kMagic + 4 + 8;
  if (bytes.size() < sizeof kMagic && std::memcmp(bytes.data(), kMagic, bytes.size()) == 0)
    throw InputError(origin + ": truncated checkpoint (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw InputError(origin + ": not a sushi checkpoint (missing magic \"SUSHICKP\")");
  if (bytes.size() < header + kChecksumBytes)
    throw InputError(origin + ": truncated checkpoint (" + std::to_string(bytes.size()) +
                     " bytes, header alone needs " + std::to_string(header + kChecksumBytes) + ")");
  Reader head(bytes, header, origin);
  head.take(sizeof kMagic, "magic");
  const uint32_t version = head.get<uint32_t>("version");
  if (version != kVersion)
    throw InputError(origin + ": unsupported checkpoint version " + std::to_string(version) +
                     " (this build reads " + std::to_string(kVersion) + ")");
  const uint64_t total = head.get<uint64_t>("file size");
  if (total != bytes.size())
    throw InputError(origin + ": " + (bytes.size() < total ? "truncated" : "oversized") +
                     " checkpoint: header says " + std::to_string(total) + " bytes, file has " +
                     std::to_string(bytes.size()));
  const size_t body = bytes.size() - kChecksumBytes;
  const std::string stored = bytes.substr(body);
  const std::string computed = content_hash(bytes.substr(0, body));
  if (stored != computed)
    throw InputError(origin + ": checkpoint checksum mismatch (stored " + stored + ", computed " + computed +
                     "): the file is corrupted");

  Reader r(bytes, body, origin);
  r.take(header, "header");
  Checkpoint ckpt;
  ckpt.metadata = r.str(r.get<uint32_t>("metadata length"), "metadata");
  const uint32_t count = r.get<uint32_t>("tensor count");
  for (uint32_t t = 0; t < count; ++t) {
    const std::string where = "tensor #" + std::to_string(t);
    const std::string name = r.str(r.get<uint32_t>(where + " name length"), where + " name");
    const uint32_t dtype = r.get<uint32_t>("tensor '" + name + "' dtype");
    if (dtype != kFloat32) r.fail("tensor '" + name + "' has unknown dtype " + std::to_string(dtype));
    const uint32_t rank = r.get<uint32_t>("tensor '" + name + "' rank");
    if (rank > kMaxRank) r.fail("tensor '" + name + "' has rank " + std::to_string(rank));
    NdArray a;
    int64_t elements = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      const int64_t dim = r.get<int64_t>("tensor '" + name + "' shape");
      if (dim < 0 || dim > (int64_t(1) << 40) || (dim > 0 && elements > (int64_t(1) << 40) / dim))
        r.fail("tensor '" + name + "' has an impossible shape");
      elements *= dim;
      a.shape.push_back(dim);
    }
    const char* data = r.take(size_t(elements) * sizeof(float), "tensor '" + name + "' data");
    a.data.resize(size_t(elements));
    if (elements > 0) std::memcpy(a.data.data(), data, size_t(elements) * sizeof(float));
    if (ckpt.has(name)) r.fail("tensor '" + name + "' appears twice");
    ckpt.add(name, std::move(a));
  }
  if (r.pos() != body) r.fail(std::to_string(body - r.pos()) + " unexpected bytes after the last tensor");
  return ckpt;
}

void Checkpoint::save(const std::string& path) const {
  write_file_atomic(path, serialize());
}

Checkpoint Checkpoint::load(const std::string& path) {
  verify_output_file(path);  // not a killed run's, nor another run's
  return deserialize(read_file(path), path);
}

std::string npy_bytes(const NdArray& array) {
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += std::to_string(array.shape[i]) + ", ";
  if (array.shape.size() > 1) shape.resize(shape.size() - 2);
  if (array.shape.size() == 1) shape.resize(shape.size() - 1);  // "(n,)"
  shape += ")";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Header (magic 6 + version 2 + length 2 + dict + '\n') is padded with spaces to a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  put<uint16_t>(out, uint16_t(dict.size()));
  out += dict;
  out.append(reinterpret_cast<const char*>(array.data.data()), array.data.size() * sizeof(float));
  return out;
}

void write_npy(const std::string& path, const NdArray& array) {
  write_file_atomic(path, npy_bytes(array));
}

std::string npy_file_name(const std::string& tensor_name) {
  std::string s = tensor_name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return s + ".npy";
}

}  // namespace sushi
