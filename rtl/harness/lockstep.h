#pragma once
// Lock-step comparison of the Verilated RTL against the cycle model (`sushi rtl diff`, the RTL regression):
// both run the same timing job with the shared event trace (sim/events.h) recording; per-layer and total
// cycles must be equal and the traces identical. Also the constrained-random layers of the regression.
#include <cstdint>
#include <string>
#include <vector>

#include "base/random.h"
#include "models/ref/int8.h"
#include "sim/events.h"
#include "sim/model.h"

namespace sushi::rtl {

struct LockstepReport {
  sim::RunResult cycle, rtl;
  std::vector<sim::TraceEvent> cycle_events, rtl_events;  // each sorted by cycle, then kind
  int64_t divergence = -1;                                // first differing position, -1: none
  bool cycles_equal = false;                              // total and every layer
  // Functional jobs with a reference: the first layer whose RTL output differs from it (-1: every layer
  // bit-exact), and the first differing byte of it.
  int64_t output_mismatch = -1, mismatch_byte = -1;
  int layers_checked = 0;  // outputs compared with the reference
  bool ok() const { return cycles_equal && divergence < 0 && output_mismatch < 0; }
  // One paragraph: the totals, and the first diverging event with its layer, tile, cycle and both sides.
  std::string describe() const;
};

// Runs `job` on the cycle model and on the Verilated RTL of `accel` (with the injected one-cycle bug when
// `injected_bug`). A functional job with `reference` (one tensor per layer, models/ref int8) also compares
// every layer's output the RTL wrote into DRAM with it, byte for byte.
LockstepReport lockstep(const sim::AccelConfig& accel, const sim::AccelJob& job, bool injected_bug = false,
                        const std::vector<QTensor>* reference = nullptr);

// A functional job and the int8 reference output of each of its layers.
struct FunctionalJob {
  sim::AccelJob job;
  std::vector<QTensor> reference;
};
// `n` random cases (random_case: layers and PB parts) with random int8 weights, parameters and inputs.
FunctionalJob random_functional_job(const sim::AccelConfig& accel, uint64_t seed, int n);
// Layer i of a functional job alone (same DRAM image), with its reference.
FunctionalJob single_layer(const FunctionalJob& f, size_t i);
// A whole subnet of `space` with random quantized weights (seeded) and a random input, SubGraph `cached`
// resident in the PB.
FunctionalJob subnet_functional_job(const sim::AccelConfig& accel, const SupernetSpace& space,
                                    const Subnet& s, const SubGraph& cached, uint64_t seed);

// A constrained-random case of the regression: a layer (Conv k 1/3/5/7, Depthwise, Pointwise, FC, SE,
// pools, Add, SEScale; strides 1/2; channel counts on and off the array's multiples) and what the PB holds
// of it (none, part, or all of its weights).
struct RandomCase {
  Layer layer;
  SubGraph cached;
};
RandomCase random_case(const sim::AccelConfig& accel, Rng& rng);
// `n` random cases that fit `accel`'s buffers (others are drawn again) as one timing job.
sim::AccelJob random_job(const sim::AccelConfig& accel, uint64_t seed, int n);

}  // namespace sushi::rtl
