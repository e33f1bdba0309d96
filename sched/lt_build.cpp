// Building a latency table with the accelerator models (kept apart so table users need not link sim/).
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "base/provenance.h"
#include "sched/latency_table.h"
#include "sched/subgraph_opt.h"
#include "sim/accel.h"

namespace sushi {

LtEntry entry_from(const sim::RunResult& r) {
  LtEntry e;
  e.latency_ms = r.latency_ms;
  e.cycles = r.cycles;
  e.offchip_weight_bytes = r.offchip_weight_bytes;
  e.offchip_act_bytes = r.offchip_act_bytes;
  e.pb_hit_bytes = r.pb_hit_bytes;
  e.energy_pj = r.energy_pj;
  e.offchip_energy_pj = r.energy_dram_pj;
  return e;
}

namespace {

bool same_subgraph(const SubGraph& a, const SubGraph& b) {
  return a.contains(b) && b.contains(a);
}

void add_candidate(LatencyTable& t, const SubGraph& g, const std::string& name) {
  if (g.bytes() == 0) return;
  for (const SubGraph& h : t.subgraphs)
    if (same_subgraph(g, h)) return;
  t.subgraphs.push_back(g);
  t.subgraph_names.push_back(name);
  t.subgraph_source.push_back(-1);
}

// Optimised candidates (sched/subgraph_opt.h): the knapsack SubGraph of each Pareto subnet alone, of every
// run of 4 and of 8 neighbouring Pareto subnets (stride half the run) and of all of them (uniform weights),
// plus the union and the common core of all Pareto subnets' weights when they fit the PB whole.
void add_optimised_candidates(const sim::AccelConfig& accel, const SupernetSpace& space, LatencyTable& t) {
  const size_t n = t.subnets.size();
  if (n == 0 || accel.pb_bytes <= 0) return;
  const SavingModel m = saving_model(accel, space, t.subnets);
  const int64_t unit = std::max<int64_t>(1, accel.pb_bytes / 4096);
  auto range = [&](size_t lo, size_t hi) {  // subnets lo..hi, uniform
    std::vector<double> w(n, 0.0);
    for (size_t i = lo; i <= hi; ++i) w[i] = 1.0 / double(hi - lo + 1);
    const std::string name = lo == hi ? "opt(s" + std::to_string(lo) + ")"
                                      : "opt(s" + std::to_string(lo) + "-s" + std::to_string(hi) + ")";
    add_candidate(t, optimise_subgraph(m, w, accel.pb_bytes, unit), name);
  };
  for (size_t i = 0; i < n; ++i) range(i, i);
  for (size_t width : {size_t(4), size_t(8)})
    for (size_t lo = 0; lo + width <= n; lo += width / 2) range(lo, lo + width - 1);
  range(0, n - 1);
  SubGraph uni = m.reads[0], core = m.reads[0];
  for (size_t i = 1; i < n; ++i) {
    core = intersect(core, m.reads[i]);
    for (size_t k = 0; k < uni.slices.size(); ++k) {
      WeightSlice& u = uni.slices[k];
      const WeightSlice& r = m.reads[i].slices[k];
      if (u.empty())
        u = r;
      else if (!r.empty())
        u.out = std::max(u.out, r.out), u.in = std::max(u.in, r.in), u.k = std::max(u.k, r.k),
        u.has_bias = u.has_bias || r.has_bias;
    }
  }
  if (uni.bytes() <= accel.pb_bytes) add_candidate(t, uni, "union(all)");
  if (core.bytes() <= accel.pb_bytes) add_candidate(t, core, "core(all)");
}

// The cache is optional: a failure to write it is a warning and costs the next run time only.
void write_cache(const std::string& dir, const std::string& file, const LatencyTable& t) {
  try {
    make_directories(dir);
    write_file_atomic(file, latency_table_to_text(t));
  } catch (const InputError& e) {
    std::cerr << "warning: latency table not cached: " << e.what() << "\n";
  }
}
}  // namespace

LatencyTable build_latency_table(const sim::AccelConfig& accel, const SupernetSpace& space,
                                 const AccuracyTable& accuracy, const std::string& fidelity,
                                 const ParetoOptions& options, const std::string& cache_dir) {
  // Cache key (contract 5): the space file, the accuracy table, the accelerator config, the fidelity, the
  // Pareto size, the model version (a hash of the model sources) and this table format's version.
  const std::string key =
      content_hash(read_file(space.source()) + "\n" + read_file(accuracy.source()) + "\n" + accel.hash +
                   "\n" + fidelity + "\n" + std::to_string(options.max_subnets) + "\n" + model_version() +
                   "\nv" + std::to_string(kLatencyTableVersion));
  const std::string cache_file =
      cache_dir.empty() ? "" : cache_dir + "/lt-" + accel.name + "-" + key + ".txt";
  if (!cache_file.empty() && std::filesystem::exists(cache_file)) {
    // A damaged cache entry (bad checksum, truncated) is a miss, not an error: rebuilt and rewritten.
    try {
      LatencyTable t = latency_table_from_text(read_file(cache_file), cache_file, &space);
      if (t.key == key) return t;
    } catch (const InputError& e) {
      std::cerr << "warning: latency-table cache entry ignored: " << e.what() << "\n";
    }
  }

  // 1. Latency of every subnet of the accuracy table without SGS, then the Pareto front (accuracy up,
  //    latency down), thinned evenly to at most max_subnets.
  struct Point {
    Subnet s;
    double acc, ms;
  };
  std::vector<Point> points;
  const SubGraph none = space.empty_subgraph();
  for (const auto& [s, acc] : accuracy.entries())
    points.push_back({s, acc, sim::simulate(accel, space, s, none, "analytic").latency_ms});
  std::sort(points.begin(), points.end(),
            [](const Point& a, const Point& b) {  // a total order: the same front under any std::sort
              if (a.ms != b.ms) return a.ms < b.ms;
              return a.acc != b.acc ? a.acc > b.acc : a.s < b.s;
            });
  std::vector<Point> front;
  for (const Point& p : points)
    if (front.empty() || p.acc > front.back().acc) front.push_back(p);
  if (options.max_subnets >= 2 && front.size() > options.max_subnets) {
    std::vector<Point> thinned;
    for (size_t i = 0; i < options.max_subnets; ++i)
      thinned.push_back(front[(i * (front.size() - 1)) / (options.max_subnets - 1)]);
    front = thinned;
  }

  LatencyTable t;
  t.platform = accel.name;
  t.key = key;
  for (const Point& p : front) {
    t.subnets.push_back(p.s);
    t.subnet_names.push_back(space.to_json(p.s));
    t.accuracy.push_back(p.acc);
  }
  // 2. Candidate SubGraphs: none, each Pareto subnet's weights cut to the PB (layer-order prefixes), and the
  //    optimised ones (add_optimised_candidates).
  t.subgraphs.push_back(none);
  t.subgraph_names.emplace_back("none");
  t.subgraph_source.push_back(-1);
  for (size_t i = 0; i < t.subnets.size(); ++i) {
    t.subgraphs.push_back(sim::fit_to_pb(accel, space, t.subnets[i]));
    t.subgraph_names.push_back("pb(s" + std::to_string(i) + ")");
    t.subgraph_source.push_back(int(i));
  }
  add_optimised_candidates(accel, space, t);
  for (const SubGraph& g : t.subgraphs) {
    t.subgraph_bytes.push_back(g.bytes());
    const sim::PbLoadResult load = sim::pb_load_cost(accel, g);
    t.pb_load.push_back({load.cycles / (accel.clock_mhz * 1e3), load.bytes, load.energy_pj});
  }
  // 3. Every (subnet, SubGraph) point.
  t.entries.resize(t.num_subnets() * t.num_subgraphs());
  for (size_t s = 0; s < t.num_subnets(); ++s)
    for (size_t g = 0; g < t.num_subgraphs(); ++g)
      t.at(s, g) = entry_from(sim::simulate(accel, space, t.subnets[s], t.subgraphs[g], fidelity));
  if (!cache_file.empty()) write_cache(cache_dir, cache_file, t);
  return t;
}

}  // namespace sushi
