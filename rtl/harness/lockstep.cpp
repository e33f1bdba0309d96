// Lock-step RTL vs cycle model (rtl/harness/lockstep.h).
#include "rtl/harness/lockstep.h"

#include <algorithm>

#include "base/errors.h"
#include "rtl/harness/rtl_model.h"
#include "sim/mapping.h"

namespace sushi::rtl {
namespace {

using sim::TraceEvent;

std::vector<TraceEvent> run_logged(sim::AccelModel& m, sim::AccelJob& job, sim::RunResult& result) {
  sim::EventLog log;
  sim::active_event_log() = &log;
  try {
    result = m.run(job);
  } catch (...) {
    sim::active_event_log() = nullptr;
    throw;
  }
  sim::active_event_log() = nullptr;
  std::sort(log.events.begin(), log.events.end());
  return std::move(log.events);
}

// The last K-tile start at or before position i (the tile an event belongs to, for the report).
std::string context(const std::vector<TraceEvent>& t, size_t i) {
  if (i >= t.size()) return "(trace ended)";
  int64_t tile = -1;
  for (size_t j = 0; j <= i; ++j)
    if (t[j].kind == sim::EventKind::TileStart && t[j].layer == t[i].layer) tile = t[j].tile;
  return describe(t[i]) + (tile >= 0 ? " (in K-tile " + std::to_string(tile) + ")" : "");
}

// The first layer (and byte) whose output in `job`'s final image differs from the reference.
void compare_outputs(const sim::AccelJob& job, const std::vector<QTensor>& reference, LockstepReport& r) {
  if (reference.size() != job.regs.size())
    throw std::logic_error("lockstep: one reference tensor per layer expected");
  for (size_t i = 0; i < reference.size(); ++i) {
    const QTensor out = sim::read_output(job, i, reference[i].scale);
    ++r.layers_checked;
    if (out.data == reference[i].data) continue;
    r.output_mismatch = int64_t(i);
    for (size_t b = 0; b < out.data.size() && b < reference[i].data.size(); ++b)
      if (out.data[b] != reference[i].data[b]) {
        r.mismatch_byte = int64_t(b);
        break;
      }
    return;
  }
}

}  // namespace

LockstepReport lockstep(const sim::AccelConfig& accel, const sim::AccelJob& job, bool injected_bug,
                        const std::vector<QTensor>* reference) {
  LockstepReport r;
  auto cycle = sim::make_accel_model("cycle", accel);
  auto rtl = make_rtl_model(accel, injected_bug);
  sim::AccelJob rtl_job = job;
  sim::AccelJob cycle_job = job;
  r.cycle_events = run_logged(*cycle, cycle_job, r.cycle);
  r.rtl_events = run_logged(*rtl, rtl_job, r.rtl);
  if (reference && job.functional()) compare_outputs(rtl_job, *reference, r);
  r.divergence = sim::first_divergence(r.cycle_events, r.rtl_events);
  r.cycles_equal = r.cycle.cycles == r.rtl.cycles && r.cycle.layers.size() == r.rtl.layers.size();
  for (size_t i = 0; r.cycles_equal && i < r.cycle.layers.size(); ++i)
    r.cycles_equal = r.cycle.layers[i].cycles == r.rtl.layers[i].cycles &&
                     r.cycle.layers[i].compute_cycles == r.rtl.layers[i].compute_cycles;
  return r;
}

std::string LockstepReport::describe() const {
  std::string s = "cycles: cycle model " + std::to_string(cycle.cycles) + ", rtl " +
                  std::to_string(rtl.cycles) + " over " + std::to_string(cycle.layers.size()) +
                  " layers; events: " + std::to_string(cycle_events.size()) + " vs " +
                  std::to_string(rtl_events.size());
  for (size_t i = 0; i < cycle.layers.size() && i < rtl.layers.size(); ++i)
    if (cycle.layers[i].cycles != rtl.layers[i].cycles) {
      s += "\nfirst layer with other cycles: " + std::to_string(i) + " (" + cycle.layers[i].name +
           "): " + std::to_string(cycle.layers[i].cycles) + " vs " + std::to_string(rtl.layers[i].cycles);
      break;
    }
  for (size_t i = 0; i < cycle.layers.size() && i < rtl.layers.size(); ++i)
    if (cycle.layers[i].compute_cycles != rtl.layers[i].compute_cycles) {
      s += "\nfirst layer with other compute cycles: " + std::to_string(i) + ": " +
           std::to_string(cycle.layers[i].compute_cycles) + " vs " +
           std::to_string(rtl.layers[i].compute_cycles);
      break;
    }
  if (layers_checked > 0)
    s += output_mismatch < 0
             ? "\noutputs: " + std::to_string(layers_checked) + " layers bit-exact with the int8 reference"
             : "\noutput of layer " + std::to_string(output_mismatch) + " (" +
                   rtl.layers[size_t(output_mismatch)].name + ") differs from the int8 reference at byte " +
                   std::to_string(mismatch_byte);
  if (divergence < 0) return s + "\ntraces identical";
  const size_t i = size_t(divergence);
  return s + "\nfirst divergence at event " + std::to_string(i) +
         ":\n  cycle model: " + context(cycle_events, i) + "\n  rtl:         " + context(rtl_events, i);
}

RandomCase random_case(const sim::AccelConfig& accel, Rng& rng) {
  auto pick = [&](int lo, int hi) { return int(rng.uniform_int(int64_t(lo), int64_t(hi))); };
  // Channel counts: multiples of the array's tile widths, one off them, or anything small.
  auto channels = [&](int unit) {
    switch (pick(0, 2)) {
      case 0:
        return unit * pick(1, 4);
      case 1:
        return std::max(1, unit * pick(1, 3) + (pick(0, 1) ? 1 : -1));
      default:
        return pick(1, 3 * unit);
    }
  };
  const LayerKind kinds[] = {LayerKind::Conv,      LayerKind::Conv,       LayerKind::Depthwise,
                             LayerKind::Pointwise, LayerKind::FC,         LayerKind::SEReduce,
                             LayerKind::SEExpand,  LayerKind::GlobalPool, LayerKind::MaxPool,
                             LayerKind::AvgPool,   LayerKind::Add,        LayerKind::SEScale};
  RandomCase c;
  Layer& l = c.layer;
  l.kind = kinds[pick(0, 11)];
  l.name = std::string("random_") + to_string(l.kind);
  const bool spatial =
      l.kind != LayerKind::FC && l.kind != LayerKind::SEReduce && l.kind != LayerKind::SEExpand;
  const bool vector = int(l.kind) >= int(LayerKind::SEScale);
  const int in_units[] = {accel.c_parallel, accel.k_parallel, accel.c_parallel * accel.window_parallel};
  l.in_c = channels(vector ? accel.vector_lanes : in_units[pick(0, 2)]);
  l.in_h = spatial ? pick(1, 12) : 1;
  l.in_w = spatial ? pick(1, 12) : 1;
  const int ks[] = {1, 3, 5, 7};
  l.kernel = l.kind == LayerKind::Conv || l.kind == LayerKind::Depthwise ? ks[pick(0, 3)]
             : l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool
                 ? std::min({1 + 2 * pick(0, 1), l.in_h, l.in_w})
                 : 1;
  l.stride = (l.kind == LayerKind::Conv || l.kind == LayerKind::Depthwise || l.kind == LayerKind::MaxPool ||
              l.kind == LayerKind::AvgPool)
                 ? pick(1, 2)
                 : 1;
  l.pad = l.kernel / 2;
  l.out_c = (l.kind == LayerKind::Depthwise || vector) ? l.in_c : channels(accel.k_parallel);
  l.groups = l.kind == LayerKind::Depthwise ? l.in_c : 1;
  l.out_h = l.kind == LayerKind::GlobalPool || !spatial ? 1 : (l.in_h + 2 * l.pad - l.kernel) / l.stride + 1;
  l.out_w = l.kind == LayerKind::GlobalPool || !spatial ? 1 : (l.in_w + 2 * l.pad - l.kernel) / l.stride + 1;
  l.act = Activation(pick(0, 3));
  if (!vector) {
    const int in_per_group = l.in_c / l.groups;
    l.macs = int64_t(l.out_h) * l.out_w * l.out_c * in_per_group * l.kernel * l.kernel;
    l.slice = WeightSlice{0, l.out_c, in_per_group, l.kernel, true};
    l.weight_bytes = l.slice.bytes();
    // The PB: nothing, all of it, or a leading part (channels, inputs, the kernel's centre, the bias).
    const int mode = pick(0, 2);
    if (mode == 1) c.cached.slices = {l.slice};
    if (mode == 2) {
      const int k = 1 + 2 * pick(0, (l.kernel - 1) / 2);
      c.cached.slices = {WeightSlice{0, pick(1, l.out_c), pick(1, in_per_group), k, pick(0, 1) == 1}};
    }
  }
  return c;
}

sim::AccelJob random_job(const sim::AccelConfig& accel, uint64_t seed, int n) {
  Rng rng(seed);
  std::vector<Layer> layers;
  SubGraph cached;
  while (int(layers.size()) < n) {
    RandomCase c = random_case(accel, rng);
    const WeightSlice hit = c.cached.slices.empty() ? WeightSlice{} : c.cached.slices[0];
    try {
      sim::plan_layer(accel, c.layer, hit);
    } catch (const InputError&) {
      continue;  // does not fit this config's buffers: draw again
    }
    if (c.layer.has_weights()) {
      c.layer.slice.tensor = int(cached.slices.size());
      cached.slices.push_back(hit);
      cached.slices.back().tensor = c.layer.slice.tensor;
    }
    layers.push_back(c.layer);
  }
  return sim::make_job(accel, layers, cached);
}

}  // namespace sushi::rtl

namespace sushi::rtl {

FunctionalJob random_functional_job(const sim::AccelConfig& accel, uint64_t seed, int n) {
  Rng rng(seed);
  std::vector<QOp> ops;
  std::vector<QTensor> inputs, inputs2;
  SubGraph cached;
  while (int(ops.size()) < n) {
    RandomCase c = random_case(accel, rng);
    const WeightSlice hit = c.cached.slices.empty() ? WeightSlice{} : c.cached.slices[0];
    try {
      sim::plan_layer(accel, c.layer, hit);
    } catch (const InputError&) {
      continue;  // does not fit this config's buffers: draw again
    }
    if (c.layer.has_weights()) {
      c.layer.slice.tensor = int(cached.slices.size());
      cached.slices.push_back(hit);
      cached.slices.back().tensor = c.layer.slice.tensor;
    }
    const Layer& l = c.layer;
    QOp op = make_random_qop(l, rng());
    inputs.push_back(make_random_qtensor(l.in_c, l.in_h, l.in_w, rng(), op.in_scale, op.in_zp));
    if (l.kind == LayerKind::Add)
      inputs2.push_back(make_random_qtensor(l.in_c, l.in_h, l.in_w, rng(), op.in2_scale, op.in2_zp));
    else if (l.kind == LayerKind::SEScale)
      inputs2.push_back(make_random_qtensor(l.in_c, 1, 1, rng(), op.in2_scale, op.in2_zp));
    else
      inputs2.emplace_back();
    ops.push_back(std::move(op));
  }
  FunctionalJob f;
  f.job = sim::make_layers_job(accel, ops, inputs, inputs2, cached);
  for (size_t i = 0; i < ops.size(); ++i)
    f.reference.push_back(run_qop(ops[i], inputs[i], inputs2[i].data.empty() ? nullptr : &inputs2[i]));
  return f;
}

FunctionalJob single_layer(const FunctionalJob& f, size_t i) {
  FunctionalJob one;
  one.job = f.job;
  one.job.regs = {f.job.regs[i]};
  one.job.meta = {f.job.meta[i]};
  one.reference = {f.reference[i]};
  return one;
}

FunctionalJob subnet_functional_job(const sim::AccelConfig& accel, const SupernetSpace& space,
                                    const Subnet& s, const SubGraph& cached, uint64_t seed) {
  const QNetwork net = make_random_qnetwork(space, s, seed);
  const QTensor input = make_random_qtensor(1, s.resolution, s.resolution, seed + 1, net.in_scale, net.in_zp);
  FunctionalJob f;
  f.job = sim::make_functional_job(accel, net.ops, cached, input);
  f.reference = run_qnetwork(net, input);
  return f;
}

}  // namespace sushi::rtl
