#pragma once
// The accelerator-model interface (ARCHITECTURE.md contract 4) and the job every model runs.
//
// A model is registered by name with SUSHI_REGISTER(AccelModel, "name", "doc", factory) from its own file
// (sim/analytic_model.cpp, sim/cycle_model.cpp; the Verilated RTL adds sim/rtl_model.cpp the same way), and
// chosen by name: `--fidelity NAME`, `fidelity:` in experiments, simulate(..., "NAME").
//
// An AccelJob is what a host hands to the accelerator: the register image (one LayerRegs per layer, what the
// controller reads), a memory map (where weights, parameters, activations and the PB image live in DRAM) and,
// in functional mode, the DRAM image itself. Models compute from the register image only; the `meta` entries
// are for reports (names, MAC counts) and are never read by a model's schedule or arithmetic.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/accel.h"

namespace sushi::sim {

// One layer's descriptor registers (all fields fixed-width integers; addresses are DRAM byte addresses).
//
// Weights of a conv-like layer: output channel o's record is [in][k][k] int8 weights followed, when w_bias,
// by its int32 bias (little endian): w_in * w_k^2 + 4 * w_bias bytes. The Persistent Buffer holds, for the
// leading pb_out channels, the part (pb_in leading input channels, centre pb_k x pb_k taps, the bias when
// pb_bias) packed in record order at pb_offset + o * pb_record_bytes(); DRAM at w_addr holds, channel after
// channel, every record's remaining bytes in record order (see sim/datapath.h, split_weights()).
// Activations are int8 CHW at in_addr / in2_addr / out_addr. The parameter block at param_addr holds int32
// words (little endian): for conv-like layers out_c (multiplier, shift) requantization pairs, then out_c
// biases when !w_bias; then aux_count (multiplier, shift) pairs (Add, SEScale, pools); then, when lut_enable,
// the 256-byte activation table.
struct LayerRegs {
  uint32_t opcode;      // LayerKind
  uint32_t activation;  // Activation
  uint32_t in_c, in_h, in_w;
  uint32_t out_c, out_h, out_w;
  uint32_t kernel, stride, pad, groups;
  uint32_t w_out, w_in, w_k, w_bias;      // the layer's weight slice (w_out = 0: no weights)
  uint32_t pb_out, pb_in, pb_k, pb_bias;  // the part of it resident in the Persistent Buffer
  int32_t in_zp, in2_zp, out_zp, pre_zp;  // zero points (pre_zp: before the activation table)
  uint32_t aux_count, lut_enable;
  uint64_t in_addr, in2_addr, out_addr;
  uint64_t w_addr;      // streamed (non-PB) weight bytes, w_out records
  uint64_t param_addr;  // requantization block
  uint64_t pb_offset;   // byte offset of the resident part inside the PB

  int64_t record_bytes() const { return int64_t(w_in) * w_k * w_k + (w_bias ? 4 : 0); }
  int64_t pb_record_bytes() const { return pb_out ? int64_t(pb_in) * pb_k * pb_k + (pb_bias ? 4 : 0) : 0; }
  int64_t dram_weight_bytes() const;  // bytes at w_addr
  int64_t param_bytes() const;
};

struct AddrRange {
  uint64_t base = 0;
  uint64_t bytes = 0;
};

struct MemoryMap {
  AddrRange weights;      // every layer's streamed weight records
  AddrRange params;       // every layer's parameter block
  AddrRange activations;  // the network input(s) and every layer's output
  AddrRange pb_image;     // the cached SubGraph as the PB holds it (resident before the query starts)
  uint64_t size = 0;      // bytes of the whole image
};

struct LayerMeta {
  std::string name;
  int64_t macs = 0;
};

struct AccelJob {
  std::vector<LayerRegs> regs;  // the register image, in execution order
  std::vector<LayerMeta> meta;  // reporting only
  MemoryMap memory;
  std::vector<uint8_t> dram;  // functional mode: the DRAM image (memory.size bytes); empty = timing only
  bool functional() const { return !dram.empty(); }
};

class AccelModel {
 public:
  static constexpr const char* kRegistryKind = "accel_model";
  using Factory = std::function<std::unique_ptr<AccelModel>(const AccelConfig&)>;
  virtual ~AccelModel() = default;

  // Runs the job. In functional mode the model leaves the final DRAM image (with every layer's outputs) in
  // job.dram; a model that cannot compute outputs throws InputError on a functional job.
  virtual RunResult run(AccelJob& job) = 0;
  // Whether run() computes outputs (functional jobs).
  virtual bool functional() const { return false; }
  // Writes a VCD of the next run() to `path` (models without a trace throw InputError).
  virtual void trace_to(const std::string& path);
  // Co-simulation (models with a SystemC kernel): runs `task` as the host process beside the accelerator;
  // inside it, run() hands jobs to the accelerator in simulated time. Others throw InputError.
  virtual void run_in_kernel(const std::function<void()>& task);
  // Inside run_in_kernel's task: the kernel's time in accelerator cycles, and a wait in simulated time.
  virtual int64_t kernel_now() const;
  virtual void kernel_wait(int64_t cycles);
};

// The registered model `name` for `accel`; `where` names the option or key in the error.
std::unique_ptr<AccelModel> make_accel_model(const std::string& name, const AccelConfig& accel,
                                             const std::string& where = "--fidelity");

// Job builders. Addresses are assigned in this order: weights, params, activations, PB image, each region
// 64-byte aligned. `functional_data` selects whether the DRAM image is filled.
AccelJob make_job(const AccelConfig& accel, const std::vector<Layer>& layers, const SubGraph& cached);
// Functional: weights and parameters of `ops` (one per layer), the network input, the PB image.
AccelJob make_functional_job(const AccelConfig& accel, const std::vector<QOp>& ops, const SubGraph& cached,
                             const QTensor& input);
// Stand-alone layers: each reads its own inputs[i] (and inputs2[i]); `cached` holds the PB part of each
// layer's slice (indexed by its slice.tensor; empty: nothing cached).
AccelJob make_layers_job(const AccelConfig& accel, const std::vector<QOp>& ops,
                         const std::vector<QTensor>& inputs, const std::vector<QTensor>& inputs2,
                         const SubGraph& cached = SubGraph{});
// Reads layer i's output tensor back from a functional job's DRAM image.
QTensor read_output(const AccelJob& job, size_t i, float scale);

// What the models share: a layer as the controller decodes it from its registers (no names, no tensors).
Layer decode_layer(const LayerRegs& r, const LayerMeta& meta);
WeightSlice decode_cached(const LayerRegs& r);
// Sums per-layer results into a run (fills energy totals, latency and utilisation).
RunResult sum_layers(const AccelConfig& accel, std::vector<LayerResult> layers);

}  // namespace sushi::sim
