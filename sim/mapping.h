#pragma once
// How every layer kind maps onto SushiAccel, and the per-layer schedule that the analytic model, the SystemC
// cycle model and (next) the RTL all follow. This block is the one place the mapping is documented; the byte
// layouts in DRAM and in the buffers, and the DMA program as data, are in sim/model.h and sim/datapath.h.
//
// The array: Kp x Cp dot-product engines (DPEs), each Wp taps wide (default 16 x 9 x 9 = 1,296 MACs/cycle).
// Each cycle the array takes ONE output pixel: DPE (k, c) multiplies Wp weights of output channel k, input
// channel c with the matching Wp input taps; an adder tree sums the Cp engines of row k into output channel
// k's int32 partial sum. Weights stay in the DPE registers for a whole pass (weight-stationary within a
// pass); those registers are double-buffered, so the next pass's weights load during the current pass at no
// cycle cost. Pipeline fill and drain: a K-tile's results reach the output buffer pipeline_depth cycles after
// its last operands entered the array; passes issue back to back while their operands are ready (one pixel
// per cycle).
//
// Loop order (one layer per call): K-tile -> C-tile -> every output pixel [-> window pass]. A pass is one
// (K-tile, C-tile) pair and lasts pixels x window_passes cycles. Partial sums of a K-tile live in the psum
// buffer across its C-tiles; the last C-tile's adder output goes through QOp::finish (requantize +
// activation) into the int8 output buffer instead.
//
// clang-format off
//   layer kind                   K-tile        C-tile             window passes   utilisation of full tiles
//   Conv k x k, any stride       Kp out ch.    Cp in ch.          ceil(k^2/Wp)    k^2/(Wp*passes): 3x3 100%,
//                                                                                 5x5 93%, 7x7 91%
//   Conv 1x1, Pointwise, FC,     Kp out ch.    Cp*Wp in ch.       1               100%: fold_pointwise puts Wp
//   SEReduce, SEExpand                         (Cp unfolded)                      more input channels on the
//   (FC/SE: one pixel)                                                            taps (FEATHER's kernel
//                                                                                 recompile); 1/Wp unfolded
//   Depthwise k x k              Kp channels   its own channel    ceil(k^2/Wp)    one engine per row: 1/Cp of
//                                                                                 the conv figure (11% at 3x3)
//   GlobalPool, MaxPool,         Vl channels on the vector unit, no weights; cycles per tile = output pixels x
//   AvgPool, Add, SEScale        taps (GlobalPool H*W, Max/AvgPool k*k, Add/SEScale 1). No array MACs.
// clang-format on
// Partial tiles (channels not a multiple of the tile width) idle the spare lanes: utilisation scales by
// channels / (tiles x tile width) on each axis.
//
// Buffers and the schedule of one layer:
// - Weights: the part of a K-tile's slice that is not in the Persistent Buffer streams from DRAM into one
//   half of the streaming weight buffer (double-buffered per K-tile). The part the PB holds (a leading prefix
//   of output channels, input channels and the kernel centre: the SubGraph's slice) is read from the PB in
//   place and costs no DRAM traffic.
// - Input activations: if the layer's whole input map fits act_in, it is loaded once, C-tile by C-tile,
//   during the first K-tile (resident); else each pass's chunk streams into one of two act_in halves.
//   Depthwise and vector layers read each channel once, so their chunk belongs to one K-tile.
// - Outputs: a K-tile's int8 outputs go to one half of act_out and are written to DRAM while the next K-tile
//   computes.
// - One in-order DMA queue per layer, issued by the controller: W(0); then for each K-tile kt: its chunk
//   loads A(kt, ct), then W(kt+1) (waits until K-tile kt-1 finished computing: its weight half is free),
//   then O(kt-1) (waits until K-tile kt-1's results left the pipeline); finally O(last). A streamed chunk
//   waits until the pass two before it finished reading its half. A request starts its data phase at
//   max(issue + DRAM latency, channel free) and holds the channel for all its bursts.
// - Compute runs the passes in order; a pass waits for its K-tile's weights and its input chunk, and the
//   last pass of a K-tile also waits for its act_out half to be written back (O(kt-2)). The layer ends when
//   O(last) completes; the controller spends layer_setup_cycles before the first DMA request of each layer.
// Machine behaviours (accel_schema(): behaviour.*, array.*), each changing the schedule above as follows:
// - weight_load serial: W(kt+1) waits until K-tile kt finished computing (one weight half in use).
// - act_load serial: a chunk of pass n waits until pass n-1 finished.
// - out_store serial: K-tile kt's first pass waits until O(kt-1) is written back; the queue then issues
//   O(kt-1) before K-tile kt's chunks (W(0); per K-tile O(kt-1), its chunks, W(kt+1); O(last)).
// - stride_mode input: a strided array layer steps over its stride-1 output positions (subsampled at
//   write-back: the same outputs, psums and bytes), pixels x stride^2 steps per pass roughly.
// - bubble_every N: a pass of n steps takes n + floor(n / N) cycles; pass_overhead_cycles add to every
//   pass, weight_tile_overhead_cycles to every K-tile before its first pass (both count as compute).
// - dram.transfer_overhead_cycles: every request holds the channel that much longer.
// - DRAM efficiency and ports (dram.ports, *_ports, max_burst_bytes, outstanding_bursts,
//   burst_overhead_cycles): the queue and its order stay as above (one in-order channel: the kernel's loops
//   issue the transfers, there is no DMA engine to reorder them); a request's data phase lasts
//   AccelConfig::dram_data_cycles(bytes, stream): its bursts each cost burst_overhead_cycles, its data moves
//   at min(DRAM peak x efficiency, the width of the masters its stream uses, the outstanding-burst bound
//   masters x outstanding x max_burst / latency). Weights, chunks and write-backs may so run at different
//   rates (e.g. weights through one 16 B master, activations through six).
#include <algorithm>
#include <cstdint>

#include "models/space/supernet.h"
#include "sim/accel.h"

namespace sushi::sim {

enum class Unit { Array, Vector };

struct LayerPlan {
  const Layer* layer = nullptr;
  Unit unit = Unit::Array;
  bool per_ktile_chunks = false;  // depthwise/vector: K-tile kt reads only its own channels (nc == 1)
  bool act_resident = true;       // whole input map resident in act_in (else streamed per pass)
  int k_tile = 1;                 // channels per K-tile
  int c_tile = 1;                 // input channels per C-tile (dense array layers)
  int nk = 1, nc = 1;
  int window_passes = 1;
  int pipeline_depth = 1;
  int64_t pixels = 0;                   // output pixels per channel
  int64_t pass_cycles = 0;              // array cycles of one pass (steps, II bubbles, pass overhead)
  int64_t tile_overhead = 0;            // array cycles per K-tile before its first pass
  int64_t in_plane = 0;                 // bytes of one input channel (int8)
  int64_t chunk_extra_per_channel = 0;  // Add: second operand plane; SEScale: one scale byte
  int in_channels = 0;
  int out_channels = 0;
  int64_t macs = 0;
  // Weights: bytes per output channel of the layer's slice and of the part the PB holds.
  int64_t w_per_channel = 0;
  int64_t hit_per_channel = 0;
  int hit_channels = 0;  // leading output channels with a PB part

  int channels_in_ktile(int kt) const {
    const int lo = kt * k_tile;
    return std::min(out_channels, lo + k_tile) - lo;
  }
  int64_t weight_hit_bytes(int kt) const {
    const int lo = kt * k_tile;
    const int resident = std::max(0, std::min(hit_channels, lo + k_tile) - lo);
    return int64_t(resident) * hit_per_channel;
  }
  int64_t weight_dram_bytes(int kt) const {
    return int64_t(channels_in_ktile(kt)) * w_per_channel - weight_hit_bytes(kt);
  }
  // Whether pass (kt, ct) needs a DMA chunk load first (resident dense layers load every chunk in K-tile 0).
  bool loads_chunk(int kt) const { return per_ktile_chunks || !act_resident || kt == 0; }
  int64_t chunk_bytes(int kt, int ct) const {
    if (per_ktile_chunks) return int64_t(channels_in_ktile(kt)) * (in_plane + chunk_extra_per_channel);
    const int lo = ct * c_tile;
    return int64_t(std::min(in_channels, lo + c_tile) - lo) * in_plane;
  }
  int64_t out_bytes(int kt) const { return int64_t(channels_in_ktile(kt)) * pixels; }
  int64_t psum_bytes_per_pass(int kt) const { return int64_t(channels_in_ktile(kt)) * pixels * 4; }
};

// Plans one layer; `cached` is the PB's slice of the layer's tensor (empty slice = nothing cached).
// Throws InputError naming the layer and the buffer key when a tile does not fit its buffer.
LayerPlan plan_layer(const AccelConfig& accel, const Layer& layer, const WeightSlice& cached);

// Byte counts and energy of a layer: identical for both fidelities because they follow the same schedule.
struct LayerTraffic {
  int64_t dram_weight_bytes = 0, dram_act_in_bytes = 0, dram_act_out_bytes = 0, pb_hit_bytes = 0;
  int64_t act_in_read_bytes = 0, psum_bytes_rw = 0;  // psum: written and read each
};
LayerTraffic layer_traffic(const LayerPlan& plan);
// Fills bytes, energy and utilisation of `r` (cycles and compute_cycles already set).
void finish_layer_result(const AccelConfig& accel, const LayerPlan& plan, const LayerTraffic& t,
                         LayerResult& r);

// Closed-form cycles of one layer (the analytic fidelity); allocation-free.
struct LayerCycles {
  int64_t cycles = 0;
  int64_t compute_cycles = 0;
  // What the compute unit waited for (exact schedule; act_out includes the drain and last write-back).
  int64_t weight_wait = 0, act_in_wait = 0, act_out_wait = 0;
};
// The analytic fidelity: the closed form when accel.default_schedule() (default behaviours, uniform DRAM),
// else exact_cycles().
LayerCycles analytic_cycles(const AccelConfig& accel, const LayerPlan& plan);
// The schedule of this header evaluated event by event in plain C++ (O(transfers + passes) per layer): the
// same DMA program and waits as the cycle model, with the split of the waits (sim/schedule.cpp).
LayerCycles exact_cycles(const AccelConfig& accel, const LayerPlan& plan);
// Fills r's setup and wait split from `c`; the part of r.cycles that c does not explain (the closed form
// against the exact schedule) goes to stall_other_cycles.
void set_breakdown(const AccelConfig& accel, const LayerCycles& c, LayerResult& r);

}  // namespace sushi::sim
