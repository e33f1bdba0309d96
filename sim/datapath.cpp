// SushiAccel behaviour in plain C++: layouts, the DMA program and the datapaths (see sim/datapath.h).
#include "sim/datapath.h"

#include <cstring>
#include <stdexcept>

namespace sushi::sim {
namespace {

void put_i32(uint8_t* p, int32_t v) {
  const uint32_t u = uint32_t(v);
  for (int b = 0; b < 4; ++b) p[b] = uint8_t(u >> (8 * b));
}
int32_t get_i32(const uint8_t* p) {
  uint32_t u = 0;
  for (int b = 0; b < 4; ++b) u |= uint32_t(p[b]) << (8 * b);
  return int32_t(u);
}

bool conv_like(const LayerRegs& r) {
  return r.w_out > 0;
}

// Whether position (i, ky, kx) of output channel o's record is held by the PB.
struct PbWindow {
  bool resident = false;
  uint32_t in = 0, lo = 0, hi = 0;
  PbWindow(const LayerRegs& r, int o) {
    resident = uint32_t(o) < r.pb_out;
    in = r.pb_in;
    lo = (r.w_k - r.pb_k) / 2;
    hi = lo + r.pb_k;
  }
  bool holds(uint32_t i, uint32_t ky, uint32_t kx) const {
    return resident && i < in && ky >= lo && ky < hi && kx >= lo && kx < hi;
  }
};

// Walks one record in order, handing each byte position to `f(pb, index)`: index < w_in*k*k is a weight,
// the rest are the 4 bias bytes.
template <typename F>
void walk_record(const LayerRegs& r, int o, F&& f) {
  const PbWindow pb(r, o);
  const uint32_t k = r.w_k;
  for (uint32_t i = 0; i < r.w_in; ++i)
    for (uint32_t ky = 0; ky < k; ++ky)
      for (uint32_t kx = 0; kx < k; ++kx) f(pb.holds(i, ky, kx), (i * k + ky) * k + kx);
  if (r.w_bias)
    for (uint32_t b = 0; b < 4; ++b) f(pb.resident && r.pb_bias, r.w_in * k * k + b);
}

}  // namespace

int64_t LayerRegs::dram_weight_bytes() const {
  return int64_t(w_out) * record_bytes() - int64_t(pb_out) * pb_record_bytes();
}

int64_t LayerRegs::param_bytes() const {
  int64_t words = 2 * int64_t(aux_count);
  if (w_out > 0) words += 2 * int64_t(out_c) + (w_bias ? 0 : out_c);
  return 4 * words + (lut_enable ? 256 : 0);
}

void split_weights(const LayerRegs& r, const QOp& op, uint8_t* dram, uint8_t* pb) {
  const int64_t per_out = int64_t(r.w_in) * r.w_k * r.w_k;
  if (int64_t(op.weights.size()) != int64_t(r.w_out) * per_out)
    throw std::logic_error("split_weights: layer " + op.layer.name + " has " +
                           std::to_string(op.weights.size()) + " weights, its slice expects " +
                           std::to_string(int64_t(r.w_out) * per_out));
  for (int o = 0; o < int(r.w_out); ++o) {
    uint8_t bias[4];
    put_i32(bias, op.bias.empty() ? 0 : op.bias[size_t(o)]);
    const int8_t* w = op.weights.data() + o * per_out;
    uint8_t* pb_rec = pb + int64_t(o) * r.pb_record_bytes();
    walk_record(r, o, [&](bool in_pb, uint32_t idx) {
      const uint8_t byte = idx < per_out ? uint8_t(w[idx]) : bias[idx - per_out];
      *(in_pb ? pb_rec++ : dram++) = byte;
    });
  }
}

void write_params(const LayerRegs& r, const QOp& op, uint8_t* dst) {
  if (conv_like(r)) {
    for (uint32_t o = 0; o < r.out_c; ++o, dst += 8) {
      put_i32(dst, op.requant[o].multiplier);
      put_i32(dst + 4, op.requant[o].shift);
    }
    if (!r.w_bias)
      for (uint32_t o = 0; o < r.out_c; ++o, dst += 4) put_i32(dst, op.bias.empty() ? 0 : op.bias[o]);
  }
  for (uint32_t a = 0; a < r.aux_count; ++a, dst += 8) {
    put_i32(dst, op.aux[a].multiplier);
    put_i32(dst + 4, op.aux[a].shift);
  }
  if (r.lut_enable) std::memcpy(dst, op.lut.data(), 256);
}

QOp read_params(const LayerRegs& r, const uint8_t* src) {
  QOp op;
  op.layer.kind = LayerKind(r.opcode);
  op.layer.act = Activation(r.activation);
  op.in_zp = r.in_zp;
  op.in2_zp = r.in2_zp;
  op.out_zp = r.out_zp;
  op.pre_zp = r.pre_zp;
  if (conv_like(r)) {
    op.requant.resize(r.out_c);
    for (uint32_t o = 0; o < r.out_c; ++o, src += 8) op.requant[o] = Requant{get_i32(src), get_i32(src + 4)};
    if (!r.w_bias) {
      op.bias.resize(r.out_c);
      for (uint32_t o = 0; o < r.out_c; ++o, src += 4) op.bias[o] = get_i32(src);
    }
  }
  op.aux.resize(r.aux_count);
  for (uint32_t a = 0; a < r.aux_count; ++a, src += 8) op.aux[a] = Requant{get_i32(src), get_i32(src + 4)};
  if (r.lut_enable)
    op.lut.assign(reinterpret_cast<const int8_t*>(src), reinterpret_cast<const int8_t*>(src) + 256);
  return op;
}

int64_t act_in_offset(const AccelConfig& accel, const LayerPlan& p, int kt, int ct) {
  const int64_t half = accel.act_in_bytes / 2;
  if (!p.act_resident) return ((int64_t(kt) * p.nc + ct) % 2) * half;
  if (p.per_ktile_chunks) return int64_t(kt) * p.k_tile * (p.in_plane + p.chunk_extra_per_channel);
  return int64_t(ct) * p.c_tile * p.in_plane;
}

uint64_t weight_addr(const LayerRegs& r, const LayerPlan& p, int kt) {
  const int64_t k0 = int64_t(kt) * p.k_tile;
  return r.w_addr + uint64_t(k0 * r.record_bytes() - std::min<int64_t>(r.pb_out, k0) * r.pb_record_bytes());
}

namespace {

Transfer weights_transfer(const AccelConfig& accel, const LayerRegs& r, const LayerPlan& p, int kt) {
  Transfer t;
  t.stream = Stream::Weights;
  t.bytes = p.weight_dram_bytes(kt);
  t.segments = 1;
  t.addr[0] = weight_addr(r, p, kt);
  t.len[0] = t.bytes;
  t.local = weight_offset(accel, kt);
  return t;
}

Transfer chunk_transfer(const AccelConfig& accel, const LayerRegs& r, const LayerPlan& p, int kt, int ct) {
  Transfer t;
  t.stream = Stream::ActIn;
  t.bytes = p.chunk_bytes(kt, ct);
  t.local = act_in_offset(accel, p, kt, ct);
  t.segments = 1;
  if (!p.per_ktile_chunks) {
    t.addr[0] = r.in_addr + uint64_t(int64_t(ct) * p.c_tile * p.in_plane);
    t.len[0] = t.bytes;
    return t;
  }
  const int64_t k0 = int64_t(kt) * p.k_tile, kn = p.channels_in_ktile(kt);
  t.addr[0] = r.in_addr + uint64_t(k0 * p.in_plane);
  t.len[0] = kn * p.in_plane;
  if (p.chunk_extra_per_channel > 0) {
    t.segments = 2;
    t.addr[1] = r.in2_addr + uint64_t(k0 * p.chunk_extra_per_channel);
    t.len[1] = kn * p.chunk_extra_per_channel;
  }
  return t;
}

Transfer out_transfer(const AccelConfig& accel, const LayerRegs& r, const LayerPlan& p, int kt) {
  Transfer t;
  t.stream = Stream::ActOut;
  t.bytes = p.out_bytes(kt);
  t.segments = 1;
  t.addr[0] = r.out_addr + uint64_t(int64_t(kt) * p.k_tile * p.pixels);
  t.len[0] = t.bytes;
  t.local = act_out_offset(accel, kt);
  return t;
}

}  // namespace

void dma_program(const AccelConfig& accel, const LayerRegs& r, const LayerPlan& p,
                 std::vector<DmaStep>& out) {
  out.clear();
  const bool serial_w = accel.weight_load == Overlap::Serial, serial_a = accel.act_load == Overlap::Serial;
  const bool serial_o = accel.out_store == Overlap::Serial;
  out.push_back({WaitOn::Nothing, 0, weights_transfer(accel, r, p, 0)});
  for (int kt = 0; kt < p.nk; ++kt) {
    if (serial_o && kt >= 1) out.push_back({WaitOn::OutFilled, kt, out_transfer(accel, r, p, kt - 1)});
    if (p.loads_chunk(kt))
      for (int ct = 0; ct < p.nc; ++ct) {
        const int64_t pass = int64_t(kt) * p.nc + ct;  // a streamed chunk waits until pass - 2 read its half
        if (serial_a)
          out.push_back({WaitOn::PassesDone, pass, chunk_transfer(accel, r, p, kt, ct)});
        else
          out.push_back({p.act_resident ? WaitOn::Nothing : WaitOn::PassesDone, pass - 1,
                         chunk_transfer(accel, r, p, kt, ct)});
      }
    if (kt + 1 < p.nk)  // K-tile kt-1 computed: its weight half is free (serial: K-tile kt computed)
      out.push_back({WaitOn::KTilesDone, serial_w ? kt + 1 : kt, weights_transfer(accel, r, p, kt + 1)});
    if (!serial_o && kt >= 1) out.push_back({WaitOn::OutFilled, kt, out_transfer(accel, r, p, kt - 1)});
  }
  out.push_back({WaitOn::OutFilled, p.nk, out_transfer(accel, r, p, p.nk - 1)});
}

void ArrayDatapath::load_ktile(const LayerRegs& r, const LayerPlan& p, int kt, const uint8_t* stream,
                               const uint8_t* pb) {
  const int k0 = kt * p.k_tile, kn = p.channels_in_ktile(kt);
  const int64_t per_out = int64_t(r.w_in) * r.w_k * r.w_k;
  w_.resize(size_t(kn * per_out));
  bias_.assign(size_t(kn), 0);
  for (int k = 0; k < kn; ++k) {
    const int o = k0 + k;
    const uint8_t* pb_rec = pb + r.pb_offset + int64_t(o) * r.pb_record_bytes();
    uint8_t bias[4] = {0, 0, 0, 0};
    int32_t* w = w_.data() + k * per_out;
    walk_record(r, o, [&](bool in_pb, uint32_t idx) {
      const uint8_t byte = in_pb ? *pb_rec++ : *stream++;
      if (idx < per_out)
        w[idx] = int8_t(byte);  // the byte is a signed int8 weight
      else
        bias[idx - per_out] = byte;
    });
    bias_[size_t(k)] = get_i32(bias);
  }
}

// One pass in the array's loop order: every output pixel of the K-tile accumulates the C-tile's products into
// its partial sum; the last C-tile requantizes into the int8 output buffer.
void ArrayDatapath::pass(const LayerRegs& r, const LayerPlan& p, const QOp& params, int kt, int ct,
                         const uint8_t* chunk, int32_t* psum, uint8_t* out) const {
  const bool depthwise = p.per_ktile_chunks;
  const int k0 = kt * p.k_tile, kn = p.channels_in_ktile(kt);
  const int c0 = depthwise ? 0 : ct * p.c_tile;
  const int cn = depthwise ? 1 : std::min(int(r.in_c), c0 + p.c_tile) - c0;
  const int K = int(r.kernel), S = int(r.stride), P = int(r.pad), H = int(r.in_h), W = int(r.in_w);
  const int64_t per_out = int64_t(r.w_in) * K * K;
  const bool first = ct == 0, last = ct == p.nc - 1;
  for (int oy = 0; oy < int(r.out_h); ++oy)
    for (int ox = 0; ox < int(r.out_w); ++ox) {
      const size_t pix = size_t(oy) * r.out_w + ox;
      for (int k = 0; k < kn; ++k) {
        const int o = k0 + k;
        uint32_t acc = first ? uint32_t(params.bias.empty() ? bias_[size_t(k)] : params.bias[size_t(o)])
                             : uint32_t(psum[size_t(k) * p.pixels + pix]);
        for (int ci = 0; ci < cn; ++ci) {
          const int8_t* plane = reinterpret_cast<const int8_t*>(chunk) + (depthwise ? k : ci) * p.in_plane;
          const int32_t* w = w_.data() + k * per_out + (depthwise ? 0 : int64_t(c0 + ci) * K * K);
          for (int ky = 0; ky < K; ++ky) {
            const int iy = oy * S + ky - P;
            if (iy < 0 || iy >= H) continue;
            for (int kx = 0; kx < K; ++kx) {
              const int ix = ox * S + kx - P;
              if (ix < 0 || ix >= W) continue;
              acc += uint32_t(w[ky * K + kx] * (int32_t(plane[iy * W + ix]) - params.in_zp));
            }
          }
        }
        if (last)
          out[size_t(k) * p.pixels + pix] = uint8_t(params.finish(o, int32_t(acc)));
        else
          psum[size_t(k) * p.pixels + pix] = int32_t(acc);
      }
    }
}

namespace {

int8_t pool_pixel(const LayerRegs& r, const QOp& q, const int8_t* a, int oy, int ox) {
  const int H = int(r.in_h), W = int(r.in_w), S = int(r.stride), P = int(r.pad), K = int(r.kernel);
  const int y0 = std::max(oy * S - P, 0), y1 = std::min(oy * S - P + K, H);
  const int x0 = std::max(ox * S - P, 0), x1 = std::min(ox * S - P + K, W);
  int64_t sum = 0, best = std::numeric_limits<int64_t>::min();
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const int64_t v = int32_t(a[y * W + x]) - q.in_zp;
      sum += v;
      best = std::max(best, v);
    }
  const int n = (y1 - y0) * (x1 - x0);
  return q.activate(LayerKind(r.opcode) == LayerKind::MaxPool ? apply_requant(best, q.aux[0])
                                                              : apply_requant(sum, q.aux[size_t(n - 1)]));
}

}  // namespace

void vector_tile(const LayerRegs& r, const LayerPlan& p, const QOp& q, int kt, const uint8_t* chunk,
                 uint8_t* out) {
  const int kn = p.channels_in_ktile(kt);
  const int64_t plane = p.in_plane, pixels = p.pixels;
  const auto* a = reinterpret_cast<const int8_t*>(chunk);
  const int8_t* b = a + kn * plane;  // second operand planes (Add) or gate bytes (SEScale)
  auto* y = reinterpret_cast<int8_t*>(out);
  for (int k = 0; k < kn; ++k) {
    const int8_t* ak = a + k * plane;
    int8_t* yk = y + k * pixels;
    switch (LayerKind(r.opcode)) {
      case LayerKind::Add:
        for (int64_t i = 0; i < plane; ++i) {
          const int64_t sum = (int64_t(ak[i]) - q.in_zp) * q.aux[0].multiplier +
                              (int64_t(b[k * plane + i]) - q.in2_zp) * q.aux[1].multiplier;
          yk[i] = q.activate(apply_requant(sum, Requant{1, q.aux[0].shift}));  // rounding shift of the sum
        }
        break;
      case LayerKind::SEScale: {
        const int32_t gate = int32_t(b[k]) - q.in2_zp;
        for (int64_t i = 0; i < plane; ++i)
          yk[i] = q.activate(apply_requant((int32_t(ak[i]) - q.in_zp) * gate, q.aux[0]));
        break;
      }
      case LayerKind::GlobalPool: {
        int64_t sum = 0;
        for (int64_t i = 0; i < plane; ++i) sum += int32_t(ak[i]) - q.in_zp;
        yk[0] = q.activate(apply_requant(sum, q.aux[0]));
        break;
      }
      case LayerKind::MaxPool:
      case LayerKind::AvgPool:
        for (int oy = 0; oy < int(r.out_h); ++oy)
          for (int ox = 0; ox < int(r.out_w); ++ox) yk[oy * r.out_w + ox] = pool_pixel(r, q, ak, oy, ox);
        break;
      default:
        throw std::logic_error("vector unit: layer kind " + std::string(to_string(LayerKind(r.opcode))) +
                               " is not a vector layer");
    }
  }
}

}  // namespace sushi::sim
