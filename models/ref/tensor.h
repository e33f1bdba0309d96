#pragma once
// fp32 tensors of the reference kernels. Layout: NCHW (image-major, then channel, rows, columns); weights
// are [out][in/groups][k][k]. A single image is the special case n = 1, and its per-image API (`c`, `h`,
// `w`, `data`, `at(c, y, x)`, `channel(c)`) is that image's. In a batch those accessors address image 0;
// `image(i)` is a view of image i inside the batch (no copy), which is what every kernel takes.
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace sushi {

// One CHW image inside a (possibly larger) buffer: element (c, y, x) is data[(c * h + y) * w + x].
// T is float or const float (fp32), int8_t or const int8_t (int8). No copy is made.
template <typename T>
struct ImageView {
  T* data = nullptr;
  int c = 0, h = 0, w = 0;

  ImageView() = default;
  ImageView(T* d, int channels, int height, int width) : data(d), c(channels), h(height), w(width) {}
  // A mutable view converts to a read-only one, implicitly, as T* converts to const T*.
  template <typename U, std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>, int> = 0>
  ImageView(const ImageView<U>& o) : data(o.data), c(o.c), h(o.h), w(o.w) {}

  T& at(int ci, int y, int x) const { return data[(size_t(ci) * h + y) * w + x]; }
  T* channel(int ci) const { return data + size_t(ci) * h * w; }
  int64_t plane() const { return int64_t(h) * w; }
  size_t size() const { return size_t(c) * h * w; }
};
using FImage = ImageView<float>;
using ConstFImage = ImageView<const float>;

struct Tensor {
  int c = 0, h = 0, w = 0;
  std::vector<float> data;  // NCHW: n images of c x h x w
  int n = 1;

  Tensor() = default;
  Tensor(int channels, int height, int width, float fill = 0.0f)
      : c(channels), h(height), w(width), data(size_t(channels) * height * width, fill) {}
  // n images of c x h x w.
  static Tensor batch(int images, int channels, int height, int width, float fill = 0.0f) {
    Tensor t(channels, height, width);
    t.n = images;
    t.data.assign(size_t(images) * t.image_size(), fill);
    return t;
  }
  // Per-image API (image 0 of a batch).
  float at(int ci, int y, int x) const { return data[(size_t(ci) * h + y) * w + x]; }
  float& at(int ci, int y, int x) { return data[(size_t(ci) * h + y) * w + x]; }
  float* channel(int ci) { return data.data() + size_t(ci) * h * w; }
  const float* channel(int ci) const { return data.data() + size_t(ci) * h * w; }
  int64_t plane() const { return int64_t(h) * w; }
  // Batch API.
  size_t image_size() const { return size_t(c) * h * w; }
  float at(int i, int ci, int y, int x) const { return data[((size_t(i) * c + ci) * h + y) * w + x]; }
  float& at(int i, int ci, int y, int x) { return data[((size_t(i) * c + ci) * h + y) * w + x]; }
  FImage image(int i) { return {data.data() + size_t(i) * image_size(), c, h, w}; }
  ConstFImage image(int i) const { return {data.data() + size_t(i) * image_size(), c, h, w}; }
  // A tensor is passed to a kernel as a view of its (first) image: implicit, so kernel calls take either.
  operator ConstFImage() const { return image(0); }
  operator FImage() { return image(0); }
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
