// `sushi sim`: one query of a subnet on a SushiAccel config, with a cached SubGraph; `sushi bench sim`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "base/registry.h"
#include "models/ref/checkpoint.h"
#include "models/ref/forward.h"
#include "models/ref/int8.h"
#include "models/space/supernet.h"
#include "models/train/trainer.h"
#include "sim/calibrate.h"
#include "sim/evaluate.h"
#include "sim/model.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

// `none`, or a subnet spec whose weights are cached (cut to the PB when larger).
SubGraph parse_cache(const sim::AccelConfig& accel, const SupernetSpace& space, const std::string& spec) {
  if (spec.empty() || spec == "none") return space.empty_subgraph();
  return sim::fit_to_pb(accel, space, space.parse_subnet(spec));
}

// Where a layer's time goes: cycles = setup + compute + the exposed waits (+ stall_other: the analytic closed
// form against its exact schedule); the host's per-call overhead is apart from cycles.
void write_breakdown(JsonWriter& j, const sim::LayerResult& l) {
  j.key("breakdown")
      .begin_object()
      .field("setup_cycles", l.setup_cycles)
      .field("compute_cycles", l.compute_cycles)
      .field("exposed_weight_load_cycles", l.weight_wait_cycles)
      .field("exposed_act_load_cycles", l.act_in_wait_cycles)
      .field("exposed_act_store_cycles", l.act_out_wait_cycles)
      .field("stall_other_cycles", l.stall_other_cycles)
      .field("call_overhead_ms", l.call_overhead_ms)
      .end_object();
}

void write_layers_json(JsonWriter& j, const sim::AccelConfig& accel, const sim::RunResult& r) {
  j.key("layers").begin_array();
  for (const sim::LayerResult& l : r.layers) {
    j.begin_object()
        .field("name", l.name)
        .field("kind", l.kind)
        .field("macs", l.macs)
        .field("cycles", l.cycles)
        .field("compute_cycles", l.compute_cycles)
        .field("stall_cycles", l.stall_cycles)
        .field("dram_weight_bytes", l.dram_weight_bytes)
        .field("dram_act_bytes", l.dram_act_bytes)
        .field("pb_hit_bytes", l.pb_hit_bytes)
        .field("energy_dram_pj", l.energy_dram_pj)
        .field("energy_sram_pj", l.energy_sram_pj)
        .field("energy_mac_pj", l.energy_mac_pj)
        .field("utilization", l.utilization)
        .field("latency_ms", double(l.cycles) / (1e3 * accel.clock_mhz) + l.call_overhead_ms);
    write_breakdown(j, l);
    j.end_object();
  }
  j.end_array();
}

void write_json(const Provenance& provenance, const sim::AccelConfig& accel, const SupernetSpace& space,
                const Subnet& s, const std::string& cache_spec, const SubGraph& cached,
                const std::string& fidelity, const sim::RunResult& r, const std::string& functional_status) {
  JsonWriter j;
  j.begin_object().field("accel", accel.name).field("supernet", space.name()).key("provenance");
  provenance.write_json(j);
  j.field("fidelity", fidelity)
      .key("subnet")
      .raw(space.to_json(s))
      .field("resolution", s.resolution)
      .field("cache", cache_spec)
      .field("cached_bytes", cached.bytes());
  const sim::PbLoadResult load = sim::pb_load_cost(accel, cached);
  j.key("pb_load")  // what loading the cached SubGraph costs (charged when the cache changes, not per query)
      .begin_object()
      .field("cycles", load.cycles)
      .field("bytes", load.bytes)
      .field("energy_pj", load.energy_pj)
      .end_object()
      .field("cycles", r.cycles)
      .field("latency_ms", r.latency_ms)
      .field("compute_cycles", r.compute_cycles)
      .field("stall_cycles", r.stall_cycles)
      .field("call_overhead_ms", r.call_overhead_ms)
      .key("offchip_bytes")
      .begin_object()
      .field("weights", r.offchip_weight_bytes)
      .field("activations", r.offchip_act_bytes)
      .field("total", r.offchip_weight_bytes + r.offchip_act_bytes)
      .end_object()
      .field("pb_hit_bytes", r.pb_hit_bytes)
      .field("energy_pj", r.energy_pj)
      .key("energy_by_component_pj")
      .begin_object()
      .field("dram", r.energy_dram_pj)
      .field("sram", r.energy_sram_pj)
      .field("mac", r.energy_mac_pj)
      .end_object()
      .field("macs", r.macs)
      .field("utilization", r.utilization);
  if (!functional_status.empty()) j.field("functional", functional_status);
  write_layers_json(j, accel, r);
  j.end_object();
  out() << j.str() << "\n";
}

// The per-layer table and the totals (shared by subnet and stand-alone layer runs).
void write_rows(const sim::AccelConfig& accel, const sim::RunResult& r) {
  char buf[320];
  std::snprintf(buf, sizeof buf, "%-4s %-28s %-11s %12s %12s %10s %11s %11s %11s %6s %9s %9s %9s %6s %8s\n",
                "#", "layer", "kind", "cycles", "compute", "stall", "dram.w", "dram.act", "pb.hit", "util",
                "exp.w", "exp.a.in", "exp.a.out", "setup", "call.us");
  out() << buf;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const sim::LayerResult& l = r.layers[i];
    std::snprintf(
        buf, sizeof buf,
        "%-4zu %-28s %-11s %12lld %12lld %10lld %11lld %11lld %11lld %5.1f%% %9lld %9lld %9lld %6lld "
        "%8.2f\n",
        i, l.name.c_str(), l.kind.c_str(), (long long)l.cycles, (long long)l.compute_cycles,
        (long long)l.stall_cycles, (long long)l.dram_weight_bytes, (long long)l.dram_act_bytes,
        (long long)l.pb_hit_bytes, 100 * l.utilization, (long long)l.weight_wait_cycles,
        (long long)l.act_in_wait_cycles, (long long)l.act_out_wait_cycles, (long long)l.setup_cycles,
        l.call_overhead_ms * 1e3);
    out() << buf;
  }
  std::snprintf(
      buf, sizeof buf,
      "total: %lld cycles + %.4f ms host call overhead = %.4f ms at %.0f MHz (compute %lld, stall %lld), "
      "utilisation %.1f%%\n"
      "off-chip: weights %lld B, activations %lld B; PB hits %lld B\n"
      "energy: %.3f uJ (DRAM %.3f, SRAM %.3f, MAC %.3f)\n",
      (long long)r.cycles, r.call_overhead_ms, r.latency_ms, accel.clock_mhz, (long long)r.compute_cycles,
      (long long)r.stall_cycles, 100 * r.utilization, (long long)r.offchip_weight_bytes,
      (long long)r.offchip_act_bytes, (long long)r.pb_hit_bytes, r.energy_pj * 1e-6, r.energy_dram_pj * 1e-6,
      r.energy_sram_pj * 1e-6, r.energy_mac_pj * 1e-6);
  out() << buf;
}

void write_table(const sim::AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                 const SubGraph& cached, const std::string& fidelity, const sim::RunResult& r) {
  out() << "accel " << accel.name << " (" << accel.hash << ")  supernet " << space.name() << "  fidelity "
        << fidelity << "\nsubnet " << space.to_json(s) << "\ncached SubGraph: " << cached.bytes()
        << " bytes (loading it into the PB costs " << sim::pb_load_cost(accel, cached).cycles << " cycles)\n";
  write_rows(accel, r);
}

// What a --functional run computes: a quantized network and one input image.
struct FunctionalCase {
  QNetwork net;
  QTensor input;
  std::string about;  // appended to the status: the image and its label (trained weights)
  int label = -1;
};

// Seeded random int8 weights and input.
FunctionalCase random_case(const SupernetSpace& space, const Subnet& s, uint64_t seed) {
  FunctionalCase c;
  c.net = make_random_qnetwork(space, s, seed);
  c.input = make_random_qtensor(space.input_channels(), s.resolution, s.resolution, seed, c.net.in_scale,
                                c.net.in_zp);
  return c;
}

// --weights: the subnet's int8 export from a trained supernet.ckpt, as sushi train evaluated it, on
// Fashion-MNIST test image `image`.
FunctionalCase trained_case(const SupernetSpace& space, const Subnet& s, const std::string& file, int image,
                            Provenance& provenance) {
  const Checkpoint weights = Checkpoint::load(file);
  provenance.add_input("weights", file, content_hash(read_file(file)));
  const train::Int8Calibration calibration = train::int8_calibration_of(weights, file);
  const YamlView meta = YamlView::parse(weights.metadata, file);
  if (meta.get<std::string>("space", "") != space.name())
    throw InputError(file + ": trained on supernet space '" + meta.get<std::string>("space", "") +
                     "', not --supernet's '" + space.name() + "'");
  const std::string key = subnet_key(space, s);
  if (!subnet_norm_keys(weights).count(key))
    std::cerr << "sushi sim: " << file << " has no recalibrated batch norm for this subnet (sushi train "
              << "recalibrates the ones it evaluates); using the supernet's shared statistics\n";
  const train::FashionMnist data =
      train::load_fashion_mnist(calibration.validation, calibration.seed, calibration.limit_train);
  if (image < 0 || image >= data.test.size())
    throw InputError("--image " + std::to_string(image) + ": expected a test image index in [0, " +
                     std::to_string(data.test.size() - 1) + "]");
  FunctionalCase c;
  c.net = train::export_int8(weights, space, s, data.train, calibration);
  c.input =
      quantize(train::image_tensor(data.test, image, s.resolution), QuantParams{c.net.in_scale, c.net.in_zp});
  c.label = data.test.labels[size_t(image)];
  c.about = "; Fashion-MNIST test image " + std::to_string(image) + ": class ";
  provenance.set("image", std::to_string(image));
  return c;
}

// --functional: the model computes every layer from data in its DRAM image; checked against the reference.
std::string run_functional(const sim::AccelConfig& accel, const SupernetSpace& space, const Subnet& s,
                           const SubGraph& cached, const std::string& fidelity, const FunctionalCase& c,
                           const sim::SimOptions& options, sim::RunResult& r) {
  std::vector<QTensor> outputs;
  r = sim::simulate_functional(accel, space, s, cached, fidelity, c.net, c.input, outputs, options);
  const std::vector<QTensor> ref = run_qnetwork(c.net, c.input);
  size_t bad = 0;
  for (size_t i = 0; i < ref.size(); ++i) bad += ref[i].data != outputs[i].data;
  std::string status =
      bad == 0 ? "bit-exact with the int8 reference on all " + std::to_string(ref.size()) + " layers"
               : std::to_string(bad) + " layers differ from the int8 reference";
  if (bad) std::cerr << "sushi sim: " << status << "\n";
  if (c.label >= 0)
    status += c.about + std::to_string(predicted_class(outputs.back(), 0)) + " (label " +
              std::to_string(c.label) + ")";
  return status;
}

// --functional and --trace need a model that computes outputs / writes a trace: `cycle` unless one is given
// (a model that cannot says so when it runs).
std::string pick_fidelity(const po::variables_map& vm, const std::string& name, bool functional,
                          bool traced) {
  std::string fidelity = sim::parse_fidelity(name);
  if (!functional && !traced) return fidelity;
  if (vm["fidelity"].defaulted()) return "cycle";
  return fidelity;
}

// The subnet seed of a `random:SEED` spec, for the provenance.
void record_seeds(Provenance& provenance, const std::string& subnet_spec, bool random_weights,
                  uint64_t seed) {
  if (subnet_spec.rfind("random:", 0) == 0) provenance.set("subnet", subnet_spec);
  if (random_weights) provenance.set_seed("weights_and_input", seed);
}

std::vector<Override> accel_overrides(const std::vector<std::string>& sets) {
  return set_overrides(sets, "sim", "accel", "accelerator parameters");
}

// --layer / --layers: stand-alone layers, no supernet; the same per-layer breakdown.
int run_layers(const po::variables_map& vm, const sim::SimRequest& req, const std::vector<std::string>& sets,
               const std::vector<std::string>& specs, const std::string& layers_file,
               const std::string& trace) {
  if (!req.supernet_file.empty() || !vm["subnet"].defaulted() || !vm["cache"].defaulted() ||
      vm.count("functional"))
    throw InputError(
        "sim: --layer/--layers run stand-alone layers; drop --supernet, --subnet, --cache, --functional");
  std::vector<Layer> layers;
  for (size_t i = 0; i < specs.size(); ++i) {
    layers.push_back(sim::parse_layer_spec(specs[i], "--layer '" + specs[i] + "'"));
    layers.back().slice.tensor = int(i);
  }
  Provenance provenance("sushi sim");
  if (!layers_file.empty()) {
    provenance.add_input("layers", layers_file, content_hash(read_file(layers_file)));
    for (sim::ShapedLayer& l : sim::read_layers_csv(layers_file, false)) {
      layers.push_back(l.layer);
      layers.back().slice.tensor = int(layers.size() - 1);
    }
  }
  const sim::AccelConfig accel = sim::AccelConfig::load(req.accel_file, accel_overrides(sets));
  provenance.add_input("accel", accel.file, accel.hash);
  provenance.set_fidelity(req.model);
  sim::SimOptions options;
  options.trace_vcd = trace;
  const sim::RunResult r = sim::simulate_layers(accel, layers, req.model, options);
  if (vm.count("json")) {
    JsonWriter j;
    j.begin_object().field("accel", accel.name).key("provenance");
    provenance.write_json(j);
    j.field("fidelity", req.model).field("cycles", r.cycles).field("latency_ms", r.latency_ms);
    j.field("call_overhead_ms", r.call_overhead_ms).field("compute_cycles", r.compute_cycles);
    write_layers_json(j, accel, r);
    out() << j.end_object().str() << "\n";
    return 0;
  }
  out() << "accel " << accel.name << " (" << accel.hash << ")  " << layers.size()
        << " stand-alone layers  fidelity " << req.model << "\n";
  write_rows(accel, r);
  return 0;
}

// A run with side effects (a trace file, computed outputs), which the evaluation cache must not answer:
// --functional on random or trained (`weights`) int8 weights, or a traced timing run.
std::shared_ptr<const sim::SimEvaluation> run_uncached(const sim::SimRequest& req, const std::string& trace,
                                                       bool functional, const std::string* weights, int image,
                                                       uint64_t seed, Provenance& provenance,
                                                       std::string& functional_status) {
  auto fresh = std::make_shared<sim::SimEvaluation>();
  fresh->accel = sim::AccelConfig::load(req.accel_file, req.overrides);
  fresh->space = std::make_shared<const SupernetSpace>(SupernetSpace::load(req.supernet_file));
  fresh->subnet = subnet_option(*fresh->space, req.subnet, req.resolution);
  fresh->cached = parse_cache(fresh->accel, *fresh->space, req.cache);
  sim::SimOptions options;
  options.trace_vcd = trace;
  if (functional) {
    const FunctionalCase c = weights ? trained_case(*fresh->space, fresh->subnet, *weights, image, provenance)
                                     : random_case(*fresh->space, fresh->subnet, seed);
    functional_status = run_functional(fresh->accel, *fresh->space, fresh->subnet, fresh->cached, req.model,
                                       c, options, fresh->run);
  } else {
    fresh->run = sim::simulate(fresh->accel, *fresh->space, fresh->subnet, fresh->cached, req.model, options);
  }
  return fresh;
}

int sim_command(const std::vector<std::string>& args) {
  po::options_description o("sim options");
  sim::SimRequest req;
  std::string trace;
  std::vector<std::string> sets, layer_specs;
  std::string layers_file, weights_file;
  uint64_t seed = 1;
  int image = 0;
  const std::string models = "accelerator model: " + Registry<sim::AccelModel>::joined_names();
  o.add_options()("accel", po::value(&req.accel_file)->required(),
                  "accelerator YAML (workloads/accel/*.yaml)")("supernet", po::value(&req.supernet_file),
                                                               "supernet space YAML (or --layer / --layers)")(
      "layer", po::value(&layer_specs)->composing(),
      "a stand-alone layer instead of a subnet: 'conv K=64 C=64 R=3 S=3 X=56 Y=56 stride=1 pad=1' "
      "(also depthwise, pointwise, fc); repeatable")(
      "layers", po::value(&layers_file), "a CSV of stand-alone layers (the sushi calibrate columns)")(
      "subnet", po::value(&req.subnet)->default_value("max"), "max | min | random:SEED | JSON subnet")(
      "cache", po::value(&req.cache)->default_value("none"),
      "SubGraph in the PB: none, or a subnet spec (its weights, cut to the PB when larger)")(
      "resolution", po::value(&req.resolution)->default_value(0), "input resolution (0 = the subnet's own)")(
      "fidelity", po::value(&req.model)->default_value("analytic"), models.c_str())(
      "set", po::value(&sets)->composing(), "accel.PATH=VALUE: override an accelerator parameter")(
      "functional",
      "the model also computes int8 outputs from its DRAM image; checked against the reference")(
      "seed", po::value(&seed)->default_value(1), "seed of the random int8 weights and input (--functional)")(
      "weights", po::value(&weights_file),
      "--functional on a trained supernet.ckpt (sushi train): the subnet's int8 export as sushi train "
      "evaluated it, on a Fashion-MNIST test image")("image", po::value(&image)->default_value(0),
                                                     "the test image of --weights")(
      "trace", po::value(&trace), "write a VCD of the cycle model (an FST of the rtl model) to this file")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (!parse("sim",
             "--accel A.yaml (--supernet S.yaml [--subnet SPEC] [--cache SPEC] | --layer SPEC... | --layers "
             "L.csv) [--fidelity MODEL] [--set accel.PATH=V]... [--functional [--weights CKPT [--image N]]] "
             "[--trace "
             "out.vcd] [--json]",
             o, args, vm))
    return 0;
  const bool functional = vm.count("functional") > 0;
  if ((vm.count("weights") || !vm["image"].defaulted()) && !functional)
    throw InputError("sim: --weights and --image are for --functional runs");
  req.model = pick_fidelity(vm, req.model, functional, !trace.empty());
  if (!trace.empty())  // SystemC writes NAME.vcd itself: a bad path is the user's, caught before the run
    check_writable(trace.size() > 4 && (trace.compare(trace.size() - 4, 4, ".vcd") == 0 ||
                                        trace.compare(trace.size() - 4, 4, ".fst") == 0)
                       ? trace
                       : trace + ".vcd");
  if (!layer_specs.empty() || !layers_file.empty())
    return run_layers(vm, req, sets, layer_specs, layers_file, trace);
  if (req.supernet_file.empty())
    throw InputError("sim: expected --supernet S.yaml, --layer SPEC or --layers L.csv");
  req.overrides = accel_overrides(sets);
  Provenance provenance("sushi sim");
  record_seeds(provenance, req.subnet, functional && weights_file.empty(), seed);
  // The point: every input resolved and hashed before anything runs.
  const Point point = sim::make_sim_point(req, provenance);
  std::string functional_status;
  std::shared_ptr<const sim::SimEvaluation> e;
  if (functional || !trace.empty()) {  // runs with side effects (a trace file, outputs) are not cached
    e = run_uncached(req, trace, functional, weights_file.empty() ? nullptr : &weights_file, image, seed,
                     provenance, functional_status);
  } else {
    e = sim::evaluate(point);
  }
  if (vm.count("json"))
    write_json(provenance, e->accel, *e->space, e->subnet, req.cache, e->cached, req.model, e->run,
               functional_status);
  else {
    write_table(e->accel, *e->space, e->subnet, e->cached, req.model, e->run);
    if (!functional_status.empty()) out() << "functional: " << functional_status << "\n";
  }
  return functional_status.find("differ") == std::string::npos ? 0 : 1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct BenchRow {
  std::string space;
  int64_t cycles = 0;
  double wall_s = 0, cycles_per_s = 0;
};
const char* const kBenchSpaces[] = {"ofa_resnet50", "ofa_mbv3"};

Subnet bench_subnet(const SupernetSpace& space) {
  Subnet s = space.max_subnet();
  s.resolution = 224;
  return s;
}

// Cycle model: wall time of one timing-only query of each max subnet at 224 (median of `repeat`).
std::vector<BenchRow> bench_cycle(const sim::AccelConfig& accel, int repeat) {
  using clock = std::chrono::steady_clock;
  std::vector<BenchRow> rows;
  for (const char* name : kBenchSpaces) {
    const SupernetSpace space = SupernetSpace::load(std::string("workloads/supernets/") + name + ".yaml");
    const Subnet s = bench_subnet(space);
    std::vector<double> walls;
    int64_t cycles = 0;
    for (int i = 0; i < repeat; ++i) {
      const auto t0 = clock::now();
      cycles = sim::simulate(accel, space, s, space.empty_subgraph(), "cycle").cycles;
      walls.push_back(std::chrono::duration<double>(clock::now() - t0).count());
    }
    BenchRow row{name, cycles, median(walls), 0};
    row.cycles_per_s = double(cycles) / row.wall_s;
    rows.push_back(row);
  }
  return rows;
}

// Analytic: per-layer evaluations of both max subnets, planned and evaluated from scratch each time; returns
// the median rate and sets `evals` to the evaluations of one repeat.
double bench_analytic(const sim::AccelConfig& accel, int repeat, int64_t& evals) {
  using clock = std::chrono::steady_clock;
  std::vector<std::vector<Layer>> nets;
  for (const char* name : kBenchSpaces) {
    const SupernetSpace space = SupernetSpace::load(std::string("workloads/supernets/") + name + ".yaml");
    nets.push_back(space.layers(bench_subnet(space), 224));
  }
  const WeightSlice none;
  std::vector<double> rates;
  int64_t sink = 0;
  for (int i = 0; i < repeat; ++i) {
    int64_t n = 0;
    const auto t0 = clock::now();
    double elapsed = 0;
    do {
      for (const auto& net : nets)
        for (const Layer& l : net) {
          sink += sim::analytic_layer(accel, l, none).cycles;
          ++n;
        }
      elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    } while (elapsed < 0.2);
    rates.push_back(double(n) / elapsed);
    evals = n;
  }
  if (sink == 42) std::cerr << "";  // keep the loop observable
  return median(rates);
}

void print_bench(const std::vector<BenchRow>& rows, double analytic_rate, int repeat) {
  char buf[256];
  for (const BenchRow& r : rows) {
    std::snprintf(buf, sizeof buf,
                  "cycle model   %-13s max@224: %lld cycles in %.3f s (median of %d) = %.3g cycles/s\n",
                  r.space.c_str(), (long long)r.cycles, r.wall_s, repeat, r.cycles_per_s);
    out() << buf;
  }
  std::snprintf(buf, sizeof buf, "analytic model: %.3g layer evaluations/s (median of %d)\n", analytic_rate,
                repeat);
  out() << buf;
}

int bench_sim(const std::vector<std::string>& args) {
  po::options_description o("bench sim options");
  std::string accel_file;
  int repeat = 5;
  o.add_options()("accel", po::value(&accel_file)->default_value("workloads/accel/zcu104_sushi.yaml"),
                  "accelerator YAML")("repeat", po::value(&repeat)->default_value(5),
                                      "repetitions (median reported)")("json", "print one JSON object");
  po::variables_map vm;
  if (!parse("bench sim", "[--accel A.yaml] [--repeat N] [--json]", o, args, vm)) return 0;
  if (repeat < 1 || repeat > 1000)
    throw InputError("--repeat " + std::to_string(repeat) + ": expected 1..1000");
  const sim::AccelConfig accel = sim::AccelConfig::load(accel_file);
  const std::vector<BenchRow> rows = bench_cycle(accel, repeat);
  int64_t evals = 0;
  const double analytic_rate = bench_analytic(accel, repeat, evals);
  if (!vm.count("json")) {
    print_bench(rows, analytic_rate, repeat);
    return 0;
  }
  JsonWriter j;
  Provenance provenance("sushi bench sim");
  provenance.add_input("accel", accel.file, accel.hash);
  j.begin_object().field("accel", accel.name).key("provenance");
  provenance.write_json(j);
  j.field("repeat", repeat).key("cycle_model").begin_array();
  for (const BenchRow& row : rows)
    j.begin_object()
        .field("supernet", row.space)
        .field("subnet", "max@224")
        .field("simulated_cycles", row.cycles)
        .field("wall_s_median", row.wall_s)
        .field("simulated_cycles_per_s", row.cycles_per_s)
        .end_object();
  j.end_array()
      .key("analytic")
      .begin_object()
      .field("layer_evaluations_per_s_median", analytic_rate)
      .field("evaluations_per_repeat", evals)
      .end_object()
      .end_object();
  out() << j.str() << "\n";
  return 0;
}

const bool registered =
    register_command({"sim", "simulate one query on a SushiAccel config (analytic or SystemC cycle model)",
                      sim_command}) &&
    register_bench({"sim", "cycle-model simulated cycles/s and analytic layer evaluations/s", bench_sim});

}  // namespace
}  // namespace sushi::cli
