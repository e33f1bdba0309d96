#pragma once
// The int8 numerics contract (ARCHITECTURE.md contract 4). This header is the definition that the SystemC
// cycle model and the RTL must reproduce bit for bit; its implementation is the Eigen int8 reference.
//
// Conventions:
// - Activations are int8 with a per-tensor scale and zero point, layout NCHW (CHW per image).
// - Weights are int8, symmetric per output channel (zero point 0), layout [out][in/groups][k][k].
// - A conv-like layer (Conv, Depthwise, Pointwise, FC, SEReduce, SEExpand) accumulates in int32:
//     acc[o] = bias[o] + sum over (i, ky, kx) of w[o][i][ky][kx] * (x[i][oy*s+ky-p][ox*s+kx-p] - in_zp)
//   where padded positions contribute 0 (they hold in_zp). Any summation order gives the same integer.
// - The accumulator becomes an int8 output by QOp::finish(o, acc): fixed-point requantization
//   (Requant, rounding half away from zero, saturating), then the activation: ReLU as a clamp at the
//   output zero point, h-swish / h-sigmoid as a 256-entry lookup table on the requantized value.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/ref/forward.h"
#include "models/space/supernet.h"

namespace sushi {

using QImage = ImageView<int8_t>;
using ConstQImage = ImageView<const int8_t>;

// int8 activations, NCHW like Tensor: n images of c x h x w sharing one scale and zero point. The per-image
// API (c, h, w, data, at(c, y, x)) is image 0's, so a single image is the case n = 1; image(i) views image
// i of a batch without a copy.
struct QTensor {
  int c = 0, h = 0, w = 0;
  float scale = 1.0f;
  int32_t zero_point = 0;
  std::vector<int8_t> data;  // NCHW
  int n = 1;
  int8_t at(int ci, int y, int x) const { return data[(size_t(ci) * h + y) * w + x]; }
  int8_t& at(int ci, int y, int x) { return data[(size_t(ci) * h + y) * w + x]; }
  size_t image_size() const { return size_t(c) * h * w; }
  int8_t at(int i, int ci, int y, int x) const { return data[((size_t(i) * c + ci) * h + y) * w + x]; }
  int8_t& at(int i, int ci, int y, int x) { return data[((size_t(i) * c + ci) * h + y) * w + x]; }
  QImage image(int i) { return {data.data() + size_t(i) * image_size(), c, h, w}; }
  ConstQImage image(int i) const { return {data.data() + size_t(i) * image_size(), c, h, w}; }
  bool operator==(const QTensor& o) const {
    return n == o.n && c == o.c && h == o.h && w == o.w && zero_point == o.zero_point && data == o.data;
  }
};

// real_multiplier = multiplier * 2^-(31 + shift); multiplier in [2^30, 2^31), shift in [-30, 62].
struct Requant {
  int32_t multiplier = 1 << 30;
  int32_t shift = 0;
};
// real_multiplier 0 (or below 2^-93) gives multiplier 0; above 2^30 it throws std::domain_error.
Requant make_requant(double real_multiplier);
// Two ratios on one shift (the larger's); the smaller's multiplier may then be below 2^30.
std::pair<Requant, Requant> make_requant_pair(double real_a, double real_b);
// round(v) with ties away from zero, the one rounding rule of the int8 path.
int64_t round_half_away(double v);
// round(acc * multiplier / 2^(31+shift)) with ties away from zero, saturated to int32.
int32_t apply_requant(int64_t acc, Requant r);

// One layer of a quantized subnet, mirroring a Layer of SupernetSpace::layers().
struct QOp {
  Layer layer;
  // Conv-like layers.
  std::vector<int8_t> weights;   // [out][in/groups][k][k], the subnet's slice (copied from the supernet)
  std::vector<int32_t> bias;     // [out], in accumulator units (folded batch norm)
  std::vector<Requant> requant;  // [out]
  // Quantization of operands and result.
  float in_scale = 1, in2_scale = 1, out_scale = 1;
  int32_t in_zp = 0, in2_zp = 0, out_zp = 0;
  // Non-linear activations: requantize to the pre-activation (pre_scale, pre_zp), then out = lut[q + 128].
  float pre_scale = 1;
  int32_t pre_zp = 0;
  std::vector<int8_t> lut;  // 256 entries, or empty for None / ReLU
  // Elementwise (Add, SEScale) and pooling requantization, defined by the implementation.
  std::vector<Requant> aux;

  bool conv_like() const;
  // int32 accumulator of output channel o -> int8 output (requantization + activation).
  int8_t finish(int o, int32_t acc) const;
  // The activation stage of finish(): v is a requantized value before its zero point is added. With a lut:
  // lut[clamp(v + pre_zp, -128, 127) + 128]; else clamp(v + out_zp, -128, 127), and ReLU then clamps at
  // out_zp from below.
  int8_t activate(int32_t v) const;
};

// Semantics of the layers without weights (run_qop); "res" is pre_scale when lut is set, else out_scale,
// and every result goes through QOp::activate():
//   Add        v = round((a - in_zp) * aux[0].multiplier + (b - in2_zp) * aux[1].multiplier) / 2^(31 +
//   aux[0].shift))
//              (ties away from zero; aux[0].shift == aux[1].shift: both ratios in_scale/res and
//              in2_scale/res share one shift chosen by the larger, see make_requant_pair)
//   SEScale    v = apply_requant((x - in_zp) * (gate - in2_zp), aux[0]),  aux[0] ~ in_scale * in2_scale / res
//   GlobalPool v = apply_requant(sum over the plane of (x - in_zp), aux[0]),  aux[0] ~ in_scale / (res * h *
//   w) AvgPool    v = apply_requant(sum over the window's n positions inside the input of (x - in_zp), aux[n
//   - 1]),
//              aux[n - 1] ~ in_scale / (res * n)  (PyTorch count_include_pad=False; ceil_mode from the layer
//              list)
//   MaxPool    v = apply_requant(max over the window's positions inside the input of (x - in_zp), aux[0])
// where "~" means make_requant() of that real ratio.

struct QNetwork {
  std::vector<QOp> ops;  // same order and indices as SupernetSpace::layers()
  float in_scale = 1;
  int32_t in_zp = 0;
};

// The reference of one layer (b is the second operand of Add / SEScale, else nullptr) on every image of a
// batch (b has as many images as a); each image's result is the same as running it alone.
QTensor run_qop(const QOp& op, const QTensor& a, const QTensor* b);
// Every layer's output of a quantized network (a batch in, a batch per layer out); the last is the logits.
std::vector<QTensor> run_qnetwork(const QNetwork& net, const QTensor& input);
// The class image i of a logits batch (N x classes x 1 x 1) predicts: the first largest logit.
int predicted_class(const QTensor& logits, int i);
// A conv-like layer with random int8 weights, bias and requantization, for property tests.
QOp make_random_qop(const Layer& layer, uint64_t seed);
QTensor make_random_qtensor(int c, int h, int w, uint64_t seed, float scale = 0.05f, int32_t zero_point = 3);
// A whole subnet quantized from random fp32 supernet weights (seeded), with activation ranges calibrated on
// seeded random inputs: what functional tests of the accelerator models run end to end.
QNetwork make_random_qnetwork(const SupernetSpace& space, const Subnet& subnet, uint64_t seed);

// Affine int8 quantization: real = scale * (q - zero_point).
struct QuantParams {
  float scale = 1;
  int32_t zero_point = 0;
};
// The range is widened to include 0 (so 0 is exact); scale = (hi - lo) / 255.
QuantParams choose_quant_params(float lo, float hi);
QTensor quantize(const Tensor& x, QuantParams q);  // round half away from zero, saturating
Tensor dequantize(const QTensor& q);
// lut[q + 128] = quantize_out(f(pre_scale * (q - pre_zp))) for f = h-swish or h-sigmoid, computed in double.
std::vector<int8_t> make_activation_lut(Activation act, QuantParams pre, QuantParams out);

// Quantizes a subnet's fp32 weights (batch norm folded, per-output-channel symmetric int8 in [-127, 127],
// bias rounded to in_scale * weight_scale units) with activation ranges from a calibration forward pass
// (forward_fp32 ranges over the calibration images; `input` is the images' quantization).
QNetwork quantize_network(const Checkpoint& weights, const std::vector<Layer>& layers,
                          const std::vector<LayerRange>& ranges, QuantParams input,
                          const std::string& subnet_key);
// How many calibration images make_random_qnetwork uses at a resolution: at least 16, and enough that about
// 50k pixels per channel are seen (small inputs need more images, or unseen images clip against the ranges).
int calibration_image_count(int resolution);
// Calibrates on `images` (the range of every layer's pre-activation and output: min/max, or with
// range_clip > 0 that share of the values clipped at each end) and quantizes.
QNetwork quantize_subnet(const Checkpoint& weights, const std::vector<Layer>& layers,
                         const std::vector<Tensor>& images, const std::string& subnet_key,
                         double range_clip = 0);

}  // namespace sushi
