#pragma once
// The SystemC cycle model of SushiAccel (internal interface; users call sim::simulate).
#include <vector>

#include "sim/accel.h"
#include "sim/mapping.h"

namespace sushi::sim {

struct CycleJob {
  const AccelConfig* accel = nullptr;
  const std::vector<LayerPlan>* plans = nullptr;
  std::vector<int> layer_index;  // index of each plan's layer in the subnet's layer list
  // Functional mode (all null in timing-only runs).
  const QNetwork* net = nullptr;
  const QTensor* input = nullptr;
  std::vector<QTensor>* outputs = nullptr;
  // Stand-alone layers: per-layer operands and ops instead of a network's (input indices are then ignored).
  const std::vector<QOp>* ops = nullptr;
  const std::vector<QTensor>* inputs = nullptr;
  const std::vector<QTensor>* inputs2 = nullptr;
  // Results, one per plan: cycles as measured, and the traffic the modules counted themselves.
  std::vector<LayerCycles> cycles;
  std::vector<LayerTraffic> traffic;
};

// Runs the job on the (once per process elaborated) SystemC model. The VCD trace can only be opened by the
// first run in a process, because SystemC traces must be set up before elaboration ends.
void run_cycle_model(CycleJob& job, const SimOptions& options);

}  // namespace sushi::sim
