#include "sched/cosim.h"

#include <cmath>
#include <stdexcept>

#include "base/errors.h"
#include "sim/model.h"

namespace sushi {

LtEntry cycle_cost(const sim::AccelConfig& accel, const SupernetSpace& space, const LatencyTable& table,
                   int subnet, int subgraph) {
  if (table.subnets.empty())
    throw InputError("the cycle model needs a latency table built from an accelerator, not a profile");
  return entry_from(
      sim::simulate(accel, space, table.subnets[size_t(subnet)], table.subgraphs[size_t(subgraph)], "cycle"));
}

namespace {

// Simulated time of the kernel, in the serving loop's milliseconds (one kernel unit per accelerator cycle).
class KernelClock : public ServingClock {
 public:
  KernelClock(double clock_mhz, sim::AccelModel* model)
      : model_(model),
        cycles_per_ms_(clock_mhz * 1e3),
        base_(model ? model->kernel_now() : sim::kernel_now_cycles()) {}
  void advance_to(double ms) override {
    const int64_t target = base_ + std::llround(ms * cycles_per_ms_);
    const int64_t now = model_ ? model_->kernel_now() : sim::kernel_now_cycles();
    // A run returns when the accelerator finished it, so the loop's clock may only trail the kernel by
    // rounding.
    if (now > target + 1) throw std::logic_error("co-simulation clock ran ahead of the serving loop");
    if (target <= now) return;
    if (model_)
      model_->kernel_wait(target - now);
    else
      sim::kernel_wait_cycles(target - now);
  }

 private:
  sim::AccelModel* model_;  // null: the process-wide cycle model of sim::run_in_kernel
  double cycles_per_ms_;
  int64_t base_;
};

}  // namespace

ServingResult serve_cosim(const sim::AccelConfig& accel, const SupernetSpace& space, const LatencyTable& t,
                          const QuerySource& source, Policy& policy, const ServingOptions& options,
                          const RecordSink& sink, const std::string& model) {
  ServingResult result;
  if (model == "cycle") {
    sim::run_in_kernel(accel, [&] {
      KernelClock clock(accel.clock_mhz, nullptr);
      const RunCost cost = [&](int s, int g, int) { return cycle_cost(accel, space, t, s, g); };
      result = serve_stream(t, source, policy, options, sink, cost, &clock);
    });
    return result;
  }
  if (t.subnets.empty())
    throw InputError("co-simulation needs a latency table built from an accelerator, not a profile");
  const std::unique_ptr<sim::AccelModel> m = sim::make_accel_model(model, accel, "co-simulation model");
  m->run_in_kernel([&] {
    KernelClock clock(accel.clock_mhz, m.get());
    const RunCost cost = [&](int s, int g, int) {
      const Subnet& sn = t.subnets[size_t(s)];
      sim::AccelJob job = sim::make_job(accel, space.layers(sn, sn.resolution), t.subgraphs[size_t(g)]);
      return entry_from(m->run(job));
    };
    result = serve_stream(t, source, policy, options, sink, cost, &clock);
  });
  return result;
}

ServingResult serve_cosim(const sim::AccelConfig& accel, const SupernetSpace& space, const LatencyTable& t,
                          const std::vector<Query>& trace, Policy& policy, const ServingOptions& options,
                          const std::string& model) {
  std::vector<QueryRecord> records;
  ServingResult r = serve_cosim(
      accel, space, t, vector_source(trace), policy, options,
      [&](const QueryRecord& rec) { records.push_back(rec); }, model);
  r.records = std::move(records);
  return r;
}

}  // namespace sushi
