#pragma once
// Values too many to hold in memory (a served trace of millions of queries): appended to an anonymous
// temporary file in the temporary folder ($TMPDIR, else /tmp; unlinked at once, so nothing is left behind
// even after a kill) and read back in order. SpilledDoubles keeps exact order statistics of such a stream
// with bounded memory, so quantiles of a long run equal those of the same values held in memory.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sushi {

class SpillFile {
 public:
  SpillFile();  // throws InputError naming the folder when the temporary cannot be created
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;
  void append(std::string_view data);  // buffered; throws InputError on a write failure (disk full)
  int64_t bytes() const { return bytes_; }
  // Calls `piece` with the whole content in order, in pieces of at most 1 MiB.
  void read(const std::function<void(std::string_view)>& piece) const;

 private:
  void flush() const;
  [[noreturn]] void fail(const std::string& what) const;
  int fd_ = -1;
  std::string dir_;
  mutable std::string buffer_;
  int64_t bytes_ = 0;
};

class SpilledDoubles {
 public:
  static constexpr size_t kInMemory = size_t(1) << 16;  // values held before the first spill
  SpilledDoubles() = default;
  SpilledDoubles(const SpilledDoubles&) = delete;
  SpilledDoubles& operator=(const SpilledDoubles&) = delete;
  SpilledDoubles(SpilledDoubles&&) noexcept = default;
  SpilledDoubles& operator=(SpilledDoubles&&) noexcept = default;
  void push(double v);
  size_t size() const { return n_; }
  // The ranks[i]-th smallest value (0-based; each rank < size()), as std::sort would order them (NaN is not
  // supported). Exact: once spilled, by radix selection, 8 bits of the order-preserving key per pass.
  std::vector<double> select(const std::vector<size_t>& ranks) const;

 private:
  void for_each(const std::function<void(double)>& f) const;
  std::vector<double> memory_;
  std::unique_ptr<SpillFile> file_;
  size_t n_ = 0;
};

}  // namespace sushi
