#pragma once
// The `rtl` fidelity: the generated sushi_accel, Verilated, clocked by a SystemC process beside the same
// DRAM module as the cycle model (sim/cycle_modules.h: Dram). The host driver turns each layer's register
// image (sim/model.h LayerRegs) into the RTL's descriptor (the tiling of sim/mapping.h plan_layer) and hands
// the descriptors over the valid/ready descriptor port; the RTL's memory master issues requests on a
// valid/ready port that the harness forwards to the DRAM module, whose in-order completions come back on the
// response port. Functional jobs move their data too: read beats from the DRAM module into the RTL's
// buffers, write beats out of its output buffer, the PB and parameter blocks through the back door; the
// outputs then come from the RTL's datapath (sushi_core).
#include <memory>
#include <string>
#include <vector>

#include "sim/model.h"

namespace sushi::rtl {

// The Verilated model generated from `accel` (with the injected one-cycle bug when `injected`, built with
// `threads` Verilator threads); InputError naming the config and listing the built ones when this program
// has none for it.
std::unique_ptr<sim::AccelModel> make_rtl_model(const sim::AccelConfig& accel, bool injected = false,
                                                int threads = 1);
// "name (yaml)" of every Verilated build in this program.
std::vector<std::string> rtl_built_configs();
// Clock cycles the RTL models of this process have simulated (for `sushi bench rtl`).
int64_t rtl_cycles_simulated();

}  // namespace sushi::rtl
