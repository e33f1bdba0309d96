#include "models/ref/int8.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "base/random.h"
#include "models/ref/kernels.h"

namespace sushi {

namespace {

__extension__ typedef __int128 int128;  // exact product of a 64-bit accumulator and a 31-bit multiplier

int8_t saturate8(int64_t v) {
  return int8_t(std::min<int64_t>(127, std::max<int64_t>(-128, v)));
}

// Rounded (ties away from zero) value / 2^shift, shift >= 1.
int128 shift_round(int128 value, int shift) {
  const bool negative = value < 0;
  const int128 magnitude = negative ? -value : value;
  const int128 rounded = shift >= 127 ? 0 : (magnitude + (int128(1) << (shift - 1))) >> shift;
  return negative ? -rounded : rounded;
}

int32_t saturate32(int128 v) {
  return int32_t(std::min<int128>(std::numeric_limits<int32_t>::max(),
                                  std::max<int128>(std::numeric_limits<int32_t>::min(), v)));
}

bool is_conv_like(LayerKind k) {
  return k == LayerKind::Conv || k == LayerKind::Depthwise || k == LayerKind::Pointwise ||
         k == LayerKind::FC || k == LayerKind::SEReduce || k == LayerKind::SEExpand;
}

// The accumulators of a conv-like layer, [out][oy][ox]. The sums of int8 products are computed by Eigen's
// float GEMM over slices of at most kExactDepth input terms: every partial sum of a slice is an integer of
// magnitude below 128 * 255 * kExactDepth < 2^24, so float holds it exactly and the int32 total equals the
// contract's accumulation in any summation order and at any thread count.
constexpr int64_t kExactDepth = 512;

void conv_accumulate(const QOp& op, const QTensor& x, std::vector<int32_t>& acc) {
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ConstRowMap = Eigen::Map<const RowMatrix>;
  const Layer& l = op.layer;
  const int g = l.groups;
  const int in_pg = l.in_c / g, out_pg = l.out_c / g;
  const int64_t cols = int64_t(l.out_h) * l.out_w, depth = int64_t(in_pg) * l.kernel * l.kernel;
  const ConvParams params{l.stride, l.pad, g};
  Tensor centered(x.c, x.h, x.w);  // x - in_zp, so padding (which holds in_zp) contributes 0
  for (size_t i = 0; i < x.data.size(); ++i) centered.data[i] = float(int32_t(x.data[i]) - op.in_zp);
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

void depthwise_accumulate(const QOp& op, const QTensor& x, std::vector<int32_t>& acc) {
  const Layer& l = op.layer;
  const int k = l.kernel, s = l.stride, p = l.pad, oh = l.out_h, ow = l.out_w;
  acc.assign(size_t(l.out_c) * oh * ow, 0);
  for (int c = 0; c < l.out_c; ++c) {
    int32_t* out = acc.data() + size_t(c) * oh * ow;
    std::fill(out, out + int64_t(oh) * ow, op.bias[c]);
    for (int ky = 0; ky < k; ++ky)
      for (int kx = 0; kx < k; ++kx) {
        const int32_t wv = op.weights[(size_t(c) * k + ky) * k + kx];
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

QTensor make_output(const QOp& op) {
  QTensor y;
  y.c = op.layer.out_c;
  y.h = op.layer.out_h;
  y.w = op.layer.out_w;
  y.scale = op.out_scale;
  y.zero_point = op.out_zp;
  y.data.resize(size_t(y.c) * y.h * y.w);
  return y;
}

void check_shape(const QOp& op, const QTensor& a) {
  const Layer& l = op.layer;
  if (a.c != l.in_c || a.h != l.in_h || a.w != l.in_w || a.data.size() != size_t(a.c) * a.h * a.w)
    throw std::logic_error("run_qop '" + l.name + "': input is " + std::to_string(a.c) + "x" +
                           std::to_string(a.h) + "x" + std::to_string(a.w) + ", the layer expects " +
                           std::to_string(l.in_c) + "x" + std::to_string(l.in_h) + "x" +
                           std::to_string(l.in_w));
}

float result_scale(const QOp& op) {
  return op.lut.empty() ? op.out_scale : op.pre_scale;
}

}  // namespace

int64_t round_half_away(double v) {
  return int64_t(std::round(v));
}  // std::round: halfway cases away from zero

Requant make_requant(double real) {
  if (!(real >= 0)) throw std::domain_error("make_requant: negative or NaN multiplier");
  if (real == 0 || real < 0x1.0p-93) return Requant{0, 0};
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);  // real = mantissa * 2^exponent, mantissa in [0.5, 1)
  int64_t m = round_half_away(mantissa * 0x1.0p31);
  if (m == (int64_t(1) << 31)) {
    m /= 2;
    ++exponent;
  }
  int shift = -exponent;
  if (shift < -30)
    throw std::domain_error("make_requant: multiplier " + std::to_string(real) + " is above 2^30");
  if (shift > 62) {  // keep the documented range: fold the excess into a smaller multiplier
    m = round_half_away(double(m) * std::ldexp(1.0, 62 - shift));
    shift = 62;
    if (m == 0) return Requant{0, 0};
  }
  return Requant{int32_t(m), int32_t(shift)};
}

std::pair<Requant, Requant> make_requant_pair(double real_a, double real_b) {
  const bool a_larger = real_a >= real_b;
  const Requant big = make_requant(a_larger ? real_a : real_b);
  const double small = a_larger ? real_b : real_a;
  const Requant other{int32_t(round_half_away(small * std::ldexp(1.0, 31 + big.shift))), big.shift};
  return a_larger ? std::make_pair(big, other) : std::make_pair(other, big);
}

int32_t apply_requant(int64_t acc, Requant r) {
  return saturate32(shift_round(int128(acc) * r.multiplier, 31 + r.shift));
}

bool QOp::conv_like() const {
  return is_conv_like(layer.kind);
}

int8_t QOp::activate(int32_t v) const {
  if (!lut.empty()) return lut[size_t(int(saturate8(int64_t(v) + pre_zp)) + 128)];
  int8_t q = saturate8(int64_t(v) + out_zp);
  if (layer.act == Activation::ReLU && q < out_zp) q = int8_t(out_zp);
  return q;
}

int8_t QOp::finish(int o, int32_t acc) const {
  return activate(apply_requant(acc, requant[size_t(o)]));
}

QTensor run_qop(const QOp& op, const QTensor& a, const QTensor* b) {
  const Layer& l = op.layer;
  check_shape(op, a);
  QTensor y = make_output(op);
  const int64_t plane = int64_t(y.h) * y.w;
  if (op.conv_like()) {
    std::vector<int32_t> acc;
    if (l.kind == LayerKind::Depthwise || (l.groups == l.in_c && l.groups == l.out_c && l.groups > 1))
      depthwise_accumulate(op, a, acc);
    else
      conv_accumulate(op, a, acc);
    for (int o = 0; o < y.c; ++o)
      for (int64_t i = 0; i < plane; ++i) y.data[o * plane + i] = op.finish(o, acc[o * plane + i]);
    return y;
  }
  auto second = [&]() -> const QTensor& {
    if (!b) throw std::logic_error("run_qop '" + l.name + "': missing second operand");
    return *b;
  };
  switch (l.kind) {
    case LayerKind::Add: {
      const QTensor& bb = second();
      if (bb.data.size() != a.data.size())
        throw std::logic_error("run_qop '" + l.name + "': operand sizes differ");
      for (size_t i = 0; i < a.data.size(); ++i) {
        const int64_t sum = (int64_t(a.data[i]) - op.in_zp) * op.aux[0].multiplier +
                            (int64_t(bb.data[i]) - op.in2_zp) * op.aux[1].multiplier;
        y.data[i] = op.activate(saturate32(shift_round(sum, 31 + op.aux[0].shift)));
      }
      break;
    }
    case LayerKind::SEScale: {
      const QTensor& g = second();
      if (g.c != a.c) throw std::logic_error("run_qop '" + l.name + "': gate has the wrong channel count");
      for (int c = 0; c < y.c; ++c) {
        const int32_t gate = int32_t(g.data[c]) - op.in2_zp;
        for (int64_t i = 0; i < plane; ++i)
          y.data[c * plane + i] =
              op.activate(apply_requant((int32_t(a.data[c * plane + i]) - op.in_zp) * gate, op.aux[0]));
      }
      break;
    }
    case LayerKind::GlobalPool: {
      const int64_t in_plane = int64_t(a.h) * a.w;
      for (int c = 0; c < y.c; ++c) {
        int64_t sum = 0;
        for (int64_t i = 0; i < in_plane; ++i) sum += int32_t(a.data[c * in_plane + i]) - op.in_zp;
        y.data[c] = op.activate(apply_requant(sum, op.aux[0]));
      }
      break;
    }
    case LayerKind::MaxPool:
    case LayerKind::AvgPool: {
      const bool is_max = l.kind == LayerKind::MaxPool;
      for (int c = 0; c < y.c; ++c)
        for (int oy = 0; oy < y.h; ++oy)
          for (int ox = 0; ox < y.w; ++ox) {
            const int y0 = std::max(oy * l.stride - l.pad, 0),
                      y1 = std::min(oy * l.stride - l.pad + l.kernel, a.h);
            const int x0 = std::max(ox * l.stride - l.pad, 0),
                      x1 = std::min(ox * l.stride - l.pad + l.kernel, a.w);
            int64_t sum = 0, best = std::numeric_limits<int64_t>::min();
            for (int yy = y0; yy < y1; ++yy)
              for (int xx = x0; xx < x1; ++xx) {
                const int64_t v = int32_t(a.at(c, yy, xx)) - op.in_zp;
                sum += v;
                best = std::max(best, v);
              }
            const int n = (y1 - y0) * (x1 - x0);
            y.at(c, oy, ox) = op.activate(is_max ? apply_requant(best, op.aux[0])
                                                 : apply_requant(sum, op.aux[size_t(n - 1)]));
          }
      break;
    }
    default:
      throw std::logic_error("run_qop '" + l.name + "': unsupported layer kind");
  }
  return y;
}

std::vector<QTensor> run_qnetwork(const QNetwork& net, const QTensor& input) {
  std::vector<QTensor> out;
  out.reserve(net.ops.size());
  for (const QOp& op : net.ops) {
    const QTensor& a = op.layer.input < 0 ? input : out.at(size_t(op.layer.input));
    const QTensor* b = op.layer.input2 < 0 ? nullptr : &out.at(size_t(op.layer.input2));
    out.push_back(run_qop(op, a, b));
  }
  return out;
}

QuantParams choose_quant_params(float lo, float hi) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (hi - lo < 1e-6f) hi = lo + 1e-6f;
  QuantParams q;
  q.scale = (hi - lo) / 255.0f;
  q.zero_point = int32_t(
      std::min<int64_t>(127, std::max<int64_t>(-128, round_half_away(-128.0 - double(lo) / q.scale))));
  return q;
}

QTensor quantize(const Tensor& x, QuantParams q) {
  QTensor t;
  t.c = x.c;
  t.h = x.h;
  t.w = x.w;
  t.scale = q.scale;
  t.zero_point = q.zero_point;
  t.data.resize(x.data.size());
  for (size_t i = 0; i < x.data.size(); ++i)
    t.data[i] = saturate8(round_half_away(double(x.data[i]) / q.scale) + q.zero_point);
  return t;
}

Tensor dequantize(const QTensor& q) {
  Tensor t(q.c, q.h, q.w);
  for (size_t i = 0; i < q.data.size(); ++i) t.data[i] = q.scale * float(int32_t(q.data[i]) - q.zero_point);
  return t;
}

std::vector<int8_t> make_activation_lut(Activation act, QuantParams pre, QuantParams out) {
  std::vector<int8_t> lut(256);
  for (int q = -128; q <= 127; ++q) {
    const double x = double(pre.scale) * (q - pre.zero_point);
    const double relu6 = std::min(std::max(x + 3.0, 0.0), 6.0);
    const double f = act == Activation::HSwish ? x * relu6 / 6.0 : relu6 / 6.0;
    lut[size_t(q + 128)] = saturate8(round_half_away(f / out.scale) + out.zero_point);
  }
  return lut;
}

namespace {

bool uses_lut(Activation a) {
  return a == Activation::HSwish || a == Activation::HSigmoid;
}

// Sets the requantization targets (pre and/or out) of an op from its calibrated ranges.
void set_output_params(QOp& op, const LayerRange& r) {
  const Activation act = op.layer.act;
  QuantParams out = choose_quant_params(act == Activation::ReLU ? 0.0f : r.out_min, r.out_max);
  op.out_scale = out.scale;
  op.out_zp = out.zero_point;
  if (uses_lut(act)) {
    const QuantParams pre = choose_quant_params(r.pre_min, r.pre_max);
    op.pre_scale = pre.scale;
    op.pre_zp = pre.zero_point;
    op.lut = make_activation_lut(act, pre, out);
  }
}

}  // namespace

QNetwork quantize_network(const Checkpoint& weights, const std::vector<Layer>& layers,
                          const std::vector<LayerRange>& ranges, QuantParams input, const std::string& key) {
  QNetwork net;
  net.in_scale = input.scale;
  net.in_zp = input.zero_point;
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& l = layers[li];
    QOp op;
    op.layer = l;
    auto params_of = [&](int index) {
      return index < 0 ? QuantParams{net.in_scale, net.in_zp}
                       : QuantParams{net.ops[size_t(index)].out_scale, net.ops[size_t(index)].out_zp};
    };
    const QuantParams in = params_of(l.input);
    op.in_scale = in.scale;
    op.in_zp = in.zero_point;
    if (l.input2 >= 0 || l.kind == LayerKind::Add) {
      const QuantParams in2 = params_of(l.input2);
      op.in2_scale = in2.scale;
      op.in2_zp = in2.zero_point;
    }
    if (l.kind == LayerKind::MaxPool) {  // the max commutes with the quantization: keep the input's
      op.out_scale = op.in_scale;
      op.out_zp = op.in_zp;
    } else {
      set_output_params(op, ranges[li]);
    }
    const double res = result_scale(op);
    if (op.conv_like()) {
      std::vector<float> w, b;
      folded_weights(resolve_layer(weights, l, key), l, w, b);
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
    } else if (l.kind == LayerKind::Add) {
      auto [ra, rb] = make_requant_pair(op.in_scale / res, op.in2_scale / res);
      op.aux = {ra, rb};
    } else if (l.kind == LayerKind::SEScale) {
      op.aux = {make_requant(double(op.in_scale) * op.in2_scale / res)};
    } else if (l.kind == LayerKind::GlobalPool) {
      op.aux = {make_requant(op.in_scale / (res * l.in_h * l.in_w))};
    } else if (l.kind == LayerKind::AvgPool) {
      for (int n = 1; n <= l.kernel * l.kernel; ++n) op.aux.push_back(make_requant(op.in_scale / (res * n)));
    } else if (l.kind == LayerKind::MaxPool) {
      op.aux = {make_requant(op.in_scale / res)};
    }
    net.ops.push_back(std::move(op));
  }
  return net;
}

QNetwork quantize_subnet(const Checkpoint& weights, const std::vector<Layer>& layers,
                         const std::vector<Tensor>& images, const std::string& key) {
  ForwardOptions opt;
  opt.subnet_key = key;
  const ForwardResult r = forward_fp32(weights, layers, images, opt);
  float lo = 0, hi = 0;
  for (const Tensor& t : images)
    for (float v : t.data) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  return quantize_network(weights, layers, r.ranges, choose_quant_params(lo, hi), key);
}

int calibration_image_count(int resolution) {
  const int64_t pixels = int64_t(resolution) * resolution;
  return int(std::min<int64_t>(64, std::max<int64_t>(16, (50176 + pixels - 1) / pixels)));
}

QNetwork make_random_qnetwork(const SupernetSpace& space, const Subnet& subnet, uint64_t seed) {
  Checkpoint weights = make_random_supernet(space, seed);
  const int res = subnet.resolution;
  const auto images = random_images(calibration_image_count(res), space.input_channels(), res, res, seed + 2);
  add_subnet_norm(weights, space, subnet, images);
  return quantize_subnet(weights, space.layers(subnet), images, subnet_key(space, subnet));
}

QOp make_random_qop(const Layer& layer, uint64_t seed) {
  Rng rng(seed);
  auto uniform = [&](double lo, double hi) { return rng.uniform(lo, hi); };
  auto integer = [&](int lo, int hi) { return int(rng.uniform_int(lo, hi)); };
  QOp op;
  op.layer = layer;
  op.in_scale = float(uniform(0.01, 0.1));
  op.in_zp = integer(-20, 20);
  op.in2_scale = float(uniform(0.01, 0.1));
  op.in2_zp = integer(-20, 20);
  const QuantParams out{float(uniform(0.01, 0.1)), integer(-30, 30)};
  op.out_scale = out.scale;
  op.out_zp = out.zero_point;
  if (uses_lut(layer.act)) {
    const QuantParams pre{float(uniform(0.02, 0.05)), integer(-10, 10)};
    op.pre_scale = pre.scale;
    op.pre_zp = pre.zero_point;
    op.lut = make_activation_lut(layer.act, pre, out);
  }
  // Accumulators of random operands have a spread of about 74 * 73 * sqrt(fan_in); requantize that to
  // about 40 output steps so outputs use the int8 range without saturating everywhere.
  if (op.conv_like()) {
    const int64_t fan_in = int64_t(layer.in_c / layer.groups) * layer.kernel * layer.kernel;
    const double spread = 74.0 * 73.0 * std::sqrt(double(fan_in));
    op.weights.resize(size_t(layer.out_c) * fan_in);
    for (int8_t& w : op.weights) w = int8_t(integer(-127, 127));
    for (int o = 0; o < layer.out_c; ++o) {
      op.bias.push_back(int32_t(uniform(-spread, spread)));
      op.requant.push_back(make_requant(uniform(0.5, 2.0) * 40.0 / spread));
    }
  } else if (layer.kind == LayerKind::Add) {
    auto [ra, rb] = make_requant_pair(uniform(0.3, 1.5), uniform(0.3, 1.5));
    op.aux = {ra, rb};
  } else if (layer.kind == LayerKind::SEScale) {
    op.aux = {make_requant(uniform(0.5, 2.0) / 128.0)};
  } else if (layer.kind == LayerKind::GlobalPool) {
    op.aux = {make_requant(uniform(0.5, 2.0) / (double(layer.in_h) * layer.in_w))};
  } else if (layer.kind == LayerKind::AvgPool) {
    const double r = uniform(0.5, 2.0);
    for (int n = 1; n <= layer.kernel * layer.kernel; ++n) op.aux.push_back(make_requant(r / n));
  } else if (layer.kind == LayerKind::MaxPool) {
    op.aux = {make_requant(uniform(0.5, 2.0))};
  }
  return op;
}

QTensor make_random_qtensor(int c, int h, int w, uint64_t seed, float scale, int32_t zero_point) {
  Rng rng(seed);
  QTensor t;
  t.c = c;
  t.h = h;
  t.w = w;
  t.scale = scale;
  t.zero_point = zero_point;
  t.data.resize(size_t(c) * h * w);
  for (int8_t& v : t.data) v = int8_t(rng.uniform_int(-128, 127));
  return t;
}

}  // namespace sushi
