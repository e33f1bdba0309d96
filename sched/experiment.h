#pragma once
// Serving experiments (workloads/experiments/*.yaml): for every platform (an accelerator config, or a
// measured profile) and every query stream, run each policy through the serving simulator and write the
// comparison with provenance: results.json, summary.csv, queries.csv and SVG plots per (platform, stream).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "base/point.h"
#include "base/provenance.h"
#include "base/spill.h"
#include "base/stats.h"
#include "sched/feasibility.h"
#include "sched/serving.h"

namespace sushi {

// The load a stream offers is a utilisation of a named reference service time (without SGS, batch 1):
// `target` = the mean over the stream's queries of the service time of the subnet each query names (its SLO's
// subnet, or the fastest subnet meeting its accuracy target), `fastest`, `median`, `slowest` = that Pareto
// subnet, `mean` = the unweighted mean over the Pareto subnets (the older definition).
enum class LoadReference { Mean, Target, Fastest, Median, Slowest };
const char* to_string(LoadReference r);

struct StreamSpec {
  std::string name;
  TraceSpec trace;
  double load = 0;  // > 0: arrival rate = load / reference service time (offered utilisation)
  LoadReference load_reference = LoadReference::Mean;
  std::vector<double> loads;  // non-empty: also an attainment-vs-load curve at these offered utilisations
  double slo_rel_lo = -1,
         slo_rel_hi = -1;  // >= 0: SLO range as fractions from the fastest to the slowest subnet
  // > 0: a query's SLO is this multiple of the service time (no SGS, batch 1) of its target subnet, the
  // target walking over the Pareto subnets from fraction slo_subnets.lo to .hi of the way from the fastest to
  // the most accurate (the constraint generator's random walk, so targets keep their locality).
  double slo_multiple = -1;
  double slo_sub_lo = 0, slo_sub_hi = 1;
  // Non-empty: the stream replays this trace CSV (sushi trace generate's format) as it is, read as a stream
  // (memory does not grow with its length), once whatever `seeds`; instead of a generated `trace:`.
  std::string trace_file;
};

struct ExperimentSpec {
  std::string name, description, file;
  std::string supernet, accuracy_table, profile;
  std::vector<std::string> accelerators;
  std::string fidelity = "analytic";  // the accelerator model that builds the latency table
  // false: each dispatched query is costed from the latency table; true: it runs on the SystemC cycle model,
  // co-simulated in one kernel with the serving loop.
  bool cosim = false;
  std::string cosim_model = "cycle";  // the accelerator model that executes every query when cosim
  size_t max_subnets = 24;
  int seeds = 1;  // runs per stream: trace seeds seed, seed + 1, ...; figures are mean +- 95% CI (Student t)
  int oracle_window = 8;  // queries per window of the hindsight-oracle SubGraph schedule
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

// What dynamic SubGraph switching is worth on one run, as mean service time per query on the same demand (the
// subnets the no-SGS baseline served, in order): no PB, the best static SubGraph in hindsight (its load
// included), and the hindsight oracle (the best SubGraph per window of `oracle_window` queries, reloads
// charged, by dynamic programming over the windows); beside each SGS policy's own busy time per query.
struct SwitchingValue {
  double none_ms = NAN, best_static_ms = NAN, oracle_ms = NAN;
  int best_static = 0;
  int64_t oracle_switches = 0;
};

// One seed's run of every policy of a stream.
struct SeedRun {
  uint64_t seed = 0;
  double rate_qps = 0, reference_ms = 0;
  FeasibilityBound bound;
  std::vector<ServingSummary> summaries;  // in policy order
  SwitchingValue switching;
};

// One offered load of the attainment-vs-load curve: per policy, over the seeds.
struct LoadPoint {
  double load = 0;
  MeanCi bound, bound_pairwise;
  std::vector<MeanCi> attainment, utilisation, accuracy;  // in policy order
};

// What the outputs need of one policy's first-seed run, gathered while its records stream by (they are not
// kept): the points of its latency CDF and of its PB hit ratio over time.
struct RunPlots {
  std::vector<std::pair<double, double>> latency_cdf;  // (end-to-end ms, fraction of served queries)
  std::vector<std::pair<double, double>> pb_hits;      // (time s, hit ratio per 1% of the queries)
};

struct StreamResult {
  std::string platform, stream;
  std::string trace_description;
  double slo_lo_ms = 0, slo_hi_ms = 0, rate_qps = 0;
  double load = 0, slo_multiple = -1;
  LoadReference load_reference = LoadReference::Mean;
  std::vector<SeedRun> seeds;               // every seed; `policies` below hold the first seed's full records
  std::vector<LoadPoint> curve;             // attainment vs offered load (streams with loads:)
  std::vector<std::string> subgraph_names;  // the platform's candidate SubGraphs (index 0: none)
  std::vector<int64_t> subgraph_bytes;      // their sizes
  int64_t pb_bytes = 0;                     // Persistent Buffer capacity (0 for profiles)
  std::vector<ServingResult> policies;      // the first seed's runs (summaries and PB events; no records)
  std::vector<RunPlots> plots;              // per policy, first seed
  std::vector<double> slo_marks;            // the lowest, median and highest SLO of the first seed (or none)
  std::shared_ptr<SpillFile> query_rows;    // queries.csv's rows: the first seed, every policy in order
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
  int64_t count = 0;        // > 0: queries per stream
  std::string platform;     // non-empty: run only this platform (accelerator or profile name)
  std::string output_dir;   // non-empty: replaces `output:`
  bool cosim = false;       // true: co-simulate every query on the cycle model
  std::string cosim_model;  // non-empty: co-simulate every query on this accelerator model (cycle, rtl)
  int seeds = 0;            // > 0: replaces `seeds:`
  std::string trace_file;   // non-empty: every stream replays this trace CSV (as trace_file:)
};

// Applies the overrides that change what is run to `spec` (so the outputs record them), then runs it.
ExperimentResult run_experiment(ExperimentSpec& spec, const ExperimentOverrides& overrides);
// Writes every output file (atomically) and returns the top-level JSON document.
std::string write_experiment_outputs(const ExperimentSpec& spec, const ExperimentResult& result);
// The human comparison table printed by `sushi serve`.
std::string format_comparison(const ExperimentResult& result);

}  // namespace sushi
