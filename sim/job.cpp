// AccelJob: the register image and memory map a host hands to an accelerator model, built from a layer list
// (timing) or from quantized ops and their data (functional); the registry lookup of models.
#include <algorithm>
#include <cstring>

#include "base/errors.h"
#include "base/registry.h"
#include "models/ref/int8.h"
#include "sim/datapath.h"
#include "sim/model.h"

namespace sushi::sim {
namespace {

constexpr uint64_t kAlign = 64;

uint64_t align(uint64_t x) {
  return (x + kAlign - 1) / kAlign * kAlign;
}

// Appends `bytes` to a region and returns the address of the new block.
uint64_t take(AddrRange& region, uint64_t& next, int64_t bytes) {
  const uint64_t at = next;
  next = align(next + uint64_t(std::max<int64_t>(bytes, 0)));
  region.bytes = next - region.base;
  return at;
}

WeightSlice cached_slice(const SubGraph& cached, const Layer& l) {
  if (!l.has_weights() || size_t(l.slice.tensor) >= cached.slices.size()) return WeightSlice{};
  return cached.slices[size_t(l.slice.tensor)];
}

LayerRegs encode_layer(const Layer& l, const WeightSlice& cached) {
  LayerRegs r{};
  r.opcode = uint32_t(l.kind);
  r.activation = uint32_t(l.act);
  r.in_c = uint32_t(l.in_c), r.in_h = uint32_t(l.in_h), r.in_w = uint32_t(l.in_w);
  r.out_c = uint32_t(l.out_c), r.out_h = uint32_t(l.out_h), r.out_w = uint32_t(l.out_w);
  r.kernel = uint32_t(l.kernel), r.stride = uint32_t(l.stride), r.pad = uint32_t(l.pad);
  r.groups = uint32_t(l.groups);
  if (l.has_weights()) {
    r.w_out = uint32_t(l.slice.out), r.w_in = uint32_t(l.slice.in), r.w_k = uint32_t(l.slice.k);
    r.w_bias = l.slice.has_bias;
    const WeightSlice hit = intersect(l.slice, cached);
    if (!hit.empty()) {
      r.pb_out = uint32_t(hit.out), r.pb_in = uint32_t(hit.in), r.pb_k = uint32_t(hit.k);
      r.pb_bias = hit.has_bias;
    }
  }
  return r;
}

// Assigns every address: weights, params, activations (outputs after `input_bytes` of inputs), PB image.
// `inputs` gives each layer's operand addresses once outputs are placed (a callback so both job kinds share
// the layout).
template <typename InputAddr>
void lay_out(AccelJob& job, const std::vector<int64_t>& input_bytes, InputAddr&& input_addr) {
  MemoryMap& m = job.memory;
  uint64_t next = 0;
  m.weights.base = next;
  for (LayerRegs& r : job.regs) r.w_addr = take(m.weights, next, r.dram_weight_bytes());
  m.params.base = next;
  for (LayerRegs& r : job.regs) r.param_addr = take(m.params, next, r.param_bytes());
  m.activations.base = next;
  std::vector<uint64_t> inputs;
  for (int64_t b : input_bytes) inputs.push_back(take(m.activations, next, b));
  for (LayerRegs& r : job.regs) r.out_addr = take(m.activations, next, int64_t(r.out_c) * r.out_h * r.out_w);
  for (size_t i = 0; i < job.regs.size(); ++i) input_addr(i, inputs, job.regs[i]);
  m.pb_image.base = next;
  uint64_t pb = 0;
  for (LayerRegs& r : job.regs) {
    r.pb_offset = pb;
    pb += uint64_t(int64_t(r.pb_out) * r.pb_record_bytes());
  }
  m.pb_image.bytes = pb;
  m.size = align(next + pb);
}

void check_weights(const LayerRegs& r, const Layer& l) {
  if (r.w_out && (r.w_k != r.kernel || int(r.w_in) * l.groups != l.in_c || r.w_out != r.out_c))
    throw std::logic_error("layer " + l.name + ": weight slice does not match the layer's shape");
}

void encode_params(AccelJob& job, size_t i, const QOp& op) {
  LayerRegs& r = job.regs[i];
  r.in_zp = op.in_zp, r.in2_zp = op.in2_zp, r.out_zp = op.out_zp, r.pre_zp = op.pre_zp;
  r.aux_count = uint32_t(op.aux.size());
  r.lut_enable = !op.lut.empty();
  check_weights(r, op.layer);
}

void put_tensor(AccelJob& job, uint64_t addr, const QTensor& t) {
  if (t.data.empty()) return;  // memcpy from an empty vector's null data() is undefined even for 0 bytes
  std::memcpy(job.dram.data() + addr, t.data.data(), t.data.size());
}

// Functional image: weights split between DRAM and the PB image, parameter blocks.
void fill_image(AccelJob& job, const std::vector<QOp>& ops) {
  job.dram.assign(job.memory.size, 0);
  for (size_t i = 0; i < ops.size(); ++i) {
    const LayerRegs& r = job.regs[i];
    if (r.w_out)
      split_weights(r, ops[i], job.dram.data() + r.w_addr,
                    job.dram.data() + job.memory.pb_image.base + r.pb_offset);
    write_params(r, ops[i], job.dram.data() + r.param_addr);
  }
}

}  // namespace

AccelJob make_job(const AccelConfig& accel, const std::vector<Layer>& layers, const SubGraph& cached) {
  (void)accel;
  AccelJob job;
  job.regs.reserve(layers.size());
  job.meta.reserve(layers.size());
  int64_t input = 0;
  for (const Layer& l : layers) {
    job.regs.push_back(encode_layer(l, cached_slice(cached, l)));
    job.meta.push_back({l.name, l.macs});
    if (l.input < 0) input = std::max(input, int64_t(l.in_c) * l.in_h * l.in_w);
    if (l.input2 < 0 && (l.kind == LayerKind::Add || l.kind == LayerKind::SEScale))
      input = std::max(input, int64_t(l.in_c) * l.in_h * l.in_w);
  }
  lay_out(job, {input}, [&](size_t i, const std::vector<uint64_t>& in, LayerRegs& r) {
    const Layer& l = layers[i];
    r.in_addr = l.input < 0 ? in[0] : job.regs[size_t(l.input)].out_addr;
    r.in2_addr = l.input2 < 0 ? in[0] : job.regs[size_t(l.input2)].out_addr;
  });
  return job;
}

AccelJob make_functional_job(const AccelConfig& accel, const std::vector<QOp>& ops, const SubGraph& cached,
                             const QTensor& input) {
  std::vector<Layer> layers;
  layers.reserve(ops.size());
  for (const QOp& op : ops) layers.push_back(op.layer);
  AccelJob job = make_job(accel, layers, cached);
  for (size_t i = 0; i < ops.size(); ++i) encode_params(job, i, ops[i]);
  const int64_t input_bytes = int64_t(input.data.size());
  lay_out(job, {input_bytes}, [&](size_t i, const std::vector<uint64_t>& in, LayerRegs& r) {
    const Layer& l = layers[i];
    r.in_addr = l.input < 0 ? in[0] : job.regs[size_t(l.input)].out_addr;
    r.in2_addr = l.input2 < 0 ? in[0] : job.regs[size_t(l.input2)].out_addr;
  });
  fill_image(job, ops);
  put_tensor(job, job.memory.activations.base, input);
  return job;
}

AccelJob make_layers_job(const AccelConfig& accel, const std::vector<QOp>& ops,
                         const std::vector<QTensor>& inputs, const std::vector<QTensor>& inputs2,
                         const SubGraph& cached) {
  (void)accel;
  AccelJob job;
  std::vector<int64_t> input_bytes;
  for (size_t i = 0; i < ops.size(); ++i) {
    job.regs.push_back(encode_layer(ops[i].layer, cached_slice(cached, ops[i].layer)));
    job.meta.push_back({ops[i].layer.name, ops[i].layer.macs});
    encode_params(job, i, ops[i]);
    input_bytes.push_back(int64_t(inputs[i].data.size()));
    input_bytes.push_back(int64_t(inputs2[i].data.size()));
  }
  lay_out(job, input_bytes, [&](size_t i, const std::vector<uint64_t>& in, LayerRegs& r) {
    r.in_addr = in[2 * i];
    r.in2_addr = in[2 * i + 1];
  });
  fill_image(job, ops);
  for (size_t i = 0; i < ops.size(); ++i) {
    put_tensor(job, job.regs[i].in_addr, inputs[i]);
    put_tensor(job, job.regs[i].in2_addr, inputs2[i]);
  }
  return job;
}

QTensor read_output(const AccelJob& job, size_t i, float scale) {
  const LayerRegs& r = job.regs[i];
  QTensor t;
  t.c = int(r.out_c), t.h = int(r.out_h), t.w = int(r.out_w);
  t.scale = scale;
  t.zero_point = r.out_zp;
  const auto* p = reinterpret_cast<const int8_t*>(job.dram.data() + r.out_addr);
  t.data.assign(p, p + size_t(t.c) * t.h * t.w);
  return t;
}

Layer decode_layer(const LayerRegs& r, const LayerMeta& meta) {
  Layer l;
  l.name = meta.name;
  l.macs = meta.macs;
  l.kind = LayerKind(r.opcode);
  l.act = Activation(r.activation);
  l.in_c = int(r.in_c), l.in_h = int(r.in_h), l.in_w = int(r.in_w);
  l.out_c = int(r.out_c), l.out_h = int(r.out_h), l.out_w = int(r.out_w);
  l.kernel = int(r.kernel), l.stride = int(r.stride), l.pad = int(r.pad), l.groups = int(r.groups);
  if (r.w_out) l.slice = WeightSlice{0, int(r.w_out), int(r.w_in), int(r.w_k), r.w_bias != 0};
  return l;
}

WeightSlice decode_cached(const LayerRegs& r) {
  if (!r.pb_out) return WeightSlice{};
  return WeightSlice{0, int(r.pb_out), int(r.pb_in), int(r.pb_k), r.pb_bias != 0};
}

RunResult sum_layers(const AccelConfig& accel, std::vector<LayerResult> layers) {
  RunResult run;
  for (LayerResult& r : layers) {
    r.call_overhead_ms = accel.call_overhead_us / 1e3;
    run.call_overhead_ms += r.call_overhead_ms;
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
  }
  run.layers = std::move(layers);
  run.energy_pj = run.energy_dram_pj + run.energy_sram_pj + run.energy_mac_pj;
  run.latency_ms = double(run.cycles) / (accel.clock_mhz * 1e3) + run.call_overhead_ms;
  run.utilization =
      run.cycles > 0 ? double(run.macs) / (double(run.cycles) * double(accel.peak_macs_per_cycle())) : 0;
  return run;
}

void AccelModel::trace_to(const std::string&) {
  throw InputError("--trace: this accelerator model writes no trace (the cycle model does)");
}

void AccelModel::run_in_kernel(const std::function<void()>&) {
  throw InputError("co-simulation needs an accelerator model with a SystemC kernel (cycle)");
}

int64_t AccelModel::kernel_now() const {
  return kernel_now_cycles();
}

void AccelModel::kernel_wait(int64_t cycles) {
  kernel_wait_cycles(cycles);
}

std::unique_ptr<AccelModel> make_accel_model(const std::string& name, const AccelConfig& accel,
                                             const std::string& where) {
  return Registry<AccelModel>::get(name, where + " '" + name + "'")(accel);
}

std::string parse_fidelity(const std::string& name) {
  Registry<AccelModel>::get(name, "--fidelity");
  return name;
}

}  // namespace sushi::sim
