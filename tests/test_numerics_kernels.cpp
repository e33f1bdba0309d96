// fp32 and int8 kernels against naive loops, and the requantization rounding rule.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "base/random.h"
#include "models/ref/int8.h"
#include "models/ref/int8_detail.h"
#include "models/ref/kernels.h"

using namespace sushi;

namespace {

struct Shape {
  int in_c, out_c, h, w, k, stride, pad, groups;
};

// Odd and tiny sizes, stride 1 and 2, groups (incl. depthwise), padding from 0 to k/2 + 1.
Shape random_shape(Rng& rng) {
  auto pick = [&](int lo, int hi) { return lo + int(rng.uniform_int(uint64_t(int64_t(hi) - lo + 1))); };
  Shape s{};
  const int kinds = pick(0, 3);  // 0 regular, 1 pointwise, 2 depthwise, 3 grouped
  s.k = kinds == 1 ? 1 : 2 * pick(0, 3) + 1;
  s.stride = pick(1, 2);
  s.pad = pick(0, s.k / 2 + (kinds == 1 ? 0 : 1));
  s.h = pick(std::max(1, s.k - 2 * s.pad), 17);
  s.w = pick(std::max(1, s.k - 2 * s.pad), 17);
  if (kinds == 2) {
    s.in_c = s.out_c = s.groups = pick(1, 12);
  } else if (kinds == 3) {
    s.groups = pick(2, 3);
    s.in_c = s.groups * pick(1, 5);
    s.out_c = s.groups * pick(1, 5);
  } else {
    s.groups = 1;
    s.in_c = pick(1, 24);
    s.out_c = pick(1, 24);
  }
  return s;
}

Layer layer_of(const Shape& s) {
  Layer l;
  l.name = "random";
  l.kind = s.groups == s.in_c && s.groups == s.out_c && s.groups > 1 ? LayerKind::Depthwise
           : s.k == 1                                                ? LayerKind::Pointwise
                                                                     : LayerKind::Conv;
  l.in_c = s.in_c;
  l.in_h = s.h;
  l.in_w = s.w;
  l.out_c = s.out_c;
  l.out_h = conv_out_size(s.h, s.k, s.stride, s.pad);
  l.out_w = conv_out_size(s.w, s.k, s.stride, s.pad);
  l.kernel = s.k;
  l.stride = s.stride;
  l.pad = s.pad;
  l.groups = s.groups;
  return l;
}

}  // namespace

TEST_CASE("fp32 conv2d equals naive loops on 600 random layer shapes", "[numerics][fp32]") {
  Rng rng(7);
  for (int trial = 0; trial < 600; ++trial) {
    const Shape s = random_shape(rng);
    const int in_pg = s.in_c / s.groups, out_pg = s.out_c / s.groups;
    Tensor x(s.in_c, s.h, s.w);
    for (float& v : x.data) v = float(rng.normal());
    // Every third layer reads the centre of a larger stored kernel and the leading channels of a wider
    // tensor, as a subnet reads its supernet.
    const bool sliced = trial % 3 == 0;
    const int K = sliced ? s.k + 2 : s.k, O = sliced ? s.out_c + 3 : s.out_c, I = sliced ? in_pg + 2 : in_pg;
    std::vector<float> store(size_t(O) * I * K * K);
    for (float& v : store) v = float(rng.normal());
    const int off = (K - s.k) / 2;
    const ConvWeightView w{store.data() + off * K + off, s.out_c,        in_pg, s.k,
                           int64_t(I) * K * K,           int64_t(K) * K, K};
    std::vector<float> bias(size_t(s.out_c));
    for (float& v : bias) v = float(rng.normal());
    const Tensor y = conv2d(x, w, bias.data(), {s.stride, s.pad, s.groups});
    const Layer l = layer_of(s);
    REQUIRE(y.c == s.out_c);
    REQUIRE(y.h == l.out_h);
    REQUIRE(y.w == l.out_w);
    double err2 = 0, ref2 = 0;
    for (int o = 0; o < s.out_c; ++o)
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) {
          const int g = o / out_pg;
          double ref = bias[o], magnitude = std::fabs(bias[o]);
          for (int i = 0; i < in_pg; ++i)
            for (int ky = 0; ky < s.k; ++ky)
              for (int kx = 0; kx < s.k; ++kx) {
                const int iy = oy * s.stride + ky - s.pad, ix = ox * s.stride + kx - s.pad;
                if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
                const double term = double(w.at(o, i, ky, kx)) * x.at(g * in_pg + i, iy, ix);
                ref += term;
                magnitude += std::fabs(term);
              }
          const double got = y.at(o, oy, ox);
          // Element-wise: relative to the magnitude of the summed terms (cancellation can make ref ~ 0).
          INFO("trial " << trial << " in " << s.in_c << " out " << s.out_c << " " << s.h << "x" << s.w
                        << " k " << s.k << " s " << s.stride << " p " << s.pad << " g " << s.groups);
          REQUIRE(std::fabs(got - ref) <= 1e-4 * magnitude + 1e-7);
          err2 += (got - ref) * (got - ref);
          ref2 += ref * ref;
        }
    REQUIRE(std::sqrt(err2) <= 1e-4 * std::sqrt(ref2) + 1e-7);
  }
}

TEST_CASE("fp32 batch norm folding, activations and pools", "[numerics][fp32]") {
  Rng rng(3);
  Tensor x(5, 9, 7);
  for (float& v : x.data) v = float(rng.normal());
  std::vector<float> w(6 * 5 * 9), gamma(6), beta(6), mean(6), var(6);
  for (float& v : w) v = float(rng.normal());
  for (int o = 0; o < 6; ++o) {
    gamma[o] = 1 + 0.3f * float(rng.normal());
    beta[o] = float(rng.normal());
    mean[o] = float(rng.normal());
    var[o] = 0.5f + std::fabs(float(rng.normal()));
  }
  Tensor bn = conv2d(x, ConvWeightView::dense(w.data(), 6, 5, 3), nullptr, {2, 1, 1});
  batch_norm(bn, gamma.data(), beta.data(), mean.data(), var.data(), 1e-5f);
  std::vector<float> fw = w, fb;
  fold_batch_norm(fw, fb, 6, gamma.data(), beta.data(), mean.data(), var.data(), 1e-5f);
  const Tensor folded = conv2d(x, ConvWeightView::dense(fw.data(), 6, 5, 3), fb.data(), {2, 1, 1});
  for (size_t i = 0; i < bn.data.size(); ++i) REQUIRE(folded.data[i] == Approx(bn.data[i]).margin(1e-4));

  CHECK(activate(-1.0f, Activation::ReLU) == 0.0f);
  CHECK(activate(1.5f, Activation::HSwish) == Approx(1.5 * 4.5 / 6));
  CHECK(activate(-4.0f, Activation::HSwish) == 0.0f);
  CHECK(activate(4.0f, Activation::HSigmoid) == 1.0f);
  CHECK(activate(0.0f, Activation::HSigmoid) == 0.5f);

  const Tensor gp = global_avg_pool(x);
  double s = 0;
  for (int i = 0; i < 63; ++i) s += x.data[i];
  CHECK(gp.data[0] == Approx(s / 63));
  const Tensor mp = max_pool(x, 3, 2, 1);
  CHECK(mp.h == 5);
  CHECK(mp.w == 4);
  CHECK(mp.at(0, 0, 0) == std::max({x.at(0, 0, 0), x.at(0, 0, 1), x.at(0, 1, 0), x.at(0, 1, 1)}));
  const Tensor ap = avg_pool(x, 2, 2, 0, true);  // ResNet-D downsample: ceil mode, partial windows
  CHECK(ap.h == 5);
  CHECK(ap.w == 4);
  CHECK(ap.at(1, 4, 3) == Approx(x.at(1, 8, 6)));
  CHECK(ap.at(1, 0, 3) == Approx((x.at(1, 0, 6) + x.at(1, 1, 6)) / 2));
}

namespace {

// The contract of models/int8.h written as plain loops.
QTensor naive_qconv(const QOp& op, const QTensor& x) {
  const Layer& l = op.layer;
  QTensor y;
  y.c = l.out_c;
  y.h = l.out_h;
  y.w = l.out_w;
  y.zero_point = op.out_zp;
  y.data.resize(size_t(y.c) * y.h * y.w);
  const int in_pg = l.in_c / l.groups, out_pg = l.out_c / l.groups, k = l.kernel;
  for (int o = 0; o < l.out_c; ++o)
    for (int oy = 0; oy < y.h; ++oy)
      for (int ox = 0; ox < y.w; ++ox) {
        int32_t acc = op.bias[o];
        for (int i = 0; i < in_pg; ++i)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * l.stride + ky - l.pad, ix = ox * l.stride + kx - l.pad;
              if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
              acc += int32_t(op.weights[((size_t(o) * in_pg + i) * k + ky) * k + kx]) *
                     (int32_t(x.at(o / out_pg * in_pg + i, iy, ix)) - op.in_zp);
            }
        y.at(o, oy, ox) = op.finish(o, acc);
      }
  return y;
}

}  // namespace

TEST_CASE("int8 conv-like layers equal naive loops exactly on 600 random layer shapes", "[numerics][int8]") {
  Rng rng(11);
  const Activation acts[] = {Activation::None, Activation::ReLU, Activation::HSwish, Activation::HSigmoid};
  int saturated = 0, total = 0;
  for (int trial = 0; trial < 600; ++trial) {
    Shape s = random_shape(rng);
    if (trial % 50 == 0) {  // wide layers take the double-precision GEMM path (fan-in above 514)
      s = Shape{64, 9, 9, 8, 3, 1 + trial % 2, 1, 1};
    }
    Layer l = layer_of(s);
    l.act = acts[trial % 4];
    const QOp op = make_random_qop(l, uint64_t(trial));
    const QTensor x = make_random_qtensor(s.in_c, s.h, s.w, 1000 + uint64_t(trial), 0.05f, op.in_zp);
    const QTensor got = run_qop(op, x, nullptr);
    const QTensor want = naive_qconv(op, x);
    INFO("trial " << trial);
    REQUIRE(got == want);
    for (int8_t v : got.data) saturated += (v == 127 || v == -128);
    total += int(got.data.size());
  }
  CHECK(saturated < total / 5);  // the random requantization exercises the range, not just the rails
}

TEST_CASE("int8 elementwise and pooling layers follow the documented formulas", "[numerics][int8]") {
  Rng rng(5);
  for (int trial = 0; trial < 60; ++trial) {
    const int c = int(rng.uniform_int(1, 9)), h = int(rng.uniform_int(1, 11)),
              w = int(rng.uniform_int(1, 11));
    Layer l;
    l.in_c = l.out_c = c;
    l.in_h = l.out_h = h;
    l.in_w = l.out_w = w;
    l.act = trial % 2 ? Activation::ReLU : Activation::None;
    const QTensor a = make_random_qtensor(c, h, w, rng(), 0.05f, 3);
    switch (trial % 5) {
      case 0: {
        l.kind = LayerKind::Add;
        const QOp op = make_random_qop(l, rng());
        const QTensor b = make_random_qtensor(c, h, w, rng(), 0.05f, -7);
        const QTensor y = run_qop(op, a, &b);
        REQUIRE(op.aux[0].shift == op.aux[1].shift);
        for (size_t i = 0; i < y.data.size(); ++i) {
          const double exact = ((a.data[i] - op.in_zp) * double(op.aux[0].multiplier) +
                                (b.data[i] - op.in2_zp) * double(op.aux[1].multiplier)) /
                               std::ldexp(1.0, 31 + op.aux[0].shift);
          REQUIRE(y.data[i] == op.activate(int32_t(round_half_away(exact))));
        }
        break;
      }
      case 1: {
        l.kind = LayerKind::SEScale;
        const QOp op = make_random_qop(l, rng());
        const QTensor g = make_random_qtensor(c, 1, 1, rng(), 1 / 255.0f, -128);
        const QTensor y = run_qop(op, a, &g);
        for (int ci = 0; ci < c; ++ci)
          for (int i = 0; i < h * w; ++i)
            REQUIRE(y.data[ci * h * w + i] ==
                    op.activate(apply_requant((a.data[ci * h * w + i] - op.in_zp) * (g.data[ci] - op.in2_zp),
                                              op.aux[0])));
        break;
      }
      case 2: {
        l.kind = LayerKind::GlobalPool;
        l.out_h = l.out_w = 1;
        const QOp op = make_random_qop(l, rng());
        const QTensor y = run_qop(op, a, nullptr);
        for (int ci = 0; ci < c; ++ci) {
          int64_t sum = 0;
          for (int i = 0; i < h * w; ++i) sum += a.data[ci * h * w + i] - op.in_zp;
          REQUIRE(y.data[ci] == op.activate(apply_requant(sum, op.aux[0])));
        }
        break;
      }
      default: {
        const bool is_max = trial % 5 == 3;
        l.kind = is_max ? LayerKind::MaxPool : LayerKind::AvgPool;
        l.kernel = is_max ? 3 : 2;
        l.stride = 2;
        l.pad = is_max ? 1 : 0;
        l.out_h = pool_out_size(h, l.kernel, 2, l.pad, !is_max);
        l.out_w = pool_out_size(w, l.kernel, 2, l.pad, !is_max);
        const QOp op = make_random_qop(l, rng());
        const QTensor y = run_qop(op, a, nullptr);
        for (int ci = 0; ci < c; ++ci)
          for (int oy = 0; oy < l.out_h; ++oy)
            for (int ox = 0; ox < l.out_w; ++ox) {
              int64_t sum = 0, best = -1000, n = 0;
              for (int ky = 0; ky < l.kernel; ++ky)
                for (int kx = 0; kx < l.kernel; ++kx) {
                  const int iy = oy * 2 + ky - l.pad, ix = ox * 2 + kx - l.pad;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  sum += a.at(ci, iy, ix) - op.in_zp;
                  best = std::max<int64_t>(best, a.at(ci, iy, ix) - op.in_zp);
                  ++n;
                }
              const int32_t v =
                  is_max ? apply_requant(best, op.aux[0]) : apply_requant(sum, op.aux[size_t(n - 1)]);
              REQUIRE(y.at(ci, oy, ox) == op.activate(v));
            }
      }
    }
  }
}

TEST_CASE("requantization rounds half away from zero and saturates", "[numerics][int8]") {
  CHECK(round_half_away(2.5) == 3);
  CHECK(round_half_away(-2.5) == -3);
  CHECK(round_half_away(0.5) == 1);
  CHECK(round_half_away(-0.5) == -1);
  CHECK(round_half_away(1.4999) == 1);

  const Requant half = make_requant(0.5);
  CHECK(half.multiplier == (1 << 30));
  CHECK(half.shift == 0);
  // Ties: x.5 goes away from zero, for positive and negative accumulators.
  CHECK(apply_requant(1, half) == 1);
  CHECK(apply_requant(-1, half) == -1);
  CHECK(apply_requant(3, half) == 2);
  CHECK(apply_requant(-3, half) == -2);
  CHECK(apply_requant(5, half) == 3);
  CHECK(apply_requant(-5, half) == -3);
  CHECK(apply_requant(4, half) == 2);
  CHECK(apply_requant(-4, half) == -2);
  const Requant quarter = make_requant(0.25);
  CHECK(apply_requant(2, quarter) == 1);    // 0.5
  CHECK(apply_requant(-2, quarter) == -1);  // -0.5
  CHECK(apply_requant(6, quarter) == 2);    // 1.5
  CHECK(apply_requant(-6, quarter) == -2);  // -1.5
  CHECK(apply_requant(1, quarter) == 0);    // 0.25
  CHECK(apply_requant(-1, quarter) == 0);
  CHECK(apply_requant(-3, quarter) == -1);  // -0.75
  // Identity and saturation.
  const Requant one = make_requant(1.0);
  CHECK(apply_requant(123456789, one) == 123456789);
  CHECK(apply_requant(-123456789, one) == -123456789);
  CHECK(apply_requant(int64_t(1) << 40, one) == std::numeric_limits<int32_t>::max());
  CHECK(apply_requant(-(int64_t(1) << 40), one) == std::numeric_limits<int32_t>::min());
  CHECK(make_requant(0.0).multiplier == 0);

  // Against exact rational arithmetic on random values, including negative accumulators.
  Rng rng(1);
  for (int i = 0; i < 20000; ++i) {
    const double real = std::ldexp(0.5 + double(rng.uniform_int(1000000)) / 2e6, -int(rng.uniform_int(40)));
    const Requant r = make_requant(real);
    REQUIRE(r.multiplier >= (1 << 30));
    REQUIRE(r.shift >= -30);
    REQUIRE(r.shift <= 62);
    REQUIRE(std::fabs(r.multiplier * std::ldexp(1.0, -31 - r.shift) - real) <= real * 0x1.0p-31);
    const int64_t acc = int64_t(rng.uniform_int(2000001)) - 1000000;
    const long double exact = (long double)acc * r.multiplier / std::ldexp((long double)1, 31 + r.shift);
    REQUIRE(apply_requant(acc, r) == int64_t(std::round(exact)));
  }

  // finish(): saturation to int8 and ReLU as a clamp at the output zero point.
  QOp op;
  op.layer.act = Activation::ReLU;
  op.requant = {make_requant(1.0)};
  op.out_zp = -20;
  CHECK(op.finish(0, 1000) == 127);
  CHECK(op.finish(0, -5) == -20);
  CHECK(op.finish(0, 5) == -15);
  op.layer.act = Activation::None;
  CHECK(op.finish(0, -1000) == -128);
  CHECK(op.finish(0, -5) == -25);
}

TEST_CASE("int8 activation lookup tables", "[numerics][int8]") {
  const QuantParams pre{0.05f, 10}, out{0.03f, -100};
  const auto lut = make_activation_lut(Activation::HSwish, pre, out);
  REQUIRE(lut.size() == 256);
  for (int q = -128; q <= 127; ++q) {
    const double x = 0.05 * (q - 10);
    const double f = x * std::min(std::max(x + 3, 0.0), 6.0) / 6;
    CHECK(lut[q + 128] == std::max<int64_t>(-128, std::min<int64_t>(127, round_half_away(f / 0.03) - 100)));
  }
  const auto sig = make_activation_lut(Activation::HSigmoid, pre, choose_quant_params(0, 1));
  CHECK(sig[0] == -128);   // x = -6.9 -> 0
  CHECK(sig[255] == 127);  // x = 5.85 -> 1
}

TEST_CASE("requantization's 64-bit fast path equals the 128-bit rule", "[numerics][int8]") {
  Rng rng(77);
  auto reference = [](int64_t acc, Requant r) {
    return detail::saturate32(detail::shift_round(detail::int128(acc) * r.multiplier, 31 + r.shift));
  };
  int64_t checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const int shift = int(rng.uniform_int(-30, 62));
    const int32_t m = int32_t(rng.uniform_int(0, (int64_t(1) << 31) - 1));
    const int bits = int(rng.uniform_int(0, 34));  // up to and past the fast path's 2^32 bound
    int64_t acc = int64_t(rng.uniform_int(0, (int64_t(1) << bits) - 1));
    if (rng.uniform() < 0.5) acc = -acc;
    const Requant r{m, shift};
    REQUIRE(apply_requant(acc, r) == reference(acc, r));
    ++checked;
  }
  for (int64_t acc : {int64_t(0), int64_t(1) << 32, -(int64_t(1) << 32), (int64_t(1) << 32) - 1,
                      -(int64_t(1) << 32) + 1, int64_t(std::numeric_limits<int32_t>::min())})
    for (int shift : {-30, 0, 31, 32, 33, 62})
      CHECK(apply_requant(acc, Requant{(int32_t(1) << 30) + 12345, shift}) ==
            reference(acc, Requant{(int32_t(1) << 30) + 12345, shift}));
  CHECK(checked == 200000);
}
