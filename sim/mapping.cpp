// Layer-to-array mapping (documented in sim/mapping.h), byte/energy accounting and the analytic cycle formula.
#include "sim/mapping.h"

#include <algorithm>

#include "models/errors.h"

namespace sushi::sim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

[[noreturn]] void does_not_fit(const AccelConfig& accel, const Layer& l, const std::string& what, int64_t need,
                               const std::string& key, int64_t have) {
  throw InputError(accel.file + ": key 'buffers." + key + "': layer " + l.name + " (" + to_string(l.kind) + " " +
                   std::to_string(l.in_c) + "x" + std::to_string(l.in_h) + "x" + std::to_string(l.in_w) + " -> " +
                   std::to_string(l.out_c) + "x" + std::to_string(l.out_h) + "x" + std::to_string(l.out_w) +
                   ") needs " + std::to_string(need) + " bytes for " + what + ", the buffer gives " +
                   std::to_string(have));
}

}  // namespace

LayerPlan plan_layer(const AccelConfig& accel, const Layer& l, const WeightSlice& cached) {
  LayerPlan p;
  p.layer = &l;
  p.in_channels = l.in_c;
  p.out_channels = l.out_c;
  p.in_plane = int64_t(l.in_h) * l.in_w;
  p.pixels = int64_t(l.out_h) * l.out_w;
  p.macs = l.macs;
  const int64_t input_bytes = int64_t(l.in_c) * p.in_plane;
  switch (l.kind) {
    case LayerKind::Conv:
    case LayerKind::Pointwise:
    case LayerKind::FC:
    case LayerKind::SEReduce:
    case LayerKind::SEExpand: {
      if (l.groups != 1) throw InputError("layer " + l.name + ": grouped convolution is not mapped onto SushiAccel");
      const bool fold = l.kernel == 1 && accel.fold_pointwise;
      p.unit = Unit::Array;
      p.k_tile = accel.k_parallel;
      p.c_tile = fold ? accel.c_parallel * accel.window_parallel : accel.c_parallel;
      p.window_passes = fold ? 1 : int(ceil_div(int64_t(l.kernel) * l.kernel, accel.window_parallel));
      p.nc = int(ceil_div(l.in_c, p.c_tile));
      p.act_resident = input_bytes <= accel.act_in_bytes;
      if (!p.act_resident && int64_t(std::min(l.in_c, p.c_tile)) * p.in_plane > accel.act_in_bytes / 2)
        does_not_fit(accel, l, "one streamed input C-tile (half of act_in)", std::min(l.in_c, p.c_tile) * p.in_plane,
                     "act_in_bytes", accel.act_in_bytes / 2);
      if (p.nc > 1 && int64_t(std::min(l.out_c, p.k_tile)) * p.pixels * 4 > accel.psum_bytes)
        does_not_fit(accel, l, "the int32 partial sums of one K-tile", std::min(l.out_c, p.k_tile) * p.pixels * 4,
                     "psum_bytes", accel.psum_bytes);
      p.pipeline_depth = accel.pipeline_depth;
      break;
    }
    case LayerKind::Depthwise: {
      p.unit = Unit::Array;
      p.per_ktile_chunks = true;
      p.k_tile = accel.k_parallel;
      p.c_tile = accel.k_parallel;
      p.window_passes = int(ceil_div(int64_t(l.kernel) * l.kernel, accel.window_parallel));
      p.nc = 1;
      p.act_resident = input_bytes <= accel.act_in_bytes;
      p.pipeline_depth = accel.pipeline_depth;
      break;
    }
    case LayerKind::GlobalPool:
    case LayerKind::MaxPool:
    case LayerKind::AvgPool:
    case LayerKind::Add:
    case LayerKind::SEScale: {
      p.unit = Unit::Vector;
      p.per_ktile_chunks = true;
      p.k_tile = accel.vector_lanes;
      p.c_tile = accel.vector_lanes;
      p.nc = 1;
      if (l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool) p.window_passes = l.kernel * l.kernel;
      if (l.kind == LayerKind::GlobalPool) p.window_passes = int(p.in_plane);
      if (l.kind == LayerKind::Add) p.chunk_extra_per_channel = p.in_plane;
      if (l.kind == LayerKind::SEScale) p.chunk_extra_per_channel = 1;
      p.act_resident = int64_t(l.in_c) * (p.in_plane + p.chunk_extra_per_channel) <= accel.act_in_bytes;
      p.pipeline_depth = accel.vector_pipeline_depth;
      break;
    }
  }
  p.nk = int(ceil_div(l.out_c, p.k_tile));
  p.pass_cycles = p.pixels * p.window_passes;
  if (p.per_ktile_chunks && !p.act_resident &&
      int64_t(std::min(l.in_c, p.k_tile)) * (p.in_plane + p.chunk_extra_per_channel) > accel.act_in_bytes / 2)
    does_not_fit(accel, l, "one streamed input K-tile (half of act_in)",
                 std::min(l.in_c, p.k_tile) * (p.in_plane + p.chunk_extra_per_channel), "act_in_bytes",
                 accel.act_in_bytes / 2);
  if (int64_t(std::min(l.out_c, p.k_tile)) * p.pixels > accel.act_out_bytes / 2)
    does_not_fit(accel, l, "one K-tile of int8 outputs (half of act_out)", std::min(l.out_c, p.k_tile) * p.pixels,
                 "act_out_bytes", accel.act_out_bytes / 2);
  if (l.has_weights()) {
    const WeightSlice& w = l.slice;
    p.w_per_channel = int64_t(w.in) * w.k * w.k + (w.has_bias ? 4 : 0);
    if (int64_t(std::min(l.out_c, p.k_tile)) * p.w_per_channel > accel.weight_buffer_bytes / 2)
      does_not_fit(accel, l, "the weights of one K-tile (half of the streaming weight buffer)",
                   std::min(l.out_c, p.k_tile) * p.w_per_channel, "weight_stream_bytes", accel.weight_buffer_bytes / 2);
    const WeightSlice hit = intersect(w, cached);
    p.hit_channels = hit.out;
    p.hit_per_channel = hit.empty() ? 0 : int64_t(hit.in) * hit.k * hit.k + (hit.has_bias ? 4 : 0);
  }
  return p;
}

LayerTraffic layer_traffic(const LayerPlan& p) {
  LayerTraffic t;
  const int64_t input_bytes = int64_t(p.in_channels) * p.in_plane;
  t.pb_hit_bytes = int64_t(p.hit_channels) * p.hit_per_channel;
  t.dram_weight_bytes = int64_t(p.out_channels) * p.w_per_channel - t.pb_hit_bytes;
  if (p.per_ktile_chunks) {
    t.dram_act_in_bytes = int64_t(p.out_channels) * (p.in_plane + p.chunk_extra_per_channel);
    t.act_in_read_bytes = t.dram_act_in_bytes;
  } else {
    t.dram_act_in_bytes = p.act_resident ? input_bytes : p.nk * input_bytes;
    t.act_in_read_bytes = p.nk * input_bytes;
  }
  t.dram_act_out_bytes = int64_t(p.out_channels) * p.pixels;
  t.psum_bytes_rw = p.nc > 1 ? int64_t(p.nc - 1) * p.out_channels * p.pixels * 4 : 0;
  return t;
}

void finish_layer_result(const AccelConfig& accel, const LayerPlan& p, const LayerTraffic& t, LayerResult& r) {
  r.macs = p.macs;
  r.stall_cycles = r.cycles - r.compute_cycles;
  r.dram_weight_bytes = t.dram_weight_bytes;
  r.dram_act_bytes = t.dram_act_in_bytes + t.dram_act_out_bytes;
  r.pb_hit_bytes = t.pb_hit_bytes;
  r.energy_dram_pj = double(r.dram_weight_bytes + r.dram_act_bytes) * accel.dram_pj_per_byte;
  const SramClass& wb = accel.sram_class(accel.weight_buffer_bytes);
  const SramClass& pb = accel.sram_class(accel.pb_bytes);
  const SramClass& ai = accel.sram_class(accel.act_in_bytes);
  const SramClass& ps = accel.sram_class(accel.psum_bytes);
  const SramClass& ao = accel.sram_class(accel.act_out_bytes);
  r.energy_sram_pj = double(t.dram_weight_bytes) * (wb.write_pj_per_byte + wb.read_pj_per_byte) +
                     double(t.pb_hit_bytes) * pb.read_pj_per_byte +
                     double(t.dram_act_in_bytes) * ai.write_pj_per_byte +
                     double(t.act_in_read_bytes) * ai.read_pj_per_byte +
                     double(t.psum_bytes_rw) * (ps.write_pj_per_byte + ps.read_pj_per_byte) +
                     double(t.dram_act_out_bytes) * (ao.write_pj_per_byte + ao.read_pj_per_byte);
  r.energy_mac_pj = double(p.macs) * accel.mac_pj;
  r.utilization = r.cycles > 0 ? double(p.macs) / (double(r.cycles) * double(accel.peak_macs_per_cycle())) : 0;
}

LayerCycles analytic_cycles(const AccelConfig& accel, const LayerPlan& p) {
  // Placeholder until the closed form below is calibrated against the cycle model.
  LayerCycles c;
  c.compute_cycles = int64_t(p.nk) * p.nc * p.pass_cycles;
  const LayerTraffic t = layer_traffic(p);
  const int64_t dram = accel.dram_data_cycles(t.dram_weight_bytes + t.dram_act_in_bytes + t.dram_act_out_bytes);
  c.cycles = accel.layer_setup_cycles + std::max(c.compute_cycles, dram) + accel.dram_latency_cycles();
  return c;
}

}  // namespace sushi::sim
