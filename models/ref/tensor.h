#pragma once
// fp32 tensors of the reference kernels. Layout: one image at a time, CHW (channel-major, then rows, then
// columns), no batch dimension; a batch is a std::vector<Tensor>. Weights are [out][in/groups][k][k].
#include <cstdint>
#include <string>
#include <vector>

namespace sushi {

struct Tensor {
  int c = 0, h = 0, w = 0;
  std::vector<float> data;  // CHW

  Tensor() = default;
  Tensor(int channels, int height, int width, float fill = 0.0f)
      : c(channels), h(height), w(width), data(size_t(channels) * height * width, fill) {}
  float at(int ci, int y, int x) const { return data[(size_t(ci) * h + y) * w + x]; }
  float& at(int ci, int y, int x) { return data[(size_t(ci) * h + y) * w + x]; }
  float* channel(int ci) { return data.data() + size_t(ci) * h * w; }
  const float* channel(int ci) const { return data.data() + size_t(ci) * h * w; }
  int64_t plane() const { return int64_t(h) * w; }
};

// An n-dimensional fp32 array of a checkpoint (row-major, last index fastest).
struct NdArray {
  std::vector<int64_t> shape;
  std::vector<float> data;

  NdArray() = default;
  explicit NdArray(std::vector<int64_t> dims, float fill = 0.0f) : shape(std::move(dims)) {
    data.assign(size_t(elements(shape)), fill);
  }
  static int64_t elements(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  int64_t dim(size_t i) const { return i < shape.size() ? shape[i] : 1; }
  bool operator==(const NdArray& o) const { return shape == o.shape && data == o.data; }
};

}  // namespace sushi
