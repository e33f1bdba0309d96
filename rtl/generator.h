#pragma once
// The SushiAccel RTL generator: synthesizable SystemVerilog (Yosys-0.23-parseable subset, one module per
// file) and a C++ header, both from an AccelConfig (the one typed parameter declaration, sim/config.cpp).
//
// What the generated design is (the `rtl` fidelity verilates sushi_accel, see rtl/harness/rtl_model.cpp):
// - sushi_accel: the controller (layer descriptors through a valid/ready descriptor port, layer setup
//   cycles), the DMA program sequencer (sushi_dma + two sushi_dma_step look-ups: the in-order program of
//   sim/datapath.h dma_program() with its waits, computed in hardware from the descriptor), the memory master
//   (valid/ready request port: stream, write, two address/length segments; in-order response port), the
//   compute sequencer (sushi_seq: K-tile / C-tile passes, initiation-interval bubbles, pass and tile
//   overheads, the weight/activation/write-back waits of every behaviour) and the write-back pipeline
//   (sushi_wb_pipe: a pipeline_depth-stage valid line), plus an event port the harness turns into the shared
//   event trace (sim/events.h).
// - The int8 datapath: sushi_dpe (Wp-tap int8 x int8 -> int32), sushi_dpe_array (Kp x Cp DPEs, channel
//   adder tree), sushi_requant (models/ref int8 requantization: round half away from zero, saturation),
//   sushi_act (zero point, ReLU clamp, 256-entry h-swish / h-sigmoid table), sushi_sram (behavioural 1R1W
//   macro: the one interface a vendor macro replaces) and sushi_datapath (everything with the buffers as
//   sushi_sram macros: the datapath's synthesis top of `sushi rtl area`).
// - sushi_core: the datapath that the `rtl` fidelity simulates inside sushi_accel: buffers as byte-addressed
//   behavioural memories written by the memory master's read beats, the operand-fetch (window address) unit
//   driven by sushi_seq's steps, the DPE array arithmetic, partial sums, requantization, activation and the
//   post-processing unit, the output buffer read by the write beats.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/accel.h"

namespace sushi::rtl {

// The datapath's parameter-block memory (bytes; the largest block of a layer, sim/model.h) and the memory
// master's in-flight transfer queue (entries); the harness refuses jobs that exceed either.
constexpr int64_t kParamBytes = 65536;
constexpr int64_t kQueueDepth = 256;

struct GenOptions {
  // Debug: K-tile 1's first pass of every layer lasts one cycle longer (a deliberate one-cycle bug that
  // `sushi rtl diff` must locate).
  bool inject_bug = false;
};

struct GeneratedFile {
  std::string name;  // file name (module name + ".sv", or sushi_params.h)
  std::string text;
};

// The content hash of the config's canonical JSON: what the generated header records and the `rtl`
// fidelity matches a config against.
std::string rtl_config_hash(const sim::AccelConfig& accel);
// Throws InputError (naming the config file and key) for configs the RTL does not implement.
void check_rtl_supported(const sim::AccelConfig& accel);
std::vector<GeneratedFile> generate_rtl(const sim::AccelConfig& accel, const GenOptions& options = {});
// Writes every generated file into `dir` (created), atomically per file; returns the file names.
std::vector<std::string> write_rtl(const sim::AccelConfig& accel, const std::string& dir,
                                   const GenOptions& options = {});
// The SystemVerilog files in dependency order (what Verilator and Yosys read).
std::vector<std::string> rtl_sources(const std::vector<GeneratedFile>& files);

}  // namespace sushi::rtl
