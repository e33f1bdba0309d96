#pragma once
// Serving experiments (workloads/experiments/*.yaml): for every platform (an accelerator config, or a
// measured profile) and every query stream, run each policy through the serving simulator and write the
// comparison with provenance: results.json, summary.csv, queries.csv and SVG plots per (platform, stream).
#include <string>
#include <vector>

#include "base/point.h"
#include "base/provenance.h"
#include "sched/serving.h"

namespace sushi {

struct StreamSpec {
  std::string name;
  TraceSpec trace;
  double load = 0;  // > 0: arrival rate = load / mean Pareto latency without SGS
  double slo_rel_lo = -1,
         slo_rel_hi = -1;  // >= 0: SLO range as fractions from the fastest to the slowest subnet
};

struct ExperimentSpec {
  std::string name, description, file;
  std::string supernet, accuracy_table, profile;
  std::vector<std::string> accelerators;
  std::string fidelity = "analytic";  // the accelerator model that builds the latency table
  // false: each dispatched query is costed from the latency table; true: it runs on the SystemC cycle model,
  // co-simulated in one kernel with the serving loop.
  bool cosim = false;
  size_t max_subnets = 24;
  ServingOptions serving;
  std::vector<StreamSpec> streams;
  std::vector<YamlView> policies;
  std::string output_dir;
  std::string cache_dir = ".sushi_cache";
  std::vector<Override> accel_overrides;  // `--set accel.PATH=V`: applied to every accelerator config
  // Filled while loading, from the bytes read: the experiment, and later each input run_experiment loads.
  Provenance provenance{"sushi serve"};

  // `overrides` (`--set PATH=VALUE`) replace values of the experiment by dotted path before it is parsed;
  // paths under `accel.` apply to every accelerator config instead.
  static ExperimentSpec load(const std::string& path, const std::vector<Override>& overrides = {});
};

struct StreamResult {
  std::string platform, stream;
  std::string trace_description;
  double slo_lo_ms = 0, slo_hi_ms = 0, rate_qps = 0;
  std::vector<std::string> subgraph_names;  // the platform's candidate SubGraphs (index 0: none)
  int64_t pb_bytes = 0;                     // Persistent Buffer capacity (0 for profiles)
  std::vector<ServingResult> policies;
};

struct PlatformSummary {
  std::string platform;
  std::string latency_table_key;
  size_t subnets = 0, subgraphs = 0;
  double min_latency_ms = 0, max_latency_ms = 0;
};

struct ExperimentResult {
  std::vector<PlatformSummary> platforms;
  std::vector<StreamResult> streams;
};

struct ExperimentOverrides {
  int64_t count = 0;       // > 0: queries per stream
  std::string platform;    // non-empty: run only this platform (accelerator or profile name)
  std::string output_dir;  // non-empty: replaces `output:`
  bool cosim = false;      // true: co-simulate every query on the cycle model
};

// Applies the overrides that change what is run to `spec` (so the outputs record them), then runs it.
ExperimentResult run_experiment(ExperimentSpec& spec, const ExperimentOverrides& overrides);
// Writes every output file (atomically) and returns the top-level JSON document.
std::string write_experiment_outputs(const ExperimentSpec& spec, const ExperimentResult& result);
// The human comparison table printed by `sushi serve`.
std::string format_comparison(const ExperimentResult& result);

}  // namespace sushi
