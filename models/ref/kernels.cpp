#include "models/ref/kernels.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace sushi {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix, 0, Eigen::OuterStride<>>;
using RowMap = Eigen::Map<RowMatrix>;

// Eigen's GEMM blocking (and so the fp32 rounding) depends on the problem size and on its own thread count.
// Eigen stays single-threaded; parallelism comes from splitting every GEMM into column blocks of a fixed
// width, the same at any thread count, so results are bit-identical whatever set_kernel_threads() says.
const bool kSingleThreadedByDefault = (Eigen::setNbThreads(1), true);
constexpr int64_t kColumnBlock = 256;
int g_kernel_threads = 1;

void check_output(const char* kernel, FImage y, int c, int h, int w) {
  if (y.c != c || y.h != h || y.w != w)
    throw std::logic_error(std::string(kernel) + ": output view is " + std::to_string(y.c) + "x" +
                           std::to_string(y.h) + "x" + std::to_string(y.w) + ", the kernel produces " +
                           std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w));
}

}  // namespace

void im2col(ConstFImage x, int first_channel, int channels, int k, const ConvParams& p, int oh, int ow,
            std::vector<float>& col) {
  const int64_t cols = int64_t(oh) * ow;
  col.resize(size_t(channels) * k * k * cols);
  float* dst = col.data();
  for (int i = 0; i < channels; ++i) {
    const float* src = x.channel(first_channel + i);
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx, dst += cols)
        for (int oy = 0; oy < oh; ++oy) {
          const int y = oy * p.stride + ky - p.pad;
          float* row = dst + int64_t(oy) * ow;
          if (y < 0 || y >= x.h) {
            std::fill(row, row + ow, 0.0f);
            continue;
          }
          const float* line = src + int64_t(y) * x.w + kx - p.pad;  // input column of ox is line[ox * stride]
          const int lo = std::min(ow, std::max(0, (p.pad - kx + p.stride - 1) / p.stride));
          const int last = x.w - 1 + p.pad - kx;
          const int hi = last < 0 ? 0 : std::max(lo, std::min(ow, last / p.stride + 1));
          std::fill(row, row + lo, 0.0f);
          if (p.stride == 1)
            std::copy(line + lo, line + hi, row + lo);
          else
            for (int ox = lo; ox < hi; ++ox) row[ox] = line[int64_t(ox) * p.stride];
          std::fill(row + hi, row + ow, 0.0f);
        }
  }
}

namespace {

using Block16 = Eigen::Array<float, 16, 1>;

// 4 output rows x 16 output columns of one depthwise channel, accumulated in registers over all k * k taps
// (independent accumulators hide the FMA latency), then stored once. The input is a zero-padded plane, so
// there are no bounds checks; rows past the output are computed into scratch and not stored. For stride 2
// each padded row is stored as its even columns then its odd columns, so every tap reads 16 contiguous
// floats: input column 2 * ox + kx is entry ox + kx / 2 of the (kx & 1) half.
template <int S>
void depthwise_tile(const float* plane, size_t pw, const float* taps, int k, int oy, int ox0,
                    Block16 acc[4]) {
  using Packet = Eigen::Map<const Block16>;
  const size_t half = S == 1 ? 0 : pw / 2;  // stride 2: length of each half-row
  const size_t next_row = S * pw;           // input distance between consecutive output rows
  for (int r = 0; r < 4; ++r) acc[r].setZero();
  for (int ky = 0; ky < k; ++ky)
    for (int kx = 0; kx < k; ++kx) {
      const float wv = taps[ky * k + kx];
      const float* base = plane + size_t(oy * S + ky) * pw +
                          (S == 1 ? size_t(ox0 + kx) : size_t(kx & 1) * half + size_t(ox0 + kx / 2));
      acc[0] += wv * Packet(base);
      acc[1] += wv * Packet(base + next_row);
      acc[2] += wv * Packet(base + 2 * next_row);
      acc[3] += wv * Packet(base + 3 * next_row);
    }
}

void depthwise(ConstFImage x, const ConvWeightView& w, const ConvParams& p, FImage y) {
  constexpr int kCols = 16, kRows = 4;
  const int k = w.k, s = p.stride;
  if (s != 1 && s != 2) {  // no shipped space has these: a plain loop keeps them correct
    for (int c = 0; c < y.c; ++c)
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) {
          float sum = 0;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * s + ky - p.pad, ix = ox * s + kx - p.pad;
              if (iy >= 0 && iy < x.h && ix >= 0 && ix < x.w) sum += w.at(c, 0, ky, kx) * x.at(c, iy, ix);
            }
          y.at(c, oy, ox) = sum;
        }
    return;
  }
  const int tiles_x = (y.w + kCols - 1) / kCols, tiles_y = (y.h + kRows - 1) / kRows;
  // Padded plane big enough for whole tiles; stride 2 keeps an even row length for its two halves.
  int pw = std::max(x.w + 2 * p.pad, (tiles_x * kCols - 1) * s + k);
  if (s == 2) pw = 2 * std::max((pw + 1) / 2, tiles_x * kCols + k / 2);
  const int ph = std::max(x.h + 2 * p.pad, (tiles_y * kRows - 1) * s + k);
  // Channels are independent, so threads split them without changing any result.
#pragma omp parallel num_threads(g_kernel_threads) if (g_kernel_threads > 1 && y.c > 1)
  {
    std::vector<float> plane(size_t(ph) * pw);
    std::vector<float> taps(size_t(k) * k);
    Block16 acc[kRows];
#pragma omp for schedule(static)
    for (int c = 0; c < y.c; ++c) {
      std::fill(plane.begin(), plane.end(), 0.0f);
      const float* src = x.channel(c);
      for (int iy = 0; iy < x.h; ++iy) {
        const float* in = src + int64_t(iy) * x.w;
        float* row = plane.data() + size_t(iy + p.pad) * pw;
        if (s == 1) {
          std::copy(in, in + x.w, row + p.pad);
        } else {
          for (int ix = 0; ix < x.w; ++ix) {
            const int col = ix + p.pad;
            row[(col & 1) * (pw / 2) + col / 2] = in[ix];
          }
        }
      }
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx) taps[size_t(ky) * k + kx] = w.at(c, 0, ky, kx);
      float* out = y.channel(c);
      for (int oy = 0; oy < y.h; oy += kRows)
        for (int ox0 = 0; ox0 < y.w; ox0 += kCols) {
          if (s == 1)
            depthwise_tile<1>(plane.data(), size_t(pw), taps.data(), k, oy, ox0, acc);
          else
            depthwise_tile<2>(plane.data(), size_t(pw), taps.data(), k, oy, ox0, acc);
          const int n = std::min(kCols, y.w - ox0);
          for (int r = 0; r < kRows && oy + r < y.h; ++r)
            std::copy(acc[r].data(), acc[r].data() + n, out + int64_t(oy + r) * y.w + ox0);
        }
    }
  }
}

}  // namespace

int conv_out_size(int in, int k, int stride, int pad) {
  return (in + 2 * pad - k) / stride + 1;
}

int pool_out_size(int in, int k, int stride, int pad, bool ceil_mode) {
  const int span = in + 2 * pad - k;
  return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}

Tensor conv2d(ConstFImage x, const ConvWeightView& w, const float* bias, const ConvParams& p) {
  Tensor y(w.out, conv_out_size(x.h, w.k, p.stride, p.pad), conv_out_size(x.w, w.k, p.stride, p.pad));
  conv2d(x, w, bias, p, y);
  return y;
}

void conv2d(ConstFImage x, const ConvWeightView& w, const float* bias, const ConvParams& p, FImage y) {
  const int g = p.groups;
  if (x.c != w.in * g || w.out % g != 0)
    throw std::logic_error("conv2d: input has " + std::to_string(x.c) + " channels, weights expect " +
                           std::to_string(w.in) + " x " + std::to_string(g) + " groups");
  const int oh = conv_out_size(x.h, w.k, p.stride, p.pad), ow = conv_out_size(x.w, w.k, p.stride, p.pad);
  check_output("conv2d", y, w.out, oh, ow);  // every output element is written below
  const int64_t cols = int64_t(oh) * ow;
  if (g > 1 && w.in == 1 && w.out == g) {
    depthwise(x, w, p, y);
  } else {
    const int out_per_group = w.out / g;
    const int64_t depth = int64_t(w.in) * w.k * w.k;
    std::vector<float> col, gathered;
    for (int gi = 0; gi < g; ++gi) {
      const float* rhs = nullptr;
      if (w.k == 1 && p.stride == 1 && p.pad == 0) {
        rhs = x.channel(gi * w.in);  // the input planes already are the (in x HW) operand
      } else {
        im2col(x, gi * w.in, w.in, w.k, p, oh, ow, col);
        rhs = col.data();
      }
      const float* lhs = w.data + int64_t(gi) * out_per_group * w.out_stride;
      int64_t lhs_stride = w.out_stride;
      if (!w.rows_contiguous()) {  // e.g. a kernel-centre slice: gather the rows once
        gathered.resize(size_t(out_per_group) * depth);
        for (int o = 0; o < out_per_group; ++o)
          for (int i = 0; i < w.in; ++i)
            for (int ky = 0; ky < w.k; ++ky)
              for (int kx = 0; kx < w.k; ++kx)
                gathered[((size_t(o) * w.in + i) * w.k + ky) * w.k + kx] =
                    w.at(gi * out_per_group + o, i, ky, kx);
        lhs = gathered.data();
        lhs_stride = depth;
      }
      ConstRowMap a(lhs, out_per_group, depth, Eigen::OuterStride<>(lhs_stride));
      float* out = y.channel(gi * out_per_group);
      const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for schedule(static) \
    num_threads(g_kernel_threads) if (g_kernel_threads > 1 && blocks > 1)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t j0 = blk * kColumnBlock, n = std::min(kColumnBlock, cols - j0);
        ConstRowMap b(rhs + j0, depth, n, Eigen::OuterStride<>(cols));
        Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>> c(out + j0, out_per_group, n,
                                                         Eigen::OuterStride<>(cols));
        c.noalias() = a * b;
      }
    }
  }
  if (bias)
    for (int o = 0; o < y.c; ++o) {
      float* d = y.channel(o);
      for (int64_t i = 0; i < cols; ++i) d[i] += bias[o];
    }
}

void batch_norm(FImage x, const float* gamma, const float* beta, const float* mean, const float* var,
                float eps) {
  for (int c = 0; c < x.c; ++c) {
    const float scale = gamma[c] / std::sqrt(var[c] + eps);
    const float shift = beta[c] - mean[c] * scale;
    float* d = x.channel(c);
    for (int64_t i = 0; i < x.plane(); ++i) d[i] = d[i] * scale + shift;
  }
}

void fold_batch_norm(std::vector<float>& weights, std::vector<float>& bias, int out, const float* gamma,
                     const float* beta, const float* mean, const float* var, float eps) {
  const size_t fan_in = weights.size() / size_t(out);
  bias.resize(size_t(out), 0.0f);
  for (int o = 0; o < out; ++o) {
    const float scale = gamma[o] / std::sqrt(var[o] + eps);
    for (size_t i = 0; i < fan_in; ++i) weights[o * fan_in + i] *= scale;
    bias[o] = (bias[o] - mean[o]) * scale + beta[o];
  }
}

float activate(float v, Activation act) {
  switch (act) {
    case Activation::None:
      return v;
    case Activation::ReLU:
      return v > 0.0f ? v : 0.0f;
    case Activation::HSwish:
      return v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f;
    case Activation::HSigmoid:
      return std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f;
  }
  return v;
}

void apply_activation(Tensor& x, Activation act) {
  if (act == Activation::None) return;
  for (float& v : x.data) v = activate(v, act);
}

Tensor global_avg_pool(ConstFImage x) {
  Tensor y(x.c, 1, 1);
  global_avg_pool(x, y);
  return y;
}

void global_avg_pool(ConstFImage x, FImage y) {
  check_output("global_avg_pool", y, x.c, 1, 1);
  for (int c = 0; c < x.c; ++c) {
    double sum = 0;
    const float* d = x.channel(c);
    for (int64_t i = 0; i < x.plane(); ++i) sum += d[i];
    y.data[c] = float(sum / double(x.plane()));
  }
}

namespace {
template <typename Reduce>
void pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode, FImage y, Reduce reduce) {
  check_output("pool", y, x.c, pool_out_size(x.h, k, stride, pad, ceil_mode),
               pool_out_size(x.w, k, stride, pad, ceil_mode));
  for (int c = 0; c < x.c; ++c)
    for (int oy = 0; oy < y.h; ++oy)
      for (int ox = 0; ox < y.w; ++ox) {
        const int y0 = std::max(oy * stride - pad, 0), y1 = std::min(oy * stride - pad + k, x.h);
        const int x0 = std::max(ox * stride - pad, 0), x1 = std::min(ox * stride - pad + k, x.w);
        y.at(c, oy, ox) = reduce(x, c, y0, y1, x0, x1);
      }
}

Tensor pool_output(ConstFImage x, int k, int stride, int pad, bool ceil_mode) {
  return Tensor(x.c, pool_out_size(x.h, k, stride, pad, ceil_mode),
                pool_out_size(x.w, k, stride, pad, ceil_mode));
}
}  // namespace

Tensor max_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode) {
  Tensor y = pool_output(x, k, stride, pad, ceil_mode);
  max_pool(x, k, stride, pad, ceil_mode, y);
  return y;
}

void max_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode, FImage y) {
  pool(x, k, stride, pad, ceil_mode, y, [](ConstFImage t, int c, int y0, int y1, int x0, int x1) {
    float m = -std::numeric_limits<float>::infinity();
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) m = std::max(m, t.at(c, yy, xx));
    return m;
  });
}

Tensor avg_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode) {
  Tensor y = pool_output(x, k, stride, pad, ceil_mode);
  avg_pool(x, k, stride, pad, ceil_mode, y);
  return y;
}

void avg_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode, FImage y) {
  pool(x, k, stride, pad, ceil_mode, y, [](ConstFImage t, int c, int y0, int y1, int x0, int x1) {
    float s = 0;
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) s += t.at(c, yy, xx);
    return s / float((y1 - y0) * (x1 - x0));
  });
}

Tensor add(ConstFImage a, ConstFImage b, Activation act) {
  Tensor y(a.c, a.h, a.w);
  add(a, b, act, y);
  return y;
}

void add(ConstFImage a, ConstFImage b, Activation act, FImage y) {
  if (a.size() != b.size()) throw std::logic_error("add: operand shapes differ");
  check_output("add", y, a.c, a.h, a.w);
  for (size_t i = 0; i < y.size(); ++i) y.data[i] = activate(a.data[i] + b.data[i], act);
}

Tensor se_scale(ConstFImage x, ConstFImage gate) {
  Tensor y(x.c, x.h, x.w);
  se_scale(x, gate, y);
  return y;
}

void se_scale(ConstFImage x, ConstFImage gate, FImage y) {
  if (gate.c != x.c) throw std::logic_error("se_scale: gate has the wrong channel count");
  check_output("se_scale", y, x.c, x.h, x.w);
  for (int c = 0; c < x.c; ++c) {
    const float* s = x.channel(c);
    float* d = y.channel(c);
    for (int64_t i = 0; i < x.plane(); ++i) d[i] = s[i] * gate.data[c];
  }
}

void set_kernel_threads(int threads) {
  (void)kSingleThreadedByDefault;
  g_kernel_threads = std::max(1, threads);
}

int kernel_threads() {
  return g_kernel_threads;
}

}  // namespace sushi
