// simulate() and friends: thin wrappers that build a job, find the model by name and run it. Models are
// cached per (name, config) so a SystemC model elaborates once and keeps its kernel across calls.
#include <map>
#include <mutex>
#include <tuple>

#include "base/errors.h"
#include "models/ref/int8.h"
#include "sim/model.h"

namespace sushi::sim {
namespace {

void check_cache(const AccelConfig& accel, const SupernetSpace& space, const SubGraph& cached) {
  if (!cached.slices.empty() && cached.slices.size() != space.tensors().size())
    throw InputError("cached SubGraph has " + std::to_string(cached.slices.size()) + " tensors, supernet " +
                     space.name() + " has " + std::to_string(space.tensors().size()));
  if (cached.bytes() > accel.pb_bytes)
    throw InputError("cached SubGraph of " + std::to_string(cached.bytes()) +
                     " bytes does not fit the Persistent Buffer of " + accel.name + " (" +
                     std::to_string(accel.pb_bytes) + " bytes); cut it with fit_to_pb / --cache");
}

// One model per (name, config file, canonical config), alive for the process: a SystemC kernel is not
// rebuilt per query, and co-simulation finds its kernel here. Keyed by the canonical form, so a config
// changed in memory (an override) gets its own model. Never destroyed (static destruction order would tear
// kernels down after SystemC's own globals).
AccelModel& cached_model(const std::string& name, const AccelConfig& accel) {
  using Key = std::tuple<std::string, std::string, std::string>;
  static std::mutex lock;
  static auto* models = new std::map<Key, AccelModel*>();
  const Key key{name, accel.file, canonical_json(accel)};
  {
    const std::lock_guard<std::mutex> hold(lock);
    auto it = models->find(key);
    if (it != models->end()) return *it->second;
  }
  // Built outside the lock: a SystemC model takes the kernel lock, which a running co-simulation holds while
  // its task looks models up here.
  std::unique_ptr<AccelModel> fresh = make_accel_model(name, accel);
  const std::lock_guard<std::mutex> hold(lock);
  AccelModel*& m = (*models)[key];
  if (!m) m = fresh.release();
  return *m;
}

RunResult run_job(const AccelConfig& accel, const std::string& model, AccelJob& job,
                  const SimOptions& options) {
  if (options.trace_vcd.empty()) return cached_model(model, accel).run(job);
  std::unique_ptr<AccelModel> fresh = make_accel_model(model, accel);  // a trace starts before elaboration
  fresh->trace_to(options.trace_vcd);
  return fresh->run(job);
}

}  // namespace

RunResult simulate(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                   const SubGraph& cached, const std::string& model, const SimOptions& options) {
  check_cache(accel, space, cached);
  AccelJob job = make_job(accel, space.layers(s, s.resolution), cached);
  return run_job(accel, model, job, options);
}

RunResult simulate_layers(const AccelConfig& accel, const std::vector<Layer>& layers,
                          const std::string& model, const SimOptions& options) {
  AccelJob job = make_job(accel, layers, SubGraph{});
  return run_job(accel, model, job, options);
}

RunResult simulate_functional(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                              const SubGraph& cached, const std::string& model, const QNetwork& net,
                              const QTensor& input, std::vector<QTensor>& outputs,
                              const SimOptions& options) {
  check_cache(accel, space, cached);
  const std::vector<Layer> layers = space.layers(s, s.resolution);
  if (net.ops.size() != layers.size())
    throw InputError("quantized network has " + std::to_string(net.ops.size()) + " layers, the subnet has " +
                     std::to_string(layers.size()));
  AccelJob job = make_functional_job(accel, net.ops, cached, input);
  RunResult r = run_job(accel, model, job, options);
  outputs.clear();
  for (size_t i = 0; i < net.ops.size(); ++i) outputs.push_back(read_output(job, i, net.ops[i].out_scale));
  return r;
}

RunResult simulate_layers_functional(const AccelConfig& accel, const std::string& model,
                                     const std::vector<QOp>& ops, const std::vector<QTensor>& inputs,
                                     const std::vector<QTensor>& inputs2, std::vector<QTensor>& outputs) {
  if (inputs.size() != ops.size() || inputs2.size() != ops.size())
    throw InputError("simulate_layers_functional: one input and one second input per op expected");
  AccelJob job = make_layers_job(accel, ops, inputs, inputs2);
  RunResult r = run_job(accel, model, job, SimOptions{});
  outputs.clear();
  for (size_t i = 0; i < ops.size(); ++i) outputs.push_back(read_output(job, i, ops[i].out_scale));
  return r;
}

void run_in_kernel(const AccelConfig& accel, const std::function<void()>& task) {
  cached_model("cycle", accel).run_in_kernel(task);
}

}  // namespace sushi::sim
