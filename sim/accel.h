#pragma once
// SushiAccel: the accelerator configuration, and the analytic and SystemC cycle models of one query.
//
// One YAML file (workloads/accel/*.yaml) is the single source of every parameter (ARCHITECTURE.md contract
// 2); AccelConfig is its typed, validated form and later drives the RTL generator too. simulate() evaluates
// one (subnet, cached SubGraph) point at a chosen fidelity; both fidelities return the same RunResult shape.
// The layer-to-array mapping and the per-layer schedule both models follow are documented in sim/mapping.h.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/space/supernet.h"

namespace sushi {
struct QNetwork;
struct QOp;
struct QTensor;
}  // namespace sushi

namespace sushi::sim {

// On-chip energy per byte for buffers up to `max_bytes` (the smallest class that holds a buffer applies).
struct SramClass {
  int64_t max_bytes = 0;
  double read_pj_per_byte = 0;
  double write_pj_per_byte = 0;
};

struct AccelConfig {
  static AccelConfig load(const std::string& yaml_path);
  // `origin` names the source in errors; `text` is hashed for provenance.
  static AccelConfig parse(const std::string& text, const std::string& origin);

  std::string name;
  std::string description;
  std::string file;
  std::string hash;  // content hash of the YAML text
  double clock_mhz = 100;

  // Compute array: k_parallel x c_parallel dot-product engines, each window_parallel MACs wide per cycle.
  int k_parallel = 16;         // output channels per cycle
  int c_parallel = 9;          // input channels per cycle
  int window_parallel = 9;     // kernel taps per dot-product engine per cycle
  int pipeline_depth = 12;     // cycles from operand read to int8 result in the output buffer
  bool fold_pointwise = true;  // 1x1 layers fold window_parallel input channels into the taps
  int vector_lanes = 16;       // post-processing unit (pools, Add, SE scale): channels per cycle
  int vector_pipeline_depth = 4;

  // On-chip buffers, bytes.
  int64_t on_chip_bytes = 0;        // all BRAM/URAM of the part; the buffers below must fit together
  int64_t weight_buffer_bytes = 0;  // streaming weight buffer, both halves (double-buffered per K-tile)
  int64_t act_in_bytes = 0;         // input activations (whole map resident, or two streaming halves)
  int64_t psum_bytes = 0;           // int32 partial sums of one K-tile over all output pixels
  int64_t act_out_bytes = 0;        // int8 outputs, both halves (double-buffered per K-tile)
  int64_t pb_bytes = 0;             // Persistent Buffer: the cached SubGraph (SubGraph Stationary)

  // Off-chip memory.
  double dram_peak_gbps = 0;              // GB/s (1e9 bytes/s), device peak
  double dram_efficiency = 1;             // sustained / peak
  double dram_latency_ns = 0;             // request to first data
  int64_t dram_burst_bytes = 64;          // transfers are whole bursts
  int64_t interface_bytes_per_cycle = 0;  // accelerator-side AXI width x ports, bytes per accelerator cycle
  double dram_pj_per_byte = 0;

  int64_t layer_setup_cycles = 0;  // controller: per-layer register setup before the first DMA request
  int64_t pb_load_setup_cycles = 0;

  std::vector<SramClass> sram_classes;  // ascending max_bytes
  double mac_pj = 0;                    // one int8 MAC with int32 accumulation

  // Derived.
  int64_t peak_macs_per_cycle() const { return int64_t(k_parallel) * c_parallel * window_parallel; }
  double dram_peak_bytes_per_cycle() const { return dram_peak_gbps * 1e3 / clock_mhz; }
  double dram_bytes_per_cycle() const;  // sustained: min(peak x efficiency, interface)
  int64_t dram_latency_cycles() const;
  // Channel-busy cycles to move `bytes` (rounded up to whole bursts).
  int64_t dram_data_cycles(int64_t bytes) const;
  const SramClass& sram_class(int64_t buffer_bytes) const;
};

enum class Fidelity { Analytic, Cycle };
Fidelity parse_fidelity(const std::string& s);  // InputError on anything but analytic|cycle
const char* to_string(Fidelity f);

struct LayerResult {
  std::string name;
  std::string kind;
  int64_t macs = 0;
  int64_t cycles = 0, compute_cycles = 0, stall_cycles = 0;
  int64_t dram_weight_bytes = 0, dram_act_bytes = 0, pb_hit_bytes = 0;
  double energy_dram_pj = 0, energy_sram_pj = 0, energy_mac_pj = 0;
  double utilization = 0;  // macs / (cycles x peak MACs per cycle)
};

struct RunResult {
  int64_t cycles = 0;
  double latency_ms = 0;
  int64_t compute_cycles = 0, stall_cycles = 0;
  int64_t offchip_weight_bytes = 0, offchip_act_bytes = 0, pb_hit_bytes = 0;
  double energy_dram_pj = 0, energy_sram_pj = 0, energy_mac_pj = 0, energy_pj = 0;
  int64_t macs = 0;
  double utilization = 0;
  std::vector<LayerResult> layers;
};

struct PbLoadResult {
  int64_t cycles = 0;
  int64_t bytes = 0;
  double energy_pj = 0;
};

struct SimOptions {
  std::string trace_vcd;  // cycle fidelity: write a VCD of the modules' handshakes here (empty = none)
};

// Threads: the analytic fidelity is pure and thread-safe. The cycle fidelity runs on the process's one
// SystemC kernel: calls are serialized by a lock, and should all come from the same thread.
//
// One query: subnet s (at s.resolution) runs with SubGraph `cached` resident in the Persistent Buffer
// (an empty SubGraph means no SGS). Throws InputError when a layer does not fit its buffers.
RunResult simulate(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                   const SubGraph& cached, Fidelity fidelity);
RunResult simulate(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                   const SubGraph& cached, Fidelity fidelity, const SimOptions& options);

// Cycle fidelity with functional mode: the array also computes every layer's int8 output from `net` (made for
// subnet s) and `input`; `outputs` receives one tensor per layer, same order as SupernetSpace::layers().
RunResult simulate_functional(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                              const SubGraph& cached, const QNetwork& net, const QTensor& input,
                              std::vector<QTensor>& outputs, const SimOptions& options = {});

// One layer at the analytic fidelity, allocation-free: what sweeps and latency tables call in their inner
// loop. `cached` is the PB's slice of the layer's tensor (an empty slice when nothing of it is cached).
struct LayerEstimate {
  int64_t cycles = 0, compute_cycles = 0;
  int64_t dram_weight_bytes = 0, dram_act_bytes = 0, pb_hit_bytes = 0;
  double energy_pj = 0;
};
LayerEstimate analytic_layer(const AccelConfig& accel, const Layer& layer, const WeightSlice& cached);

// Cycle fidelity with functional mode on stand-alone layers (property tests): layer i is ops[i].layer and
// reads inputs[i] (and inputs2[i] for Add / SEScale, else an empty tensor); nothing is cached in the PB.
RunResult simulate_layers_functional(const AccelConfig& accel, const std::vector<QOp>& ops,
                                     const std::vector<QTensor>& inputs, const std::vector<QTensor>& inputs2,
                                     std::vector<QTensor>& outputs);

// Co-simulation: runs `task` as a SystemC process in the same kernel as the cycle model, beside the
// accelerator's modules. Inside the task, simulate(..., Fidelity::Cycle) hands the job to the accelerator and
// returns when it has finished in simulated time, and kernel_wait_cycles() lets simulated time pass (one unit
// per accelerator cycle). Exceptions thrown by the task are rethrown here.
void run_in_kernel(const std::function<void()>& task);
void kernel_wait_cycles(int64_t cycles);
int64_t kernel_now_cycles();

// Loading SubGraph g into the PB (what a cache update costs).
PbLoadResult pb_load_cost(const AccelConfig& accel, const SubGraph& g);

// The largest prefix of subnet s's SubGraph that fits the PB (SupernetSpace::partial_subgraph with pb_bytes).
SubGraph fit_to_pb(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s);

}  // namespace sushi::sim
