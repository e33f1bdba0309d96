// The synthesis view's arithmetic units (sushi_requant, sushi_act: what `sushi rtl area` maps for the
// datapath; the harness simulates sushi_core instead), Verilated alone and compared value by value with the
// int8 reference (models/ref/int8.h) on random and boundary operands.
#include <Vsushi_act_unit.h>
#include <Vsushi_requant_unit.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <vector>

#include "base/random.h"
#include "models/ref/int8.h"

using namespace sushi;

namespace {

template <typename Model>
void clock_edge(Model& m) {
  m.clk = 0;
  m.eval();
  m.clk = 1;
  m.eval();
}

// An int32 whose magnitude is spread over every bit width, so small and saturating values both occur.
int32_t spread_int32(Rng& rng) {
  const int bits = int(rng.uniform_int(uint64_t(32)));
  const int64_t v = int64_t(rng.next() & ((uint64_t(1) << bits) - 1));
  return int32_t(rng.uniform_int(uint64_t(2)) ? -v : v);
}

}  // namespace

TEST_CASE("rtl units: sushi_requant equals apply_requant (round half away, saturation) on every shift",
          "[rtl]") {
  Vsushi_requant_unit m;
  Rng rng(21);
  constexpr int32_t lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> accs = {0, 1, -1, lo, hi, 1 << 16, -(1 << 16)};
  std::vector<int32_t> mults = {0, 1 << 30, hi, (1 << 30) + 1, 1};
  int compared = 0, mismatched = 0;
  auto check = [&](int32_t acc, int32_t mult, int32_t shift) {
    m.acc = uint32_t(acc);
    m.multiplier = uint32_t(mult);
    m.shift = uint32_t(shift);
    clock_edge(m);
    const int32_t want = apply_requant(acc, Requant{mult, shift});
    const int32_t got = int32_t(m.value);
    ++compared;
    if (got != want) {
      if (++mismatched <= 5)
        WARN("acc " << acc << " multiplier " << mult << " shift " << shift << ": rtl " << got
                    << ", reference " << want);
    }
  };
  for (int32_t shift = -30; shift <= 62; ++shift) {
    for (int32_t a : accs)
      for (int32_t mu : mults) check(a, mu, shift);
    // Ties: with multiplier 1, acc = +-3 * 2^(30 + shift) is exactly +-1.5 results (rounds to +-2).
    if (shift < 0) {
      check(int32_t(3) << (30 + shift), 1, shift);
      check(-(int32_t(3) << (30 + shift)), 1, shift);
    }
    for (int i = 0; i < 200; ++i)
      check(spread_int32(rng), int32_t(rng.uniform_int(uint64_t(1) << 31)), shift);
  }
  CHECK(compared == 93 * (35 + 200) + 60);
  CHECK(mismatched == 0);
}

TEST_CASE("rtl units: sushi_act equals QOp::activate (table, ReLU at the zero point, plain clamp)", "[rtl]") {
  Vsushi_act_unit m;
  Rng rng(22);
  int compared = 0, mismatched = 0;
  for (int trial = 0; trial < 24; ++trial) {
    QOp op;
    op.pre_zp = int32_t(rng.uniform_int(int64_t(-128), int64_t(127)));
    op.out_zp = int32_t(rng.uniform_int(int64_t(-128), int64_t(127)));
    const int mode = trial % 3;  // 0 table (h-swish / h-sigmoid), 1 ReLU, 2 none
    op.layer.act = mode == 0 ? Activation::HSwish : mode == 1 ? Activation::ReLU : Activation::None;
    if (mode == 0) {
      op.lut.resize(256);
      for (int8_t& e : op.lut) e = int8_t(rng.uniform_int(int64_t(-128), int64_t(127)));
      m.lut_we = 1;
      for (int i = 0; i < 256; ++i) {
        m.lut_addr = uint8_t(i);
        m.lut_data = uint8_t(op.lut[size_t(i)]);
        clock_edge(m);
      }
      m.lut_we = 0;
    }
    m.lut_enable = mode == 0;
    m.relu = mode == 1;
    m.pre_zp = uint32_t(op.pre_zp);
    m.out_zp = uint32_t(op.out_zp);
    std::vector<int32_t> vs = {0,
                               1,
                               -1,
                               127,
                               -128,
                               128,
                               -129,
                               255,
                               -256,
                               std::numeric_limits<int32_t>::max(),
                               std::numeric_limits<int32_t>::min()};
    for (int i = 0; i < 300; ++i)
      vs.push_back(i < 200 ? int32_t(rng.uniform_int(int64_t(-300), int64_t(300))) : spread_int32(rng));
    for (int32_t v : vs) {
      m.v = uint32_t(v);
      clock_edge(m);
      const int8_t want = op.activate(v);
      const int8_t got = int8_t(m.q);
      ++compared;
      if (got != want && ++mismatched <= 5)
        WARN("mode " << mode << " v " << v << " pre_zp " << op.pre_zp << " out_zp " << op.out_zp << ": rtl "
                     << int(got) << ", reference " << int(want));
    }
  }
  CHECK(compared == 24 * 311);
  CHECK(mismatched == 0);
}
