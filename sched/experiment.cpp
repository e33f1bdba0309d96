#include "sched/experiment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "base/errors.h"
#include "base/json.h"
#include "base/manifest.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/record.h"
#include "sched/cosim.h"
#include "sched/feasibility.h"
#include "sched/frontier.h"
#include "sched/svg_plot.h"
#include "sched/switching.h"
#include "sim/accel.h"

namespace sushi {

namespace {

// A path in an experiment, resolved by the rule of base/paths.h (project root, file's folder, working
// directory; ../shared/data/ = the data folder, $SUSHI_DATA).
std::string resolve_item(const YamlView& item, const std::string& exp_file) {
  std::vector<std::string> tried;
  std::string p = resolve_yaml_path(item.as<std::string>(), exp_file, &tried);
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
                "offered utilisation: arrival rate = load / the load_reference service time (absent: the "
                "trace's rate_qps)")
          .choice("load_reference", &StreamSpec::load_reference, d.load_reference,
                  {{"mean", LoadReference::Mean},
                   {"target", LoadReference::Target},
                   {"fastest", LoadReference::Fastest},
                   {"median", LoadReference::Median},
                   {"slowest", LoadReference::Slowest}},
                  "service time the load is a utilisation of (no SGS, batch 1): target = mean over the "
                  "queries of their target subnet's; fastest/median/slowest Pareto subnet; mean = unweighted "
                  "mean over the Pareto subnets")
          .real_list("loads", &StreamSpec::loads, std::vector<double>{}, {0, 100, true}, 0, "",
                     "offered utilisations of an attainment-vs-load curve (every policy, every seed)")
          .real("slo_multiple", &StreamSpec::slo_multiple, d.slo_multiple, {-1}, "",
                "a query's SLO = this multiple of its target subnet's service time (no SGS, batch 1); "
                "absent: slo_relative or the trace's slo_ms")
          .real("slo_subnets.lo", &StreamSpec::slo_sub_lo, d.slo_sub_lo, {0, 1}, "",
                "target subnets from this fraction of the way from the fastest to the most accurate Pareto "
                "subnet (slo_subnets: [lo, hi])")
          .real("slo_subnets.hi", &StreamSpec::slo_sub_hi, d.slo_sub_hi, {0, 1}, "", "... to this fraction")
          .real("slo_relative.lo", &StreamSpec::slo_rel_lo, d.slo_rel_lo, {0}, "",
                "SLOs from this fraction of the way from the fastest to the slowest subnet "
                "(slo_relative: [lo, hi]; absent: the trace's slo_ms)")
          .real("slo_relative.hi", &StreamSpec::slo_rel_hi, d.slo_rel_hi, {0}, "", "... to this fraction")
          .string("trace_file", &StreamSpec::trace_file, "",
                  "a trace CSV (sushi trace generate) replayed as it is, read as a stream, instead of trace: "
                  "(without load, loads, slo_*; once, whatever seeds)")
          .check("load",
                 [](const StreamSpec& st) {
                   return st.load < 100
                              ? ""
                              : "expected a positive load below 100 (utilisation of the accelerator)";
                 })
          .check("slo_relative",
                 [](const StreamSpec& st) {
                   return st.slo_rel_hi >= st.slo_rel_lo ? "" : "expected [lo, hi] with 0 <= lo <= hi";
                 })
          .check("slo_subnets",
                 [](const StreamSpec& st) {
                   return st.slo_sub_hi >= st.slo_sub_lo ? "" : "expected [lo, hi] with 0 <= lo <= hi <= 1";
                 })
          .check("slo_multiple", [](const StreamSpec& st) {
            if (st.slo_multiple < 0 || st.slo_multiple >= 1) return std::string();
            return std::string("expected a multiple >= 1 of the service time");
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
                    "cache_dir", "seeds", "oracle_window"});
  e.seeds = root.get<int>("seeds", e.seeds);
  if (e.seeds < 1 || e.seeds > 1000) root.at("seeds").fail("expected 1..1000 seeds");
  e.oracle_window = root.get<int>("oracle_window", e.oracle_window);
  if (e.oracle_window < 1) root.at("oracle_window").fail("expected a positive number of queries");
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
    StreamSpec st = stream_schema().parse(
        yaml_ranges_as_maps(yaml_without_keys(s, {"trace"}), {"slo_relative", "slo_subnets"}));
    if (st.trace_file.empty()) {
      st.trace = TraceSpec::from_yaml(s.at("trace"));
    } else {
      for (const char* k :
           {"trace", "load", "loads", "load_reference", "slo_multiple", "slo_relative", "slo_subnets"})
        if (s.has(k))
          s.at(k).fail("not with trace_file: (the file's arrivals and SLOs are replayed as they are)");
      st.trace_file = resolve(s, "trace_file", path);
    }
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

double service_ms(const LatencyTable& t, size_t s) {
  return t.at(s, 0, 0).latency_ms;
}

// The Pareto subnet a query's SLO names: u in [0, 1] along [slo_subnets.lo, .hi] of the index range.
size_t slo_target(const LatencyTable& t, const StreamSpec& st, double u) {
  const double n = double(t.num_subnets() - 1);
  const double x = st.slo_sub_lo * n + std::clamp(u, 0.0, 1.0) * (st.slo_sub_hi - st.slo_sub_lo) * n;
  return std::min(t.num_subnets() - 1, size_t(std::lround(x)));
}

// The subnet an accuracy target names: the fastest meeting it (no SGS), else the most accurate.
size_t accuracy_target(const LatencyTable& t, double acc) {
  size_t best = t.num_subnets(), top = 0;
  for (size_t s = 0; s < t.num_subnets(); ++s) {
    if (t.accuracy[s] > t.accuracy[top]) top = s;
    if (t.accuracy[s] >= acc && (best == t.num_subnets() || service_ms(t, s) < service_ms(t, best))) best = s;
  }
  return best < t.num_subnets() ? best : top;
}

// The subnet a query names (its SLO's or its accuracy target's); maps an SLO placeholder (1 + u, u in
// [0, 1]) to a multiple of that subnet's service time.
size_t query_target(const LatencyTable& t, const StreamSpec& st, Query& q) {
  size_t target = 0;
  if (q.has_slo() && st.slo_multiple > 0) {
    target = slo_target(t, st, q.slo_ms - 1);
    q.slo_ms = st.slo_multiple * service_ms(t, target);
  } else if (q.has_slo()) {
    size_t best = 0;  // the most accurate subnet that fits the SLO alone
    for (size_t s = 0; s < t.num_subnets(); ++s)
      if (service_ms(t, s) <= q.slo_ms && t.accuracy[s] >= t.accuracy[best]) best = s;
    target = best;
  }
  if (q.has_acc()) target = accuracy_target(t, q.acc_target);
  return target;
}

// query_target of every query; returns the mean service time of their target subnets.
double apply_targets(const LatencyTable& t, const StreamSpec& st, std::vector<Query>& trace) {
  double sum = 0;
  for (Query& q : trace) sum += service_ms(t, query_target(t, st, q));
  return trace.empty() ? 0 : sum / double(trace.size());
}

double reference_ms(const LatencyTable& t, LoadReference r, double mean_ms, double target_ms) {
  std::vector<double> ms;
  for (size_t s = 0; s < t.num_subnets(); ++s) ms.push_back(service_ms(t, s));
  std::sort(ms.begin(), ms.end());
  switch (r) {
    case LoadReference::Target:
      return target_ms;
    case LoadReference::Fastest:
      return ms.front();
    case LoadReference::Median:
      return ms[ms.size() / 2];
    case LoadReference::Slowest:
      return ms.back();
    case LoadReference::Mean:
      break;
  }
  return mean_ms;
}

// One seed's trace: generated and held in memory, or a trace file read as a stream (by each policy again).
// `bound`, `size` and the SLO range are known before any policy runs.
struct SeedTrace {
  std::vector<Query> queries;
  std::string file;   // non-empty: read from this trace CSV
  int64_t limit = 0;  // file: at most this many queries (0 = all)
  size_t size = 0;    // queries in the trace
  double slo_lo_ms = 0, slo_hi_ms = 0;
  QuerySource open() const {
    if (file.empty()) return vector_source(queries);
    auto reader = std::make_shared<TraceReader>(file);
    auto read = std::make_shared<int64_t>(0);
    return [reader, read, limit = limit](Query& q) {
      if (limit > 0 && *read >= limit) return false;
      if (!reader->next(q)) return false;
      ++*read;
      return true;
    };
  }
};

void slo_range(SeedTrace& tr, const Query& q) {
  if (q.has_slo())
    tr.slo_lo_ms = std::min(tr.slo_lo_ms, q.slo_ms), tr.slo_hi_ms = std::max(tr.slo_hi_ms, q.slo_ms);
}

// One seed's generated trace of a stream at offered load `load` (0: the trace's own rate).
SeedTrace stream_trace(const ExperimentOverrides& ov, const LatencyTable& t, const PlatformSummary& ps,
                       double mean_ms, const StreamSpec& st, double load, uint64_t seed, SeedRun& run) {
  TraceSpec ts = st.trace;
  ts.seed = seed;
  if (ov.count > 0) ts.count = ov.count;
  if (st.slo_multiple > 0) {
    ts.constraints.slo_lo_ms = 1;  // placeholders 1 + u, mapped by apply_targets
    ts.constraints.slo_hi_ms = 2;
  } else if (st.slo_rel_lo >= 0) {
    ts.constraints.slo_lo_ms = ps.min_latency_ms + st.slo_rel_lo * (ps.max_latency_ms - ps.min_latency_ms);
    ts.constraints.slo_hi_ms = ps.min_latency_ms + st.slo_rel_hi * (ps.max_latency_ms - ps.min_latency_ms);
  }
  if (load > 0) {
    // The constraints come from their own random stream, so a first pass at any rate gives the targets.
    std::vector<Query> probe = generate_trace(ts);
    const double target_ms = apply_targets(t, st, probe);
    run.reference_ms = reference_ms(t, st.load_reference, mean_ms, target_ms);
    ts.rate_qps = load * 1000.0 / run.reference_ms;
  }
  SeedTrace tr;
  tr.queries = generate_trace(ts);
  const double target_ms = apply_targets(t, st, tr.queries);
  if (load <= 0) run.reference_ms = reference_ms(t, st.load_reference, mean_ms, target_ms);
  run.rate_qps = ts.rate_qps;
  run.seed = seed;
  run.bound = feasibility_bound(tr.queries, service_bound(t));
  tr.size = tr.queries.size();
  tr.slo_lo_ms = 1e300;
  for (const Query& q : tr.queries) slo_range(tr, q);
  return tr;
}

// A stream replaying a trace file: one pass for what is needed before serving (its length, SLO range, mean
// rate, the target subnets' mean service time and the feasibility bound, in arrival order).
SeedTrace file_trace(const ExperimentOverrides& ov, const LatencyTable& t, double mean_ms,
                     const StreamSpec& st, SeedRun& run) {
  SeedTrace tr;
  tr.file = st.trace_file;
  tr.limit = ov.count;
  tr.slo_lo_ms = 1e300;
  FeasibilityAccumulator bound(service_bound(t));
  TraceStatsAccumulator stats;
  double target_sum = 0;
  const QuerySource source = tr.open();
  for (Query q; source(q);) {
    ++tr.size;
    slo_range(tr, q);
    bound.add(q);
    stats.add(q);
    target_sum += service_ms(t, query_target(t, st, q));
  }
  run.bound = bound.result();
  run.reference_ms = reference_ms(t, st.load_reference, mean_ms, tr.size ? target_sum / double(tr.size) : 0);
  run.rate_qps = tr.size > 1 ? stats.stats().mean_rate_qps : 0;
  return tr;
}

const std::vector<std::string>& query_columns() {
  static const std::vector<std::string> c = {
      "policy",        "id",           "arrival_ms", "start_ms",         "finish_ms",
      "latency_ms",    "slo_ms",       "acc_target", "subnet",           "subgraph",
      "batch",         "dropped",      "slo_met",    "acc_met",          "accuracy_pct",
      "offchip_bytes", "pb_hit_bytes", "energy_uj",  "offchip_energy_uj"};
  return c;
}

// What the outputs take from one policy's first-seed run, as its records stream by: queries.csv's rows
// (appended to the stream's spill file), the latency CDF and PB hit-ratio points, and (for the first
// policy) the SLO markers. Memory: bounded (latencies and SLOs spill beyond SpilledDoubles::kInMemory).
class FirstSeedSink {
 public:
  FirstSeedSink(std::string policy, SpillFile& rows, size_t queries, bool slos)
      : policy_(std::move(policy)), rows_(rows), window_(std::max<size_t>(1, queries / 100)), slos_(slos) {}
  void add(const QueryRecord& q) {
    row(q);
    if (slos_ && q.slo_ms > 0) slo_.push(q.slo_ms);
    const size_t i = i_++;
    if (q.dropped) return;
    lat_.push(q.latency_ms);
    weight_ += q.pb_hit_bytes + q.offchip_weight_bytes;
    hit_ += q.pb_hit_bytes;
    if ((i + 1) % window_ == 0) {
      plots_.pb_hits.emplace_back(q.finish_ms / 1000, weight_ > 0 ? hit_ / weight_ : 0);
      weight_ = hit_ = 0;
    }
  }
  // Sorted latencies at every stride-th rank (about 400 points) and the last.
  RunPlots finish() {
    rows_.append(buf_);
    buf_.clear();
    const size_t n = lat_.size(), stride = std::max<size_t>(1, n / 400);
    std::vector<size_t> ranks;
    for (size_t i = 0; i < n; i += stride) ranks.push_back(i);
    if (n > 0) ranks.push_back(n - 1);
    const std::vector<double> v = n > 0 ? lat_.select(ranks) : std::vector<double>{};
    for (size_t k = 0; k + 1 < ranks.size(); ++k)
      plots_.latency_cdf.emplace_back(v[k], double(ranks[k] + 1) / double(n));
    if (n > 0) plots_.latency_cdf.emplace_back(v.back(), 1.0);
    return std::move(plots_);
  }
  std::vector<double> slo_marks() const {
    const size_t n = slo_.size();
    return n ? slo_.select({0, n / 2, n - 1}) : std::vector<double>{};
  }

 private:
  void row(const QueryRecord& q) {
    auto n = [this](double v) {
      buf_ += ',';
      buf_ += csv_number(v);
    };
    auto i = [this](int64_t v) {
      buf_ += ',';
      buf_ += std::to_string(v);
    };
    buf_ += policy_;
    i(q.id), n(q.arrival_ms), n(q.start_ms), n(q.finish_ms), n(q.latency_ms), n(q.slo_ms), n(q.acc_target);
    i(q.subnet), i(q.subgraph), i(q.batch), i(q.dropped), i(q.slo_met), i(q.acc_met), n(q.accuracy);
    n(q.offchip_bytes), n(q.pb_hit_bytes), n(convert(q.energy_pj, Unit::Pj, Unit::Uj));
    n(convert(q.offchip_energy_pj, Unit::Pj, Unit::Uj));
    buf_ += '\n';
    if (buf_.size() >= (size_t(1) << 16)) rows_.append(buf_), buf_.clear();
  }
  std::string policy_;
  SpillFile& rows_;
  size_t window_, i_ = 0;
  bool slos_;
  std::string buf_;
  SpilledDoubles lat_, slo_;
  double weight_ = 0, hit_ = 0;
  RunPlots plots_;
};

// Every policy on one trace; `first` (the first seed) also gathers what the outputs need of each run.
SeedRun run_seed(const ExperimentSpec& spec, const Platform& p, const SupernetSpace* space,
                 const SeedTrace& trace, SeedRun run, StreamResult* first) {
  for (const YamlView& pv : spec.policies) {
    auto policy = make_policy(pv);
    const bool demand = policy->role() == PolicyRole::Baseline && policy->impl() == "no_sgs";
    SwitchingAccumulator switching(p.table, spec.oracle_window);
    std::unique_ptr<FirstSeedSink> out;
    if (first)
      out = std::make_unique<FirstSeedSink>(policy->name(), *first->query_rows, trace.size,
                                            first->plots.empty());
    RecordSink sink;
    if (demand || out)
      sink = [&](const QueryRecord& q) {
        if (demand && !q.dropped) switching.add(q.subnet);
        if (out) out->add(q);
      };
    ServingResult r = spec.cosim ? serve_cosim(*p.accel, *space, p.table, trace.open(), *policy, spec.serving,
                                               sink, spec.cosim_model)
                                 : serve_stream(p.table, trace.open(), *policy, spec.serving, sink);
    run.summaries.push_back(r.summary);
    if (demand) run.switching = switching.result();
    if (!first) continue;
    if (first->plots.empty()) first->slo_marks = out->slo_marks();
    first->plots.push_back(out->finish());
    first->policies.push_back(std::move(r));
  }
  return run;
}

LoadPoint load_point(const ExperimentSpec& spec, const ExperimentOverrides& ov, const Platform& p,
                     const SupernetSpace* space, const PlatformSummary& ps, double mean_ms,
                     const StreamSpec& st, double load) {
  LoadPoint lp;
  lp.load = load;
  const size_t n = spec.policies.size();
  std::vector<std::vector<double>> att(n), util(n), acc(n);
  std::vector<double> bound, pairwise;
  for (int k = 0; k < spec.seeds; ++k) {
    SeedRun run;
    const SeedTrace trace =
        stream_trace(ov, p.table, ps, mean_ms, st, load, st.trace.seed + uint64_t(k), run);
    run = run_seed(spec, p, space, trace, run, nullptr);
    bound.push_back(run.bound.attainment());
    pairwise.push_back(run.bound.pairwise_attainment());
    for (size_t i = 0; i < n; ++i) {
      att[i].push_back(run.summaries[i].slo_attainment);
      util[i].push_back(run.summaries[i].utilisation);
      acc[i].push_back(run.summaries[i].mean_accuracy);
    }
  }
  lp.bound = mean_ci(bound);
  lp.bound_pairwise = mean_ci(pairwise);
  for (size_t i = 0; i < n; ++i) {
    lp.attainment.push_back(mean_ci(att[i]));
    lp.utilisation.push_back(mean_ci(util[i]));
    lp.accuracy.push_back(mean_ci(acc[i]));
  }
  return lp;
}

StreamResult stream_result(const Platform& p, const StreamSpec& st) {
  const LatencyTable& t = p.table;
  StreamResult sr;
  sr.platform = t.platform;
  sr.stream = st.name;
  const bool file = !st.trace_file.empty();  // the file's arrivals and SLOs as they are
  sr.load = file ? 0 : st.load;
  sr.load_reference = st.load_reference;
  sr.slo_multiple = file ? -1 : st.slo_multiple;
  sr.subgraph_names = t.subgraph_names;
  sr.subgraph_bytes = t.subgraph_bytes;
  sr.pb_bytes = p.accel ? p.accel->pb_bytes : 0;
  sr.query_rows = std::make_shared<SpillFile>();
  return sr;
}

StreamResult run_stream(const ExperimentSpec& spec, const ExperimentOverrides& ov, const Platform& p,
                        const SupernetSpace* space, const PlatformSummary& ps, double mean_ms,
                        const StreamSpec& st) {
  StreamResult sr = stream_result(p, st);
  const bool file = !st.trace_file.empty();
  for (int k = 0; k < (file ? 1 : spec.seeds); ++k) {  // a file is replayed once
    SeedRun run;
    const SeedTrace trace =
        file ? file_trace(ov, p.table, mean_ms, st, run)
             : stream_trace(ov, p.table, ps, mean_ms, st, st.load, st.trace.seed + uint64_t(k), run);
    if (k == 0) {
      TraceSpec ts = st.trace;
      ts.rate_qps = run.rate_qps;
      if (ov.count > 0) ts.count = ov.count;
      sr.trace_description =
          file ? "file=" + st.trace_file + " queries=" + std::to_string(trace.size) : describe(ts);
      sr.rate_qps = run.rate_qps;
      sr.slo_lo_ms = trace.slo_hi_ms == 0 ? 0 : trace.slo_lo_ms;
      sr.slo_hi_ms = trace.slo_hi_ms;
    }
    sr.seeds.push_back(run_seed(spec, p, space, trace, run, k == 0 ? &sr : nullptr));
  }
  if (!spec.cosim && !file)  // the curve runs every policy loads x seeds times: table mode only
    for (double load : st.loads) sr.curve.push_back(load_point(spec, ov, p, space, ps, mean_ms, st, load));
  return sr;
}

}  // namespace

ExperimentResult run_experiment(ExperimentSpec& spec, const ExperimentOverrides& ov) {
  if (ov.count < 0 || ov.count > kMaxQueries)
    throw InputError("--count " + std::to_string(ov.count) + ": expected 0.." + std::to_string(kMaxQueries) +
                     " queries per stream");
  if (ov.cosim) spec.cosim = true;
  if (!ov.cosim_model.empty()) spec.cosim = true, spec.cosim_model = sim::parse_fidelity(ov.cosim_model);
  if (ov.seeds > 0) spec.seeds = ov.seeds;
  spec.provenance.set("seeds", std::to_string(spec.seeds));
  if (!ov.output_dir.empty()) spec.output_dir = ov.output_dir;
  spec.provenance.set_fidelity(spec.cosim ? spec.cosim_model + " (co-simulated per query)"
                                          : spec.fidelity + " (latency table)");
  spec.provenance.set("latency_table_fidelity", spec.fidelity);
  if (ov.count > 0) spec.provenance.set("queries_per_stream", std::to_string(ov.count));
  if (!ov.trace_file.empty()) {
    for (StreamSpec& st : spec.streams) {
      if (st.trace_file.empty() &&
          (st.load > 0 || !st.loads.empty() || st.slo_multiple > 0 || st.slo_rel_lo >= 0))
        std::cerr << "note: --trace: stream " << st.name
                  << " replays the file's arrivals and SLOs; its load, loads and slo_* are not used\n";
      st.trace_file = ov.trace_file;
    }
  }
  for (const StreamSpec& st : spec.streams)
    if (!st.trace_file.empty())
      spec.provenance.add_input("trace." + st.name, st.trace_file, file_hash(st.trace_file));
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
      if (st.trace_file.empty()) spec.provenance.set_seed("trace_seed." + st.name, st.trace.seed);
    }
  }
  return out;
}

namespace {

// The serving statistics of one policy's run, with their units; JSON and CSV both write from this.
StatSet summary_stats(const ServingSummary& s) {
  StatSet st;
  st.count("queries", s.queries).count("served", s.served).count("dropped", s.dropped);
  st.add("mean_latency_ms", s.mean_latency_ms, Unit::Ms)
      .add("p50_latency_ms", s.p50_latency_ms, Unit::Ms)
      .add("p99_latency_ms", s.p99_latency_ms, Unit::Ms)
      .add("mean_service_ms", s.mean_service_ms, Unit::Ms)
      .add("p99_service_ms", s.p99_service_ms, Unit::Ms)
      .add("slo_attainment", s.slo_attainment, Unit::Ratio)
      .add("accuracy_attainment", s.accuracy_attainment, Unit::Ratio)
      .add("mean_served_accuracy_pct", s.mean_accuracy, Unit::Percent)
      .add("offchip_bytes_per_query", s.offchip_bytes_per_query, Unit::Bytes)
      .add("offchip_weight_bytes_per_query", s.offchip_weight_bytes_per_query, Unit::Bytes)
      .add("offchip_energy_uj_per_query", s.offchip_energy_pj_per_query, Unit::Pj, Unit::Uj)
      .add("offchip_weight_energy_uj_per_query", s.offchip_weight_energy_pj_per_query, Unit::Pj, Unit::Uj)
      .add("energy_uj_per_query", s.energy_pj_per_query, Unit::Pj, Unit::Uj)
      .add("pb_hit_ratio", s.pb_hit_ratio, Unit::Ratio)
      .count("cache_updates", s.cache_updates)
      .add("makespan_ms", s.makespan_ms, Unit::Ms)
      .add("utilisation", s.utilisation, Unit::Ratio);
  return st;
}

void summary_json(JsonWriter& j, const ServingSummary& s) {
  j.begin_object();
  summary_stats(s).write_fields(j);
  j.end_object();
}

// SUSHI's three headline comparisons against the same accelerator without SGS, per SGS policy, each the
// mean +- 95% CI over the seeds (seed k of every stream compared within seed k).
struct Headline {
  std::string platform, policy;
  MeanCi latency_reduction;      // accuracy-constrained streams: 1 - mean end-to-end latency / no-SGS's
  MeanCi service_reduction;      // the same for mean service time (start of the run to its end)
  MeanCi accuracy_gain_pp;       // latency-constrained streams: mean served accuracy minus no-SGS's
  MeanCi offchip_energy_saving;  // all streams: 1 - off-chip (DRAM) energy / no-SGS's, weights + activations
  MeanCi weight_energy_saving;   // all streams: the same for the DRAM energy of weights only (PB loads in)
  MeanCi weight_traffic_saving;  // all streams: 1 - off-chip weight bytes (PB loads included) / no-SGS's
};

struct HeadlineSamples {
  std::vector<double> lat, svc, acc, energy, wenergy, wbytes;
  std::vector<std::array<double, 6>> sums;  // per seed: energy, base energy, weight energy, base, bytes, base
};

void add_stream_samples(const StreamResult& s, size_t policy, size_t base, HeadlineSamples& h) {
  const bool acc_stream = !std::isfinite(s.policies.front().summary.slo_attainment);  // NaN: no SLOs
  if (h.sums.size() < s.seeds.size()) h.sums.resize(s.seeds.size(), {0, 0, 0, 0, 0, 0});
  for (size_t k = 0; k < s.seeds.size(); ++k) {
    const ServingSummary& p = s.seeds[k].summaries[policy];
    const ServingSummary& b = s.seeds[k].summaries[base];
    if (acc_stream) {
      h.lat.push_back(1 - p.mean_latency_ms / b.mean_latency_ms);
      h.svc.push_back(1 - p.mean_service_ms / b.mean_service_ms);
    } else {
      h.acc.push_back(p.mean_accuracy - b.mean_accuracy);
    }
    auto& e = h.sums[k];
    e[0] += p.offchip_energy_pj_per_query, e[1] += b.offchip_energy_pj_per_query;
    e[2] += p.offchip_weight_energy_pj_per_query, e[3] += b.offchip_weight_energy_pj_per_query;
    e[4] += p.offchip_weight_bytes_per_query, e[5] += b.offchip_weight_bytes_per_query;
  }
}

std::vector<Headline> headlines(const ExperimentResult& r) {
  // In the order platforms and policies first appear (not by name), so a rename changes no order.
  std::vector<std::pair<std::pair<std::string, std::string>, HeadlineSamples>> by;
  auto slot = [&](const std::string& platform, const std::string& policy) -> HeadlineSamples& {
    for (auto& [k, h] : by)
      if (k.first == platform && k.second == policy) return h;
    by.push_back({{platform, policy}, HeadlineSamples{}});
    return by.back().second;
  };
  for (const StreamResult& s : r.streams) {
    for (size_t i = 0; i < s.policies.size(); ++i) {
      if (s.policies[i].role != PolicyRole::Sgs) continue;
      // The no_sgs baseline with the same subnet-choice rule, else the first no_sgs.
      size_t base = s.policies.size(), same = s.policies.size();
      for (size_t b = 0; b < s.policies.size(); ++b) {
        const ServingResult& r = s.policies[b];
        if (r.role != PolicyRole::Baseline || r.policy_impl != "no_sgs") continue;
        if (base == s.policies.size()) base = b;
        if (same == s.policies.size() && r.rule == s.policies[i].rule) same = b;
      }
      if (same < s.policies.size()) base = same;
      if (base < s.policies.size()) add_stream_samples(s, i, base, slot(s.platform, s.policies[i].policy));
    }
  }
  std::vector<Headline> out;
  for (auto& [k, h] : by) {
    for (const auto& e : h.sums) {
      h.energy.push_back(e[1] > 0 ? 1 - e[0] / e[1] : NAN);
      h.wenergy.push_back(e[3] > 0 ? 1 - e[2] / e[3] : NAN);
      h.wbytes.push_back(e[5] > 0 ? 1 - e[4] / e[5] : NAN);
    }
    out.push_back({k.first, k.second, mean_ci(h.lat), mean_ci(h.svc), mean_ci(h.acc), mean_ci(h.energy),
                   mean_ci(h.wenergy), mean_ci(h.wbytes)});
  }
  return out;
}

// "mean±ci" of a statistic scaled by `scale`, NaN as "-".
std::string ci_text(const MeanCi& m, double scale, int prec) {
  char b[64];
  if (!std::isfinite(m.mean)) return "-";
  if (std::isfinite(m.half_width))
    std::snprintf(b, sizeof b, "%.*f±%.*f", prec, scale * m.mean, prec, scale * m.half_width);
  else
    std::snprintf(b, sizeof b, "%.*f", prec, scale * m.mean);
  return b;
}

// One statistic of one policy over the seeds.
MeanCi over_seeds(const StreamResult& s, size_t policy, double ServingSummary::*field) {
  std::vector<double> v;
  for (const SeedRun& r : s.seeds) v.push_back(r.summaries[policy].*field);
  return mean_ci(v);
}

MeanCi bound_over_seeds(const StreamResult& s, bool pairwise) {
  std::vector<double> v;
  for (const SeedRun& r : s.seeds)
    v.push_back(pairwise ? r.bound.pairwise_attainment() : r.bound.attainment());
  return mean_ci(v);
}

std::string stream_header(const StreamResult& s, bool has_slo) {
  std::ostringstream o;
  char buf[512];
  std::snprintf(buf, sizeof buf, "-- stream %s: %.1f qps", s.stream.c_str(), s.rate_qps);
  o << buf;
  if (s.load > 0) {
    std::snprintf(buf, sizeof buf, " = offered utilisation %.2f of the %s service time (%.3f ms)", s.load,
                  to_string(s.load_reference), s.seeds.front().reference_ms);
    o << buf;
  }
  if (has_slo && s.slo_multiple > 0)
    std::snprintf(buf, sizeof buf, "; SLO = %.2fx the target subnet's service time (%.3f..%.3f ms)",
                  s.slo_multiple, s.slo_lo_ms, s.slo_hi_ms);
  else if (has_slo)
    std::snprintf(buf, sizeof buf, "; SLO %.3f..%.3f ms", s.slo_lo_ms, s.slo_hi_ms);
  else
    std::snprintf(buf, sizeof buf, "; accuracy targets only");
  o << buf << "; " << s.seeds.size() << (s.seeds.size() > 1 ? " seeds, mean±95% CI\n" : " seed\n");
  if (has_slo)
    o << "   feasibility bound (offline upper bound on SLO attainment, any policy): "
      << ci_text(bound_over_seeds(s, false), 100, 2) << "% (pairwise "
      << ci_text(bound_over_seeds(s, true), 100, 2) << "%)\n";
  return o.str();
}

// The width of the policy-name column: the longest name, at least 16.
int name_width(const StreamResult& s) {
  size_t w = 16;
  for (const ServingResult& p : s.policies) w = std::max(w, p.policy.size());
  return int(w);
}

std::string policy_rows(const StreamResult& s) {
  std::ostringstream o;
  char buf[640];
  const int w = name_width(s);
  std::snprintf(buf, sizeof buf, "%-*s %13s %13s %13s %13s %13s %6s %11s %11s %6s %6s\n", w, "policy", "SLO%",
                "acc.target%", "served acc%", "e2e ms", "service ms", "util", "DRAM-W uJ", "DRAM uJ", "PBhit",
                "drop%");
  o << buf;
  for (size_t i = 0; i < s.policies.size(); ++i) {
    using S = ServingSummary;
    std::vector<double> drop;
    for (const SeedRun& r : s.seeds)
      drop.push_back(double(r.summaries[i].dropped) / double(std::max<int64_t>(1, r.summaries[i].queries)));
    std::snprintf(buf, sizeof buf, "%-*s %13s %13s %13s %13s %13s %6s %11s %11s %6s %6s\n", w,
                  s.policies[i].policy.c_str(), ci_text(over_seeds(s, i, &S::slo_attainment), 100, 2).c_str(),
                  ci_text(over_seeds(s, i, &S::accuracy_attainment), 100, 2).c_str(),
                  ci_text(over_seeds(s, i, &S::mean_accuracy), 1, 3).c_str(),
                  ci_text(over_seeds(s, i, &S::mean_latency_ms), 1, 3).c_str(),
                  ci_text(over_seeds(s, i, &S::mean_service_ms), 1, 3).c_str(),
                  ci_text(over_seeds(s, i, &S::utilisation), 1, 2).c_str(),
                  ci_text(over_seeds(s, i, &S::offchip_weight_energy_pj_per_query), 1e-6, 1).c_str(),
                  ci_text(over_seeds(s, i, &S::offchip_energy_pj_per_query), 1e-6, 1).c_str(),
                  ci_text(over_seeds(s, i, &S::pb_hit_ratio), 1, 2).c_str(),
                  ci_text(mean_ci(drop), 100, 1).c_str());
    o << buf;
  }
  return o.str();
}

std::string curve_rows(const StreamResult& s) {
  if (s.curve.empty()) return "";
  std::ostringstream o;
  o << "   SLO attainment % vs offered utilisation (" << to_string(s.load_reference)
    << "), beside the bound:\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "   %-6s %13s", "load", "bound");
  o << buf;
  std::vector<int> widths;  // a column as wide as its policy's name, at least 13
  for (const ServingResult& p : s.policies) {
    widths.push_back(std::max(13, int(p.policy.size())));
    std::snprintf(buf, sizeof buf, " %*s", widths.back(), p.policy.c_str());
    o << buf;
  }
  o << "\n";
  for (const LoadPoint& lp : s.curve) {
    std::snprintf(buf, sizeof buf, "   %-6.2f %13s", lp.load, ci_text(lp.bound, 100, 1).c_str());
    o << buf;
    for (size_t i = 0; i < lp.attainment.size(); ++i) {
      std::snprintf(buf, sizeof buf, " %*s", i < widths.size() ? widths[i] : 13,
                    ci_text(lp.attainment[i], 100, 1).c_str());
      o << buf;
    }
    o << "\n";
  }
  return o.str();
}

std::string switching_rows(const StreamResult& s) {
  if (!std::isfinite(s.seeds.front().switching.none_ms) || s.subgraph_names.size() < 2) return "";
  std::vector<double> none, stat, oracle;
  for (const SeedRun& r : s.seeds) {
    none.push_back(r.switching.none_ms);
    stat.push_back(r.switching.best_static_ms);
    oracle.push_back(r.switching.oracle_ms);
  }
  std::ostringstream o;
  o << "   value of SubGraph switching, mean service ms/query on the no-SGS demand: none "
    << ci_text(mean_ci(none), 1, 4) << ", best static ("
    << s.subgraph_names[size_t(s.seeds.front().switching.best_static)] << ") " << ci_text(mean_ci(stat), 1, 4)
    << ", hindsight oracle per window " << ci_text(mean_ci(oracle), 1, 4);
  for (size_t i = 0; i < s.policies.size(); ++i) {
    if (s.policies[i].role != PolicyRole::Sgs) continue;
    std::vector<double> busy;
    for (const SeedRun& r : s.seeds)
      busy.push_back(r.summaries[i].busy_ms / double(std::max<int64_t>(1, r.summaries[i].served)));
    o << "; " << s.policies[i].policy << " (own demand, busy/served) " << ci_text(mean_ci(busy), 1, 4);
  }
  return o.str() + "\n";
}

// SuperServe's comparison against the fixed-subnet frontier, per seed, for every non-fixed policy.
struct FrontierStats {
  std::string policy;
  MeanCi accuracy_gain_pp, attainment_ratio;
};
std::vector<FrontierStats> frontier_stats(const StreamResult& s) {
  std::vector<FrontierStats> out;
  size_t fixed = 0;
  for (const ServingResult& p : s.policies) fixed += p.role == PolicyRole::Fixed ? 1 : 0;
  if (fixed < 2 || s.policies.empty() || !std::isfinite(s.policies.front().summary.slo_attainment))
    return out;
  for (size_t i = 0; i < s.policies.size(); ++i) {
    if (s.policies[i].role == PolicyRole::Fixed) continue;
    std::vector<double> gain, ratio;
    for (const SeedRun& r : s.seeds) {
      std::vector<std::pair<double, double>> pts;
      for (size_t f = 0; f < s.policies.size(); ++f)
        if (s.policies[f].role == PolicyRole::Fixed)
          pts.emplace_back(r.summaries[f].slo_attainment, r.summaries[f].mean_accuracy);
      const FrontierGain g = frontier_gain(pts, r.summaries[i].slo_attainment, r.summaries[i].mean_accuracy);
      gain.push_back(g.accuracy_gain_pp);
      ratio.push_back(g.attainment_ratio);
    }
    out.push_back({s.policies[i].policy, mean_ci(gain), mean_ci(ratio)});
  }
  return out;
}

std::string frontier_rows(const StreamResult& s) {
  const auto fs = frontier_stats(s);
  if (fs.empty()) return "";
  std::ostringstream o;
  o << "   vs the fixed-subnet frontier (SuperServe's figures; '-' = outside the frontier's span):\n";
  for (const FrontierStats& f : fs)
    o << "     " << f.policy << ": accuracy at equal attainment " << ci_text(f.accuracy_gain_pp, 1, 3)
      << " pp, attainment at equal accuracy x" << ci_text(f.attainment_ratio, 1, 3) << "\n";
  return o.str();
}

}  // namespace

const char* to_string(LoadReference r) {
  switch (r) {
    case LoadReference::Mean:
      return "mean";
    case LoadReference::Target:
      return "target";
    case LoadReference::Fastest:
      return "fastest";
    case LoadReference::Median:
      return "median";
    case LoadReference::Slowest:
      return "slowest";
  }
  return "?";
}

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
      o << stream_header(s, has_slo) << policy_rows(s) << frontier_rows(s) << curve_rows(s)
        << switching_rows(s);
    }
  }
  const auto hs = headlines(r);
  if (!hs.empty()) {
    o << "\nSUSHI vs the same accelerator without SGS (paper: up to 25% lower latency, +0.98 pp accuracy, up "
         "to 78.7% less off-chip energy); mean±95% CI over seeds\n";
    std::snprintf(buf, sizeof buf, "%-16s %-14s %15s %15s %15s %15s %15s\n", "platform", "policy",
                  "e2e lat -%", "service -%", "accuracy +pp", "DRAM energy -%", "DRAM-W energy-%");
    o << buf;
    for (const Headline& h : hs) {
      std::snprintf(buf, sizeof buf, "%-16s %-14s %15s %15s %15s %15s %15s\n", h.platform.c_str(),
                    h.policy.c_str(), ci_text(h.latency_reduction, 100, 2).c_str(),
                    ci_text(h.service_reduction, 100, 2).c_str(), ci_text(h.accuracy_gain_pp, 1, 3).c_str(),
                    ci_text(h.offchip_energy_saving, 100, 2).c_str(),
                    ci_text(h.weight_energy_saving, 100, 2).c_str());
      o << buf;
    }
  }
  return o.str();
}

namespace {

void ci_json(JsonWriter& j, const std::string& key, const MeanCi& m) {
  j.key(key)
      .begin_object()
      .field("mean", m.mean)
      .field("ci95", m.half_width)
      .field("n", int64_t(m.n))
      .end_object();
}

// Every statistic of summary_stats, per policy, as mean and 95% CI half-width over the seeds.
std::vector<std::pair<std::string, MeanCi>> aggregate_stats(const StreamResult& s, size_t policy) {
  std::vector<std::pair<std::string, MeanCi>> out;
  std::vector<std::vector<double>> values;
  for (const SeedRun& r : s.seeds) {
    const StatSet st = summary_stats(r.summaries[policy]);
    if (out.empty())
      for (const Stat& x : st.stats()) out.emplace_back(x.name, MeanCi{});
    values.resize(out.size());
    for (size_t i = 0; i < st.stats().size() && i < out.size(); ++i) values[i].push_back(st.stats()[i].value);
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].second = mean_ci(values[i]);
  return out;
}

void curve_json(JsonWriter& j, const StreamResult& s) {
  j.key("attainment_vs_load").begin_array();
  for (const LoadPoint& lp : s.curve) {
    j.begin_object().field("load", lp.load);
    ci_json(j, "bound", lp.bound);
    ci_json(j, "bound_pairwise", lp.bound_pairwise);
    j.key("policies").begin_object();
    for (size_t i = 0; i < s.policies.size(); ++i) {
      j.key(s.policies[i].policy).begin_object();
      ci_json(j, "slo_attainment", lp.attainment[i]);
      ci_json(j, "utilisation", lp.utilisation[i]);
      ci_json(j, "mean_served_accuracy_pct", lp.accuracy[i]);
      j.end_object();
    }
    j.end_object().end_object();
  }
  j.end_array();
}

std::string stream_json(const ExperimentSpec& spec, const StreamResult& s) {
  JsonWriter j;
  j.begin_object().field("experiment", spec.name).field("platform", s.platform).field("stream", s.stream);
  j.field("trace", s.trace_description)
      .field("rate_qps", s.rate_qps)
      .field("offered_utilisation", s.load)
      .field("load_reference", to_string(s.load_reference))
      .field("reference_service_ms", s.seeds.front().reference_ms)
      .field("slo_multiple", s.slo_multiple)
      .field("slo_lo_ms", s.slo_lo_ms)
      .field("slo_hi_ms", s.slo_hi_ms)
      .field("seeds", int64_t(s.seeds.size()));
  ci_json(j, "feasibility_bound", bound_over_seeds(s, false));
  ci_json(j, "feasibility_bound_pairwise", bound_over_seeds(s, true));
  j.key("policies").begin_object();
  for (size_t i = 0; i < s.policies.size(); ++i) {
    j.key(s.policies[i].policy).begin_object();
    for (const auto& [name, m] : aggregate_stats(s, i)) ci_json(j, name, m);
    j.end_object();
  }
  j.end_object().key("first_seed").begin_object();
  for (const ServingResult& p : s.policies) {
    j.key(p.policy);
    summary_json(j, p.summary);
  }
  j.end_object();
  j.key("vs_fixed_frontier").begin_object();
  for (const FrontierStats& f : frontier_stats(s)) {
    j.key(f.policy).begin_object();
    ci_json(j, "accuracy_gain_pp_at_equal_attainment", f.accuracy_gain_pp);
    ci_json(j, "attainment_ratio_at_equal_accuracy", f.attainment_ratio);
    j.end_object();
  }
  j.end_object();
  {
    std::vector<double> none, stat, oracle;
    for (const SeedRun& r : s.seeds)
      none.push_back(r.switching.none_ms), stat.push_back(r.switching.best_static_ms),
          oracle.push_back(r.switching.oracle_ms);
    j.key("switching_value_service_ms").begin_object();
    ci_json(j, "no_pb", mean_ci(none));
    ci_json(j, "best_static", mean_ci(stat));
    ci_json(j, "oracle_per_window", mean_ci(oracle));
    j.field("best_static_subgraph", s.subgraph_names.empty()
                                        ? std::string()
                                        : s.subgraph_names[size_t(s.seeds.front().switching.best_static)]);
    j.end_object();
  }
  curve_json(j, s);
  j.key("provenance");
  spec.provenance.write_json(j);
  j.end_object();
  return j.str();
}

CsvTable summary_table(const StreamResult& s) {
  std::vector<std::string> cols = {"policy", "seeds"};
  for (const auto& [name, m] : aggregate_stats(s, 0)) cols.push_back(name), cols.push_back(name + "_ci95");
  cols.emplace_back("feasibility_bound");
  CsvTable t(cols);
  const MeanCi bound = bound_over_seeds(s, false);
  for (size_t i = 0; i < s.policies.size(); ++i) {
    std::vector<std::string> row = {s.policies[i].policy, std::to_string(s.seeds.size())};
    for (const auto& [name, m] : aggregate_stats(s, i))
      row.push_back(csv_number(m.mean)), row.push_back(csv_number(m.half_width));
    row.push_back(csv_number(bound.mean));
    t.add_row(row);
  }
  return t;
}

CsvTable curve_table(const StreamResult& s) {
  std::vector<std::string> cols = {"load", "bound", "bound_ci95"};
  for (const ServingResult& p : s.policies)
    for (const char* m : {"_attainment", "_attainment_ci95", "_utilisation", "_accuracy_pct"})
      cols.push_back(p.policy + m);
  CsvTable t(cols);
  for (const LoadPoint& lp : s.curve) {
    std::vector<std::string> row = {csv_number(lp.load), csv_number(lp.bound.mean),
                                    csv_number(lp.bound.half_width)};
    for (size_t i = 0; i < s.policies.size(); ++i)
      for (double v :
           {lp.attainment[i].mean, lp.attainment[i].half_width, lp.utilisation[i].mean, lp.accuracy[i].mean})
        row.push_back(csv_number(v));
    t.add_row(row);
  }
  return t;
}

// pb_events.csv, written piece by piece (a long run has a PB load every few dozen queries).
void write_pb_events(const StreamResult& s, const Provenance& prov, const OutputManifest::PieceWriter& put) {
  put(CsvTable(
          {"policy", "time_ms", "subgraph", "subgraph_name", "bytes", "pb_bytes", "load_ms", "energy_uj"})
          .str(prov));
  std::string rows;
  for (const ServingResult& p : s.policies)
    for (const CacheEvent& c : p.cache_events) {
      const std::string name =
          size_t(c.subgraph) < s.subgraph_names.size() ? s.subgraph_names[size_t(c.subgraph)] : "";
      rows += p.policy + "," + csv_number(c.time_ms) + "," + std::to_string(c.subgraph) + "," + name + "," +
              std::to_string(c.bytes) + "," + std::to_string(s.pb_bytes) + "," + csv_number(c.load_ms) + "," +
              csv_number(convert(c.energy_pj, Unit::Pj, Unit::Uj)) + "\n";
      if (rows.size() >= (size_t(1) << 16)) put(rows), rows.clear();
    }
  put(rows);
}

// SLO reference lines: the lowest, median and highest SLO of the stream (first seed).
std::vector<std::pair<double, std::string>> slo_markers(const StreamResult& s) {
  if (s.slo_marks.size() != 3) return {};
  char b[3][64];
  std::snprintf(b[0], 64, "min SLO %.3g ms", s.slo_marks[0]);
  std::snprintf(b[1], 64, "median SLO %.3g ms", s.slo_marks[1]);
  std::snprintf(b[2], 64, "max SLO %.3g ms", s.slo_marks[2]);
  return {{s.slo_marks[0], b[0]}, {s.slo_marks[1], b[1]}, {s.slo_marks[2], b[2]}};
}

// Latency CDF per policy (first seed), end to end, with the stream's SLOs marked.
std::string latency_cdf_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> cdf;
  for (size_t i = 0; i < s.policies.size(); ++i)
    cdf.push_back({s.policies[i].policy, s.plots[i].latency_cdf, PlotSeries::Style::Line, {}, {}});
  PlotSpec spec{"End-to-end latency CDF (seed 1) — " + s.platform + " / " + s.stream,
                "latency (ms)",
                "fraction of served queries",
                provenance,
                true,
                slo_markers(s),
                0,
                1.02};
  return render_svg(spec, cdf);
}

// Served accuracy vs SLO attainment (accuracy attainment on streams without SLOs), one labelled point per
// policy with 95% CI error bars (accuracy) over the seeds; the feasibility bound as a reference line.
std::string tradeoff_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> tradeoff;
  const bool has_slo = !s.policies.empty() && std::isfinite(s.policies.front().summary.slo_attainment);
  for (size_t i = 0; i < s.policies.size(); ++i) {
    const MeanCi x =
        over_seeds(s, i, has_slo ? &ServingSummary::slo_attainment : &ServingSummary::accuracy_attainment);
    const MeanCi y = over_seeds(s, i, &ServingSummary::mean_accuracy);
    tradeoff.push_back({s.policies[i].policy,
                        {{100 * x.mean, y.mean}},
                        PlotSeries::Style::Points,
                        {y.half_width},
                        {s.policies[i].policy}});
  }
  PlotSpec spec{"Served accuracy vs " + std::string(has_slo ? "SLO" : "accuracy-target") + " attainment — " +
                    s.platform + " / " + s.stream + " (mean, 95% CI over seeds)",
                has_slo ? "SLO attainment (%)" : "accuracy-target attainment (%)",
                "mean served top-1 (%)",
                provenance,
                false,
                {},
                NAN,
                NAN};
  if (has_slo) spec.x_markers.emplace_back(100 * bound_over_seeds(s, false).mean, "feasibility bound");
  return render_svg(spec, tradeoff);
}

// PB hit ratio over time (weight bytes served from the PB / weight bytes the runs needed, per 1% of the
// queries), for the policies that use the PB (first seed).
std::string pb_hit_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> pb;
  for (size_t i = 0; i < s.policies.size(); ++i)
    if (!s.policies[i].cache_events.empty())
      pb.push_back({s.policies[i].policy, s.plots[i].pb_hits, PlotSeries::Style::Line, {}, {}});
  return render_svg({"Persistent Buffer hit ratio over time — " + s.platform + " / " + s.stream,
                     "time (s)",
                     "PB hit ratio (hit bytes / weight bytes needed)",
                     provenance,
                     true,
                     {},
                     0,
                     1.02},
                    pb);
}

// What is cached: the size of the SubGraph resident in the PB (MB of int8 weights and int32 biases) over
// time, one step line per policy using the PB; the PB capacity as the top of the axis.
std::string pb_cached_svg(const StreamResult& s, const std::vector<int64_t>& bytes,
                          const std::string& provenance) {
  std::vector<PlotSeries> pb;
  for (const ServingResult& p : s.policies) {
    if (p.cache_events.empty()) continue;
    PlotSeries which{p.policy, {{0, 0}}, PlotSeries::Style::Step, {}, {}};
    for (const CacheEvent& c : p.cache_events)
      which.points.emplace_back(
          c.time_ms / 1000, size_t(c.subgraph) < bytes.size() ? double(bytes[size_t(c.subgraph)]) / 1e6 : 0);
    const double last_mb = which.points.back().second;  // a copy: emplace_back may reallocate
    which.points.emplace_back(p.summary.makespan_ms / 1000, last_mb);
    pb.push_back(which);
  }
  const double cap = s.pb_bytes > 0 ? double(s.pb_bytes) / 1e6 * 1.05 : NAN;
  return render_svg({"What the Persistent Buffer holds — " + s.platform + " / " + s.stream,
                     "time (s)",
                     "resident SubGraph (MB; PB capacity " + csv_number(double(s.pb_bytes) / 1e6) + " MB)",
                     provenance,
                     true,
                     {},
                     0,
                     cap},
                    pb);
}

// SLO attainment vs offered utilisation per policy, 95% CI error bars, the feasibility bound dashed.
std::string load_curve_svg(const StreamResult& s, const std::string& provenance) {
  std::vector<PlotSeries> lines;
  PlotSeries bound{"feasibility bound", {}, PlotSeries::Style::Line, {}, {}};
  for (const LoadPoint& lp : s.curve) bound.points.emplace_back(lp.load, 100 * lp.bound.mean);
  lines.push_back(bound);
  for (size_t i = 0; i < s.policies.size(); ++i) {
    PlotSeries ps{s.policies[i].policy, {}, PlotSeries::Style::Line, {}, {}};
    for (const LoadPoint& lp : s.curve) {
      ps.points.emplace_back(lp.load, 100 * lp.attainment[i].mean);
      ps.y_err.push_back(100 * lp.attainment[i].half_width);
    }
    lines.push_back(ps);
  }
  return render_svg(
      {"SLO attainment vs offered load — " + s.platform + " / " + s.stream,
       std::string("offered utilisation (of the ") + to_string(s.load_reference) + " service time)",
       "SLO attainment (%, mean and 95% CI over seeds)",
       provenance,
       true,
       {},
       NAN,
       101},
      lines);
}

// The SUSHI comparison on every platform: the headline metrics of the experiment's first SGS policy (its
// main SushiSched), one series per metric, x = platform, with 95% CI error bars over the seeds.
std::string summary_svg(const ExperimentResult& r, const std::string& provenance) {
  std::vector<std::string> platforms;
  for (const PlatformSummary& p : r.platforms) platforms.push_back(p.platform);
  const std::vector<Headline> hs = headlines(r);
  const std::string main = hs.empty() ? std::string() : hs.front().policy;
  const char* names[] = {"e2e latency -%", "service time -%", "accuracy +pp (latency stream)",
                         "DRAM energy (weights + activations) -%", "DRAM weight energy -%"};
  std::vector<PlotSeries> series;
  for (const char* n : names) series.push_back({n, {}, PlotSeries::Style::Points});
  for (const Headline& h : hs) {
    if (h.policy != main) continue;
    const double x =
        double(std::find(platforms.begin(), platforms.end(), h.platform) - platforms.begin()) + 1;
    const MeanCi m[] = {h.latency_reduction, h.service_reduction, h.accuracy_gain_pp, h.offchip_energy_saving,
                        h.weight_energy_saving};
    for (size_t i = 0; i < 5; ++i) {
      const double scale = i == 2 ? 1 : 100;
      series[i].points.emplace_back(x + 0.06 * (double(i) - 2), scale * m[i].mean);
      series[i].y_err.push_back(scale * m[i].half_width);
    }
  }
  PlotSpec spec{"SUSHI (" + main + ") vs no SGS per platform, mean and 95% CI; paper: 25% / +0.98 pp / 78.7%",
                "platform", "% (accuracy: pp)", provenance, true};
  for (size_t i = 0; i < platforms.size(); ++i) spec.x_markers.emplace_back(double(i + 1), platforms[i]);
  spec.x_min = 0.5;
  spec.x_max = double(platforms.size()) + 0.5;
  return render_svg(spec, series);
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
  for (const Headline& h : headlines(r)) {
    top.begin_object().field("platform", h.platform).field("policy", h.policy);
    ci_json(top, "latency_reduction", h.latency_reduction);
    ci_json(top, "service_time_reduction", h.service_reduction);
    ci_json(top, "accuracy_gain_pp", h.accuracy_gain_pp);
    ci_json(top, "offchip_energy_saving", h.offchip_energy_saving);
    ci_json(top, "offchip_weight_energy_saving", h.weight_energy_saving);
    ci_json(top, "offchip_weight_traffic_saving", h.weight_traffic_saving);
    top.end_object();
  }
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
    output.write_file_pieces((dir / "pb_events.csv").string(),
                             [&](const OutputManifest::PieceWriter& put) { write_pb_events(s, prov, put); });
    output.write_file_pieces((dir / "queries.csv").string(), [&](const OutputManifest::PieceWriter& put) {
      put(CsvTable(query_columns()).str(prov));
      s.query_rows->read(put);
    });
    output.write_file((dir / "latency_cdf.svg").string(), latency_cdf_svg(s, line));
    output.write_file((dir / "accuracy_vs_slo.svg").string(), tradeoff_svg(s, line));
    output.write_file((dir / "pb_hit_ratio.svg").string(), pb_hit_svg(s, line));
    output.write_file((dir / "pb_contents.svg").string(), pb_cached_svg(s, s.subgraph_bytes, line));
    if (!s.curve.empty()) {
      output.write_file((dir / "attainment_vs_load.csv").string(), curve_table(s).str(prov));
      output.write_file((dir / "attainment_vs_load.svg").string(), load_curve_svg(s, line));
    }
  }
  top.end_array();
  write_headlines(top, r);
  if (!headlines(r).empty())
    output.write_file((fs::path(spec.output_dir) / "sushi_summary.svg").string(), summary_svg(r, line));
  top.end_object();
  output.write_file((fs::path(spec.output_dir) / "results.json").string(), top.str() + "\n");
  output.finish();
  return top.str();
}

}  // namespace sushi
