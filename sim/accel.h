#pragma once
// SushiAccel: the accelerator configuration and the results every accelerator model returns.
//
// One YAML file (workloads/accel/*.yaml) is the single source of every parameter (ARCHITECTURE.md contract
// 2). AccelConfig is its typed, validated form; its parameters (path, type, default, range, unit, doc) are
// declared once, in accel_schema() (sim/config.cpp), which drives parsing, errors, `sushi describe accel` and
// the canonical JSON form. The struct's fields carry no defaults of their own: accel_schema().defaults()
// is the one source. The models (sim/model.h: `analytic`, `cycle`, later `rtl`) all read this config; the
// layer-to-array mapping and the per-layer schedule they follow are documented in sim/mapping.h.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/point.h"
#include "models/space/supernet.h"

namespace sushi {
struct QNetwork;
struct QOp;
struct QTensor;
class JsonWriter;
template <typename T>
class ParamSchema;
}  // namespace sushi

namespace sushi::sim {

// On-chip energy per byte for buffers up to `max_bytes` (the smallest class that holds a buffer applies).
struct SramClass {
  int64_t max_bytes;
  double read_pj_per_byte;
  double write_pj_per_byte;
};

// How a machine behaviour overlaps with compute (accel_schema(): behaviour.*).
enum class Overlap { Overlapped, Serial };
// Strided array layers computed at output resolution, or at stride 1 with subsampling at write-back.
enum class StrideMode { Output, Input };
// The three DRAM streams of a layer (weights in, input activations in, outputs out); each uses its own set
// of the accelerator's AXI masters (accel_schema(): dram.*_ports).
enum class Stream { Weights, ActIn, ActOut };

struct AccelConfig {
  static AccelConfig load(const std::string& yaml_path);
  // Loads the file with `--set accel.PATH=V` overrides applied (paths checked against accel_schema()); an
  // overridden config's hash is its Point's hash, so caches keyed by it tell the variants apart.
  static AccelConfig load(const std::string& yaml_path, const std::vector<Override>& overrides);
  // `origin` names the source in errors; `text` is hashed for provenance.
  static AccelConfig parse(const std::string& text, const std::string& origin);

  // Provenance (not parameters): where the config came from and the content hash of its YAML text.
  std::string file;
  std::string hash;

  // Parameters: see accel_schema() for each one's path, default, range, unit and doc.
  std::string name;
  std::string description;
  double clock_mhz;
  int k_parallel;
  int c_parallel;
  int window_parallel;
  int pipeline_depth;
  bool fold_pointwise;
  int vector_lanes;
  int vector_pipeline_depth;
  int64_t on_chip_bytes;
  int64_t weight_buffer_bytes;
  int64_t act_in_bytes;
  int64_t psum_bytes;
  int64_t act_out_bytes;
  int64_t pb_bytes;
  double dram_peak_gbps;
  double dram_efficiency;
  double dram_latency_ns;
  int64_t dram_burst_bytes;
  int64_t interface_bytes_per_cycle;
  double dram_pj_per_byte;
  int64_t layer_setup_cycles;
  int64_t pb_load_setup_cycles;
  std::vector<SramClass> sram_classes;  // ascending max_bytes
  double mac_pj;
  // Machine behaviours (defaults: today's optimistic machine).
  Overlap weight_load;
  Overlap act_load;
  Overlap out_store;
  StrideMode stride_mode;
  int bubble_every;                       // 0: II 1; N: one idle cycle after every N array steps of a pass
  int64_t pass_overhead_cycles;           // per (K-tile, C-tile) pass
  int64_t weight_tile_overhead_cycles;    // per K-tile, before its first pass (DPE register load)
  int64_t dram_transfer_overhead_cycles;  // channel-busy cycles per DRAM request (short-transfer efficiency)
  double call_overhead_us;                // host time per layer call, outside accelerator cycles
  // DRAM efficiency and ports (accel_schema(): dram.*): AXI masters, the masters each stream uses (0: all),
  // the longest burst (0: a transfer is one burst), bursts in flight per master (0: unbounded) and the
  // channel-busy cycles every burst costs on top of its data.
  int dram_ports;
  int weight_ports, act_in_ports, act_out_ports;
  int64_t dram_max_burst_bytes;
  int dram_outstanding_bursts;
  int64_t dram_burst_overhead_cycles;

  // Whether every behaviour that changes the order of events is at its default and the DRAM is uniform (the
  // closed form applies; else the analytic model walks the exact schedule).
  bool default_schedule() const {
    return weight_load == Overlap::Overlapped && act_load == Overlap::Overlapped &&
           out_store == Overlap::Overlapped && weight_tile_overhead_cycles == 0 && uniform_dram();
  }
  // Every stream at one rate, set by peak x efficiency and the masters' width only (no binding
  // outstanding-burst bound, no per-burst overhead).
  bool uniform_dram() const;
  // Array cycles of a pass of `steps` steps: bubbles and the per-pass overhead.
  int64_t pass_busy_cycles(int64_t steps) const {
    return steps + (bubble_every > 0 ? steps / bubble_every : 0) + pass_overhead_cycles;
  }

  // Derived.
  int64_t peak_macs_per_cycle() const { return int64_t(k_parallel) * c_parallel * window_parallel; }
  double dram_peak_bytes_per_cycle() const { return dram_peak_gbps * 1e3 / clock_mhz; }
  double dram_bytes_per_cycle() const;  // sustained over all masters: min(peak x efficiency, interface)
  int ports_of(Stream s) const;         // masters stream s uses
  // Sustained rate of one long transfer of stream s: min(peak x efficiency, its masters' width, the
  // outstanding-burst bound masters x outstanding x max_burst / latency (Little's law)).
  double dram_stream_bytes_per_cycle(Stream s) const;
  int64_t dram_latency_cycles() const;
  // Channel-busy cycles to move `bytes` of stream s (rounded up to whole bursts): transfer overhead, burst
  // overheads, data at the stream's sustained rate.
  int64_t dram_data_cycles(int64_t bytes, Stream s) const;
  const SramClass& sram_class(int64_t buffer_bytes) const;
};

// Every parameter of AccelConfig, declared once; registered for `sushi describe` as accel/sushi_accel.
const ParamSchema<AccelConfig>& accel_schema();
// The canonical JSON form of a config (every parameter, declaration order): what a Point hashes.
std::string canonical_json(const AccelConfig& accel);

// Checks that `name` is a registered accelerator model (sim/model.h) and returns it; the InputError names
// `--fidelity` and lists the registered models.
std::string parse_fidelity(const std::string& name);

struct LayerResult {
  std::string name;
  std::string kind;
  int64_t macs = 0;
  int64_t cycles = 0, compute_cycles = 0, stall_cycles = 0;
  int64_t dram_weight_bytes = 0, dram_act_bytes = 0, pb_hit_bytes = 0;
  double energy_dram_pj = 0, energy_sram_pj = 0, energy_mac_pj = 0;
  double utilization = 0;  // macs / (cycles x peak MACs per cycle)
  // Where the cycles go (cycles = setup + compute + the exposed waits below; analytic closed form: the
  // exact schedule's split, scaled residue in stall_other_cycles).
  int64_t setup_cycles = 0, weight_wait_cycles = 0, act_in_wait_cycles = 0, act_out_wait_cycles = 0;
  int64_t stall_other_cycles = 0;
  double call_overhead_ms = 0;  // host per-call overhead, not in cycles
};

struct RunResult {
  int64_t cycles = 0;
  double latency_ms = 0;  // cycles at the clock plus the host per-call overhead
  double call_overhead_ms = 0;
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
  std::string trace_vcd;  // models with a trace (cycle): write a VCD of the modules' handshakes here
};

// Thin wrappers over the registered models (sim/model.h): build the job, find the model by name, run.
// `model` is a registered AccelModel name ("analytic", "cycle", ...); an unknown name is an InputError that
// lists the registered ones. Threads: `analytic` is pure and thread-safe; SystemC models serialize their runs
// on one lock and should be called from one thread.
//
// One query: subnet s (at s.resolution) runs with SubGraph `cached` resident in the Persistent Buffer
// (an empty SubGraph means no SGS). Throws InputError when a layer does not fit its buffers.
RunResult simulate(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                   const SubGraph& cached, const std::string& model, const SimOptions& options = {});

// Stand-alone layers (`sushi sim --layer/--layers`, calibration): `layers` run in order, nothing cached; a
// layer with weights needs slice.tensor >= 0 (any index: nothing is cached).
RunResult simulate_layers(const AccelConfig& accel, const std::vector<Layer>& layers,
                          const std::string& model, const SimOptions& options = {});

// Functional mode: the job also carries the data (weights of `net`, made for subnet s, and `input`) in its
// DRAM image; the model computes every layer's int8 output from it. `outputs` receives one tensor per layer,
// same order as SupernetSpace::layers(), read back from the final DRAM image.
RunResult simulate_functional(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                              const SubGraph& cached, const std::string& model, const QNetwork& net,
                              const QTensor& input, std::vector<QTensor>& outputs,
                              const SimOptions& options = {});

// Functional mode on stand-alone layers (property tests): layer i is ops[i].layer and reads inputs[i] (and
// inputs2[i] for Add / SEScale, else an empty tensor); nothing is cached in the PB.
RunResult simulate_layers_functional(const AccelConfig& accel, const std::string& model,
                                     const std::vector<QOp>& ops, const std::vector<QTensor>& inputs,
                                     const std::vector<QTensor>& inputs2, std::vector<QTensor>& outputs);

// One layer at the analytic fidelity, allocation-free: what sweeps and latency tables call in their inner
// loop. `cached` is the PB's slice of the layer's tensor (an empty slice when nothing of it is cached).
struct LayerEstimate {
  int64_t cycles = 0, compute_cycles = 0;
  int64_t dram_weight_bytes = 0, dram_act_bytes = 0, pb_hit_bytes = 0;
  double energy_pj = 0;
};
LayerEstimate analytic_layer(const AccelConfig& accel, const Layer& layer, const WeightSlice& cached);

// Co-simulation: runs `task` as the host process of `accel`'s cycle model, in the same SystemC kernel as the
// accelerator's modules. Inside the task, simulate(accel, ..., "cycle") hands the job to the accelerator and
// returns when it has finished in simulated time, and kernel_wait_cycles() lets simulated time pass (one unit
// per accelerator cycle). Exceptions thrown by the task are rethrown here.
void run_in_kernel(const AccelConfig& accel, const std::function<void()>& task);
void kernel_wait_cycles(int64_t cycles);
int64_t kernel_now_cycles();

// Loading SubGraph g into the PB (what a cache update costs).
PbLoadResult pb_load_cost(const AccelConfig& accel, const SubGraph& g);

// The largest prefix of subnet s's SubGraph that fits the PB (SupernetSpace::partial_subgraph with pb_bytes).
SubGraph fit_to_pb(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s);

}  // namespace sushi::sim
