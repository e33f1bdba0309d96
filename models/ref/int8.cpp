#include "models/ref/int8.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "base/random.h"
#include "models/ref/int8_detail.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"

namespace sushi {

namespace {

using detail::saturate32;
using detail::saturate8;

QTensor make_output(const QOp& op, int images) {
  QTensor y;
  y.n = images;
  y.c = op.layer.out_c;
  y.h = op.layer.out_h;
  y.w = op.layer.out_w;
  y.scale = op.out_scale;
  y.zero_point = op.out_zp;
  y.data.resize(size_t(images) * y.image_size());
  return y;
}

void check_shape(const QOp& op, const QTensor& a) {
  const Layer& l = op.layer;
  if (a.c != l.in_c || a.h != l.in_h || a.w != l.in_w || a.n < 1 ||
      a.data.size() != size_t(a.n) * a.image_size())
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
  // Fast path, the same value: |acc| < 2^32 and 0 <= multiplier < 2^31 keep the product below 2^63, and
  // adding the half (at most 2^62 for shifts below 64) stays below 2^64 in unsigned 64-bit arithmetic.
  const int shift = 31 + r.shift;
  constexpr int64_t kLimit = int64_t(1) << 32;
  if (acc > -kLimit && acc < kLimit && r.multiplier >= 0) {
    if (shift >= 64) return 0;  // the product is below 2^63 <= half of 2^shift
    const bool negative = acc < 0;
    const uint64_t magnitude = uint64_t(negative ? -acc : acc) * uint64_t(r.multiplier);
    const int64_t rounded = int64_t((magnitude + (uint64_t(1) << (shift - 1))) >> shift);
    const int64_t v = negative ? -rounded : rounded;
    return int32_t(std::min<int64_t>(std::numeric_limits<int32_t>::max(),
                                     std::max<int64_t>(std::numeric_limits<int32_t>::min(), v)));
  }
  return saturate32(detail::shift_round(detail::int128(acc) * r.multiplier, shift));
}

bool QOp::conv_like() const {
  return op_properties(layer.kind).weights;
}

int8_t QOp::activate(int32_t v) const {
  if (!lut.empty()) {
    const int index = int(saturate8(int64_t(v) + pre_zp)) + 128;
    return lut[size_t(index)];
  }
  int8_t q = saturate8(int64_t(v) + out_zp);
  if (layer.act == Activation::ReLU && q < out_zp) q = int8_t(out_zp);
  return q;
}

int8_t QOp::finish(int o, int32_t acc) const {
  return activate(apply_requant(acc, requant[size_t(o)]));
}

QTensor run_qop(const QOp& op, const QTensor& a, const QTensor* b) {
  const LayerOp& entry = layer_op(op.layer.kind);
  check_shape(op, a);
  if (entry.properties().binary && !b)
    throw std::logic_error("run_qop '" + op.layer.name + "': missing second operand");
  if (b && b->n != a.n)
    throw std::logic_error("run_qop '" + op.layer.name + "': operands hold " + std::to_string(a.n) + " and " +
                           std::to_string(b->n) + " images");
  QTensor y = make_output(op, a.n);
  for (int i = 0; i < a.n; ++i) {  // one image at a time, through views: the same as running it alone
    const ConstQImage second = b ? b->image(i) : ConstQImage{};
    entry.run_int8(op, a.image(i), b ? &second : nullptr, y.image(i));
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
  t.n = x.n;
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
  Tensor t = Tensor::batch(q.n, q.c, q.h, q.w);
  for (size_t i = 0; i < q.data.size(); ++i) t.data[i] = q.scale * float(int32_t(q.data[i]) - q.zero_point);
  return t;
}

std::vector<int8_t> make_activation_lut(Activation act, QuantParams pre, QuantParams out) {
  std::vector<int8_t> lut(256);
  for (int q = -128; q <= 127; ++q) {
    const double x = double(pre.scale) * (q - pre.zero_point);
    const double relu6 = std::min(std::max(x + 3.0, 0.0), 6.0);
    const double f = act == Activation::HSwish ? x * relu6 / 6.0 : relu6 / 6.0;
    const int index = q + 128;
    lut[size_t(index)] = saturate8(round_half_away(f / out.scale) + out.zero_point);
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
    const LayerOp& entry = layer_op(l.kind);
    if (l.input2 >= 0 || entry.properties().binary) {
      const QuantParams in2 = params_of(l.input2);
      op.in2_scale = in2.scale;
      op.in2_zp = in2.zero_point;
    }
    if (entry.properties().keeps_input_scale) {
      op.out_scale = op.in_scale;
      op.out_zp = op.in_zp;
    } else {
      set_output_params(op, ranges[li]);
    }
    entry.quantize(op, weights, key, result_scale(op));
    net.ops.push_back(std::move(op));
  }
  return net;
}

QNetwork quantize_subnet(const Checkpoint& weights, const std::vector<Layer>& layers,
                         const std::vector<Tensor>& images, const std::string& key, double range_clip) {
  ForwardOptions opt;
  opt.subnet_key = key;
  opt.range_clip = range_clip;
  const ForwardResult r = forward_fp32(weights, layers, images, opt);
  float lo = 0, hi = 0;
  for (const Tensor& t : images)
    for (float v : t.data) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  return quantize_network(weights, layers, r.ranges, choose_quant_params(lo, hi), key);
}

int predicted_class(const QTensor& logits, int i) {
  int best = 0;
  for (int k = 1; k < logits.c; ++k)
    if (logits.at(i, k, 0, 0) > logits.at(i, best, 0, 0)) best = k;
  return best;
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
  layer_op(layer.kind).randomize(op, rng);
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
