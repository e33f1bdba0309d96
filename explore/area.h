#pragma once
// An analytic area estimate of a SushiAccel config, for area budgets in sweeps, where synthesising every
// point (`sushi rtl area`, minutes per config) is out of reach: the estimate prunes a grid, synthesis
// checks its finalists. It is an ESTIMATE from two documented constants, not a synthesis result: the
// `area_mm2_est` result column and constraint path of sweeps (explore/sweep.h).
//
//   logic:   k_parallel x c_parallel x window_parallel MACs x 700 gate equivalents (Yosys 0.23 generic cells
//            per int8 MAC with a 32-bit accumulator, ../shared/research/toolchain.md section 5), plus
//            vector.lanes x 700 GE, at 0.5 um^2 per gate equivalent (a 28 nm-class NAND2 footprint)
//   memory:  the buffers (weight_stream + act_in + psum + act_out + persistent bytes) x 8 bits x 0.25 um^2
//            per bit (a 28 nm-class 6T bitcell, about 0.13 um^2, with array periphery)
//
// Controller, DMA and interconnect are not counted. Relative comparisons between configs (more MACs vs
// more SRAM) are what it is for; absolute figures need the synthesised RTL.
#include "sim/accel.h"

namespace sushi::explore {

constexpr double kGatesPerMac = 700;
constexpr double kUm2PerGate = 0.5;
constexpr double kUm2PerSramBit = 0.25;

double area_estimate_mm2(const sim::AccelConfig& accel);

}  // namespace sushi::explore
