#pragma once
// The latency table LT[subnet][SubGraph][batch] that schedulers consult (ARCHITECTURE.md contract 5):
// latency, off-chip bytes and energy of every candidate subnet under every candidate SubGraph in the
// Persistent Buffer, built by the analytic or cycle model (cached on disk by content hash) or loaded from a
// measured profile (latency per batch size, no PB).
#include <cstdint>
#include <string>
#include <vector>

#include "models/space/accuracy.h"
#include "models/space/supernet.h"

namespace sushi::sim {
struct AccelConfig;
struct RunResult;
}  // namespace sushi::sim

namespace sushi {

struct LtEntry {
  double latency_ms = 0;
  int64_t cycles = 0;
  int64_t offchip_weight_bytes = 0, offchip_act_bytes = 0, pb_hit_bytes = 0;
  double energy_pj = 0, offchip_energy_pj = 0;
};

struct PbLoadCost {
  double latency_ms = 0;
  int64_t bytes = 0;
  double energy_pj = 0;
};

struct LatencyTable {
  std::string platform;                     // accelerator or profile name
  std::string key;                          // content hash of everything the table depends on
  std::vector<std::string> subnet_names;    // canonical JSON (or profile ids)
  std::vector<Subnet> subnets;              // empty for profile tables
  std::vector<double> accuracy;             // top-1 %, per subnet
  std::vector<std::string> subgraph_names;  // index 0 is always the empty SubGraph (no SGS)
  std::vector<SubGraph> subgraphs;          // empty for profile tables
  std::vector<int> subgraph_source;         // subnet index each SubGraph was cut from (-1 for the empty one)
  std::vector<int64_t> subgraph_bytes;
  std::vector<PbLoadCost> pb_load;  // per SubGraph
  std::vector<int> batch_sizes{1};
  std::vector<LtEntry> entries;  // [(s * G + g) * B + b]

  size_t num_subnets() const { return accuracy.size(); }
  size_t num_subgraphs() const { return subgraph_names.size(); }
  size_t num_batches() const { return batch_sizes.size(); }
  const LtEntry& at(size_t s, size_t g, size_t b = 0) const {
    return entries[(s * num_subgraphs() + g) * num_batches() + b];
  }
  LtEntry& at(size_t s, size_t g, size_t b = 0) {
    return entries[(s * num_subgraphs() + g) * num_batches() + b];
  }
  // A small table given directly (tests, hand-built examples). latency[s][g] in ms, batch 1.
  static LatencyTable from_matrix(const std::vector<double>& accuracy,
                                  const std::vector<std::vector<double>>& latency,
                                  const std::vector<PbLoadCost>& pb_load = {});
};

// The accuracy-vs-latency Pareto set of `table`'s subnets, by latency without SGS: indices into the
// accuracy table's entries ordered by ascending latency; at most `max_subnets`, evenly spread.
struct ParetoOptions {
  size_t max_subnets = 24;
};

// Builds LT for the Pareto subnets of `accuracy` on `accel`: candidate SubGraphs are the empty one, each
// Pareto subnet's weights cut to the PB (a layer-order prefix, subgraph_source = the subnet) and the
// optimised candidates of sched/subgraph_opt.h (knapsack SubGraphs of single subnets, runs of neighbours and
// all of them; the union and the common core of all when they fit; subgraph_source = -1). Uses the on-disk
// cache in `cache_dir` when non-empty.
LatencyTable build_latency_table(const sim::AccelConfig& accel, const SupernetSpace& space,
                                 const AccuracyTable& accuracy, const std::string& fidelity,
                                 const ParetoOptions& options, const std::string& cache_dir);

// One accelerator run as a table entry.
LtEntry entry_from(const sim::RunResult& run);

// A measured profile (YAML): subnets with accuracy and latency per batch size; no Persistent Buffer.
LatencyTable load_profile_table(const std::string& path);

// Serialisation for the disk cache (a versioned text format; a malformed file is an InputError).
std::string latency_table_to_text(const LatencyTable& t);
LatencyTable latency_table_from_text(const std::string& text, const std::string& origin,
                                     const SupernetSpace* space);

constexpr int kLatencyTableVersion = 2;  // 2: optimised SubGraph candidates

}  // namespace sushi
