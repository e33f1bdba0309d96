#include "sim/evaluate.h"

#include <map>
#include <mutex>

#include "base/content_cache.h"
#include "base/errors.h"
#include "base/params.h"
#include "sim/mapping.h"
#include "sim/model.h"

namespace sushi::sim {
namespace {

// Spaces loaded by evaluate(), by content hash: a Point names its space by file and hash.
std::shared_ptr<const SupernetSpace> space_for(const std::string& file, const std::string& hash) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const SupernetSpace>> spaces;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = spaces[hash];
  if (!slot) {
    const std::string text = read_file(file);
    if (content_hash(text) != hash)
      throw InputError(file + ": changed since the point was made (hash " + content_hash(text) +
                       ", expected " + hash + ")");
    slot = std::make_shared<const SupernetSpace>(SupernetSpace::from_yaml(YamlView::parse(text, file)));
  }
  return slot;
}

SubGraph cache_subgraph(const AccelConfig& accel, const SupernetSpace& space, const std::string& spec) {
  if (spec.empty() || spec == "none") return space.empty_subgraph();
  return fit_to_pb(accel, space, space.parse_subnet(spec));
}

SimEvaluation compute(const Point& point) {
  const YamlView v = point.view();
  SimEvaluation e;
  e.accel = accel_schema().parse(v.at("accel"));
  e.accel.file = v.at("accel").where();
  e.accel.hash = content_hash(canonical_json(e.accel));
  e.space = space_for(v.at("supernet").get<std::string>("file"), v.at("supernet").get<std::string>("hash"));
  e.subnet = e.space->parse_subnet(v.get<std::string>("subnet"));
  const int resolution = v.get<int>("resolution");
  if (resolution != 0) {
    e.subnet.resolution = resolution;
    e.space->validate(e.subnet, "resolution");
  }
  e.cached = cache_subgraph(e.accel, *e.space, v.get<std::string>("cache"));
  e.pb_load = pb_load_cost(e.accel, e.cached);
  e.run = simulate(e.accel, *e.space, e.subnet, e.cached, parse_fidelity(v.get<std::string>("model")));
  return e;
}

}  // namespace

Point make_sim_point(const SimRequest& r, Provenance& provenance) {
  const AccelConfig accel = AccelConfig::load(r.accel_file, r.overrides);
  provenance.add_input("accel", r.accel_file, content_hash(read_file(r.accel_file)));
  const std::string space_text = provenance.read_input("supernet", r.supernet_file);
  JsonWriter w;
  w.begin_object().key("accel");
  accel_schema().write(w, accel);
  w.key("supernet")
      .begin_object()
      .field("file", r.supernet_file)
      .field("hash", content_hash(space_text))
      .end_object()
      .field("subnet", r.subnet)
      .field("resolution", r.resolution)
      .field("cache", r.cache)
      .field("model", parse_fidelity(r.model))
      .end_object();
  Point point = Point::parse(w.str(), "sushi sim");
  provenance.set_config(point.canonical());
  provenance.set_fidelity(r.model);
  return point;
}

std::shared_ptr<const SimEvaluation> evaluate(const Point& point) {
  static ContentCache<SimEvaluation> cache(1024);  // bounded: each entry holds a per-layer list
  return cache.get(point.hash(), [&] { return compute(point); });
}

bool AccelPatch::add(const std::string& path, const std::string& value, const std::string& origin) {
  YAML::Node node(value);
  std::function<void(AccelConfig&)> set = accel_schema().patch(path, YamlView(node, origin, "accel." + path));
  if (!set) return false;
  setters.push_back(std::move(set));
  return true;
}

namespace {

// The steps of compute() and simulate() that depend on the query and the PB size only, in their order (so
// the same InputError comes first), ending with the layers decoded from the job's registers as models read
// them.
PreparedQuery prepare(const SimQuery& q, int64_t pb_bytes) {
  PreparedQuery p;
  p.space = space_for(q.supernet_file, q.supernet_hash);
  Subnet subnet = p.space->parse_subnet(q.subnet);
  if (q.resolution != 0) {
    subnet.resolution = q.resolution;
    p.space->validate(subnet, "resolution");
  }
  AccelConfig pb{};  // fit_to_pb() and make_job() read the PB size only
  pb.pb_bytes = pb_bytes;
  p.cached = cache_subgraph(pb, *p.space, q.cache);
  p.cached_bytes = p.cached.bytes();
  const AccelJob job = make_job(pb, p.space->layers(subnet, subnet.resolution), p.cached);
  for (size_t i = 0; i < job.regs.size(); ++i) {
    p.layers.push_back(decode_layer(job.regs[i], job.meta[i]));
    p.hits.push_back(decode_cached(job.regs[i]));
  }
  return p;
}

}  // namespace

std::shared_ptr<const PreparedQuery> prepare_query(const SimQuery& q, int64_t pb_bytes) {
  static ContentCache<PreparedQuery> cache(4096);
  const std::string key = q.supernet_hash + "\t" + q.supernet_file + "\t" + q.subnet + "\t" + q.cache + "\t" +
                          std::to_string(q.resolution) + "\t" + std::to_string(pb_bytes);
  return cache.get(key, [&] { return prepare(q, pb_bytes); });
}

// AnalyticModel::run() and sum_layers() without the per-layer list: the same per-layer arithmetic and the
// same summation order, so every total is bit-identical.
SimTotals evaluate_analytic(const AccelConfig& accel, const PreparedQuery& q) {
  SimTotals t;
  t.pb_load = pb_load_cost(accel, q.cached);  // throws when the SubGraph does not fit, as compute() does
  t.cached_bytes = q.cached_bytes;
  t.layers = int64_t(q.layers.size());
  RunResult& run = t.run;
  const double call_ms = accel.call_overhead_us / 1e3;
  for (size_t i = 0; i < q.layers.size(); ++i) {
    const LayerPlan p = plan_layer(accel, q.layers[i], q.hits[i]);
    const LayerCycles c = analytic_cycles(accel, p);
    LayerResult r;
    r.cycles = c.cycles;
    r.compute_cycles = c.compute_cycles;
    finish_layer_result(accel, p, layer_traffic(p), r);
    run.call_overhead_ms += call_ms;
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
  run.energy_pj = run.energy_dram_pj + run.energy_sram_pj + run.energy_mac_pj;
  run.latency_ms = double(run.cycles) / (accel.clock_mhz * 1e3) + run.call_overhead_ms;
  run.utilization =
      run.cycles > 0 ? double(run.macs) / (double(run.cycles) * double(accel.peak_macs_per_cycle())) : 0;
  return t;
}

}  // namespace sushi::sim
