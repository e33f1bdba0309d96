// Building a latency table with the accelerator models (kept apart so table users need not link sim/).
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "base/provenance.h"
#include "sched/latency_table.h"
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
  // 2. Candidate SubGraphs: none, and each Pareto subnet's weights cut to the PB.
  t.subgraphs.push_back(none);
  t.subgraph_names.push_back("none");
  t.subgraph_source.push_back(-1);
  for (size_t i = 0; i < t.subnets.size(); ++i) {
    t.subgraphs.push_back(sim::fit_to_pb(accel, space, t.subnets[i]));
    t.subgraph_names.push_back("pb(s" + std::to_string(i) + ")");
    t.subgraph_source.push_back(int(i));
  }
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
