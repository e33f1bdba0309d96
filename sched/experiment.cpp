#include "sched/experiment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "base/errors.h"
#include "base/json.h"
#include "base/manifest.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/record.h"
#include "sched/cosim.h"
#include "sched/svg_plot.h"
#include "sim/accel.h"

namespace sushi {

namespace {

// A path in an experiment, resolved by the rule of base/paths.h (project root, file's folder, working
// directory; ../shared/data/ = the data folder, $SUSHI_DATA).
std::string resolve_item(const YamlView& item, const std::string& exp_file) {
  std::vector<std::string> tried;
  const std::string p = resolve_yaml_path(item.as<std::string>(), exp_file, &tried);
  if (p.empty()) {
    std::string list;
    for (const std::string& t : tried) list += (list.empty() ? "" : ", ") + t;
    const bool data = item.as<std::string>().rfind("../shared/data/", 0) == 0;
    item.fail(
        "file '" + item.as<std::string>() + "' not found (looked for " + list +
        (data ? "; the shared data folder is $SUSHI_DATA, else ../shared/data beside the repository)" : ")"));
  }
  return p;
}

std::string resolve(const YamlView& v, const std::string& key, const std::string& exp_file) {
  return resolve_item(v.at(key), exp_file);
}

// A stream's own keys (its `trace:` is parsed by the trace kind's schema).
const ParamSchema<StreamSpec>& stream_schema() {
  static const StreamSpec d{};
  static const ParamSchema<StreamSpec> s =
      ParamSchema<StreamSpec>("stream", "a query stream of an experiment")
          .string("name", &StreamSpec::name, required, "the stream's name (its output folder)")
          .real("load", &StreamSpec::load, d.load, {0, 100, true}, "",
                "arrival rate = load / mean Pareto latency without SGS (absent: the trace's rate_qps)")
          .real("slo_relative.lo", &StreamSpec::slo_rel_lo, d.slo_rel_lo, {0}, "",
                "SLOs from this fraction of the way from the fastest to the slowest subnet "
                "(slo_relative: [lo, hi]; absent: the trace's slo_ms)")
          .real("slo_relative.hi", &StreamSpec::slo_rel_hi, d.slo_rel_hi, {0}, "", "... to this fraction")
          .check("load",
                 [](const StreamSpec& st) {
                   return st.load < 100
                              ? ""
                              : "expected a positive load below 100 (utilisation of the accelerator)";
                 })
          .check("slo_relative", [](const StreamSpec& st) {
            return st.slo_rel_hi >= st.slo_rel_lo ? "" : "expected [lo, hi] with 0 <= lo <= hi";
          });
  return s;
}
[[maybe_unused]] const bool stream_described =
    (ComponentIndex::add({"section", "streams[]", "an experiment's query stream (its trace: is a trace kind)",
                          &stream_schema()}),
     true);

}  // namespace

namespace {

// Applies the experiment-level overrides: each must name a value the experiment already has (the experiment
// has no defaults to fill in below a path it does not mention).
Point experiment_point(const std::string& path, const std::string& text,
                       const std::vector<Override>& overrides, std::vector<Override>& accel_overrides) {
  Point point = Point::parse(text, path);
  for (const Override& o : overrides) {
    if (o.path.rfind("accel.", 0) == 0) {
      accel_overrides.push_back(o);
      continue;
    }
    if (!point.has(o.path))
      throw InputError(o.origin + " " + o.path + "=" + o.value + ": " + path + " has no value at '" + o.path +
                       "' (an override replaces a value the experiment gives)");
    point.set(o);
  }
  return point;
}

}  // namespace

ExperimentSpec ExperimentSpec::load(const std::string& path, const std::vector<Override>& overrides) {
  ExperimentSpec e;
  e.file = path;
  const std::string text = e.provenance.read_input("experiment", path);
  const Point point = experiment_point(path, text, overrides, e.accel_overrides);
  e.provenance.set_config(point.canonical());
  const YamlView root = point.view();
  root.expect_keys({"name", "description", "supernet", "accuracy_table", "accelerators", "profile",
                    "fidelity", "cosim", "run_fidelity", "pareto", "serving", "streams", "policies", "output",
                    "cache_dir"});
  e.name = root.get<std::string>("name");
  e.description = root.get<std::string>("description", "");
  if (root.has("profile")) {
    e.profile = resolve(root, "profile", path);
    if (root.has("accelerators"))
      root.at("accelerators").fail("give either accelerators (with supernet) or profile, not both");
  } else {
    e.supernet = resolve(root, "supernet", path);
    e.accuracy_table = resolve(root, "accuracy_table", path);
    for (const YamlView& a : root.at("accelerators").items()) e.accelerators.push_back(resolve_item(a, path));
    if (e.accelerators.empty()) root.at("accelerators").fail("expected at least one accelerator config");
  }
  e.fidelity = root.get<std::string>("fidelity", e.fidelity);
  sim::parse_fidelity(e.fidelity);
  if (root.has("run_fidelity"))
    root.at("run_fidelity").fail("renamed: use `cosim: true` to run every query on the cycle model");
  e.cosim = root.get<bool>("cosim", e.cosim);
  if (root.has("pareto")) {
    const YamlView p = root.at("pareto");
    p.expect_keys({"max_subnets"});
    const int m = p.get<int>("max_subnets", int(e.max_subnets));
    if (m < 2 || m > 1000) p.at("max_subnets").fail("expected 2..1000");
    e.max_subnets = size_t(m);
  }
  if (root.has("serving")) e.serving = ServingOptions::from_yaml(root.at("serving"));
  for (const YamlView& s : root.at("streams").items()) {
    StreamSpec st =
        stream_schema().parse(yaml_ranges_as_maps(yaml_without_keys(s, {"trace"}), {"slo_relative"}));
    st.trace = TraceSpec::from_yaml(s.at("trace"));
    e.streams.push_back(st);
  }
  if (e.streams.empty()) root.at("streams").fail("expected at least one stream");
  for (const YamlView& p : root.at("policies").items()) {
    make_policy(p);  // validate now, so a typo fails before any simulation
    e.policies.push_back(p);
  }
  if (e.policies.empty()) root.at("policies").fail("expected at least one policy");
  e.output_dir = root.get<std::string>("output", "out/" + e.name);
  e.cache_dir = root.get<std::string>("cache_dir", e.cache_dir);
  return e;
}

namespace {

struct Platform {
  LatencyTable table;
  std::unique_ptr<sim::AccelConfig> accel;
};

// Loads every platform the run uses, recording each input in the provenance as it is read.
std::vector<Platform> load_platforms(ExperimentSpec& spec, const ExperimentOverrides& ov,
                                     std::unique_ptr<SupernetSpace>& space) {
  std::vector<Platform> platforms;
  if (!spec.profile.empty()) {
    if (spec.cosim) throw InputError(spec.file + ": cosim needs an accelerator, not a measured profile");
    Platform p;
    p.table = load_profile_table(spec.profile);
    spec.provenance.add_input("profile", spec.profile, p.table.key);
    if (ov.platform.empty() || ov.platform == p.table.platform) platforms.push_back(std::move(p));
    return platforms;
  }
  const std::string space_text = spec.provenance.read_input("supernet", spec.supernet);
  space =
      std::make_unique<SupernetSpace>(SupernetSpace::from_yaml(YamlView::parse(space_text, spec.supernet)));
  spec.provenance.read_input("accuracy_table", spec.accuracy_table);
  const AccuracyTable acc = AccuracyTable::load_jsonl(spec.accuracy_table, *space);
  for (const std::string& file : spec.accelerators) {
    Platform p;
    p.accel = std::make_unique<sim::AccelConfig>(sim::AccelConfig::load(file, spec.accel_overrides));
    if (!ov.platform.empty() && ov.platform != p.accel->name) continue;
    spec.provenance.add_input("accel", file, p.accel->hash);
    p.table = build_latency_table(*p.accel, *space, acc, sim::parse_fidelity(spec.fidelity),
                                  ParetoOptions{spec.max_subnets}, spec.cache_dir);
    platforms.push_back(std::move(p));
  }
  return platforms;
}

PlatformSummary summarize_platform(const LatencyTable& t, double& mean_ms) {
  PlatformSummary ps;
  ps.platform = t.platform;
  ps.latency_table_key = t.key;
  ps.subnets = t.num_subnets();
  ps.subgraphs = t.num_subgraphs();
  ps.min_latency_ms = 1e300;
  mean_ms = 0;
  for (size_t s = 0; s < t.num_subnets(); ++s) {
    const double ms = t.at(s, 0, 0).latency_ms;
    ps.min_latency_ms = std::min(ps.min_latency_ms, ms);
    ps.max_latency_ms = std::max(ps.max_latency_ms, ms);
    mean_ms += ms / double(t.num_subnets());
  }
  return ps;
}

StreamResult run_stream(const ExperimentSpec& spec, const ExperimentOverrides& ov, const Platform& p,
                        const SupernetSpace* space, const PlatformSummary& ps, double mean_ms,
                        const StreamSpec& st) {
  const LatencyTable& t = p.table;
  TraceSpec ts = st.trace;
  if (st.load > 0) ts.rate_qps = st.load * 1000.0 / mean_ms;
  if (st.slo_rel_lo >= 0) {
    ts.constraints.slo_lo_ms = ps.min_latency_ms + st.slo_rel_lo * (ps.max_latency_ms - ps.min_latency_ms);
    ts.constraints.slo_hi_ms = ps.min_latency_ms + st.slo_rel_hi * (ps.max_latency_ms - ps.min_latency_ms);
  }
  if (ov.count > 0) ts.count = ov.count;
  const std::vector<Query> trace = generate_trace(ts);
  StreamResult sr;
  sr.platform = t.platform;
  sr.stream = st.name;
  sr.trace_description = describe(ts);
  sr.slo_lo_ms = ts.constraints.slo_lo_ms;
  sr.slo_hi_ms = ts.constraints.slo_hi_ms;
  sr.rate_qps = ts.rate_qps;
  sr.subgraph_names = t.subgraph_names;
  sr.pb_bytes = p.accel ? p.accel->pb_bytes : 0;
  for (const YamlView& pv : spec.policies) {
    auto policy = make_policy(pv);
    sr.policies.push_back(spec.cosim ? serve_cosim(*p.accel, *space, t, trace, *policy, spec.serving)
                                     : serve(t, trace, *policy, spec.serving));
  }
  return sr;
}

}  // namespace

ExperimentResult run_experiment(ExperimentSpec& spec, const ExperimentOverrides& ov) {
  if (ov.count < 0 || ov.count > kMaxQueries)
    throw InputError("--count " + std::to_string(ov.count) + ": expected 0.." + std::to_string(kMaxQueries) +
                     " queries per stream");
  if (ov.cosim) spec.cosim = true;
  if (!ov.output_dir.empty()) spec.output_dir = ov.output_dir;
  spec.provenance.set_fidelity(spec.cosim ? "cycle (co-simulated per query)"
                                          : spec.fidelity + " (latency table)");
  spec.provenance.set("latency_table_fidelity", spec.fidelity);
  if (ov.count > 0) spec.provenance.set("queries_per_stream", std::to_string(ov.count));
  std::unique_ptr<SupernetSpace> space;
  std::vector<Platform> platforms = load_platforms(spec, ov, space);
  if (platforms.empty())
    throw InputError("--platform '" + ov.platform + "': no platform of " + spec.file + " has that name");
  ExperimentResult out;
  for (const Platform& p : platforms) {
    double mean_ms = 0;
    out.platforms.push_back(summarize_platform(p.table, mean_ms));
    for (const StreamSpec& st : spec.streams) {
      out.streams.push_back(run_stream(spec, ov, p, space.get(), out.platforms.back(), mean_ms, st));
      spec.provenance.set_seed("trace_seed." + st.name, st.trace.seed);
    }
  }
  return out;
}

namespace {

// The headline's reference: the baseline policy whose impl is no_sgs (whatever its display name).
const ServingResult* no_sgs_reference(const StreamResult& s) {
  for (const auto& r : s.policies)
    if (r.role == PolicyRole::Baseline && r.policy_impl == "no_sgs") return &r;
  return nullptr;
}

// The serving statistics of one policy's run, with their units; JSON and CSV both write from this.
StatSet summary_stats(const ServingSummary& s) {
  StatSet st;
  st.count("queries", s.queries).count("served", s.served).count("dropped", s.dropped);
  st.add("mean_latency_ms", s.mean_latency_ms, Unit::Ms)
      .add("p50_latency_ms", s.p50_latency_ms, Unit::Ms)
      .add("p99_latency_ms", s.p99_latency_ms, Unit::Ms)
      .add("slo_attainment", s.slo_attainment, Unit::Ratio)
      .add("accuracy_attainment", s.accuracy_attainment, Unit::Ratio)
      .add("mean_served_accuracy_pct", s.mean_accuracy, Unit::Percent)
      .add("offchip_bytes_per_query", s.offchip_bytes_per_query, Unit::Bytes)
      .add("offchip_weight_bytes_per_query", s.offchip_weight_bytes_per_query, Unit::Bytes)
      .add("offchip_energy_uj_per_query", s.offchip_energy_pj_per_query, Unit::Pj, Unit::Uj)
      .add("energy_uj_per_query", s.energy_pj_per_query, Unit::Pj, Unit::Uj)
      .add("pb_hit_ratio", s.pb_hit_ratio, Unit::Ratio)
      .count("cache_updates", s.cache_updates)
      .add("makespan_ms", s.makespan_ms, Unit::Ms);
  return st;
}

void summary_json(JsonWriter& j, const ServingSummary& s) {
  j.begin_object();
  summary_stats(s).write_fields(j);
  j.end_object();
}

// SUSHI's three headline comparisons against the same accelerator without SGS, per SGS policy.
struct Headline {
  std::string platform, policy;
  double latency_reduction = NAN;      // accuracy-constrained stream: 1 - mean latency / no-SGS mean latency
  double accuracy_gain_pp = NAN;       // latency-constrained stream: mean served accuracy minus no-SGS's
  double offchip_energy_saving = NAN;  // all streams: 1 - off-chip energy / no-SGS off-chip energy
  double weight_traffic_saving =
      NAN;  // all streams: 1 - off-chip weight bytes (PB loads included) / no-SGS's
};

std::vector<Headline> headlines(const ExperimentResult& r) {
  std::vector<Headline> out;
  std::map<std::pair<std::string, std::string>, Headline> by;
  std::map<std::pair<std::string, std::string>, std::pair<double, double>> energy,
      weights;  // (policy, no-SGS) sums
  for (const StreamResult& s : r.streams) {
    const ServingResult* base = no_sgs_reference(s);
    if (!base) continue;
    const bool acc_stream = s.policies.front().summary.slo_attainment !=
                            s.policies.front().summary.slo_attainment;  // NaN: no SLOs
    for (const ServingResult& p : s.policies) {
      if (p.role != PolicyRole::Sgs) continue;
      Headline& h = by[{s.platform, p.policy}];
      h.platform = s.platform;
      h.policy = p.policy;
      if (acc_stream)
        h.latency_reduction = 1 - p.summary.mean_latency_ms / base->summary.mean_latency_ms;
      else
        h.accuracy_gain_pp = p.summary.mean_accuracy - base->summary.mean_accuracy;
      auto& e = energy[{s.platform, p.policy}];
      e.first += p.summary.offchip_energy_pj_per_query;
      e.second += base->summary.offchip_energy_pj_per_query;
      auto& w = weights[{s.platform, p.policy}];
      w.first += p.summary.offchip_weight_bytes_per_query;
      w.second += base->summary.offchip_weight_bytes_per_query;
    }
  }
  for (auto& [k, h] : by) {
    const auto& e = energy[k];
    if (e.second > 0) h.offchip_energy_saving = 1 - e.first / e.second;
    const auto& w = weights[k];
    if (w.second > 0) h.weight_traffic_saving = 1 - w.first / w.second;
    out.push_back(h);
  }
  return out;
}

}  // namespace

std::string format_comparison(const ExperimentResult& r) {
  std::ostringstream o;
  char buf[512];
  for (const PlatformSummary& p : r.platforms) {
    std::snprintf(buf, sizeof buf,
                  "\n== %s: %zu Pareto subnets (%.3f..%.3f ms without SGS), %zu candidate SubGraphs\n",
                  p.platform.c_str(), p.subnets, p.min_latency_ms, p.max_latency_ms, p.subgraphs);
    o << buf;
    for (const StreamResult& s : r.streams) {
      if (s.platform != p.platform) continue;
      const bool has_slo = !s.policies.empty() && std::isfinite(s.policies.front().summary.slo_attainment);
      if (has_slo)
        std::snprintf(buf, sizeof buf, "-- stream %s: %.1f qps, SLO %.3f..%.3f ms\n", s.stream.c_str(),
                      s.rate_qps, s.slo_lo_ms, s.slo_hi_ms);
      else
        std::snprintf(buf, sizeof buf, "-- stream %s: %.1f qps, accuracy targets only\n", s.stream.c_str(),
                      s.rate_qps);
      o << buf;
      std::snprintf(buf, sizeof buf, "%-14s %9s %9s %7s %7s %8s %10s %10s %10s %6s %6s\n", "policy",
                    "mean ms", "p99 ms", "SLO%", "acc.at%", "acc%", "offchipMB", "offchip uJ", "energy uJ",
                    "PBhit", "PBupd");
      o << buf;
      for (const ServingResult& pr : s.policies) {
        const ServingSummary& m = pr.summary;
        std::snprintf(buf, sizeof buf,
                      "%-14s %9.3f %9.3f %7.2f %7.2f %8.3f %10.3f %10.2f %10.2f %6.3f %6lld\n",
                      pr.policy.c_str(), m.mean_latency_ms, m.p99_latency_ms, 100 * m.slo_attainment,
                      100 * m.accuracy_attainment, m.mean_accuracy, m.offchip_bytes_per_query / 1e6,
                      m.offchip_energy_pj_per_query * 1e-6, m.energy_pj_per_query * 1e-6, m.pb_hit_ratio,
                      (long long)m.cache_updates);
        o << buf;
      }
    }
  }
  const auto hs = headlines(r);
  if (!hs.empty()) {
    o << "\nSUSHI vs the same accelerator without SGS (paper: up to 25% lower latency, +0.98 pp accuracy, up "
         "to 78.7% less "
         "off-chip energy)\n";
    for (const Headline& h : hs) {
      std::snprintf(buf, sizeof buf,
                    "%-16s %-14s latency -%.2f%% (accuracy stream)  accuracy %+.3f pp (latency stream)  "
                    "off-chip energy -%.2f%% (weight traffic -%.2f%%)\n",
                    h.platform.c_str(), h.policy.c_str(), 100 * h.latency_reduction, h.accuracy_gain_pp,
                    100 * h.offchip_energy_saving, 100 * h.weight_traffic_saving);
      o << buf;
    }
  }
  return o.str();
}

namespace {

const std::vector<std::string> kSummaryColumns = {"policy",
                                                  "mean_latency_ms",
                                                  "p99_latency_ms",
                                                  "slo_attainment",
                                                  "accuracy_attainment",
                                                  "mean_served_accuracy_pct",
                                                  "offchip_bytes_per_query",
                                                  "offchip_energy_uj_per_query",
                                                  "energy_uj_per_query",
                                                  "pb_hit_ratio",
                                                  "cache_updates",
                                                  "dropped"};

std::string stream_json(const ExperimentSpec& spec, const StreamResult& s) {
  JsonWriter j;
  j.begin_object().field("experiment", spec.name).field("platform", s.platform).field("stream", s.stream);
  j.field("trace", s.trace_description)
      .field("rate_qps", s.rate_qps)
      .field("slo_lo_ms", s.slo_lo_ms)
      .field("slo_hi_ms", s.slo_hi_ms);
  j.key("policies").begin_object();
  for (const ServingResult& p : s.policies) {
    j.key(p.policy);
    summary_json(j, p.summary);
  }
  j.end_object().key("provenance");
  spec.provenance.write_json(j);
  j.end_object();
  return j.str();
}

CsvTable summary_table(const StreamResult& s) {
  CsvTable t(kSummaryColumns);
  for (const ServingResult& p : s.policies) t.add_row(p.policy, summary_stats(p.summary));
  return t;
}

CsvTable queries_table(const StreamResult& s) {
  CsvTable t({"policy", "id", "arrival_ms", "start_ms", "finish_ms", "latency_ms", "slo_ms", "acc_target",
              "subnet", "subgraph", "batch", "dropped", "slo_met", "acc_met", "accuracy_pct", "offchip_bytes",
              "pb_hit_bytes", "energy_uj", "offchip_energy_uj"});
  auto n = [](double v) { return csv_number(v); };
  auto i = [](int64_t v) { return std::to_string(v); };
  for (const ServingResult& p : s.policies)
    for (const QueryRecord& q : p.records)
      t.add_row({p.policy, i(q.id), n(q.arrival_ms), n(q.start_ms), n(q.finish_ms), n(q.latency_ms),
                 n(q.slo_ms), n(q.acc_target), i(q.subnet), i(q.subgraph), i(q.batch), i(q.dropped),
                 i(q.slo_met), i(q.acc_met), n(q.accuracy), n(q.offchip_bytes), n(q.pb_hit_bytes),
                 n(convert(q.energy_pj, Unit::Pj, Unit::Uj)),
                 n(convert(q.offchip_energy_pj, Unit::Pj, Unit::Uj))});
  return t;
}

CsvTable pb_events_table(const StreamResult& s) {
  CsvTable t({"policy", "time_ms", "subgraph", "subgraph_name", "bytes", "pb_bytes", "load_ms", "energy_uj"});
  for (const ServingResult& p : s.policies)
    for (const CacheEvent& c : p.cache_events)
      t.add_row({p.policy, csv_number(c.time_ms), std::to_string(c.subgraph),
                 size_t(c.subgraph) < s.subgraph_names.size() ? s.subgraph_names[size_t(c.subgraph)] : "",
                 std::to_string(c.bytes), std::to_string(s.pb_bytes), csv_number(c.load_ms),
                 csv_number(convert(c.energy_pj, Unit::Pj, Unit::Uj))});
  return t;
}

// Latency CDF per policy.
std::string latency_cdf_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> cdf;
  for (const ServingResult& p : s.policies) {
    std::vector<double> lat;
    for (const QueryRecord& q : p.records)
      if (!q.dropped) lat.push_back(q.latency_ms);
    std::sort(lat.begin(), lat.end());
    PlotSeries ps{p.policy, {}, PlotSeries::Style::Line};
    const size_t stride = std::max<size_t>(1, lat.size() / 400);
    for (size_t i = 0; i < lat.size(); i += stride)
      ps.points.push_back({lat[i], double(i + 1) / double(lat.size())});
    if (!lat.empty()) ps.points.push_back({lat.back(), 1.0});
    cdf.push_back(ps);
  }
  return render_svg({"Latency CDF — " + s.platform + " / " + s.stream, "latency (ms)",
                     "fraction of served queries", provenance, true},
                    cdf);
}

// Served accuracy vs SLO attainment (accuracy attainment on streams without SLOs), one point per policy.
std::string tradeoff_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> tradeoff;
  for (const ServingResult& p : s.policies) {
    const double x =
        std::isfinite(p.summary.slo_attainment) ? p.summary.slo_attainment : p.summary.accuracy_attainment;
    tradeoff.push_back({p.policy, {{100 * x, p.summary.mean_accuracy}}, PlotSeries::Style::Points});
  }
  const bool has_slo = !s.policies.empty() && std::isfinite(s.policies.front().summary.slo_attainment);
  return render_svg({"Served accuracy vs " + std::string(has_slo ? "SLO" : "accuracy-target") +
                         " attainment — " + s.platform + " / " + s.stream,
                     has_slo ? "SLO attainment (%)" : "accuracy-target attainment (%)",
                     "mean served top-1 (%)", provenance, false},
                    tradeoff);
}

PlotSeries pb_hit_series(const ServingResult& p) {
  double weight = 0, hit = 0;
  PlotSeries hits{p.policy + ": PB hit ratio", {}, PlotSeries::Style::Line};
  const size_t window = std::max<size_t>(1, p.records.size() / 100);
  for (size_t i = 0; i < p.records.size(); ++i) {
    const QueryRecord& q = p.records[i];
    if (q.dropped) continue;
    weight += q.pb_hit_bytes + q.offchip_weight_bytes;
    hit += q.pb_hit_bytes;
    if ((i + 1) % window == 0) {
      hits.points.push_back({q.finish_ms / 1000, weight > 0 ? hit / weight : 0});
      weight = hit = 0;
    }
  }
  return hits;
}

// PB contents and hit ratio over time, for the policies that use the PB.
std::string pb_timeline_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> pb;
  for (const ServingResult& p : s.policies) {
    bool uses_pb = !p.cache_events.empty();
    if (uses_pb) pb.push_back(pb_hit_series(p));
    if (uses_pb && p.role == PolicyRole::Sgs && s.subgraph_names.size() > 2) {
      // PB contents: whose weights are cached, as the Pareto rank of their subnet (0 fastest, 1 most
      // accurate).
      const double ranks = double(s.subgraph_names.size() - 2);
      PlotSeries which{p.policy + ": cached subnet's Pareto rank", {}, PlotSeries::Style::Step};
      for (const CacheEvent& c : p.cache_events)
        which.points.push_back({c.time_ms / 1000, c.subgraph > 0 ? (c.subgraph - 1) / ranks : 0.0});
      if (!p.records.empty())
        which.points.push_back({p.summary.makespan_ms / 1000, which.points.back().second});
      pb.push_back(which);
    }
  }
  return render_svg({"Persistent Buffer over time — " + s.platform + " / " + s.stream, "time (s)",
                     "PB hit ratio / cached subnet rank", provenance, true},
                    pb);
}

void write_top_level(JsonWriter& top, const ExperimentSpec& spec, const ExperimentResult& r) {
  top.begin_object().field("experiment", spec.name).key("provenance");
  spec.provenance.write_json(top);
  top.key("platforms").begin_array();
  for (const PlatformSummary& p : r.platforms)
    top.begin_object()
        .field("platform", p.platform)
        .field("latency_table_key", p.latency_table_key)
        .field("subnets", int64_t(p.subnets))
        .field("subgraphs", int64_t(p.subgraphs))
        .field("min_latency_ms", p.min_latency_ms)
        .field("max_latency_ms", p.max_latency_ms)
        .end_object();
  top.end_array();
}

void write_headlines(JsonWriter& top, const ExperimentResult& r) {
  top.key("sushi_vs_no_sgs").begin_array();
  for (const Headline& h : headlines(r))
    top.begin_object()
        .field("platform", h.platform)
        .field("policy", h.policy)
        .field("latency_reduction", h.latency_reduction)
        .field("accuracy_gain_pp", h.accuracy_gain_pp)
        .field("offchip_energy_saving", h.offchip_energy_saving)
        .field("offchip_weight_traffic_saving", h.weight_traffic_saving)
        .end_object();
  top.end_array();
}

}  // namespace

std::string write_experiment_outputs(const ExperimentSpec& spec, const ExperimentResult& r) {
  namespace fs = std::filesystem;
  OutputManifest output(spec.output_dir);  // every file goes through it; finish() removes stale ones
  const Provenance& prov = spec.provenance;
  const std::string line = prov.line();
  JsonWriter top;
  write_top_level(top, spec, r);
  top.key("streams").begin_array();
  for (const StreamResult& s : r.streams) {
    const fs::path dir = fs::path(spec.output_dir) / s.platform / s.stream;
    const std::string json = stream_json(spec, s);
    output.write_file((dir / "results.json").string(), json + "\n");
    top.raw(json);
    output.write_file((dir / "summary.csv").string(), summary_table(s).str(prov));
    output.write_file((dir / "pb_events.csv").string(), pb_events_table(s).str(prov));
    output.write_file((dir / "queries.csv").string(), queries_table(s).str(prov));
    output.write_file((dir / "latency_cdf.svg").string(), latency_cdf_svg(s, line));
    output.write_file((dir / "accuracy_vs_slo.svg").string(), tradeoff_svg(s, line));
    output.write_file((dir / "pb_timeline.svg").string(), pb_timeline_svg(s, line));
  }
  top.end_array();
  write_headlines(top, r);
  top.end_object();
  output.write_file((fs::path(spec.output_dir) / "results.json").string(), top.str() + "\n");
  output.finish();
  return top.str();
}

}  // namespace sushi
