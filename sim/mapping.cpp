// Layer-to-array mapping (documented in sim/mapping.h), byte and energy accounting, the analytic model.
#include "sim/mapping.h"

#include <algorithm>

#include "base/errors.h"
#include "models/ref/op_table.h"

namespace sushi::sim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

[[noreturn]] void does_not_fit(const AccelConfig& accel, const Layer& l, const std::string& what,
                               int64_t need, const std::string& key, int64_t have) {
  throw InputError(accel.file + ": key 'buffers." + key + "': layer " + l.name + " (" + to_string(l.kind) +
                   " " + std::to_string(l.in_c) + "x" + std::to_string(l.in_h) + "x" +
                   std::to_string(l.in_w) + " -> " + std::to_string(l.out_c) + "x" + std::to_string(l.out_h) +
                   "x" + std::to_string(l.out_w) + ") needs " + std::to_string(need) + " bytes for " + what +
                   ", the buffer gives " + std::to_string(have));
}

// Weight bytes per output channel, of the slice and of the part the PB holds; a K-tile must fit a half.
void plan_weights(const AccelConfig& accel, const Layer& l, const WeightSlice& cached, LayerPlan& p) {
  const WeightSlice& w = l.slice;
  p.w_per_channel = int64_t(w.in) * w.k * w.k + (w.has_bias ? 4 : 0);
  if (int64_t(std::min(l.out_c, p.k_tile)) * p.w_per_channel > accel.weight_buffer_bytes / 2)
    does_not_fit(accel, l, "the weights of one K-tile (half of the streaming weight buffer)",
                 std::min(l.out_c, p.k_tile) * p.w_per_channel, "weight_stream_bytes",
                 accel.weight_buffer_bytes / 2);
  const WeightSlice hit = intersect(w, cached);
  p.hit_channels = hit.out;
  p.hit_per_channel = hit.empty() ? 0 : int64_t(hit.in) * hit.k * hit.k + (hit.has_bias ? 4 : 0);
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
  const OpProperties op = op_properties(l.kind);  // how the kind maps (models/ref/op_table.h)
  if (op.unit == OpUnit::Array && !op.depthwise) {
    {
      if (l.groups != 1)
        throw InputError("layer " + l.name + ": grouped convolution is not mapped onto SushiAccel");
      const bool fold = op.pointwise_fold && l.kernel == 1 && accel.fold_pointwise;
      p.unit = Unit::Array;
      p.k_tile = accel.k_parallel;
      p.c_tile = fold ? accel.c_parallel * accel.window_parallel : accel.c_parallel;
      p.window_passes = fold ? 1 : int(ceil_div(int64_t(l.kernel) * l.kernel, accel.window_parallel));
      p.nc = int(ceil_div(l.in_c, p.c_tile));
      p.act_resident = input_bytes <= accel.act_in_bytes;
      if (!p.act_resident && int64_t(std::min(l.in_c, p.c_tile)) * p.in_plane > accel.act_in_bytes / 2)
        does_not_fit(accel, l, "one streamed input C-tile (half of act_in)",
                     std::min(l.in_c, p.c_tile) * p.in_plane, "act_in_bytes", accel.act_in_bytes / 2);
      if (p.nc > 1 && int64_t(std::min(l.out_c, p.k_tile)) * p.pixels * 4 > accel.psum_bytes)
        does_not_fit(accel, l, "the int32 partial sums of one K-tile",
                     std::min(l.out_c, p.k_tile) * p.pixels * 4, "psum_bytes", accel.psum_bytes);
      p.pipeline_depth = accel.pipeline_depth;
    }
  } else if (op.unit == OpUnit::Array) {
    {
      p.unit = Unit::Array;
      p.per_ktile_chunks = true;
      p.k_tile = accel.k_parallel;
      p.c_tile = accel.k_parallel;
      p.window_passes = int(ceil_div(int64_t(l.kernel) * l.kernel, accel.window_parallel));
      p.nc = 1;
      p.act_resident = input_bytes <= accel.act_in_bytes;
      p.pipeline_depth = accel.pipeline_depth;
    }
  } else {
    {
      p.unit = Unit::Vector;
      p.per_ktile_chunks = true;
      p.k_tile = accel.vector_lanes;
      p.c_tile = accel.vector_lanes;
      p.nc = 1;
      if (op.window == OpWindow::Kernel) p.window_passes = l.kernel * l.kernel;
      if (op.window == OpWindow::Plane) p.window_passes = int(p.in_plane);
      if (op.second == OpSecond::Plane) p.chunk_extra_per_channel = p.in_plane;
      if (op.second == OpSecond::Channel) p.chunk_extra_per_channel = 1;
      p.act_resident = int64_t(l.in_c) * (p.in_plane + p.chunk_extra_per_channel) <= accel.act_in_bytes;
      p.pipeline_depth = accel.vector_pipeline_depth;
    }
  }
  p.nk = int(ceil_div(l.out_c, p.k_tile));
  p.pass_cycles = p.pixels * p.window_passes;
  if (p.unit == Unit::Array) {
    int64_t steps = p.pixels;
    if (l.stride > 1 && accel.stride_mode == StrideMode::Input)
      steps = int64_t(l.in_h + 2 * l.pad - l.kernel + 1) * (l.in_w + 2 * l.pad - l.kernel + 1);
    p.pass_cycles = accel.pass_busy_cycles(steps * p.window_passes);
    if (l.has_weights()) p.tile_overhead = accel.weight_tile_overhead_cycles;
  }
  if (p.per_ktile_chunks && !p.act_resident &&
      int64_t(std::min(l.in_c, p.k_tile)) * (p.in_plane + p.chunk_extra_per_channel) > accel.act_in_bytes / 2)
    does_not_fit(accel, l, "one streamed input K-tile (half of act_in)",
                 std::min(l.in_c, p.k_tile) * (p.in_plane + p.chunk_extra_per_channel), "act_in_bytes",
                 accel.act_in_bytes / 2);
  if (int64_t(std::min(l.out_c, p.k_tile)) * p.pixels > accel.act_out_bytes / 2)
    does_not_fit(accel, l, "one K-tile of int8 outputs (half of act_out)",
                 std::min(l.out_c, p.k_tile) * p.pixels, "act_out_bytes", accel.act_out_bytes / 2);
  if (l.has_weights()) plan_weights(accel, l, cached, p);
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

void finish_layer_result(const AccelConfig& accel, const LayerPlan& p, const LayerTraffic& t,
                         LayerResult& r) {
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
  r.utilization =
      r.cycles > 0 ? double(p.macs) / (double(r.cycles) * double(accel.peak_macs_per_cycle())) : 0;
}

namespace {

// The terms of the closed form shared by its parts (all in cycles).
struct Terms {
  const AccelConfig& accel;
  const LayerPlan& p;
  int64_t L = 0, D = 0, pass = 0, c = 0, stream_pass = 0, c_tile = 0, o_full = 0, o_last = 0;
  int last = 0;
  bool streams = false;  // every K-tile loads its own chunks

  int64_t dc(int64_t bytes, Stream s) const { return accel.dram_data_cycles(bytes, s); }
  int64_t a(int64_t bytes) const { return dc(bytes, Stream::ActIn); }
  // Chunk transfers of K-tile kt: all of them, and the first one.
  int64_t chunks(int kt) const {
    if (!p.loads_chunk(kt)) return 0;
    if (p.per_ktile_chunks) return a(p.chunk_bytes(kt, 0));
    return (p.nc - 1) * a(p.chunk_bytes(kt, 0)) + a(p.chunk_bytes(kt, p.nc - 1));
  }
  int64_t first_chunk(int kt) const { return p.loads_chunk(kt) ? a(p.chunk_bytes(kt, 0)) : 0; }
  int64_t w(int kt) const { return dc(p.weight_dram_bytes(kt), Stream::Weights); }
};

Terms make_terms(const AccelConfig& accel, const LayerPlan& p) {
  Terms t{accel, p};
  t.L = accel.dram_latency_cycles();
  t.D = p.pipeline_depth;
  t.pass = p.pass_cycles;
  t.c = p.nc * t.pass;
  t.last = p.nk - 1;
  t.streams = p.per_ktile_chunks || !p.act_resident;
  // Compute of a tile once its first chunk is in: a streamed chunk per pass may hold each pass back.
  const int64_t a_pass = t.first_chunk(0);
  t.stream_pass =
      (!p.act_resident && !p.per_ktile_chunks) ? std::max(t.pass, (t.L + a_pass + t.pass + 1) / 2) : t.pass;
  t.c_tile = p.nc * t.stream_pass;
  t.o_full = t.dc(p.out_bytes(0), Stream::ActOut);
  t.o_last = t.dc(p.out_bytes(t.last), Stream::ActOut);
  return t;
}

// K-tile 0: weights, then its chunks back to back; each pass waits for its chunk.
int64_t ktile0_end(const Terms& t) {
  const LayerPlan& p = t.p;
  const int64_t w0 = t.w(0);
  if (p.nc == 1) return t.L + w0 + t.first_chunk(0) + t.c;
  const int64_t a = t.first_chunk(0), a_last = t.a(p.chunk_bytes(0, p.nc - 1));
  const int64_t first = t.L + w0 + a;
  return std::max({first + t.c_tile, first + (p.nc - 2) * a + 2 * t.stream_pass,
                   first + (p.nc - 2) * a + a_last + t.stream_pass});
}

// K-tiles 1..last: e_prev and e_last end as E_{last-1} and E_last.
void later_ktiles(const Terms& t, int64_t e0, int64_t& e_prev, int64_t& e_last) {
  const LayerPlan& p = t.p;
  // K-tile 1: its weights were requested at once, behind K-tile 0's chunks; its own chunks follow them.
  const int64_t in1 = t.L + t.w(0) + t.chunks(0) + t.w(1) + t.first_chunk(1);
  e_prev = e0;
  e_last = std::max(e0 + t.c_tile, in1 + t.c_tile);
  // K-tiles 2..last follow E_k = max(E_{k-1} + t1, E_{k-2} + x): t1 is a tile's own bound (compute, or
  // its transfers on the channel), x the two-tile loops the double buffers close (weights requested when
  // the tile two before finished: latency + transfer + compute; outputs written back before their half is
  // reused: drain + latency + transfer + last pass; streamed chunks queued behind that write-back). With t1
  // and x constant the recurrence has a closed form (the longest path uses only 1-steps or as many 2-steps
  // as fit), applied per class of tiles: PB-resident prefix, the partial tile, the rest, the last tile.
  auto advance = [&](int from, int to) {  // tiles [from, to) share tile `from`'s transfers
    if (to <= from) return;
    const int64_t wk = t.w(from), ak = t.chunks(from), o = t.o_full;
    const int64_t t1 = std::max(t.c_tile, wk + ak + o);
    // Released when tile k-2 finished, in queue order: W(k), the write-back O(k-2) (after the drain), then
    // tile k's own chunks; tile k's last pass needs O(k-2) done, a streaming tile's first pass its chunk.
    const int64_t after_write_back = t.streams ? t.first_chunk(from) + t.c_tile : t.pass;
    const int64_t x = std::max(t.L + wk + t.c_tile, t.L + std::max(t.D, wk) + o + after_write_back);
    // Longest path covering n tiles with 1-steps (t1) and 2-steps (x): linear in the number of 2-steps.
    auto best = [&](int64_t n) { return std::max(n * t1, (n / 2) * x + (n % 2) * t1); };
    auto at = [&](int64_t m) {  // E at `m` tiles past e_last: paths from e_last, or a 2-step from e_prev
      return m == 0 ? e_last : std::max(e_last + best(m), e_prev + x + best(m - 1));
    };
    const int64_t n = to - from;
    const int64_t next_prev = at(n - 1), next_last = at(n);
    e_prev = next_prev;
    e_last = next_last;
  };
  const int last = t.last;
  const int cut = std::clamp(p.hit_channels / p.k_tile, 2, std::max(2, last));
  advance(2, cut);
  advance(cut, std::min(cut + 1, last));
  advance(std::min(cut + 1, last), last);
  advance(std::max(last, 2), last + 1);
}

// Every transfer of the layer back to back on the channel.
int64_t channel_transfers(const Terms& t) {
  const LayerPlan& p = t.p;
  const int last = t.last;
  const int full_resident = std::min(p.nk, p.hit_channels / p.k_tile);
  int64_t transfers = int64_t(full_resident) * t.w(0);
  if (full_resident < p.nk) {
    transfers += t.w(full_resident);
    if (full_resident + 1 < last) transfers += int64_t(last - full_resident - 1) * t.w(full_resident + 1);
    if (full_resident + 1 <= last) transfers += t.w(last);
  }
  transfers += t.chunks(0);
  if (p.nk > 1) transfers += int64_t(p.nk - 2) * t.chunks(1) + t.chunks(last);
  transfers += int64_t(p.nk - 1) * t.o_full + t.o_last;
  return transfers;
}

}  // namespace

// The analytic model: the schedule of mapping.h in closed form, O(1) per layer and allocation-free. Time 0 is
// the first DMA request (after setup); E_k is the cycle K-tile k's last pass ends.
//  - E0: K-tile 0's passes wait for the weights and the chunks arriving back to back on the channel (the
//    maximum over passes of chunk arrival + remaining passes; chunks are uniform except the last, so three
//    candidates suffice). E1: K-tile 1's weights were requested at once, behind K-tile 0's chunks.
//  - Later tiles: a max-plus recurrence over one- and two-tile steps, solved per class of tiles.
//  - The layer ends when the last outputs are written: the compute path (E_last + drain + latency +
//    transfer, possibly behind the previous write-back), the channel path (latency + every transfer), or the
//    channel path from the first write-back (which cannot start before K-tile 0's results are out).
// Checked against the cycle model by tests/test_sim.cpp: within 1% per layer on the shipped configs; a stress
// sweep (8 B/cycle DRAM with 900 ns latency, a 40-stage pipeline, 10x faster DRAM, a 7 x 5 x 4 array) stays
// within 4% per layer and 0.2% per subnet.
LayerCycles analytic_cycles(const AccelConfig& accel, const LayerPlan& p) {
  if (!accel.default_schedule()) return exact_cycles(accel, p);
  const Terms t = make_terms(accel, p);
  LayerCycles r;
  r.compute_cycles = p.nk * t.c;
  const int64_t e0 = ktile0_end(t);
  int64_t e_last = e0, e_prev = 0;
  if (p.nk > 1) later_ktiles(t, e0, e_prev, e_last);
  // End: the last outputs leave after compute, drain and write; they may queue behind the previous tile's.
  int64_t end = e_last + t.D + t.L + t.o_last;
  if (p.nk > 1) end = std::max(end, e_prev + t.D + t.L + t.o_full + t.o_last);
  const int64_t transfers = channel_transfers(t);
  end = std::max(end, t.L + transfers);
  // Channel path from the first write-back: O(0) cannot start before K-tile 0's results are out, and
  // everything queued after it (all outputs, chunks from K-tile 2 on, weights from K-tile 3 on) follows it.
  if (p.nk > 1) {
    int64_t before_o0 = t.w(0) + t.chunks(0) + t.w(1) + t.chunks(1);
    if (p.nk > 2) before_o0 += t.w(2);
    end = std::max(end, e0 + t.D + t.L + transfers - before_o0);
  }
  r.cycles = accel.layer_setup_cycles + end;
  return r;
}

}  // namespace sushi::sim
