#include "traces/trace.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "base/csv.h"
#include "base/errors.h"
#include "base/manifest.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/random.h"
#include "base/record.h"

namespace sushi {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kMaxMinuteDraws = int64_t(1) << 22;  // azure: larger minutes draw only what is needed

double draw_target(Rng& rng, double& current, double lo, double hi, const ConstraintSpec& c, bool first) {
  if (first) {
    current = lo + (hi - lo) * rng.uniform();
  } else if (rng.uniform() >= c.locality) {
    const double delta = (2 * rng.uniform() - 1) * c.step * (hi - lo);
    current = std::clamp(current + delta, lo, hi);
  }
  return current;
}

std::string num(double x) {
  std::ostringstream o;
  o << x;
  return o.str();
}

std::string rate_text(const std::string& key, double r) {
  if (r >= kMinRateQps && r <= kMaxRateQps) return "";
  return key + " = " + num(r) + ": expected a rate in [" + num(kMinRateQps) + ", " + num(kMaxRateQps) +
         "] queries/s";
}

// "" or what makes the generator's work unbounded by `count` (see the bounds in trace.h), one per key.
std::string count_error(const TraceSpec& t) {
  if (t.count >= 1 && t.count <= kMaxQueries) return "";
  return "count = " + std::to_string(t.count) + ": expected 1.." + std::to_string(kMaxQueries) + " queries";
}

std::string rate_error(const TraceSpec& t) {
  std::string e = rate_text("rate_qps", t.rate_qps);
  if (!e.empty() || t.impl != "azure" || t.rate_qps >= kMinAzureRateQps) return e;
  return "rate_qps = " + num(t.rate_qps) + ": azure expects at least 1/60 queries/s (one per minute)";
}

std::string ramp_error(const TraceSpec& t) {
  if (t.impl != "ramp") return "";
  std::string e = rate_text("rate_end_qps", t.rate_end_qps);
  if (!e.empty()) return e;
  const double hi = std::max(t.rate_qps, t.rate_end_qps), lo = std::min(t.rate_qps, t.rate_end_qps);
  if (hi <= lo * kMaxRampRatio) return "";
  return "rate_qps = " + num(t.rate_qps) + " and rate_end_qps = " + num(t.rate_end_qps) +
         ": expected rates within a factor of " + num(kMaxRampRatio) + " of each other";
}

std::string spec_error(const TraceSpec& t) {
  for (const std::string& e : {count_error(t), rate_error(t), ramp_error(t)})
    if (!e.empty()) return e;
  return "";
}

std::string range_check(double lo, double hi) {
  return hi >= lo ? "" : "expected lo <= hi";
}

}  // namespace

// `v` without the keys in `drop`: the same child nodes, so errors still give their lines.
YamlView yaml_without_keys(const YamlView& v, const std::set<std::string>& drop) {
  if (!v.is_map()) v.fail("expected a mapping");
  YAML::Node m(YAML::NodeType::Map);
  for (const auto& kv : v.node()) {
    const std::string key = v.key_text(kv.first);
    if (!drop.count(key)) m[key] = kv.second;
  }
  return YamlView(m, v.file(), v.path());
}

// `v` with each range key given as a list `[lo, hi]` rewritten as the mapping {lo, hi} the schema declares.
YamlView yaml_ranges_as_maps(const YamlView& v, const std::set<std::string>& keys) {
  if (!v.is_map()) v.fail("expected a mapping");
  YAML::Node m(YAML::NodeType::Map);
  for (const auto& kv : v.node()) {
    const std::string key = v.key_text(kv.first);
    if (keys.count(key) && kv.second.IsSequence()) {
      const YamlView r = v.at(key);
      if (r.size() != 2) r.fail("expected [lo, hi]");
      m[key]["lo"] = kv.second[0];
      m[key]["hi"] = kv.second[1];
    } else {
      m[key] = kv.second;
    }
  }
  return YamlView(m, v.file(), v.path());
}

const ParamSchema<ConstraintSpec>& constraint_schema() {
  static const ConstraintSpec d{};
  static const ParamSchema<ConstraintSpec> s =
      ParamSchema<ConstraintSpec>("constraints", "per-query latency SLO and/or accuracy target")
          .real("latency_fraction", &ConstraintSpec::latency_fraction, d.latency_fraction, {0, 1}, "",
                "share of queries with only an SLO")
          .real("accuracy_fraction", &ConstraintSpec::accuracy_fraction, d.accuracy_fraction, {0, 1}, "",
                "share of queries with only an accuracy target")
          .real("both_fraction", &ConstraintSpec::both_fraction, d.both_fraction, {0, 1}, "",
                "share of queries with both")
          .real("slo_ms.lo", &ConstraintSpec::slo_lo_ms, d.slo_lo_ms, {0, kInf, true}, "ms",
                "lowest SLO (slo_ms: [lo, hi])")
          .real("slo_ms.hi", &ConstraintSpec::slo_hi_ms, d.slo_hi_ms, {0, kInf, true}, "ms", "highest SLO")
          .real("acc_target.lo", &ConstraintSpec::acc_lo, d.acc_lo, {0, 100, true}, "%",
                "lowest accuracy target, top-1 (acc_target: [lo, hi])")
          .real("acc_target.hi", &ConstraintSpec::acc_hi, d.acc_hi, {0, 100, true}, "%",
                "highest accuracy target, top-1")
          .real("locality", &ConstraintSpec::locality, d.locality, {0, 1}, "",
                "probability that a query keeps the previous query's target")
          .real("step", &ConstraintSpec::step, d.step, {0, 1}, "",
                "largest move of a target, as a fraction of its range")
          .check("",
                 [](const ConstraintSpec& c) {
                   const double sum = c.latency_fraction + c.accuracy_fraction + c.both_fraction;
                   return std::fabs(sum - 1) > 1e-9
                              ? "expected latency_fraction + accuracy_fraction + both_fraction summing to 1, "
                                "got " +
                                    std::to_string(sum)
                              : std::string();
                 })
          .check("slo_ms", [](const ConstraintSpec& c) { return range_check(c.slo_lo_ms, c.slo_hi_ms); })
          .check("acc_target", [](const ConstraintSpec& c) { return range_check(c.acc_lo, c.acc_hi); });
  return s;
}

ParamSchema<TraceSpec> trace_schema(const std::string& kind, const std::string& doc) {
  static const TraceSpec d{};
  return ParamSchema<TraceSpec>(kind, doc)
      .string("impl", &TraceSpec::impl, kind, "the arrival process (the older key `kind:` is accepted too)")
      .real("rate_qps", &TraceSpec::rate_qps, d.rate_qps, {0, kInf, true}, "queries/s",
            "mean arrival rate (ramp: the start rate)")
      .integer("count", &TraceSpec::count, d.count, {1, 100000000}, "queries", "number of queries")
      .integer("seed", &TraceSpec::seed, d.seed, {0}, "", "random seed")
      .check("count", count_error)
      .check("rate_qps", rate_error);
}

TraceSpec TraceSpec::from_yaml(const YamlView& v) {
  if (!v.is_map()) v.fail("expected a mapping (a trace spec)");
  if (v.has("impl") && v.has("kind")) v.at("kind").fail("give impl (or the older kind), not both");
  const std::string key = v.has("kind") ? "kind" : "impl";
  const std::string impl = v.has(key) ? v.get<std::string>(key) : TraceSpec{}.impl;
  const std::string where = v.has(key) ? v.at(key).where() : v.where();
  const auto generator = Registry<TraceGenerator>::get(impl, where)();
  TraceSpec t = generator->schema().parse(yaml_without_keys(v, {"kind", "constraints"}));
  t.impl = impl;
  if (!t.file.empty()) {  // relative to the project root of the YAML file, its folder, then the cwd
    const std::string found = resolve_yaml_path(t.file, v.file(), nullptr);
    if (found.empty()) v.at("file").fail("file '" + t.file + "' not found");
    t.file = found;
  }
  if (v.has("constraints"))
    t.constraints =
        constraint_schema().parse(yaml_ranges_as_maps(v.at("constraints"), {"slo_ms", "acc_target"}));
  return t;
}

namespace {

// Poisson and Gamma: inter-arrival ~ Gamma(shape 1/CV², scale CV²/λ): mean 1/λ, squared coefficient of
// variation CV² (1 for Poisson).
std::vector<double> gamma_arrivals(const TraceSpec& spec, double cv2) {
  Rng rng(spec.seed);
  std::vector<double> arrivals;
  arrivals.reserve(size_t(spec.count));
  double t = 0;
  for (int64_t i = 0; i < spec.count; ++i) {
    t += rng.gamma(1.0 / cv2, cv2 / spec.rate_qps);
    arrivals.push_back(t * 1000);
  }
  return arrivals;
}

class Poisson : public TraceGenerator {
 public:
  static const ParamSchema<TraceSpec>& params() {
    static const ParamSchema<TraceSpec> s = trace_schema("poisson", "Poisson arrivals");
    return s;
  }
  const ParamSchema<TraceSpec>& schema() const override { return params(); }
  std::vector<double> arrivals(const TraceSpec& spec) const override { return gamma_arrivals(spec, 1.0); }
};

class Gamma : public TraceGenerator {
 public:
  static const ParamSchema<TraceSpec>& params() {
    static const TraceSpec d{};
    static const ParamSchema<TraceSpec> s =
        trace_schema("gamma", "Gamma inter-arrivals (renewal process with burstiness CV^2)")
            .real("cv2", &TraceSpec::cv2, d.cv2, {0, kInf, true}, "",
                  "squared coefficient of variation of inter-arrivals (1 = Poisson)");
    return s;
  }
  const ParamSchema<TraceSpec>& schema() const override { return params(); }
  std::vector<double> arrivals(const TraceSpec& spec) const override {
    return gamma_arrivals(spec, spec.cv2);
  }
};

// Non-homogeneous Poisson process, λ(t) = min(λ_end, λ0 + τ t) (or max for a falling ramp), by thinning.
class Ramp : public TraceGenerator {
 public:
  static const ParamSchema<TraceSpec>& params() {
    static const TraceSpec d{};
    static const ParamSchema<TraceSpec> s =
        trace_schema("ramp", "Poisson arrivals whose rate ramps linearly from rate_qps to rate_end_qps")
            .real("rate_end_qps", &TraceSpec::rate_end_qps, d.rate_end_qps, {0, kInf, true}, "queries/s",
                  "final rate")
            .real("accel_qps2", &TraceSpec::accel_qps2, d.accel_qps2, {0, kInf, true}, "queries/s^2",
                  "acceleration tau of the rate")
            .check("rate_end_qps", ramp_error);
    return s;
  }
  const ParamSchema<TraceSpec>& schema() const override { return params(); }
  std::vector<double> arrivals(const TraceSpec& spec) const override {
    Rng rng(spec.seed);
    std::vector<double> arrivals;
    arrivals.reserve(size_t(spec.count));
    const double lmax = std::max(spec.rate_qps, spec.rate_end_qps);
    const double dir = spec.rate_end_qps >= spec.rate_qps ? 1 : -1;
    double t = 0;
    while (int64_t(arrivals.size()) < spec.count) {
      t += rng.exponential(lmax);
      double rate = spec.rate_qps + dir * spec.accel_qps2 * t;
      rate = dir > 0 ? std::min(rate, spec.rate_end_qps) : std::max(rate, spec.rate_end_qps);
      if (rng.uniform() * lmax <= rate) arrivals.push_back(t * 1000);
    }
    return arrivals;
  }
};

// k arrivals uniform within the minute starting at t0 (s), appended in order up to `count` in all. A huge
// minute draws only the leading arrivals still needed, as the first order statistics of k uniforms (each the
// minimum of the uniforms left), so the work stays bounded by `count`.
void add_minute(Rng& rng, double t0, int64_t k, int64_t count, std::vector<double>& arrivals) {
  std::vector<double> in_minute;
  if (k <= kMaxMinuteDraws) {
    for (int64_t i = 0; i < k; ++i) in_minute.push_back((t0 + 60 * rng.uniform()) * 1000);
    std::sort(in_minute.begin(), in_minute.end());
  } else {
    double u = 0;
    const int64_t need = std::min(k, count - int64_t(arrivals.size()));
    for (int64_t i = 0; i < need; ++i) {
      u += (1 - u) * (1 - std::pow(1 - rng.uniform(), 1.0 / double(k - i)));
      in_minute.push_back((t0 + 60 * u) * 1000);
    }
  }
  for (double a : in_minute) {
    if (int64_t(arrivals.size()) == count) break;
    arrivals.push_back(a);
  }
}

// Per-minute invocation counts: Poisson with mean λ·60·diurnal(t)·burst, where diurnal is a sine of the
// configured period and a minute is a burst with the given probability, its multiplier drawn from a
// Pareto(α) (heavy tail, normalised so the long-run mean rate stays λ). Arrivals within a minute are
// uniform, as the Azure Functions 2019 trace gives only per-minute counts.
class Azure : public TraceGenerator {
 public:
  static const ParamSchema<TraceSpec>& params() {
    static const TraceSpec d{};
    static const ParamSchema<TraceSpec> s =
        trace_schema("azure", "Azure Functions-like: per-minute Poisson counts, diurnal sine, Pareto bursts")
            .real("diurnal_amplitude", &TraceSpec::diurnal_amplitude, d.diurnal_amplitude, {0, 1}, "",
                  "relative amplitude of the diurnal sine, in [0, 1)")
            .real("diurnal_period_s", &TraceSpec::diurnal_period_s, d.diurnal_period_s, {0, kInf, true}, "s",
                  "period of the diurnal sine")
            .real("burst_probability", &TraceSpec::burst_probability, d.burst_probability, {0, 1}, "",
                  "chance that a minute is a burst")
            .real("burst_pareto_alpha", &TraceSpec::burst_pareto_alpha, d.burst_pareto_alpha, {1, kInf, true},
                  "", "burst multiplier ~ Pareto(alpha), alpha > 1 (finite mean)")
            .real("burst_minutes", &TraceSpec::burst_minutes, d.burst_minutes, {1, 1e6}, "minutes",
                  "mean burst duration: a burst keeps its multiplier for a geometric number of minutes")
            .check("diurnal_amplitude", [](const TraceSpec& t) {
              return t.diurnal_amplitude < 1 ? "" : "expected a value in [0, 1)";
            });
    return s;
  }
  const ParamSchema<TraceSpec>& schema() const override { return params(); }
  std::vector<double> arrivals(const TraceSpec& spec) const override {
    Rng rng(spec.seed);
    std::vector<double> arrivals;
    arrivals.reserve(size_t(spec.count));
    const double alpha = spec.burst_pareto_alpha;
    const double pareto_mean = alpha / (alpha - 1);
    // A minute outside a burst starts one with probability p; it lasts Geometric(mean D) minutes with one
    // Pareto multiplier, so the long-run share of burst minutes is pD / (pD + 1 - p).
    const double p = spec.burst_probability, D = spec.burst_minutes;
    const double share = p * D / std::max(1e-300, p * D + 1 - p);
    const double norm = 1.0 / (1 - share + share * pareto_mean);
    int64_t burst_left = 0;
    double burst_mult = 1;
    for (int64_t minute = 0; int64_t(arrivals.size()) < spec.count; ++minute) {
      const double t0 = minute * 60.0;
      const double diurnal =
          1 + spec.diurnal_amplitude * std::sin(2 * M_PI * (t0 + 30) / spec.diurnal_period_s);
      if (burst_left == 0 && rng.uniform() < p) {
        burst_mult = std::pow(1 - rng.uniform(), -1.0 / alpha);
        burst_left = 1;
        while (D > 1 && rng.uniform() >= 1 / D && burst_left < (int64_t(1) << 40)) ++burst_left;
      }
      double mult = norm;
      if (burst_left > 0) {
        mult *= burst_mult;
        --burst_left;
      }
      const int64_t k = rng.poisson(std::min(1e15, std::max(1e-9, spec.rate_qps * 60 * diurnal * mult)));
      add_minute(rng, t0, k, spec.count, arrivals);
    }
    return arrivals;
  }
};

// A replay of the Azure Functions 2019 per-minute invocation counts (read_azure_minute_counts): minute m of
// the trace carries the file's minute (start_minute + m) mod N, its count scaled (by `scale`, or so that the
// mean rate over the day is rate_qps) and rounded stochastically (floor + Bernoulli of the fraction, so the
// expected count is exact); arrivals are uniform within each minute, as the file gives no finer times. The
// day wraps around until `count` queries have arrived.
class AzureCsv : public TraceGenerator {
 public:
  static const ParamSchema<TraceSpec>& params() {
    static const TraceSpec d{};
    static const ParamSchema<TraceSpec> s =
        trace_schema("azure_csv", "replay of Azure Functions 2019 per-minute invocation counts")
            .string("file", &TraceSpec::file, required,
                    "invocations_per_function_md.anon.dNN.csv (HashOwner,HashApp,HashFunction,Trigger,1..N)")
            .string("function", &TraceSpec::function, d.function, "a HashFunction, or all (every row summed)")
            .integer("start_minute", &TraceSpec::start_minute, d.start_minute, {0}, "minutes",
                     "first minute of the file replayed")
            .real("scale", &TraceSpec::scale, d.scale, {0}, "", "counts x scale (0: rescale to rate_qps)");
    return s;
  }
  const ParamSchema<TraceSpec>& schema() const override { return params(); }
  std::vector<double> arrivals(const TraceSpec& spec) const override {
    const std::vector<double> counts = read_azure_minute_counts(spec.file, spec.function);
    double total = 0;
    for (double c : counts) total += c;
    if (!(total > 0)) throw InputError(spec.file + ": no invocations for function '" + spec.function + "'");
    const double scale = spec.scale > 0 ? spec.scale : spec.rate_qps * 60 * double(counts.size()) / total;
    Rng rng(spec.seed);
    std::vector<double> arrivals;
    arrivals.reserve(size_t(spec.count));
    const int64_t limit = int64_t(counts.size()) * 100000 + 1000;  // bounded even for a sparse file
    for (int64_t m = 0; int64_t(arrivals.size()) < spec.count && m < limit; ++m) {
      const double x = counts[size_t((spec.start_minute + m) % int64_t(counts.size()))] * scale;
      const int64_t k = int64_t(std::floor(x)) + (rng.uniform() < x - std::floor(x) ? 1 : 0);
      add_minute(rng, double(m) * 60, std::min<int64_t>(k, int64_t(1) << 40), spec.count, arrivals);
    }
    if (int64_t(arrivals.size()) < spec.count)
      throw InputError(spec.file + ": too few invocations to give " + std::to_string(spec.count) +
                       " queries");
    return arrivals;
  }
};

SUSHI_REGISTER(
    TraceGenerator, "azure_csv", "replay of Azure Functions 2019 per-minute invocation counts (CSV)",
    [] { return std::make_unique<AzureCsv>(); }, &AzureCsv::params());
SUSHI_REGISTER(
    TraceGenerator, "poisson", "Poisson arrivals at rate_qps", [] { return std::make_unique<Poisson>(); },
    &Poisson::params());
SUSHI_REGISTER(
    TraceGenerator, "gamma", "Gamma inter-arrivals: mean rate rate_qps, burstiness cv2",
    [] { return std::make_unique<Gamma>(); }, &Gamma::params());
SUSHI_REGISTER(
    TraceGenerator, "ramp", "Poisson arrivals, rate ramping from rate_qps to rate_end_qps (thinning)",
    [] { return std::make_unique<Ramp>(); }, &Ramp::params());
SUSHI_REGISTER(
    TraceGenerator, "azure", "Azure Functions-like: diurnal, bursty per-minute Poisson counts",
    [] { return std::make_unique<Azure>(); }, &Azure::params());

}  // namespace

// Listed by `sushi describe section` (a config section every trace kind shares, not a choosable component).
[[maybe_unused]] const bool constraints_described =
    (ComponentIndex::add({"section", "trace.constraints", "a trace's per-query constraints (every kind)",
                          &constraint_schema()}),
     true);

std::vector<Query> generate_trace(const TraceSpec& spec) {
  const std::string error = spec_error(spec);
  if (!error.empty()) throw InputError("trace '" + spec.impl + "': " + error);
  const std::vector<double> arrivals =
      Registry<TraceGenerator>::get(spec.impl, "trace: key 'impl'")()->arrivals(spec);
  // Constraints from an independent stream, so changing the arrival process keeps the same targets.
  Rng crng(spec.seed ^ 0x9e3779b97f4a7c15ull);
  const ConstraintSpec& c = spec.constraints;
  double slo = 0, acc = 0;
  std::vector<Query> out;
  out.reserve(arrivals.size());
  for (size_t i = 0; i < arrivals.size(); ++i) {
    Query q;
    q.id = int64_t(i);
    q.arrival_ms = arrivals[i];
    const double pick = crng.uniform();
    const double s = draw_target(crng, slo, c.slo_lo_ms, c.slo_hi_ms, c, i == 0);
    const double a = draw_target(crng, acc, c.acc_lo, c.acc_hi, c, i == 0);
    if (pick < c.latency_fraction) {
      q.slo_ms = s;
    } else if (pick < c.latency_fraction + c.accuracy_fraction) {
      q.acc_target = a;
    } else {
      q.slo_ms = s;
      q.acc_target = a;
    }
    out.push_back(q);
  }
  return out;
}

std::string describe(const TraceSpec& spec) {
  std::ostringstream o;
  o.precision(10);
  const ConstraintSpec& c = spec.constraints;
  o << "kind=" << spec.impl << " rate_qps=" << spec.rate_qps << " cv2=" << spec.cv2
    << " rate_end_qps=" << spec.rate_end_qps << " accel_qps2=" << spec.accel_qps2
    << " diurnal_amplitude=" << spec.diurnal_amplitude << " diurnal_period_s=" << spec.diurnal_period_s
    << " burst_probability=" << spec.burst_probability << " burst_pareto_alpha=" << spec.burst_pareto_alpha
    << " burst_minutes=" << spec.burst_minutes << " file=" << spec.file << " function=" << spec.function
    << " start_minute=" << spec.start_minute << " scale=" << spec.scale << " count=" << spec.count
    << " seed=" << spec.seed << " latency_fraction=" << c.latency_fraction
    << " accuracy_fraction=" << c.accuracy_fraction << " both_fraction=" << c.both_fraction << " slo_ms=["
    << c.slo_lo_ms << "," << c.slo_hi_ms << "] acc_target=[" << c.acc_lo << "," << c.acc_hi
    << "] locality=" << c.locality << " step=" << c.step;
  return o.str() + " spec_hash=" + content_hash(o.str());
}

std::string trace_to_csv(const std::vector<Query>& trace, const std::string& comment) {
  CsvTable t({"id", "arrival_ms", "slo_ms", "acc_target"});
  // 12 significant digits: arrival times keep sub-microsecond resolution over hours of trace.
  for (const Query& q : trace)
    t.add_row({std::to_string(q.id), csv_number(q.arrival_ms, 12), csv_number(q.slo_ms, 12),
               csv_number(q.acc_target, 12)});
  return t.str(comment);
}

TraceReader::TraceReader(const std::string& path) : path_(path) {
  verify_output_file(path);  // not a killed run's, nor another run's
  in_.open(path);
  if (!in_) throw InputError(path + ": cannot open trace");
  std::string line;
  do {  // leading `#` lines carry provenance
    if (!std::getline(in_, line))
      throw InputError(path + ": empty trace (expected header id,arrival_ms,slo_ms,acc_target)");
    ++lineno_;
  } while (line.rfind('#', 0) == 0);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != "id,arrival_ms,slo_ms,acc_target")
    fail("expected header 'id,arrival_ms,slo_ms,acc_target', got '" + line + "'");
}

void TraceReader::fail(const std::string& what) const {
  throw InputError(path_ + ": line " + std::to_string(lineno_) + ": " + what);
}

// Ids seen so far in constant memory for the usual 0, 1, 2, ... order: every id below dense_ is seen, and
// the ones above it that came early wait in sparse_ until the gap closes.
bool TraceReader::first_time(int64_t id) {
  if (id < dense_ || !sparse_.insert(id).second) return false;
  while (!sparse_.empty() && *sparse_.begin() == dense_) {
    sparse_.erase(sparse_.begin());
    ++dense_;
  }
  return true;
}

bool TraceReader::next(Query& q) {
  std::string line;
  for (;;) {
    if (!std::getline(in_, line)) {
      if (count_ == 0) throw InputError(path_ + ": trace has a header but no queries");
      return false;
    }
    ++lineno_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] != '#') break;
  }
  const std::vector<std::string> cols = split_csv_line(line, path_ + ": line " + std::to_string(lineno_));
  if (cols.size() != 4)
    fail("expected 4 columns (id,arrival_ms,slo_ms,acc_target), got " + std::to_string(cols.size()));
  const char* names[] = {"id", "arrival_ms", "slo_ms", "acc_target"};
  double v[4];
  for (int i = 0; i < 4; ++i) {
    const std::optional<double> x = parse_number(cols[i]);
    if (!x) fail(std::string("column ") + names[i] + ": expected a number, got '" + cols[i] + "'");
    v[i] = *x;
    if (v[i] < 0) fail(std::string("column ") + names[i] + ": expected a non-negative value, got " + cols[i]);
  }
  if (v[0] > 9007199254740992.0 || double(int64_t(v[0])) != v[0])  // 2^53: exact in a double
    fail("column id: expected an integer in [0, 2^53], got '" + cols[0] + "'");
  q = Query{int64_t(v[0]), v[1], v[2], v[3]};
  if (q.acc_target > 100) fail("column acc_target: expected a percentage <= 100, got " + cols[3]);
  if (count_ > 0 && q.arrival_ms < last_arrival_)
    fail("arrival_ms " + cols[1] + " is earlier than the previous line's " + std::to_string(last_arrival_) +
         " (expected sorted arrivals)");
  if (!first_time(q.id)) fail("duplicate id " + cols[0]);
  last_arrival_ = q.arrival_ms;
  ++count_;
  return true;
}

std::vector<Query> read_trace_csv(const std::string& path) {
  TraceReader r(path);
  std::vector<Query> out;
  Query q;
  while (r.next(q)) out.push_back(q);
  return out;
}

std::vector<double> read_azure_minute_counts(const std::string& path, const std::string& function) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open the Azure Functions invocation-count CSV");
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& what) {
    throw InputError(path + ": line " + std::to_string(lineno) + ": " + what);
  };
  auto split = [&](const std::string& l) {
    return split_csv_line(l, path + ": line " + std::to_string(lineno));
  };
  if (!std::getline(in, line)) throw InputError(path + ": empty file (expected the Azure Functions header)");
  ++lineno;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string> head = split(line);
  const char* names[] = {"HashOwner", "HashApp", "HashFunction", "Trigger"};
  if (head.size() < 5 || head.size() > 4 + 1440)
    fail("expected HashOwner,HashApp,HashFunction,Trigger,1,...,N (N <= 1440)");
  for (int i = 0; i < 4; ++i)
    if (head[size_t(i)] != names[i])
      fail(std::string("expected column ") + names[i] + ", got '" + head[size_t(i)] + "'");
  for (size_t i = 4; i < head.size(); ++i)
    if (head[i] != std::to_string(i - 3))
      fail("expected minute column " + std::to_string(i - 3) + ", got '" + head[i] + "'");
  std::vector<double> counts(head.size() - 4, 0.0);
  int64_t rows = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> cols = split(line);
    if (cols.size() != head.size())
      fail("expected " + std::to_string(head.size()) + " columns, got " + std::to_string(cols.size()));
    if (function != "all" && cols[2] != function) continue;
    ++rows;
    for (size_t i = 4; i < cols.size(); ++i) {
      size_t used = 0;
      long long v = -1;
      try {
        v = std::stoll(cols[i], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != cols[i].size() || v < 0)
        fail("minute " + std::to_string(i - 3) + ": expected a non-negative integer count, got '" + cols[i] +
             "'");
      counts[i - 4] += double(v);
    }
  }
  if (rows == 0) throw InputError(path + ": no row with HashFunction '" + function + "'");
  return counts;
}

void write_trace_csv(const std::string& path, const std::vector<Query>& trace, const std::string& comment) {
  AtomicFile f(path);
  std::string chunk = trace_to_csv({}, comment);  // the comment and the header
  for (const Query& q : trace) {
    chunk += std::to_string(q.id) + "," + csv_number(q.arrival_ms, 12) + "," + csv_number(q.slo_ms, 12) +
             "," + csv_number(q.acc_target, 12) + "\n";
    if (chunk.size() >= (1 << 16)) {
      f.write(chunk);
      chunk.clear();
    }
  }
  f.write(chunk);
  f.commit();
}

TraceStats trace_stats(const std::vector<Query>& trace) {
  return trace_stats(trace, 10);
}

namespace {
double dispersion(const std::vector<double>& counts) {
  if (counts.size() < 2) return 0;
  double m = 0, v = 0;
  for (double c : counts) m += c;
  m /= double(counts.size());
  for (double c : counts) v += (c - m) * (c - m);
  v /= double(counts.size() - 1);
  return m > 0 ? v / m : 0;
}

// Per-second and per-minute counts over the whole seconds (minutes) of the trace, and the rate histogram.
// `counts[i]` holds the queries that arrived in second i; `end_ms` is the last arrival.
void burstiness(const std::vector<double>& counts, double end_ms, int bins, TraceStats& s) {
  const size_t seconds = std::min(counts.size(), size_t(end_ms / 1000)), minutes = size_t(end_ms / 60000);
  if (seconds < 2) return;
  std::vector<double> per_s(counts.begin(), counts.begin() + std::ptrdiff_t(seconds)), per_m(minutes, 0);
  for (size_t i = 0; i < seconds; ++i)
    if (i / 60 < minutes) per_m[i / 60] += per_s[i];
  s.idc_1s = dispersion(per_s);
  s.idc_60s = dispersion(per_m);
  std::vector<double> sorted = per_s;
  std::sort(sorted.begin(), sorted.end());
  s.peak_rate_qps = sorted.back();
  s.p99_rate_qps = sorted[std::min(sorted.size() - 1, size_t(0.99 * double(sorted.size())))];
  bins = std::max(1, bins);
  s.bin_width_qps = std::max(1.0, std::ceil((s.peak_rate_qps + 1) / bins));
  s.rate_histogram.assign(size_t(bins), 0);
  for (double c : per_s) s.rate_histogram[std::min(size_t(bins) - 1, size_t(c / s.bin_width_qps))] += 1;
}

void burstiness(const std::vector<Query>& trace, int bins, TraceStats& s) {
  const double end = trace.back().arrival_ms;
  std::vector<double> per_s(size_t(end / 1000), 0);
  for (const Query& q : trace) {
    const size_t i = size_t(q.arrival_ms / 1000);
    if (i < per_s.size()) per_s[i] += 1;
  }
  burstiness(per_s, end, bins, s);
}
}  // namespace

void TraceStatsAccumulator::add(const Query& q) {
  const double gap = q.arrival_ms - last_ms_;
  last_ms_ = q.arrival_ms;
  ++n_;
  const double d = gap - mean_;  // Welford's running mean and variance of the gaps
  mean_ += d / double(n_);
  m2_ += d * (gap - mean_);
  if (too_long_ || !(q.arrival_ms >= 0)) return;
  const double second = q.arrival_ms / 1000;
  if (second >= double(kMaxSeconds)) {  // burstiness is left out rather than holding an unbounded array
    too_long_ = true;
    per_second_.clear();
    return;
  }
  const size_t i = size_t(second);
  if (i >= per_second_.size()) per_second_.resize(i + 1, 0.0);
  per_second_[i] += 1;
}

TraceStats TraceStatsAccumulator::stats() const {
  TraceStats s;
  if (n_ < 2) return s;
  s.mean_rate_qps = 1000.0 / mean_;
  s.interarrival_cv2 = (m2_ / double(n_)) / (mean_ * mean_);
  if (!too_long_) burstiness(per_second_, last_ms_, 10, s);
  return s;
}

TraceStats trace_stats(const std::vector<Query>& trace, int rate_bins) {
  TraceStats s;
  if (trace.size() < 2) return s;
  std::vector<double> gaps;
  double prev = 0;
  for (const Query& q : trace) {
    gaps.push_back(q.arrival_ms - prev);
    prev = q.arrival_ms;
  }
  double mean = 0;
  for (double g : gaps) mean += g;
  mean /= double(gaps.size());
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= double(gaps.size());
  s.mean_rate_qps = 1000.0 / mean;
  s.interarrival_cv2 = var / (mean * mean);
  burstiness(trace, rate_bins, s);
  return s;
}

}  // namespace sushi
