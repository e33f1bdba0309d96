// The `analytic` accelerator model: the schedule of sim/mapping.h in closed form, per layer from the register
// image. Timing only (no outputs); pure and thread-safe.
#include "base/errors.h"
#include "base/registry.h"
#include "sim/mapping.h"
#include "sim/model.h"

namespace sushi::sim {
namespace {

class AnalyticModel : public AccelModel {
 public:
  explicit AnalyticModel(const AccelConfig& accel) : accel_(accel) {}

  RunResult run(AccelJob& job) override {
    if (job.functional()) throw InputError("the analytic model computes no outputs; use a functional model");
    std::vector<LayerResult> layers;
    layers.reserve(job.regs.size());
    for (size_t i = 0; i < job.regs.size(); ++i) {
      const Layer l = decode_layer(job.regs[i], job.meta[i]);
      const LayerPlan p = plan_layer(accel_, l, decode_cached(job.regs[i]));
      const LayerCycles c = analytic_cycles(accel_, p);
      LayerResult r;
      r.name = l.name;
      r.kind = to_string(l.kind);
      r.cycles = c.cycles;
      r.compute_cycles = c.compute_cycles;
      set_breakdown(accel_, accel_.default_schedule() ? exact_cycles(accel_, p) : c, r);
      finish_layer_result(accel_, p, layer_traffic(p), r);
      layers.push_back(std::move(r));
    }
    return sum_layers(accel_, std::move(layers));
  }

 private:
  AccelConfig accel_;
};

SUSHI_REGISTER(AccelModel, "analytic",
               "closed-form schedule of sim/mapping.h, O(1) per layer (sweeps, latency tables); timing only",
               [](const AccelConfig& a) { return std::make_unique<AnalyticModel>(a); });

}  // namespace

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

}  // namespace sushi::sim
