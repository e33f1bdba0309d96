#include "traces/trace.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "base/errors.h"
#include "base/provenance.h"
#include "base/random.h"

namespace sushi {

namespace {

void require(bool ok, const YamlView& v, const std::string& key, const std::string& what) {
  if (!ok) v.at(key).fail(what);
}

double draw_target(Rng& rng, double& current, double lo, double hi, const ConstraintSpec& c, bool first) {
  if (first) {
    current = lo + (hi - lo) * rng.uniform();
  } else if (rng.uniform() >= c.locality) {
    const double delta = (2 * rng.uniform() - 1) * c.step * (hi - lo);
    current = std::clamp(current + delta, lo, hi);
  }
  return current;
}

}  // namespace

TraceSpec TraceSpec::from_yaml(const YamlView& v) {
  v.expect_keys({"kind", "rate_qps", "cv2", "rate_end_qps", "accel_qps2", "diurnal_amplitude",
                 "diurnal_period_s", "burst_probability", "burst_pareto_alpha", "count", "seed",
                 "constraints"});
  TraceSpec t;
  t.kind = v.get<std::string>("kind", t.kind);
  if (t.kind != "poisson" && t.kind != "gamma" && t.kind != "ramp" && t.kind != "azure")
    v.at("kind").fail("expected one of poisson, gamma, ramp, azure, got '" + t.kind + "'");
  t.rate_qps = v.get<double>("rate_qps", t.rate_qps);
  require(t.rate_qps > 0, v, "rate_qps", "expected a positive rate");
  t.cv2 = v.get<double>("cv2", t.cv2);
  if (v.has("cv2")) require(t.cv2 > 0, v, "cv2", "expected a positive CV^2");
  t.rate_end_qps = v.get<double>("rate_end_qps", t.rate_end_qps);
  if (v.has("rate_end_qps")) require(t.rate_end_qps > 0, v, "rate_end_qps", "expected a positive rate");
  t.accel_qps2 = v.get<double>("accel_qps2", t.accel_qps2);
  if (v.has("accel_qps2")) require(t.accel_qps2 > 0, v, "accel_qps2", "expected a positive acceleration");
  t.diurnal_amplitude = v.get<double>("diurnal_amplitude", t.diurnal_amplitude);
  if (v.has("diurnal_amplitude"))
    require(t.diurnal_amplitude >= 0 && t.diurnal_amplitude < 1, v, "diurnal_amplitude",
            "expected a value in [0, 1)");
  t.diurnal_period_s = v.get<double>("diurnal_period_s", t.diurnal_period_s);
  if (v.has("diurnal_period_s"))
    require(t.diurnal_period_s > 0, v, "diurnal_period_s", "expected a positive period");
  t.burst_probability = v.get<double>("burst_probability", t.burst_probability);
  if (v.has("burst_probability"))
    require(t.burst_probability >= 0 && t.burst_probability <= 1, v, "burst_probability",
            "expected a value in [0, 1]");
  t.burst_pareto_alpha = v.get<double>("burst_pareto_alpha", t.burst_pareto_alpha);
  if (v.has("burst_pareto_alpha"))
    require(t.burst_pareto_alpha > 1, v, "burst_pareto_alpha", "expected alpha > 1 (finite mean)");
  t.count = v.get<int64_t>("count", t.count);
  require(t.count > 0 && t.count <= 100000000, v, "count", "expected 1..100000000 queries");
  t.seed = v.get<uint64_t>("seed", t.seed);
  if (v.has("constraints")) {
    const YamlView c = v.at("constraints");
    c.expect_keys({"latency_fraction", "accuracy_fraction", "both_fraction", "slo_ms", "acc_target",
                   "locality", "step"});
    ConstraintSpec& s = t.constraints;
    s.latency_fraction = c.get<double>("latency_fraction", s.latency_fraction);
    s.accuracy_fraction = c.get<double>("accuracy_fraction", s.accuracy_fraction);
    s.both_fraction = c.get<double>("both_fraction", s.both_fraction);
    const double sum = s.latency_fraction + s.accuracy_fraction + s.both_fraction;
    if (s.latency_fraction < 0 || s.accuracy_fraction < 0 || s.both_fraction < 0 || std::fabs(sum - 1) > 1e-9)
      c.fail("expected non-negative latency_fraction + accuracy_fraction + both_fraction summing to 1, got " +
             std::to_string(sum));
    if (c.has("slo_ms")) {
      auto r = c.get_list<double>("slo_ms");
      if (r.size() != 2 || r[0] <= 0 || r[1] < r[0])
        c.at("slo_ms").fail("expected [lo, hi] with 0 < lo <= hi");
      s.slo_lo_ms = r[0];
      s.slo_hi_ms = r[1];
    }
    if (c.has("acc_target")) {
      auto r = c.get_list<double>("acc_target");
      if (r.size() != 2 || r[0] <= 0 || r[1] < r[0] || r[1] > 100)
        c.at("acc_target").fail("expected [lo, hi] with 0 < lo <= hi <= 100");
      s.acc_lo = r[0];
      s.acc_hi = r[1];
    }
    s.locality = c.get<double>("locality", s.locality);
    if (s.locality < 0 || s.locality > 1) c.at("locality").fail("expected a probability in [0, 1]");
    s.step = c.get<double>("step", s.step);
    if (s.step < 0 || s.step > 1) c.at("step").fail("expected a fraction of the range in [0, 1]");
  }
  return t;
}

std::vector<Query> generate_trace(const TraceSpec& spec) {
  Rng rng(spec.seed);
  std::vector<double> arrivals;
  arrivals.reserve(size_t(spec.count));
  if (spec.kind == "poisson" || spec.kind == "gamma") {
    const double cv2 = spec.kind == "poisson" ? 1.0 : spec.cv2;
    // Inter-arrival ~ Gamma(shape 1/CV², scale CV²/λ): mean 1/λ, squared coefficient of variation CV².
    double t = 0;
    for (int64_t i = 0; i < spec.count; ++i) {
      t += rng.gamma(1.0 / cv2, cv2 / spec.rate_qps);
      arrivals.push_back(t * 1000);
    }
  } else if (spec.kind == "ramp") {
    // Non-homogeneous Poisson process, λ(t) = min(λ_end, λ0 + τ t) (or max for a falling ramp), by thinning.
    const double lmax = std::max(spec.rate_qps, spec.rate_end_qps);
    const double dir = spec.rate_end_qps >= spec.rate_qps ? 1 : -1;
    double t = 0;
    while (int64_t(arrivals.size()) < spec.count) {
      t += rng.exponential(lmax);
      double rate = spec.rate_qps + dir * spec.accel_qps2 * t;
      rate = dir > 0 ? std::min(rate, spec.rate_end_qps) : std::max(rate, spec.rate_end_qps);
      if (rng.uniform() * lmax <= rate) arrivals.push_back(t * 1000);
    }
  } else {  // azure
    // Per-minute invocation counts: Poisson with mean λ·60·diurnal(t)·burst, where diurnal is a sine of the
    // configured period and a minute is a burst with the given probability, its multiplier drawn from a
    // Pareto(α) (heavy tail, normalised so the long-run mean rate stays λ). Arrivals within a minute are
    // uniform, as the Azure Functions 2019 trace gives only per-minute counts.
    const double alpha = spec.burst_pareto_alpha;
    const double pareto_mean = alpha / (alpha - 1);
    const double norm = 1.0 / (1 - spec.burst_probability + spec.burst_probability * pareto_mean);
    for (int64_t minute = 0; int64_t(arrivals.size()) < spec.count; ++minute) {
      const double t0 = minute * 60.0;
      const double diurnal =
          1 + spec.diurnal_amplitude * std::sin(2 * M_PI * (t0 + 30) / spec.diurnal_period_s);
      double mult = norm;
      if (rng.uniform() < spec.burst_probability) mult *= std::pow(1 - rng.uniform(), -1.0 / alpha);
      const int64_t k = rng.poisson(std::max(1e-9, spec.rate_qps * 60 * diurnal * mult));
      std::vector<double> in_minute;
      for (int64_t i = 0; i < k; ++i) in_minute.push_back((t0 + 60 * rng.uniform()) * 1000);
      std::sort(in_minute.begin(), in_minute.end());
      for (double a : in_minute) {
        if (int64_t(arrivals.size()) == spec.count) break;
        arrivals.push_back(a);
      }
    }
  }
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

std::string describe(const TraceSpec& t) {
  std::ostringstream o;
  o.precision(10);
  const ConstraintSpec& c = t.constraints;
  o << "kind=" << t.kind << " rate_qps=" << t.rate_qps << " cv2=" << t.cv2
    << " rate_end_qps=" << t.rate_end_qps << " accel_qps2=" << t.accel_qps2
    << " diurnal_amplitude=" << t.diurnal_amplitude << " diurnal_period_s=" << t.diurnal_period_s
    << " burst_probability=" << t.burst_probability << " burst_pareto_alpha=" << t.burst_pareto_alpha
    << " count=" << t.count << " seed=" << t.seed << " latency_fraction=" << c.latency_fraction
    << " accuracy_fraction=" << c.accuracy_fraction << " both_fraction=" << c.both_fraction << " slo_ms=["
    << c.slo_lo_ms << "," << c.slo_hi_ms << "] acc_target=[" << c.acc_lo << "," << c.acc_hi
    << "] locality=" << c.locality << " step=" << c.step;
  return o.str() + " spec_hash=" + content_hash(o.str());
}

std::string trace_to_csv(const std::vector<Query>& trace, const std::string& comment) {
  std::ostringstream o;
  o.precision(12);
  if (!comment.empty()) o << "# " << comment << "\n";
  o << "id,arrival_ms,slo_ms,acc_target\n";
  for (const Query& q : trace)
    o << q.id << "," << q.arrival_ms << "," << q.slo_ms << "," << q.acc_target << "\n";
  return o.str();
}

std::vector<Query> read_trace_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open trace");
  std::string line;
  int lineno = 0;
  auto fail = [&](const std::string& what) {
    throw InputError(path + ": line " + std::to_string(lineno) + ": " + what);
  };
  do {  // leading `#` lines carry provenance
    if (!std::getline(in, line))
      throw InputError(path + ": empty trace (expected header id,arrival_ms,slo_ms,acc_target)");
    ++lineno;
  } while (line.rfind("#", 0) == 0);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != "id,arrival_ms,slo_ms,acc_target")
    fail("expected header 'id,arrival_ms,slo_ms,acc_target', got '" + line + "'");
  std::vector<Query> out;
  std::set<int64_t> ids;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, ',')) cols.push_back(col);
    if (cols.size() != 4)
      fail("expected 4 columns (id,arrival_ms,slo_ms,acc_target), got " + std::to_string(cols.size()));
    const char* names[] = {"id", "arrival_ms", "slo_ms", "acc_target"};
    double v[4];
    for (int i = 0; i < 4; ++i) {
      size_t used = 0;
      try {
        v[i] = std::stod(cols[i], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != cols[i].size() || !std::isfinite(v[i]))
        fail(std::string("column ") + names[i] + ": expected a number, got '" + cols[i] + "'");
      if (v[i] < 0)
        fail(std::string("column ") + names[i] + ": expected a non-negative value, got " + cols[i]);
    }
    Query q{int64_t(v[0]), v[1], v[2], v[3]};
    if (double(q.id) != v[0]) fail("column id: expected an integer, got '" + cols[0] + "'");
    if (q.acc_target > 100) fail("column acc_target: expected a percentage <= 100, got " + cols[3]);
    if (!out.empty() && q.arrival_ms < out.back().arrival_ms)
      fail("arrival_ms " + cols[1] + " is earlier than the previous line's " +
           std::to_string(out.back().arrival_ms) + " (expected sorted arrivals)");
    if (!ids.insert(q.id).second) fail("duplicate id " + cols[0]);
    out.push_back(q);
  }
  if (out.empty()) throw InputError(path + ": trace has a header but no queries");
  return out;
}

TraceStats trace_stats(const std::vector<Query>& trace) {
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
  return s;
}

}  // namespace sushi
