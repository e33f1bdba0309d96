#pragma once
// Query traces: seeded generators (Poisson, Gamma with burstiness CV², a ramping rate, an Azure
// Functions-like diurnal/bursty process), the per-query constraints (latency SLO and/or accuracy target),
// and a validated CSV format.
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/params.h"
#include "base/registry.h"
#include "base/yaml.h"

namespace sushi {

struct Query {
  int64_t id = 0;
  double arrival_ms = 0;
  double slo_ms = 0;      // 0 = no latency SLO
  double acc_target = 0;  // 0 = no accuracy target (top-1 %, else)
  bool has_slo() const { return slo_ms > 0; }
  bool has_acc() const { return acc_target > 0; }
  double deadline_ms() const { return has_slo() ? arrival_ms + slo_ms : 1e300; }
};

// How each query's constraints are drawn. A query is latency-constrained, accuracy-constrained or both, by
// the given fractions. Targets follow a bounded random walk between [lo, hi]: with probability `locality`
// a query keeps the previous query's target, otherwise it moves by a uniform step of at most `step` of the
// range. SUSHI's streams show temporal locality of constraints; locality 0 with step 1 gives i.i.d. targets.
struct ConstraintSpec {
  double latency_fraction = 0.5;   // only an SLO
  double accuracy_fraction = 0.5;  // only an accuracy target
  double both_fraction = 0.0;      // both
  double slo_lo_ms = 5, slo_hi_ms = 20;
  double acc_lo = 74, acc_hi = 77;
  double locality = 0.9;
  double step = 0.2;
};

// The struct's initialisers are the defaults; the schemas (constraint_schema(), each trace kind's) read
// them from a default-constructed spec, so a default is written once.
struct TraceSpec {
  std::string impl =
      "poisson";              // the arrival process, a registered trace kind: poisson | gamma | ramp | azure
  double rate_qps = 100;      // mean rate (poisson, gamma); start rate (ramp); mean rate (azure)
  double cv2 = 1;             // gamma: squared coefficient of variation of inter-arrivals
  double rate_end_qps = 200;  // ramp: final rate
  double accel_qps2 = 10;     // ramp: acceleration tau, qps per second
  double diurnal_amplitude = 0.5;  // azure: relative amplitude of the daily sine
  double diurnal_period_s = 86400;
  double burst_probability = 0.05;  // azure: chance that a minute is a burst
  double burst_pareto_alpha = 1.5;  // azure: burst multiplier ~ Pareto(alpha), heavy-tailed
  double burst_minutes = 1;         // azure: mean burst duration (geometric, minutes; 1 = single minutes)
  std::string file;                 // azure_csv: an Azure Functions 2019 invocation-count CSV
  std::string function = "all";     // azure_csv: HashFunction to replay, or "all" (the sum of every row)
  int64_t start_minute = 0;         // azure_csv: first minute replayed (0-based)
  double scale = 0;                 // azure_csv: counts x scale; 0 = rescale to mean rate_qps
  int64_t count = 1000;             // number of queries
  uint64_t seed = 1;
  ConstraintSpec constraints;

  // Picks the kind by `impl:` (the older `kind:` is accepted too), then parses with its schema: the common
  // keys (rate_qps, count, seed, constraints) and the kind's own; errors name file, key, line and expected.
  static TraceSpec from_yaml(const YamlView& v);
};

// Bounds that keep a generator's work proportional to `count` (checked by the schemas, naming the key, and
// again by generate_trace for specs built in code, e.g. an experiment's load-derived rate).
inline constexpr double kMinRateQps = 1e-3;           // every kind's rate_qps and ramp's rate_end_qps
inline constexpr double kMaxRateQps = 1e6;            // queries/s
inline constexpr double kMinAzureRateQps = 1.0 / 60;  // azure: at least one query per minute on average
inline constexpr double kMaxRampRatio = 1e4;      // ramp: larger / smaller rate (thinning draws per query)
inline constexpr int64_t kMaxQueries = 10000000;  // count (and serve --count)

// An arrival process, registered by name (SUSHI_REGISTER(TraceGenerator, ...)) with its schema, which
// declares the common keys (trace_schema()) and the kind's own.
class TraceGenerator {
 public:
  static constexpr const char* kRegistryKind = "trace";
  using Factory = std::function<std::unique_ptr<TraceGenerator>()>;
  virtual ~TraceGenerator() = default;
  virtual const ParamSchema<TraceSpec>& schema() const = 0;
  // spec.count arrival times in ms, non-decreasing, seeded by spec.seed.
  virtual std::vector<double> arrivals(const TraceSpec& spec) const = 0;
};
// The keys every trace kind has (rate_qps, count, seed), declared once; a kind's schema starts from it.
ParamSchema<TraceSpec> trace_schema(const std::string& kind, const std::string& doc);
const ParamSchema<ConstraintSpec>& constraint_schema();

std::vector<Query> generate_trace(const TraceSpec& spec);

// Helpers for parsing with a schema (candidates for base/params.h): `v` without the keys in `drop` (a section
// parsed by its own schema), and `v` with each key in `keys` given as a list [lo, hi] rewritten as the
// mapping {lo: .., hi: ..} a schema declares as KEY.lo and KEY.hi. Child nodes are shared, so errors still
// give their lines.
YamlView yaml_without_keys(const YamlView& v, const std::set<std::string>& drop);
YamlView yaml_ranges_as_maps(const YamlView& v, const std::set<std::string>& keys);

// CSV with header `id,arrival_ms,slo_ms,acc_target`. Reading validates: header present, 4 numeric columns,
// non-negative values, non-decreasing arrivals, unique ids; errors name the file and line.
std::vector<Query> read_trace_csv(const std::string& path);
// The same, one query at a time, for traces too long to hold (memory: constant for ids in 0, 1, 2, ...
// order; ids that arrive out of order wait in a set until the gap closes).
class TraceReader {
 public:
  explicit TraceReader(const std::string& path);  // reads the header
  bool next(Query& q);  // false after the last query; throws InputError naming the file and line
  int64_t count() const { return count_; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  bool first_time(int64_t id);
  std::string path_;
  std::ifstream in_;
  int64_t lineno_ = 0, count_ = 0, dense_ = 0;
  std::set<int64_t> sparse_;
  double last_arrival_ = 0;
};
// trace_to_csv(trace, comment) written atomically piece by piece (no second copy of the trace as text).
void write_trace_csv(const std::string& path, const std::vector<Query>& trace, const std::string& comment);
// `comment` (provenance) is written as leading `# ` lines, which the reader skips.
std::string trace_to_csv(const std::vector<Query>& trace, const std::string& comment = "");
// One line naming every parameter of a spec (its provenance), and its content hash.
std::string describe(const TraceSpec& spec);

// Burstiness: per-second arrival counts over the trace's whole seconds, their index of dispersion
// (variance / mean; 1 for Poisson, larger when the rate itself varies) at 1 s and 60 s, and a histogram of
// the per-second rate (`rate_bins` equal-width bins from 0 to the busiest second).
struct TraceStats {
  double mean_rate_qps = 0;
  double interarrival_cv2 = 0;
  double idc_1s = 0, idc_60s = 0;
  double peak_rate_qps = 0, p99_rate_qps = 0;
  std::vector<int64_t> rate_histogram;  // seconds per bin
  double bin_width_qps = 0;
};
TraceStats trace_stats(const std::vector<Query>& trace, int rate_bins);

// Per-minute invocation counts of the public Azure Functions 2019 trace (Shahrad et al., ATC'20:
// invocations_per_function_md.anon.dNN.csv): header HashOwner,HashApp,HashFunction,Trigger,1,2,...,N (N <=
// 1440 minutes of a day), one row per function with a non-negative integer count per minute. `function` "all"
// sums every row, else the rows whose HashFunction equals it. Errors name the file and line.
std::vector<double> read_azure_minute_counts(const std::string& path, const std::string& function);
TraceStats trace_stats(const std::vector<Query>& trace);  // rate_bins = 10
// The same statistics one query at a time (Welford; burstiness from per-second counts), for a TraceReader.
class TraceStatsAccumulator {
 public:
  void add(const Query& q);
  TraceStats stats() const;

 private:
  static constexpr int64_t kMaxSeconds = int64_t(1) << 22;  // ~48 days of per-second counts (32 MiB)
  int64_t n_ = 0;
  double last_ms_ = 0, mean_ = 0, m2_ = 0;
  std::vector<double> per_second_;
  bool too_long_ = false;
};

}  // namespace sushi
