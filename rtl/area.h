#pragma once
// `sushi rtl area`: Yosys on the generated RTL. A coarse generic pass (hierarchy, proc, flatten, opt,
// alumacc: word-level cells, multipliers and multiply-accumulate trees, memory bits) and `synth_xilinx
// -family xcup -uram` (UltraScale+: LUTs, flip-flops, DSP48E2, BRAM, URAM; hierarchical, so each distinct
// module is mapped once and counted per instance), each for the controller (sushi_accel,
// with the simulated datapath sushi_core as a black box: its multi-port byte memories are a behavioural
// reference, not a mapping) and the datapath with its buffers as SRAM macros (sushi_datapath).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/accel.h"

namespace sushi::rtl {

struct AreaFigures {
  std::string top;
  // Generic (word-level) pass.
  int64_t cells = 0, multipliers = 0, memories = 0, memory_bits = 0;
  // synth_xilinx -family xcup.
  int64_t xilinx_cells = 0, luts = 0, flip_flops = 0, dsps = 0;
  int64_t carry = 0;  // CARRY8 + CARRY4 cells
  double bram36 = 0;  // RAMB36E2 + RAMB18E2 / 2
  int64_t uram = 0, lutram = 0;
  double seconds = 0;
};

// Fills the synth_xilinx figures of `a` from the text of `stat -top T`: the last section (the design
// hierarchy's totals, every module counted per instance) wins over the per-module ones before it.
void read_xcup_stat(const std::string& stat, AreaFigures& a);
// Whether `yosys` is on PATH.
bool yosys_available();
// Runs Yosys on `accel`'s generated RTL (in a temporary folder); throws InputError when Yosys is absent or
// fails (naming its log). `xilinx`: also run synth_xilinx (minutes on the shipped configs).
std::vector<AreaFigures> rtl_area(const sim::AccelConfig& accel, bool xilinx, const std::string& work_dir);

}  // namespace sushi::rtl
