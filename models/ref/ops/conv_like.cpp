#include "models/ref/ops/conv_like.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "base/random.h"
#include "models/ref/int8_detail.h"
#include "models/ref/kernels.h"

namespace sushi {

namespace {

using detail::saturate32;
using detail::saturate8;

// The accumulators of a conv-like layer, [out][oy][ox]. The sums of int8 products are computed by Eigen's
// float GEMM over slices of at most kExactDepth input terms: every partial sum of a slice is an integer of
// magnitude below 128 * 255 * kExactDepth < 2^24, so float holds it exactly and the int32 total equals the
// contract's accumulation in any summation order and at any thread count.
constexpr int64_t kExactDepth = 512;

void conv_accumulate(const QOp& op, ConstQImage x, std::vector<int32_t>& acc) {
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstRowMap = Eigen::Map<const RowMatrix>;
  const Layer& l = op.layer;
  const int g = l.groups;
  const int in_pg = l.in_c / g, out_pg = l.out_c / g;
  const int64_t cols = int64_t(l.out_h) * l.out_w, depth = int64_t(in_pg) * l.kernel * l.kernel;
  const ConvParams params{l.stride, l.pad, g};
  Tensor centered(x.c, x.h, x.w);  // x - in_zp, so padding (which holds in_zp) contributes 0
  for (size_t i = 0; i < x.size(); ++i) centered.data[i] = float(int32_t(x.data[i]) - op.in_zp);
  const bool direct = l.kernel == 1 && l.stride == 1 && l.pad == 0;
  acc.assign(size_t(l.out_c) * cols, 0);
  std::vector<float> col;
  RowMatrix w(out_pg, depth), y(out_pg, cols);
  for (int gi = 0; gi < g; ++gi) {
    if (!direct) im2col(centered, gi * in_pg, in_pg, l.kernel, params, l.out_h, l.out_w, col);
    const ConstRowMap rhs(direct ? centered.channel(gi * in_pg) : col.data(), depth, cols);
    const int8_t* wsrc = op.weights.data() + int64_t(gi) * out_pg * depth;
    for (int64_t e = 0; e < int64_t(out_pg) * depth; ++e) w.data()[e] = float(wsrc[e]);
    int32_t* dst = acc.data() + size_t(gi) * out_pg * cols;
    for (int o = 0; o < out_pg; ++o)
      std::fill(dst + o * cols, dst + (o + 1) * cols, op.bias[gi * out_pg + o]);
    for (int64_t k0 = 0; k0 < depth; k0 += kExactDepth) {
      const int64_t kc = std::min(kExactDepth, depth - k0);
      y.noalias() = w.middleCols(k0, kc) * rhs.middleRows(k0, kc);
      for (int64_t e = 0; e < int64_t(out_pg) * cols; ++e) dst[e] += int32_t(y.data()[e]);
    }
  }
}

void depthwise_accumulate(const QOp& op, ConstQImage x, std::vector<int32_t>& acc) {
  const Layer& l = op.layer;
  const int k = l.kernel, s = l.stride, p = l.pad, oh = l.out_h, ow = l.out_w;
  acc.assign(size_t(l.out_c) * oh * ow, 0);
  for (int c = 0; c < l.out_c; ++c) {
    int32_t* out = acc.data() + size_t(c) * oh * ow;
    std::fill(out, out + int64_t(oh) * ow, op.bias[c]);
    const int8_t* wc = op.weights.data() + size_t(c) * k * k;
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const int32_t wv = wc[ky * k + kx];
        for (int oy = 0; oy < oh; ++oy) {
          const int iy = oy * s + ky - p;
          if (iy < 0 || iy >= x.h) continue;
          for (int ox = 0; ox < ow; ++ox) {
            const int ix = ox * s + kx - p;
            if (ix >= 0 && ix < x.w) out[oy * ow + ox] += wv * (int32_t(x.at(c, iy, ix)) - op.in_zp);
          }
        }
      }
  }
}

}  // namespace

OpProperties ConvLikeOp::conv_properties(bool spatial, bool depthwise) {
  OpProperties p;
  p.weights = true;
  p.spatial = spatial;
  p.unit = OpUnit::Array;
  p.depthwise = depthwise;
  p.pointwise_fold = !depthwise;
  return p;
}

void ConvLikeOp::forward_fp32(const Layer& l, const ResolvedLayer& r, ConstFImage a, const ConstFImage*,
                              FImage y) const {
  conv2d(a, r.weights, r.bias, {l.stride, l.pad, l.groups}, y);
}

void ConvLikeOp::run_int8(const QOp& op, ConstQImage a, const ConstQImage*, QImage y) const {
  const Layer& l = op.layer;
  std::vector<int32_t> acc;
  if (l.kind == LayerKind::Depthwise || (l.groups == l.in_c && l.groups == l.out_c && l.groups > 1))
    depthwise_accumulate(op, a, acc);
  else
    conv_accumulate(op, a, acc);
  const int64_t plane = int64_t(y.h) * y.w;
  for (int o = 0; o < y.c; ++o)
    for (int64_t i = 0; i < plane; ++i) y.data[o * plane + i] = op.finish(o, acc[o * plane + i]);
}

void ConvLikeOp::quantize(QOp& op, const Checkpoint& weights, const std::string& subnet_key,
                          double res) const {
  const Layer& l = op.layer;
  std::vector<float> w, b;
  folded_weights(resolve_layer(weights, l, subnet_key), l, w, b);
  const size_t fan_in = w.size() / size_t(l.out_c);
  op.weights.resize(w.size());
  op.bias.resize(size_t(l.out_c));
  op.requant.resize(size_t(l.out_c));
  for (int o = 0; o < l.out_c; ++o) {
    float max_abs = 0;
    for (size_t i = 0; i < fan_in; ++i) max_abs = std::max(max_abs, std::fabs(w[o * fan_in + i]));
    const double w_scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
    for (size_t i = 0; i < fan_in; ++i)
      op.weights[o * fan_in + i] =
          saturate8(std::max<int64_t>(-127, round_half_away(w[o * fan_in + i] / w_scale)));
    const double acc_scale = double(op.in_scale) * w_scale;
    op.bias[o] = saturate32(round_half_away(b[o] / acc_scale));
    op.requant[o] = make_requant(acc_scale / res);
  }
}

void ConvLikeOp::randomize(QOp& op, Rng& rng) const {
  // Accumulators of random operands have a spread of about 74 * 73 * sqrt(fan_in); requantize that to
  // about 40 output steps so outputs use the int8 range without saturating everywhere.
  const Layer& layer = op.layer;
  const int64_t fan_in = int64_t(layer.in_c / layer.groups) * layer.kernel * layer.kernel;
  const double spread = 74.0 * 73.0 * std::sqrt(double(fan_in));
  op.weights.resize(size_t(layer.out_c) * fan_in);
  for (int8_t& w : op.weights) w = int8_t(rng.uniform_int(-127, 127));
  for (int o = 0; o < layer.out_c; ++o) {
    op.bias.push_back(int32_t(rng.uniform(-spread, spread)));
    op.requant.push_back(make_requant(rng.uniform(0.5, 2.0) * 40.0 / spread));
  }
}

}  // namespace sushi
