// simulate(): plans every layer of a subnet against the PB contents, then evaluates it at one fidelity.
#include <algorithm>

#include "base/errors.h"
#include "models/ref/int8.h"
#include "sim/accel.h"
#include "sim/cycle_model.h"
#include "sim/mapping.h"

namespace sushi::sim {
namespace {

const WeightSlice& cached_slice(const SubGraph& cached, const Layer& l) {
  static const WeightSlice none;
  if (!l.has_weights() || size_t(l.slice.tensor) >= cached.slices.size()) return none;
  return cached.slices[size_t(l.slice.tensor)];
}

void check_cache(const AccelConfig& accel, const SupernetSpace& space, const SubGraph& cached) {
  if (!cached.slices.empty() && cached.slices.size() != space.tensors().size())
    throw InputError("cached SubGraph has " + std::to_string(cached.slices.size()) + " tensors, supernet " +
                     space.name() + " has " + std::to_string(space.tensors().size()));
  if (cached.bytes() > accel.pb_bytes)
    throw InputError("cached SubGraph of " + std::to_string(cached.bytes()) +
                     " bytes does not fit the Persistent Buffer of " + accel.name + " (" +
                     std::to_string(accel.pb_bytes) + " bytes); cut it with fit_to_pb / --cache");
}

void add_layer(RunResult& run, const LayerResult& r) {
  run.cycles += r.cycles;
  run.compute_cycles += r.compute_cycles;
  run.stall_cycles += r.stall_cycles;
  run.offchip_weight_bytes += r.dram_weight_bytes;
  run.offchip_act_bytes += r.dram_act_bytes;
  run.pb_hit_bytes += r.pb_hit_bytes;
  run.energy_dram_pj += r.energy_dram_pj;
  run.energy_sram_pj += r.energy_sram_pj;
  run.energy_mac_pj += r.energy_mac_pj;
  run.macs += r.macs;
  run.layers.push_back(r);
}

void finish_run(const AccelConfig& accel, RunResult& run) {
  run.energy_pj = run.energy_dram_pj + run.energy_sram_pj + run.energy_mac_pj;
  run.latency_ms = double(run.cycles) / (accel.clock_mhz * 1e3);
  run.utilization =
      run.cycles > 0 ? double(run.macs) / (double(run.cycles) * double(accel.peak_macs_per_cycle())) : 0;
}

RunResult run_cycle(const AccelConfig& accel, const std::vector<Layer>& layers, const SubGraph& cached,
                    CycleJob& job, const SimOptions& options) {
  std::vector<LayerPlan> plans;
  plans.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    plans.push_back(plan_layer(accel, layers[i], cached_slice(cached, layers[i])));
    job.layer_index.push_back(int(i));
  }
  job.accel = &accel;
  job.plans = &plans;
  run_cycle_model(job, options);
  RunResult run;
  run.layers.reserve(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    LayerResult r;
    r.cycles = job.cycles[i].cycles;
    r.compute_cycles = job.cycles[i].compute_cycles;
    r.name = layers[i].name;
    r.kind = to_string(layers[i].kind);
    finish_layer_result(accel, plans[i], job.traffic[i], r);
    add_layer(run, r);
  }
  finish_run(accel, run);
  return run;
}

}  // namespace

RunResult simulate(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                   const SubGraph& cached, Fidelity fidelity) {
  return simulate(accel, space, s, cached, fidelity, SimOptions{});
}

RunResult simulate(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                   const SubGraph& cached, Fidelity fidelity, const SimOptions& options) {
  check_cache(accel, space, cached);
  const std::vector<Layer> layers = space.layers(s, s.resolution);
  if (fidelity == Fidelity::Cycle) {
    CycleJob job;
    return run_cycle(accel, layers, cached, job, options);
  }
  RunResult run;
  run.layers.reserve(layers.size());
  for (const Layer& l : layers) {
    const LayerPlan p = plan_layer(accel, l, cached_slice(cached, l));
    const LayerCycles c = analytic_cycles(accel, p);
    LayerResult r;
    r.name = l.name;
    r.kind = to_string(l.kind);
    r.cycles = c.cycles;
    r.compute_cycles = c.compute_cycles;
    finish_layer_result(accel, p, layer_traffic(p), r);
    add_layer(run, r);
  }
  finish_run(accel, run);
  return run;
}

LayerEstimate analytic_layer(const AccelConfig& accel, const Layer& layer, const WeightSlice& cached) {
  const LayerPlan p = plan_layer(accel, layer, cached);
  const LayerCycles c = analytic_cycles(accel, p);
  LayerResult r;
  r.cycles = c.cycles;
  r.compute_cycles = c.compute_cycles;
  finish_layer_result(accel, p, layer_traffic(p), r);
  return LayerEstimate{
      r.cycles,         r.compute_cycles, r.dram_weight_bytes,
      r.dram_act_bytes, r.pb_hit_bytes,   r.energy_dram_pj + r.energy_sram_pj + r.energy_mac_pj};
}

RunResult simulate_functional(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                              const SubGraph& cached, const QNetwork& net, const QTensor& input,
                              std::vector<QTensor>& outputs, const SimOptions& options) {
  check_cache(accel, space, cached);
  const std::vector<Layer> layers = space.layers(s, s.resolution);
  if (net.ops.size() != layers.size())
    throw InputError("quantized network has " + std::to_string(net.ops.size()) + " layers, the subnet has " +
                     std::to_string(layers.size()));
  outputs.assign(layers.size(), QTensor{});
  CycleJob job;
  job.net = &net;
  job.input = &input;
  job.outputs = &outputs;
  return run_cycle(accel, layers, cached, job, options);
}

RunResult simulate_layers_functional(const AccelConfig& accel, const std::vector<QOp>& ops,
                                     const std::vector<QTensor>& inputs, const std::vector<QTensor>& inputs2,
                                     std::vector<QTensor>& outputs) {
  if (inputs.size() != ops.size() || inputs2.size() != ops.size())
    throw InputError("simulate_layers_functional: one input and one second input per op expected");
  std::vector<Layer> layers;
  layers.reserve(ops.size());
  for (const QOp& op : ops) layers.push_back(op.layer);
  outputs.assign(ops.size(), QTensor{});
  CycleJob job;
  job.ops = &ops;
  job.inputs = &inputs;
  job.inputs2 = &inputs2;
  job.outputs = &outputs;
  SubGraph none;
  return run_cycle(accel, layers, none, job, SimOptions{});
}

}  // namespace sushi::sim
