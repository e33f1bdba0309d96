// `sushi calibrate`: fitting accelerator parameters to measured per-layer latencies (see sim/calibrate.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "base/errors.h"
#include "base/random.h"
#include "base/yaml.h"
#include "sim/calibrate.h"
#include "sim/mapping.h"

namespace sushi::sim {
namespace {

constexpr int kGrid = 12;          // coarse scan before each golden-section search
constexpr int kGoldenSteps = 32;   // golden-section iterations per numeric parameter and sweep
constexpr int kMaxSweeps = 8;      // coordinate-descent sweeps per discrete choice
constexpr int kMaxDiscrete = 512;  // discrete combinations searched exhaustively

const char* const kOverlap[] = {"overlapped", "serial"};
const char* const kStride[] = {"output", "input"};

// Sets `path` of `c` to v (numeric: rounded for integers; choices: the index).
void set_value(AccelConfig& c, const std::string& path, double v) {
  const auto i = int64_t(std::llround(v));
  if (path == "controller.call_overhead_us")
    c.call_overhead_us = v;
  else if (path == "controller.layer_setup_cycles")
    c.layer_setup_cycles = i;
  else if (path == "array.bubble_every")
    c.bubble_every = int(i);
  else if (path == "array.pass_overhead_cycles")
    c.pass_overhead_cycles = i;
  else if (path == "array.weight_tile_overhead_cycles")
    c.weight_tile_overhead_cycles = i;
  else if (path == "dram.efficiency")
    c.dram_efficiency = v;
  else if (path == "dram.latency_ns")
    c.dram_latency_ns = v;
  else if (path == "dram.transfer_overhead_cycles")
    c.dram_transfer_overhead_cycles = i;
  else if (path == "dram.burst_overhead_cycles")
    c.dram_burst_overhead_cycles = i;
  else if (path == "dram.weight_ports")
    c.weight_ports = int(i);
  else if (path == "dram.act_in_ports")
    c.act_in_ports = int(i);
  else if (path == "dram.act_out_ports")
    c.act_out_ports = int(i);
  else if (path == "behaviour.weight_load")
    c.weight_load = i ? Overlap::Serial : Overlap::Overlapped;
  else if (path == "behaviour.act_load")
    c.act_load = i ? Overlap::Serial : Overlap::Overlapped;
  else if (path == "behaviour.out_store")
    c.out_store = i ? Overlap::Serial : Overlap::Overlapped;
  else if (path == "behaviour.stride_mode")
    c.stride_mode = i ? StrideMode::Input : StrideMode::Output;
  else
    throw std::logic_error("calibrate: no setter for " + path);
}

std::string value_text(const FitParameter& p, const AccelConfig& c) {
  std::ostringstream o;
  o.precision(8);
  const std::string& path = p.path;
  if (path == "controller.call_overhead_us")
    o << c.call_overhead_us;
  else if (path == "controller.layer_setup_cycles")
    o << c.layer_setup_cycles;
  else if (path == "array.bubble_every")
    o << c.bubble_every;
  else if (path == "array.pass_overhead_cycles")
    o << c.pass_overhead_cycles;
  else if (path == "array.weight_tile_overhead_cycles")
    o << c.weight_tile_overhead_cycles;
  else if (path == "dram.efficiency")
    o << c.dram_efficiency;
  else if (path == "dram.latency_ns")
    o << c.dram_latency_ns;
  else if (path == "dram.transfer_overhead_cycles")
    o << c.dram_transfer_overhead_cycles;
  else if (path == "dram.burst_overhead_cycles")
    o << c.dram_burst_overhead_cycles;
  else if (path == "dram.weight_ports")
    o << c.ports_of(Stream::Weights);
  else if (path == "dram.act_in_ports")
    o << c.ports_of(Stream::ActIn);
  else if (path == "dram.act_out_ports")
    o << c.ports_of(Stream::ActOut);
  else if (path == "behaviour.weight_load")
    o << kOverlap[int(c.weight_load)];
  else if (path == "behaviour.act_load")
    o << kOverlap[int(c.act_load)];
  else if (path == "behaviour.out_store")
    o << kOverlap[int(c.out_store)];
  else if (path == "behaviour.stride_mode")
    o << kStride[int(c.stride_mode)];
  return o.str();
}

// Per-layer latencies of `c` (ms): cycles at the clock plus the per-call overhead.
struct Predictor {
  const std::vector<ShapedLayer>& layers;
  std::vector<size_t> use;  // the layers fitted (a fold's training set)
  int64_t evaluations = 0;
  double ms(const AccelConfig& c, size_t i) const {
    const LayerEstimate e = analytic_layer(c, layers[i].layer, WeightSlice{});
    return double(e.cycles) / (c.clock_mhz * 1e3) + c.call_overhead_us * 1e-3;
  }
  // Sum of squared relative errors; when `solve_call` the per-call overhead is set to its least-squares
  // value within [lo, hi] first (it enters every prediction linearly).
  double loss(AccelConfig& c, bool solve_call, double lo, double hi) {
    ++evaluations;
    std::vector<double> cyc_ms(use.size());
    for (size_t k = 0; k < use.size(); ++k) cyc_ms[k] = ms(c, use[k]) - c.call_overhead_us * 1e-3;
    if (solve_call) {
      double num = 0, den = 0;
      for (size_t k = 0; k < use.size(); ++k) {
        const double m = layers[use[k]].latency_ms;
        num += (m - cyc_ms[k]) / (m * m);
        den += 1 / (m * m);
      }
      c.call_overhead_us = std::clamp(num / den * 1e3, lo, hi);
    }
    double sum = 0;
    for (size_t k = 0; k < use.size(); ++k) {
      const double m = layers[use[k]].latency_ms;
      const double r = (cyc_ms[k] + c.call_overhead_us * 1e-3 - m) / m;
      sum += r * r;
    }
    return sum;
  }
};

struct Search {
  Predictor& pred;
  std::vector<const FitParameter*> numeric;
  bool solve_call = false;
  double call_lo = 0, call_hi = 0;

  double loss(AccelConfig& c) { return pred.loss(c, solve_call, call_lo, call_hi); }
  // bubble_every is searched in 1/N (its effect on the initiation interval), with 0 (no bubble) apart.
  static bool reciprocal(const FitParameter& p) { return p.path == "array.bubble_every"; }
  double to_value(const FitParameter& p, double u) const {
    if (!reciprocal(p)) return p.kind == FitParameter::Integer ? std::round(u) : u;
    return u <= 0 ? 0 : std::round(1 / u);
  }
  double eval_at(AccelConfig& c, const FitParameter& p, double u) {
    set_value(c, p.path, to_value(p, u));
    return loss(c);
  }
  void line_search(AccelConfig& c, const FitParameter& p);
  double descend(AccelConfig& c);
};

void Search::line_search(AccelConfig& c, const FitParameter& p) {
  const double lo = reciprocal(p) ? 1 / p.hi : p.lo, hi = reciprocal(p) ? 1 : p.hi;
  AccelConfig best = c;
  double best_loss = loss(best);
  auto consider = [&](double u) {
    AccelConfig t = c;
    const double l = eval_at(t, p, u);
    if (l < best_loss) best_loss = l, best = t;
    return l;
  };
  if (reciprocal(p)) consider(0);
  int at = 0;
  double grid_best = 1e300;
  for (int g = 0; g <= kGrid; ++g) {
    const double l = consider(lo + (hi - lo) * g / kGrid);
    if (l < grid_best) grid_best = l, at = g;
  }
  double a = lo + (hi - lo) * std::max(0, at - 1) / kGrid,
         b = lo + (hi - lo) * std::min(kGrid, at + 1) / kGrid;
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
  double f1 = consider(x1), f2 = consider(x2);
  for (int s = 0; s < kGoldenSteps; ++s) {
    if (f1 <= f2) {
      b = x2, x2 = x1, f2 = f1, x1 = b - phi * (b - a), f1 = consider(x1);
    } else {
      a = x1, x1 = x2, f1 = f2, x2 = a + phi * (b - a), f2 = consider(x2);
    }
  }
  if (p.kind == FitParameter::Integer && !reciprocal(p)) {  // the rounded optimum's neighbours
    const double v = std::stod(value_text(p, best));
    for (double d : {-1.0, 1.0})
      if (v + d >= p.lo && v + d <= p.hi) consider(v + d);
  }
  c = best;
}

double Search::descend(AccelConfig& c) {
  double current = loss(c);
  for (int sweep = 0; sweep < kMaxSweeps && !numeric.empty(); ++sweep) {
    for (const FitParameter* p : numeric) line_search(c, *p);
    const double next = loss(c);
    const bool settled = current - next <= 1e-12 * std::max(1.0, current);
    current = std::min(current, next);
    if (settled) break;
  }
  return current;
}

const FitParameter& find_parameter(const std::string& path) {
  for (const FitParameter& p : fit_parameters())
    if (p.path == path) return p;
  std::string names;
  for (const FitParameter& p : fit_parameters()) names += (names.empty() ? "" : ", ") + p.path;
  throw InputError("--fit " + path + ": not a fittable parameter; expected one of " + names);
}

// The discrete values of a choice parameter (port counts up to dram.ports).
std::vector<double> discrete_values(const FitParameter& p, const AccelConfig& base) {
  const double hi = p.hi < 0 ? base.dram_ports : p.hi;
  std::vector<double> v;
  for (double x = p.lo; x <= hi; ++x) v.push_back(x);
  return v;
}

struct Fit {
  AccelConfig config;
  double loss = 1e300;
  int64_t evaluations = 0;
};

Fit fit_on(const AccelConfig& base, const std::vector<ShapedLayer>& layers, const std::vector<size_t>& use,
           const std::vector<const FitParameter*>& params) {
  Predictor pred{layers, use, 0};
  Search search{pred, {}, false, 0, 0};
  std::vector<const FitParameter*> discrete;
  for (const FitParameter* p : params) {
    if (p->kind == FitParameter::Choice)
      discrete.push_back(p);
    else if (p->path == "controller.call_overhead_us")
      search.solve_call = true, search.call_lo = p->lo, search.call_hi = p->hi;
    else
      search.numeric.push_back(p);
  }
  std::vector<std::vector<double>> values;
  size_t combos = 1;
  for (const FitParameter* p : discrete) {
    values.push_back(discrete_values(*p, base));
    combos *= values.back().size();
  }
  if (combos > kMaxDiscrete)
    throw InputError("--fit: " + std::to_string(combos) +
                     " combinations of the discrete parameters; at most " + std::to_string(kMaxDiscrete) +
                     " are searched");
  Fit best;
  for (size_t k = 0; k < combos; ++k) {
    AccelConfig c = base;
    for (size_t d = 0, rest = k; d < discrete.size(); rest /= values[d].size(), ++d)
      set_value(c, discrete[d]->path, values[d][rest % values[d].size()]);
    const double l = search.descend(c);
    if (l < best.loss) best.loss = l, best.config = c;
  }
  best.evaluations = pred.evaluations;
  return best;
}

ErrorStats stats(const std::vector<double>& pred, const std::vector<double>& meas) {
  ErrorStats s;
  for (size_t i = 0; i < pred.size(); ++i) {
    const double ape = std::abs(pred[i] - meas[i]) / meas[i];
    s.mape += ape / double(pred.size());
    s.max_ape = std::max(s.max_ape, ape);
  }
  s.spearman = spearman(pred, meas);
  return s;
}

void check_inputs(const std::vector<ShapedLayer>& measured, const std::vector<const FitParameter*>& params,
                  int folds) {
  const size_t need = params.size() + 2;
  if (measured.size() < need)
    throw InputError("calibrate: " + std::to_string(measured.size()) + " measured layers for " +
                     std::to_string(params.size()) + " fitted parameters; at least " + std::to_string(need) +
                     " are needed");
  std::set<std::vector<int>> shapes;
  std::set<double> latencies;
  for (const ShapedLayer& m : measured) {
    if (!(m.latency_ms > 0) || !std::isfinite(m.latency_ms))
      throw InputError("calibrate: layer " + m.layer.name + " has no positive measured latency");
    const Layer& l = m.layer;
    shapes.insert({int(l.kind), l.in_c, l.out_c, l.kernel, l.in_h, l.in_w, l.stride, l.pad});
    latencies.insert(m.latency_ms);
  }
  if (shapes.size() < 2)
    throw InputError("calibrate: every measured layer has the same shape; nothing to fit");
  if (latencies.size() < 2) throw InputError("calibrate: every measured latency is equal; nothing to fit");
  if (folds < 2 || size_t(folds) > measured.size())
    throw InputError("--folds " + std::to_string(folds) + ": expected 2.." + std::to_string(measured.size()) +
                     " (the number of measured layers)");
}

}  // namespace

const std::vector<FitParameter>& fit_parameters() {
  using P = FitParameter;
  static const std::vector<FitParameter> all = {
      {"controller.call_overhead_us", P::Real, 0, 1e5, "host time per layer call (us; closed-form LSQ)"},
      {"controller.layer_setup_cycles", P::Integer, 0, 1e6, "register setup cycles per layer"},
      {"array.bubble_every", P::Integer, 0, 4096, "initiation interval: a bubble every N steps (0: II 1)"},
      {"array.pass_overhead_cycles", P::Integer, 0, 1e5, "cycles per (K-tile, C-tile) pass"},
      {"array.weight_tile_overhead_cycles", P::Integer, 0, 1e5, "cycles per K-tile before its first pass"},
      {"dram.efficiency", P::Real, 0.01, 1, "sustained / peak DRAM bandwidth (effective bandwidth)"},
      {"dram.latency_ns", P::Real, 0, 1e4, "DRAM request to first data"},
      {"dram.transfer_overhead_cycles", P::Integer, 0, 1e5, "channel-busy cycles per transfer"},
      {"dram.burst_overhead_cycles", P::Integer, 0, 1e3, "channel-busy cycles per burst"},
      {"dram.weight_ports", P::Choice, 1, -1,
       "AXI masters of the weight stream (effective weight bandwidth)"},
      {"dram.act_in_ports", P::Choice, 1, -1, "AXI masters of the input-activation stream"},
      {"dram.act_out_ports", P::Choice, 1, -1, "AXI masters of the output write-back"},
      {"behaviour.weight_load", P::Choice, 0, 1, "overlapped | serial"},
      {"behaviour.act_load", P::Choice, 0, 1, "overlapped | serial"},
      {"behaviour.out_store", P::Choice, 0, 1, "overlapped | serial"},
      {"behaviour.stride_mode", P::Choice, 0, 1, "output | input"},
  };
  return all;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  auto ranks = [](const std::vector<double>& v) {
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return v[x] < v[y]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < idx.size();) {
      size_t j = i;
      while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
      for (size_t k = i; k <= j; ++k) r[idx[k]] = (double(i) + double(j)) / 2;
      i = j + 1;
    }
    return r;
  };
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = double(a.size()), mean = (n - 1) / 2;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

namespace {

std::vector<const FitParameter*> chosen(const std::vector<std::string>& names) {
  std::vector<const FitParameter*> out;
  std::set<std::string> seen;
  if (names.empty()) throw InputError("--fit: expected at least one parameter");
  for (const std::string& n : names) {
    if (!seen.insert(n).second) throw InputError("--fit " + n + ": given twice");
    out.push_back(&find_parameter(n));
  }
  return out;
}

// K folds: a seeded shuffle of the layer indices dealt round-robin; each layer is predicted by the fit on
// the other folds.
std::vector<double> cross_validate(const AccelConfig& base, const std::vector<ShapedLayer>& m,
                                   const std::vector<const FitParameter*>& params, int folds, uint64_t seed,
                                   int64_t& evaluations) {
  std::vector<size_t> order(m.size());
  std::iota(order.begin(), order.end(), size_t(0));
  Rng rng(seed);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.uniform_int(uint64_t(i))]);
  std::vector<double> out(m.size(), 0);
  for (int f = 0; f < folds; ++f) {
    std::vector<size_t> train, test;
    for (size_t k = 0; k < order.size(); ++k)
      (int(k % size_t(folds)) == f ? test : train).push_back(order[k]);
    const Fit fit = fit_on(base, m, train, params);
    evaluations += fit.evaluations;
    Predictor pred{m, {}, 0};
    for (size_t i : test) out[i] = pred.ms(fit.config, i);
  }
  return out;
}

}  // namespace

CalibrationResult calibrate(const AccelConfig& base, const std::vector<ShapedLayer>& m,
                            const CalibrationOptions& options) {
  const std::vector<const FitParameter*> params = chosen(options.fit);
  check_inputs(m, params, options.folds);
  std::vector<size_t> all(m.size());
  std::iota(all.begin(), all.end(), size_t(0));
  const Fit fit = fit_on(base, m, all, params);
  CalibrationResult r;
  r.calibrated = fit.config;
  r.calibrated.name = base.name + "_calibrated";
  r.evaluations = fit.evaluations;
  r.folds = options.folds;
  for (const FitParameter* p : params) r.values.emplace_back(p->path, value_text(*p, fit.config));
  const std::vector<double> cv = cross_validate(base, m, params, options.folds, options.seed, r.evaluations);
  Predictor pred{m, {}, 0};
  std::vector<double> meas, before, after;
  std::map<std::string, size_t> net_at;
  for (size_t i = 0; i < m.size(); ++i) {
    meas.push_back(m[i].latency_ms);
    before.push_back(pred.ms(base, i));
    after.push_back(pred.ms(fit.config, i));
    r.layers.push_back({m[i].layer.name, m[i].network, meas.back(), after.back(), cv[i]});
    if (!net_at.count(m[i].network))
      net_at[m[i].network] = r.networks.size(), r.networks.push_back({m[i].network});
    NetworkTotal& t = r.networks[net_at[m[i].network]];
    t.measured_ms += meas.back();
    t.predicted_ms += after.back();
  }
  r.before = stats(before, meas);
  r.after = stats(after, meas);
  r.cross_validated = stats(cv, meas);
  return r;
}

std::string calibrated_yaml(const CalibrationResult& r, const std::string& header) {
  // The canonical JSON of the config is YAML already; re-emitted in block style for people.
  const YAML::Node node = YAML::Load(canonical_json(r.calibrated));
  YAML::Emitter e;
  e << node;
  return header + e.c_str() + "\n";
}

}  // namespace sushi::sim
