#include "models/train/network.h"

#include <malloc.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "base/errors.h"
#include "base/random.h"
#include "models/ref/forward.h"

namespace sushi::train {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMat = Eigen::Map<RowMat, 0, Eigen::OuterStride<>>;
using ConstMapMat = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;

constexpr int64_t kColumnBlock = 1024;  // GEMM column block: the unit of parallel work
constexpr int kRowBlock = 8;            // rows of a weight gradient per unit

template <typename F>
void parallel(int units, int threads, const F& f) {
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && units > 1)
  for (int u = 0; u < units; ++u) f(u);
}

// Y[out][M] (+)= W[out][in] * X[in][M], in column blocks.
void gemm_forward(const float* W, int out, int in, const float* X, int64_t M, float* Y, int threads) {
  const int blocks = int((M + kColumnBlock - 1) / kColumnBlock);
  parallel(blocks, threads, [&](int b) {
    const int64_t c0 = b * kColumnBlock, w = std::min(kColumnBlock, M - c0);
    ConstMapMat w_m(W, out, in, Eigen::OuterStride<>(in));
    ConstMapMat x_m(X + c0, in, w, Eigen::OuterStride<>(M));
    MapMat y_m(Y + c0, out, w, Eigen::OuterStride<>(M));
    y_m.noalias() = w_m * x_m;
  });
}

// dX[in][M] += W^T * dY[out][M], in column blocks.
void gemm_input_grad(const float* W, int out, int in, const float* dY, int64_t M, float* dX, int threads) {
  const int blocks = int((M + kColumnBlock - 1) / kColumnBlock);
  parallel(blocks, threads, [&](int b) {
    const int64_t c0 = b * kColumnBlock, w = std::min(kColumnBlock, M - c0);
    ConstMapMat w_m(W, out, in, Eigen::OuterStride<>(in));
    ConstMapMat dy_m(dY + c0, out, w, Eigen::OuterStride<>(M));
    MapMat dx_m(dX + c0, in, w, Eigen::OuterStride<>(M));
    dx_m.noalias() += w_m.transpose() * dy_m;
  });
}

// dW[out][in] = dY[out][M] * X[in][M]^T, in row blocks (each row's reduction over M in one unit).
void gemm_weight_grad(const float* dY, int out, const float* X, int in, int64_t M, float* dW, int threads) {
  const int blocks = (out + kRowBlock - 1) / kRowBlock;
  parallel(blocks, threads, [&](int b) {
    const int r0 = b * kRowBlock, rows = std::min(kRowBlock, out - r0);
    ConstMapMat dy_m(dY + r0 * M, rows, M, Eigen::OuterStride<>(M));
    ConstMapMat x_m(X, in, M, Eigen::OuterStride<>(M));
    MapMat dw_m(dW + size_t(r0) * in, rows, in, Eigen::OuterStride<>(in));
    dw_m.noalias() = dy_m * x_m.transpose();
  });
}

float act_forward(float v, Activation a) {
  switch (a) {
    case Activation::None:
      return v;
    case Activation::ReLU:
      return v > 0 ? v : 0.0f;
    case Activation::HSwish:
      return v * std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f;
    case Activation::HSigmoid:
      return std::min(std::max(v + 3.0f, 0.0f), 6.0f) / 6.0f;
  }
  return v;
}

float act_grad(float v, Activation a) {
  switch (a) {
    case Activation::None:
      return 1.0f;
    case Activation::ReLU:
      return v > 0 ? 1.0f : 0.0f;
    case Activation::HSwish:
      return v <= -3.0f ? 0.0f : v >= 3.0f ? 1.0f : (2.0f * v + 3.0f) / 6.0f;
    case Activation::HSigmoid:
      return (v > -3.0f && v < 3.0f) ? 1.0f / 6.0f : 0.0f;
  }
  return 1.0f;
}

const NdArray& vec_of(const Checkpoint& w, const std::string& name, int at_least) {
  const NdArray& a = w.at(name);
  if (a.data.size() < size_t(at_least))
    throw InputError("checkpoint tensor '" + name + "' is smaller than the subnet needs");
  return a;
}

NdArray& grad_of(Checkpoint& grads, const Checkpoint& params, const std::string& name) {
  if (NdArray* g = grads.find_mutable(name)) return *g;
  return grads.add(name, NdArray(params.at(name).shape, 0.0f));
}

bool weighted(LayerKind k) {
  return k == LayerKind::Conv || k == LayerKind::Depthwise || k == LayerKind::Pointwise ||
         k == LayerKind::FC || k == LayerKind::SEReduce || k == LayerKind::SEExpand;
}

}  // namespace

std::string kernel_transform_name(const std::string& layer, int from, int to) {
  return layer + ".kernel_transform." + std::to_string(from) + "to" + std::to_string(to);
}

struct SubnetPass::Tape {
  Act z, y;                  // op output (before batch norm) and layer output
  std::vector<float> W;      // the layer's dense weights [out][in][k][k] as read (transforms applied)
  std::vector<float> col;    // Conv: im2col of the input; FC with dropout: the dropped-out input
  std::vector<int32_t> arg;  // MaxPool: per output, the winning input position within its image plane
  // Elastic kernel chain: sizes[0] = stored K > sizes[1] > ... = k; crops[s] = centre of step s
  // [kernels][to^2].
  std::vector<int> sizes;
  std::vector<const NdArray*> mats;
  std::vector<std::vector<float>> crops;
  std::vector<double> mean, invstd;
  const float *gamma = nullptr, *beta = nullptr, *bias = nullptr;
};

SubnetPass::SubnetPass(const Checkpoint& params, std::vector<Layer> layers, PassOptions options)
    : params_(params), layers_(std::move(layers)), opt_(std::move(options)) {
  if (opt_.dropout > 0)
    for (size_t i = 0; i < layers_.size(); ++i)
      if (layers_[i].kind == LayerKind::FC) dropout_layer_ = int(i);
}
SubnetPass::~SubnetPass() = default;
SubnetPass::SubnetPass(SubnetPass&&) noexcept = default;

namespace {

// Gathers a layer's weight slice into dense [out][in][k][k], through the elastic-kernel chain when the
// checkpoint has its matrices (the same rule as models/ref/forward.cpp's resolve_layer).
void gather_weights(const Checkpoint& w, const Layer& l, std::vector<float>& W, std::vector<int>& sizes,
                    std::vector<const NdArray*>& mats, std::vector<std::vector<float>>& crops) {
  const NdArray& full = w.at(l.name + ".weight");
  const WeightSlice& s = l.slice;
  const int I = int(full.shape[1]), K = int(full.shape[2]);
  if (full.shape[0] < s.out || I < s.in || K < s.k)
    throw InputError("checkpoint tensor '" + l.name + ".weight' does not hold the layer's slice");
  const int nk = s.out * s.in;
  sizes = {K};
  mats.clear();
  crops.clear();
  std::vector<float> cur(size_t(nk) * K * K);
  for (int o = 0; o < s.out; ++o)
    for (int i = 0; i < s.in; ++i)
      std::copy_n(full.data.data() + (size_t(o) * I + i) * K * K, K * K,
                  cur.data() + (size_t(o) * s.in + i) * K * K);
  const bool elastic = s.k < K && w.has(kernel_transform_name(l.name, K, K - 2));
  int size = K;
  while (size > s.k) {
    int to = s.k;
    if (elastic)
      for (int cand = size - 2; cand >= s.k; cand -= 2)
        if (w.has(kernel_transform_name(l.name, size, cand))) {
          to = cand;
          break;
        }
    const int off = (size - to) / 2, n = to * to;
    std::vector<float> crop(size_t(nk) * n);
    for (int q = 0; q < nk; ++q)
      for (int y = 0; y < to; ++y)
        for (int x = 0; x < to; ++x)
          crop[size_t(q) * n + y * to + x] = cur[size_t(q) * size * size + (y + off) * size + x + off];
    const NdArray* m = elastic ? w.find(kernel_transform_name(l.name, size, to)) : nullptr;
    std::vector<float> next = crop;
    if (m) {  // next[q] = M * crop[q]
      Eigen::Map<const RowMat> mm(m->data.data(), n, n);
      Eigen::Map<const RowMat> cm(crop.data(), nk, n);
      Eigen::Map<RowMat> nm(next.data(), nk, n);
      nm.noalias() = cm * mm.transpose();
    }
    sizes.push_back(to);
    mats.push_back(m);
    crops.push_back(std::move(crop));
    cur.swap(next);
    size = to;
  }
  W.swap(cur);
}

// Backward of gather_weights: dW [out][in][k][k] into the full tensor's gradient and the matrices'.
void scatter_weight_grad(const Layer& l, const std::vector<int>& sizes,
                         const std::vector<const NdArray*>& mats,
                         const std::vector<std::vector<float>>& crops, std::vector<float> d,
                         Checkpoint& grads, const Checkpoint& params) {
  const WeightSlice& s = l.slice;
  const int nk = s.out * s.in;
  for (size_t step = mats.size(); step-- > 0;) {
    const int size = sizes[step], to = sizes[step + 1], n = to * to, off = (size - to) / 2;
    std::vector<float> dcrop = d;
    if (const NdArray* m = mats[step]) {
      const std::string name = kernel_transform_name(l.name, size, to);
      NdArray& gm = grad_of(grads, params, name);
      Eigen::Map<const RowMat> mm(m->data.data(), n, n);
      Eigen::Map<const RowMat> dn(d.data(), nk, n);
      Eigen::Map<const RowMat> cm(crops[step].data(), nk, n);
      Eigen::Map<RowMat>(gm.data.data(), n, n).noalias() += dn.transpose() * cm;
      Eigen::Map<RowMat>(dcrop.data(), nk, n).noalias() = dn * mm;
    }
    std::vector<float> up(size_t(nk) * size * size, 0.0f);
    for (int q = 0; q < nk; ++q)
      for (int y = 0; y < to; ++y)
        for (int x = 0; x < to; ++x)
          up[size_t(q) * size * size + (y + off) * size + x + off] = dcrop[size_t(q) * n + y * to + x];
    d.swap(up);
  }
  NdArray& g = grad_of(grads, params, l.name + ".weight");
  const int I = int(g.shape[1]), K = int(g.shape[2]);
  for (int o = 0; o < s.out; ++o)
    for (int i = 0; i < s.in; ++i) {
      float* dst = g.data.data() + (size_t(o) * I + i) * K * K;
      const float* src = d.data() + (size_t(o) * s.in + i) * K * K;
      for (int j = 0; j < K * K; ++j) dst[j] += src[j];
    }
}

void im2col_cnhw(const Act& x, int k, int stride, int pad, int oh, int ow, std::vector<float>& col) {
  const int64_t M = int64_t(x.n) * oh * ow;
  col.assign(size_t(x.c) * k * k * M, 0.0f);
  for (int c = 0; c < x.c; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        float* row = col.data() + ((size_t(c) * k + ky) * k + kx) * M;
        for (int i = 0; i < x.n; ++i)
          for (int oy = 0; oy < oh; ++oy) {
            const int iy = oy * stride + ky - pad;
            if (iy < 0 || iy >= x.h) continue;
            const float* src = x.ch(c) + (size_t(i) * x.h + iy) * x.w;
            float* dst = row + (size_t(i) * oh + oy) * ow;
            for (int ox = 0; ox < ow; ++ox) {
              const int ix = ox * stride + kx - pad;
              if (ix >= 0 && ix < x.w) dst[ox] = src[ix];
            }
          }
      }
}

void col2im_cnhw(const std::vector<float>& col, int k, int stride, int pad, int oh, int ow, Act& dx) {
  const int64_t M = int64_t(dx.n) * oh * ow;
  for (int c = 0; c < dx.c; ++c)
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const float* row = col.data() + ((size_t(c) * k + ky) * k + kx) * M;
        for (int i = 0; i < dx.n; ++i)
          for (int oy = 0; oy < oh; ++oy) {
            const int iy = oy * stride + ky - pad;
            if (iy < 0 || iy >= dx.h) continue;
            float* dst = dx.ch(c) + (size_t(i) * dx.h + iy) * dx.w;
            const float* src = row + (size_t(i) * oh + oy) * ow;
            for (int ox = 0; ox < ow; ++ox) {
              const int ix = ox * stride + kx - pad;
              if (ix >= 0 && ix < dx.w) dst[ix] += src[ox];
            }
          }
      }
}

// Depthwise convolution of one channel plane by "phase planes": the zero-padded input P (hp x wp) is split
// into stride x stride planes Q[ry][rx][u][v] = P[stride * u + ry][stride * v + rx] (hq x wq each), so that
// output (oy, ox) = sum over taps of w[ky][kx] * Q[ky % s][kx % s][oy + ky / s][ox + kx / s]. On a plane
// flattened row-major with width wq, each tap is one long contiguous multiply-add at a fixed offset
// (computed over all wq columns of the oh output rows; columns >= ow are discarded), which vectorises.
struct DwGeometry {
  int k, s, pad, h, w, oh, ow, hq, wq;
  int64_t flat;   // oh * wq rounded up to 16: the length of a tap's run
  int64_t plane;  // one phase plane's buffer: every tap's run stays inside it
  DwGeometry(int k_, int s_, int pad_, int h_, int w_, int oh_, int ow_)
      : k(k_), s(s_), pad(pad_), h(h_), w(w_), oh(oh_), ow(ow_) {
    hq = (h + 2 * pad + s - 1) / s;
    wq = (w + 2 * pad + s - 1) / s;
    flat = (int64_t(oh) * wq + 15) / 16 * 16;
    plane = flat + int64_t((k - 1) / s) * (wq + 1) + 16;
    plane = (std::max<int64_t>(plane, int64_t(hq) * wq) + 15) / 16 * 16;
  }
  int64_t offset(int ky, int kx) const { return int64_t(ky / s) * wq + kx / s; }
  int phase(int ky, int kx) const { return (ky % s) * s + kx % s; }
};

// Scatters one image plane into its phase planes (q: s * s planes of g.plane floats, zero-filled once: the
// same positions are written for every image, the padding never).
void to_phases(const DwGeometry& g, const float* in, float* q) {
  for (int y = 0; y < g.h; ++y) {
    const int py = y + g.pad, ry = py % g.s, u = py / g.s;
    const float* src = in + y * g.w;
    if (g.s == 1) {
      std::copy_n(src, g.w, q + int64_t(u) * g.wq + g.pad);
      continue;
    }
    for (int rx = 0; rx < g.s; ++rx) {
      float* dst = q + (ry * g.s + rx) * g.plane + int64_t(u) * g.wq;
      const int x0 = ((rx - g.pad) % g.s + g.s) % g.s;  // the first x with (x + pad) % s == rx
      for (int x = x0; x < g.w; x += g.s) dst[(x + g.pad) / g.s] = src[x];
    }
  }
}

// The adjoint of to_phases: adds the phase planes' interior back into an image plane.
void from_phases_add(const DwGeometry& g, const float* q, float* out) {
  for (int y = 0; y < g.h; ++y) {
    const int py = y + g.pad, ry = py % g.s, u = py / g.s;
    float* dst = out + y * g.w;
    for (int rx = 0; rx < g.s; ++rx) {
      const float* src = q + (ry * g.s + rx) * g.plane + int64_t(u) * g.wq;
      const int x0 = ((rx - g.pad) % g.s + g.s) % g.s;
      for (int x = x0; x < g.w; x += g.s) dst[x] += src[(x + g.pad) / g.s];
    }
  }
}

// out[j] = sum over taps t (in order) of w[t] * src[t][j], for j < n (a multiple of 16): sixteen outputs
// at a time in two vector registers (GCC/Clang vector extensions; unaligned loads through memcpy), so each
// tap costs one load per output instead of a load-add-store pass.
typedef float V8 __attribute__((vector_size(32)));

inline V8 load8(const float* p) {
  V8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void correlate(const float* w, const float* const* src, int taps, float* out, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) {
    V8 a = {0, 0, 0, 0, 0, 0, 0, 0}, b = a;
    for (int t = 0; t < taps; ++t) {
      const V8 wt = {w[t], w[t], w[t], w[t], w[t], w[t], w[t], w[t]};
      a += wt * load8(src[t] + j);
      b += wt * load8(src[t] + j + 8);
    }
    std::memcpy(out + j, &a, sizeof a);
    std::memcpy(out + j + 8, &b, sizeof b);
  }
}

// Dot product in 8 fixed lanes (n a multiple of 8): the same order at any alignment and thread count.
double dot8(const float* __restrict a, const float* __restrict b, int64_t n) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int64_t j = 0; j < n; j += 8)
    for (int l = 0; l < 8; ++l) lane[l] += a[j + l] * b[j + l];
  double s = 0;
  for (float v : lane) s += v;
  return s;
}

void depthwise_forward(const Act& x, const std::vector<float>& W, int k, int stride, int pad, Act& y,
                       int threads) {
  const DwGeometry g(k, stride, pad, x.h, x.w, y.h, y.w);
  parallel(x.c, threads, [&](int c) {
    const float* wc = W.data() + size_t(c) * k * k;
    std::vector<float> q(size_t(stride) * stride * g.plane), f(size_t(g.flat));
    std::vector<const float*> src(size_t(k) * k);
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx)
        src[size_t(ky) * k + kx] = q.data() + g.phase(ky, kx) * g.plane + g.offset(ky, kx);
    for (int i = 0; i < x.n; ++i) {
      to_phases(g, x.ch(c) + size_t(i) * x.h * x.w, q.data());
      correlate(wc, src.data(), k * k, f.data(), g.flat);
      float* out = y.ch(c) + size_t(i) * y.h * y.w;
      for (int oy = 0; oy < y.h; ++oy) std::copy_n(f.data() + int64_t(oy) * g.wq, y.w, out + oy * y.w);
    }
  });
}

// dW[tap] = sum of dy * (the input under the tap); dx by the transposed correlation: each phase plane of
// dP gathers dy shifted back by its taps' offsets (dy is stored behind a zero margin for that).
void depthwise_backward(const Act& x, const std::vector<float>& W, int k, int stride, int pad, const Act& dy,
                        std::vector<float>& dW, Act* dx, int threads) {
  const DwGeometry g(k, stride, pad, x.h, x.w, dy.h, dy.w);
  const int64_t margin = (g.offset(k - 1, k - 1) + 15) / 16 * 16;
  const int64_t nq = (int64_t(g.hq) * g.wq + 15) / 16 * 16;  // <= plane
  parallel(x.c, threads, [&](int c) {
    const float* wc = W.data() + size_t(c) * k * k;
    const int phases = stride * stride;
    std::vector<float> q(size_t(phases) * g.plane), dq(dx ? q.size() : 0, 0.0f);
    std::vector<float> gbuf(size_t(margin + g.plane), 0.0f);
    float* gf = gbuf.data() + margin;
    std::vector<double> dw(size_t(k) * k, 0.0);
    std::vector<std::vector<const float*>> src(static_cast<size_t>(phases));
    std::vector<std::vector<float>> wt(static_cast<size_t>(phases));
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        src[size_t(g.phase(ky, kx))].push_back(gf - g.offset(ky, kx));
        wt[size_t(g.phase(ky, kx))].push_back(wc[ky * k + kx]);
      }
    for (int i = 0; i < x.n; ++i) {
      to_phases(g, x.ch(c) + size_t(i) * x.h * x.w, q.data());
      const float* gi = dy.ch(c) + size_t(i) * dy.h * dy.w;
      for (int oy = 0; oy < dy.h; ++oy) std::copy_n(gi + oy * dy.w, dy.w, gf + int64_t(oy) * g.wq);
      for (int ky = 0; ky < k; ++ky)
        for (int kx = 0; kx < k; ++kx)
          dw[size_t(ky) * k + kx] +=
              dot8(gf, q.data() + g.phase(ky, kx) * g.plane + g.offset(ky, kx), g.flat);
      if (!dx) continue;
      for (int ph = 0; ph < phases; ++ph)
        correlate(wt[size_t(ph)].data(), src[size_t(ph)].data(), int(wt[size_t(ph)].size()),
                  dq.data() + ph * g.plane, nq);
      from_phases_add(g, dq.data(), dx->ch(c) + size_t(i) * x.h * x.w);
    }
    float* dwc = dW.data() + size_t(c) * k * k;
    for (int j = 0; j < k * k; ++j) dwc[j] += float(dw[size_t(j)]);
  });
}

// Sum of n floats (and of squared deviations from mu) in 8 fixed float lanes over blocks of 512, the blocks
// added in double: vectorised, and the same order at any alignment and thread count.
template <bool kSquares>
double lane_sum(const float* p, int64_t n, float mu) {
  constexpr int64_t kBlock = 512;
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock), full = b + (e - b) / 8 * 8;
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t j = b; j < full; j += 8)
      for (int l = 0; l < 8; ++l) {
        const float v = kSquares ? (p[j + l] - mu) * (p[j + l] - mu) : p[j + l];
        lane[l] += v;
      }
    for (int64_t j = full; j < e; ++j) lane[0] += kSquares ? (p[j] - mu) * (p[j] - mu) : p[j];
    double s = 0;
    for (float v : lane) s += v;
    total += s;
  }
  return total;
}

template <Activation A>
void scale_shift_act(const float* src, float* dst, int64_t n, float scale, float shift) {
  for (int64_t j = 0; j < n; ++j) dst[j] = act_forward(src[j] * scale + shift, A);
}

// dst = act(src * scale + shift), the activation's switch outside the loop.
void scale_shift_act(const float* src, float* dst, int64_t n, float scale, float shift, Activation a) {
  switch (a) {
    case Activation::None:
      return scale_shift_act<Activation::None>(src, dst, n, scale, shift);
    case Activation::ReLU:
      return scale_shift_act<Activation::ReLU>(src, dst, n, scale, shift);
    case Activation::HSwish:
      return scale_shift_act<Activation::HSwish>(src, dst, n, scale, shift);
    case Activation::HSigmoid:
      return scale_shift_act<Activation::HSigmoid>(src, dst, n, scale, shift);
  }
}

// Batch-norm backward, first pass over one channel: g *= act'(y) in place, and the sums of g and of
// g * xhat (xhat = (z - mu) * inv) in 8 float lanes per block of 512, blocks added in double.
template <Activation A>
void norm_grad_sums(float* g, const float* z, int64_t n, float mu, float inv, float gamma, float beta,
                    double& sd, double& sdx) {
  constexpr int64_t kBlock = 512;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    float l1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, l2[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = b;
    for (; j + 8 <= e; j += 8)
      for (int l = 0; l < 8; ++l) {
        const float xhat = (z[j + l] - mu) * inv, v = g[j + l] * act_grad(gamma * xhat + beta, A);
        g[j + l] = v;
        l1[l] += v;
        l2[l] += v * xhat;
      }
    for (; j < e; ++j) {
      const float xhat = (z[j] - mu) * inv, v = g[j] * act_grad(gamma * xhat + beta, A);
      g[j] = v;
      l1[0] += v;
      l2[0] += v * xhat;
    }
    for (int l = 0; l < 8; ++l) {
      sd += l1[l];
      sdx += l2[l];
    }
  }
}

void norm_grad_sums(float* g, const float* z, int64_t n, float mu, float inv, float gamma, float beta,
                    Activation a, double& sd, double& sdx) {
  switch (a) {
    case Activation::None:
      return norm_grad_sums<Activation::None>(g, z, n, mu, inv, gamma, beta, sd, sdx);
    case Activation::ReLU:
      return norm_grad_sums<Activation::ReLU>(g, z, n, mu, inv, gamma, beta, sd, sdx);
    case Activation::HSwish:
      return norm_grad_sums<Activation::HSwish>(g, z, n, mu, inv, gamma, beta, sd, sdx);
    case Activation::HSigmoid:
      return norm_grad_sums<Activation::HSigmoid>(g, z, n, mu, inv, gamma, beta, sd, sdx);
  }
}

// The window of output (oy, ox) clipped to the input: [y0, y1) x [x0, x1) (the reference kernels' rule:
// average over the positions inside, count_include_pad = False; padding never wins a max).
struct PoolWindow {
  int y0, y1, x0, x1;
  PoolWindow(const Layer& l, int h, int w, int oy, int ox)
      : y0(std::max(oy * l.stride - l.pad, 0)),
        y1(std::min(oy * l.stride - l.pad + l.kernel, h)),
        x0(std::max(ox * l.stride - l.pad, 0)),
        x1(std::min(ox * l.stride - l.pad + l.kernel, w)) {}
  int count() const { return std::max(0, y1 - y0) * std::max(0, x1 - x0); }
};

// Max (arg: the first largest position, row-major) or average pooling, one channel per unit of work.
void pool_forward(const Layer& l, const Act& a, Act& y, std::vector<int32_t>* arg, int threads) {
  if (arg) arg->assign(y.d.size(), -1);
  parallel(a.c, threads, [&](int c) {
    for (int i = 0; i < a.n; ++i) {
      const float* in = a.ch(c) + size_t(i) * a.h * a.w;
      const size_t o0 = size_t(c) * y.run() + size_t(i) * y.h * y.w;
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) {
          const PoolWindow win(l, a.h, a.w, oy, ox);
          float best = -std::numeric_limits<float>::infinity();
          int32_t at = -1;
          double sum = 0;
          for (int yy = win.y0; yy < win.y1; ++yy)
            for (int xx = win.x0; xx < win.x1; ++xx) {
              const float v = in[yy * a.w + xx];
              sum += v;
              if (v > best || at < 0) {
                best = v;
                at = yy * a.w + xx;
              }
            }
          const size_t o = o0 + size_t(oy) * y.w + ox;
          if (arg) {
            y.d[o] = at < 0 ? 0.0f : best;
            (*arg)[o] = at;
          } else {
            y.d[o] = win.count() ? float(sum / win.count()) : 0.0f;
          }
        }
    }
  });
}

// Pooling backward: the max's gradient goes to its winning position, the average's spreads evenly.
void pool_backward(const Layer& l, const Act& g, const std::vector<int32_t>* arg, Act& dx, int threads) {
  parallel(dx.c, threads, [&](int c) {
    for (int i = 0; i < dx.n; ++i) {
      float* din = dx.ch(c) + size_t(i) * dx.h * dx.w;
      const size_t o0 = size_t(c) * g.run() + size_t(i) * g.h * g.w;
      for (int oy = 0; oy < g.h; ++oy)
        for (int ox = 0; ox < g.w; ++ox) {
          const size_t o = o0 + size_t(oy) * g.w + ox;
          if (arg) {
            if ((*arg)[o] >= 0) din[(*arg)[o]] += g.d[o];
            continue;
          }
          const PoolWindow win(l, dx.h, dx.w, oy, ox);
          if (!win.count()) continue;
          const float v = g.d[o] / float(win.count());
          for (int yy = win.y0; yy < win.y1; ++yy)
            for (int xx = win.x0; xx < win.x1; ++xx) din[yy * dx.w + xx] += v;
        }
    }
  });
}

}  // namespace

void SubnetPass::forward_op(size_t li) {
  const Layer& l = layers_[li];
  Tape& t = tape_[li];
  const Act& a = operand(l.input);
  const int T = opt_.threads, n = a.n;
  const int64_t M = int64_t(n) * l.out_h * l.out_w;
  switch (l.kind) {
    case LayerKind::Conv:
      if (l.groups != 1) throw InputError("training core: grouped convolution '" + l.name + "' unsupported");
      im2col_cnhw(a, l.kernel, l.stride, l.pad, l.out_h, l.out_w, t.col);
      gemm_forward(t.W.data(), l.out_c, l.in_c * l.kernel * l.kernel, t.col.data(), M, t.z.d.data(), T);
      break;
    case LayerKind::Pointwise:
    case LayerKind::FC:
    case LayerKind::SEReduce:
    case LayerKind::SEExpand: {
      if (l.stride != 1 || l.kernel != 1)
        throw InputError("training core: strided 1x1 layer '" + l.name + "' unsupported");
      const float* X = a.d.data();
      if (int(li) == dropout_layer_) {  // inverted dropout on the classifier's input
        Rng rng(opt_.dropout_seed);
        t.col.resize(a.d.size());
        dropout_mask_.resize(a.d.size());
        const float keep = float(1.0 - opt_.dropout);
        for (size_t j = 0; j < a.d.size(); ++j) {
          dropout_mask_[j] = rng.uniform() < opt_.dropout ? 0.0f : 1.0f / keep;
          t.col[j] = a.d[j] * dropout_mask_[j];
        }
        X = t.col.data();
      }
      gemm_forward(t.W.data(), l.out_c, l.in_c, X, M, t.z.d.data(), T);
      break;
    }
    case LayerKind::Depthwise:
      depthwise_forward(a, t.W, l.kernel, l.stride, l.pad, t.z, T);
      break;
    case LayerKind::GlobalPool:
      parallel(a.c, T, [&](int c) {
        const int64_t plane = int64_t(a.h) * a.w;
        for (int i = 0; i < n; ++i) {
          double s = 0;
          const float* p = a.ch(c) + i * plane;
          for (int64_t j = 0; j < plane; ++j) s += p[j];
          t.z.ch(c)[i] = float(s / double(plane));
        }
      });
      break;
    case LayerKind::SEScale: {
      const Act& g = operand(l.input2);
      parallel(a.c, T, [&](int c) {
        const int64_t plane = int64_t(a.h) * a.w;
        for (int i = 0; i < n; ++i) {
          const float gv = g.ch(c)[i];
          const float* p = a.ch(c) + i * plane;
          float* q = t.z.ch(c) + i * plane;
          for (int64_t j = 0; j < plane; ++j) q[j] = p[j] * gv;
        }
      });
      break;
    }
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
      pool_forward(l, a, t.z, l.kind == LayerKind::MaxPool ? &t.arg : nullptr, T);
      break;
    case LayerKind::Add: {
      const Act& b = operand(l.input2);
      for (size_t j = 0; j < t.z.d.size(); ++j) t.z.d[j] = a.d[j] + b.d[j];
      break;
    }
    default:
      throw InputError(std::string("training core: layer kind '") + to_string(l.kind) +
                       "' has no backward pass (layer '" + l.name + "')");
  }
}

void SubnetPass::forward_norm(size_t li) {
  const Layer& l = layers_[li];
  Tape& t = tape_[li];
  const int64_t M = int64_t(t.z.n) * l.out_h * l.out_w;
  const std::string bn = l.name + ".bn.";
  t.gamma = vec_of(params_, bn + "weight", l.out_c).data.data();
  t.beta = vec_of(params_, bn + "bias", l.out_c).data.data();
  t.mean.assign(size_t(l.out_c), 0.0);
  t.invstd.assign(size_t(l.out_c), 0.0);
  const float *smean = nullptr, *svar = nullptr;
  if (opt_.bn == BnMode::Stats) {
    const std::string own = "subnet_norm/" + opt_.subnet_key + "/" + bn;
    const bool per = !opt_.subnet_key.empty() && params_.has(own + "running_mean");
    smean = vec_of(params_, (per ? own : bn) + "running_mean", l.out_c).data.data();
    svar = vec_of(params_, (per ? own : bn) + "running_var", l.out_c).data.data();
  }
  BnBatchStats st;
  st.layer = l.name;
  st.mean.resize(size_t(l.out_c));
  st.var.resize(size_t(l.out_c));
  parallel(l.out_c, opt_.threads, [&](int c) {
    const float* p = t.z.ch(c);
    double mu, var;
    if (opt_.bn == BnMode::Batch) {
      mu = lane_sum<false>(p, M, 0.0f) / double(M);
      var = lane_sum<true>(p, M, float(mu)) / double(M);
    } else {
      mu = smean[c];
      var = svar[c];
    }
    st.mean[size_t(c)] = mu;
    st.var[size_t(c)] = var;
    const double inv = 1.0 / std::sqrt(var + double(kBatchNormEps));
    t.mean[size_t(c)] = mu;
    t.invstd[size_t(c)] = inv;
    const float scale = float(t.gamma[c] * inv), shift = float(t.beta[c] - t.gamma[c] * mu * inv);
    scale_shift_act(p, t.y.ch(c), M, scale, shift, l.act);
  });
  stats_.push_back(std::move(st));
}

const Act& SubnetPass::forward(const Act& input) {
  input_ = &input;
  tape_.clear();
  tape_.resize(layers_.size());
  stats_.clear();
  for (size_t li = 0; li < layers_.size(); ++li) {
    const Layer& l = layers_[li];
    Tape& t = tape_[li];
    const Act& a = operand(l.input);
    if (a.c != l.in_c || a.h != l.in_h || a.w != l.in_w)
      throw std::logic_error("training pass: layer '" + l.name + "' input shape differs from the layer list");
    t.z = Act::uninitialized(l.out_c, a.n, l.out_h, l.out_w);  // every op writes all of it
    if (weighted(l.kind)) {
      gather_weights(params_, l, t.W, t.sizes, t.mats, t.crops);
      if (params_.has(l.name + ".bias")) t.bias = vec_of(params_, l.name + ".bias", l.out_c).data.data();
    }
    forward_op(li);
    if (t.bias) {
      const int64_t M = int64_t(a.n) * l.out_h * l.out_w;
      for (int c = 0; c < l.out_c; ++c) {
        float* p = t.z.ch(c);
        for (int64_t j = 0; j < M; ++j) p[j] += t.bias[c];
      }
    }
    if (l.batch_norm) {
      t.y = Act::uninitialized(l.out_c, a.n, l.out_h, l.out_w);
      forward_norm(li);
    } else if (l.act != Activation::None) {
      t.y = Act::uninitialized(l.out_c, a.n, l.out_h, l.out_w);
      scale_shift_act(t.z.d.data(), t.y.d.data(), int64_t(t.z.d.size()), 1.0f, 0.0f, l.act);
    } else {
      t.y = std::move(t.z);  // the backward pass reads z only through a norm or an activation
      t.z = Act();
    }
  }
  return tape_.back().y;
}

const Act& SubnetPass::operand(int index) const {
  return index < 0 ? *input_ : tape_[size_t(index)].y;
}

Act& SubnetPass::grad_slot(int index) {
  if (index < 0) return din_;
  Act& g = dy_[size_t(index)];
  if (g.d.empty()) {
    const Act& y = tape_[size_t(index)].y;
    g = Act(y.c, y.n, y.h, y.w);
  }
  return g;
}

// g: dL/dy of the layer in, dL/dz out (through the activation and batch norm); bias gradient added.
void SubnetPass::backward_norm(size_t li, Act& g, Checkpoint& grads) {
  const Layer& l = layers_[li];
  const Tape& t = tape_[li];
  const int64_t M = int64_t(g.n) * g.h * g.w;
  if (l.batch_norm) {
    std::vector<float>& dgam = grad_of(grads, params_, l.name + ".bn.weight").data;
    std::vector<float>& dbet = grad_of(grads, params_, l.name + ".bn.bias").data;
    parallel(l.out_c, opt_.threads, [&](int c) {
      float* gp = g.ch(c);
      const float* z = t.z.ch(c);
      const float mu = float(t.mean[size_t(c)]), inv = float(t.invstd[size_t(c)]);
      double sd = 0, sdx = 0;
      norm_grad_sums(gp, z, M, mu, inv, t.gamma[c], t.beta[c], l.act, sd, sdx);
      dgam[size_t(c)] += float(sdx);
      dbet[size_t(c)] += float(sd);
      const float k = t.gamma[c] * inv;
      if (opt_.bn == BnMode::Batch) {
        const float md = float(sd / double(M)), mdx = float(sdx / double(M));
        for (int64_t j = 0; j < M; ++j) gp[j] = k * (gp[j] - md - (z[j] - mu) * inv * mdx);
      } else {
        for (int64_t j = 0; j < M; ++j) gp[j] *= k;
      }
    });
  } else if (l.act != Activation::None) {
    for (size_t j = 0; j < g.d.size(); ++j) g.d[j] *= act_grad(t.z.d[j], l.act);
  }
  if (t.bias) {
    std::vector<float>& db = grad_of(grads, params_, l.name + ".bias").data;
    for (int c = 0; c < l.out_c; ++c) db[size_t(c)] += float(lane_sum<false>(g.ch(c), M, 0.0f));
  }
}

void SubnetPass::backward_weighted(size_t li, const Act& g, Checkpoint& grads, bool need_in) {
  const Layer& l = layers_[li];
  const Tape& t = tape_[li];
  const int T = opt_.threads;
  const int64_t M = int64_t(g.n) * g.h * g.w;
  const Act& a = operand(l.input);
  std::vector<float> dW;
  if (l.kind == LayerKind::Conv) {
    const int fan = l.in_c * l.kernel * l.kernel;
    dW.resize(size_t(l.out_c) * fan);
    gemm_weight_grad(g.d.data(), l.out_c, t.col.data(), fan, M, dW.data(), T);
    if (need_in) {
      std::vector<float> dcol(t.col.size(), 0.0f);
      gemm_input_grad(t.W.data(), l.out_c, fan, g.d.data(), M, dcol.data(), T);
      col2im_cnhw(dcol, l.kernel, l.stride, l.pad, l.out_h, l.out_w, grad_slot(l.input));
    }
  } else if (l.kind == LayerKind::Depthwise) {
    dW.assign(size_t(l.out_c) * l.kernel * l.kernel, 0.0f);
    depthwise_backward(a, t.W, l.kernel, l.stride, l.pad, g, dW, need_in ? &grad_slot(l.input) : nullptr, T);
  } else {
    const bool dropped = int(li) == dropout_layer_;
    const float* X = dropped ? t.col.data() : a.d.data();
    dW.resize(size_t(l.out_c) * l.in_c);
    gemm_weight_grad(g.d.data(), l.out_c, X, l.in_c, M, dW.data(), T);
    if (need_in) {
      Act& dx = grad_slot(l.input);
      if (dropped) {
        std::vector<float> tmp(dx.d.size(), 0.0f);
        gemm_input_grad(t.W.data(), l.out_c, l.in_c, g.d.data(), M, tmp.data(), T);
        for (size_t j = 0; j < tmp.size(); ++j) dx.d[j] += tmp[j] * dropout_mask_[j];
      } else {
        gemm_input_grad(t.W.data(), l.out_c, l.in_c, g.d.data(), M, dx.d.data(), T);
      }
    }
  }
  scatter_weight_grad(l, t.sizes, t.mats, t.crops, std::move(dW), grads, params_);
}

void SubnetPass::backward_plain(size_t li, const Act& g, bool need_in) {
  const Layer& l = layers_[li];
  const Act& a = operand(l.input);
  const int T = opt_.threads;
  if (l.kind == LayerKind::GlobalPool) {
    if (!need_in) return;
    Act& dx = grad_slot(l.input);
    const int64_t plane = int64_t(dx.h) * dx.w;
    parallel(dx.c, T, [&](int c) {
      for (int i = 0; i < dx.n; ++i) {
        const float v = g.ch(c)[i] / float(plane);
        float* p = dx.ch(c) + i * plane;
        for (int64_t j = 0; j < plane; ++j) p[j] += v;
      }
    });
  } else if (l.kind == LayerKind::SEScale) {
    const Act& gate = operand(l.input2);
    Act& dgate = grad_slot(l.input2);
    Act* dx = need_in ? &grad_slot(l.input) : nullptr;
    const int64_t plane = int64_t(a.h) * a.w;
    parallel(a.c, T, [&](int c) {
      for (int i = 0; i < a.n; ++i) {
        const float gv = gate.ch(c)[i];
        const float* gp = g.ch(c) + i * plane;
        const float* xp = a.ch(c) + i * plane;
        double s = 0;
        for (int64_t j = 0; j < plane; ++j) s += double(gp[j]) * xp[j];
        dgate.ch(c)[i] += float(s);
        if (dx) {
          float* dp = dx->ch(c) + i * plane;
          for (int64_t j = 0; j < plane; ++j) dp[j] += gp[j] * gv;
        }
      }
    });
  } else if (l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool) {
    if (!need_in) return;
    pool_backward(l, g, l.kind == LayerKind::MaxPool ? &tape_[li].arg : nullptr, grad_slot(l.input), T);
  } else if (l.kind == LayerKind::Add) {
    for (int op : {l.input, l.input2}) {
      if (op < 0 && din_.d.empty()) continue;
      Act& dx = grad_slot(op);
      for (size_t j = 0; j < g.d.size(); ++j) dx.d[j] += g.d[j];
    }
  } else {
    throw std::logic_error("training core: no backward for layer '" + l.name + "'");
  }
}

Act SubnetPass::backward(const Act& dlogits, Checkpoint& grads, bool want_input) {
  if (tape_.empty() || !input_) throw std::logic_error("SubnetPass::backward before forward");
  dy_.assign(layers_.size(), Act());
  dy_.back() = dlogits;
  din_ = want_input ? Act(input_->c, input_->n, input_->h, input_->w) : Act();
  for (size_t li = layers_.size(); li-- > 0;) {
    const Layer& l = layers_[li];
    if (dy_[li].d.empty()) continue;
    Act g = std::move(dy_[li]);
    dy_[li] = Act();
    backward_norm(li, g, grads);
    const bool need_in = l.input >= 0 || want_input;
    if (weighted(l.kind))
      backward_weighted(li, g, grads, need_in);
    else
      backward_plain(li, g, need_in);
  }
  dy_.clear();
  return std::move(din_);
}

void retain_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

Act to_cnhw(const std::vector<float>& nchw, int n, int c, int h, int w) {
  Act a(c, n, h, w);
  const size_t plane = size_t(h) * w;
  for (int i = 0; i < n; ++i)
    for (int ci = 0; ci < c; ++ci)
      std::copy_n(nchw.data() + (size_t(i) * c + ci) * plane, plane, a.ch(ci) + size_t(i) * plane);
  return a;
}

std::vector<float> softmax_rows(const Act& logits) {
  const int K = logits.c, n = logits.n;
  std::vector<float> p(size_t(n) * K);
  for (int i = 0; i < n; ++i) {
    double mx = -1e300;
    for (int k = 0; k < K; ++k) mx = std::max(mx, double(logits.ch(k)[i]));
    double s = 0;
    for (int k = 0; k < K; ++k) s += std::exp(double(logits.ch(k)[i]) - mx);
    for (int k = 0; k < K; ++k) p[size_t(i) * K + k] = float(std::exp(double(logits.ch(k)[i]) - mx) / s);
  }
  return p;
}

std::vector<int> argmax_rows(const Act& logits) {
  std::vector<int> out(size_t(logits.n), 0);
  for (int i = 0; i < logits.n; ++i)
    for (int k = 1; k < logits.c; ++k)
      if (logits.ch(k)[i] > logits.ch(out[size_t(i)])[i]) out[size_t(i)] = k;
  return out;
}

std::vector<float> smoothed_targets(const std::vector<int>& labels, int classes, double smoothing) {
  std::vector<float> t(labels.size() * size_t(classes), float(smoothing / classes));
  for (size_t i = 0; i < labels.size(); ++i)
    t[i * size_t(classes) + size_t(labels[i])] += float(1.0 - smoothing);
  return t;
}

double soft_cross_entropy(const Act& logits, const std::vector<float>& targets, double scale, Act& dlogits) {
  const int K = logits.c, n = logits.n;
  dlogits = Act(K, n, 1, 1);
  double loss = 0;
  for (int i = 0; i < n; ++i) {
    double mx = -1e300;
    for (int k = 0; k < K; ++k) mx = std::max(mx, double(logits.ch(k)[i]));
    double s = 0;
    for (int k = 0; k < K; ++k) s += std::exp(double(logits.ch(k)[i]) - mx);
    const double lse = mx + std::log(s);
    for (int k = 0; k < K; ++k) {
      const double lp = double(logits.ch(k)[i]) - lse;
      const double t = targets[size_t(i) * K + k];
      loss -= t * lp;
      dlogits.ch(k)[i] = float(scale * (std::exp(lp) - t) / n);
    }
  }
  return loss / n;
}

}  // namespace sushi::train
