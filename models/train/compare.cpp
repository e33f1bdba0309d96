#include "models/train/compare.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "base/errors.h"
#include "base/json.h"
#include "base/yaml.h"

namespace sushi::train {
namespace {

// "ks 5,5,0 e 4,4,0 d 3 r 28": equal for the same architecture, whatever the label or the run.
std::string architecture_key(const YamlView& s) {
  std::string key;
  for (const char* list : {"ks", "e", "d"}) {
    key += key.empty() ? "" : " ";
    key += list;
    key += ' ';
    const std::vector<int> values = s.get_list<int>(list);
    for (size_t i = 0; i < values.size(); ++i) key += (i ? "," : "") + std::to_string(values[i]);
  }
  return key + " r " + std::to_string(s.get<int>("image_size"));
}

std::vector<double> field_of(const std::vector<RunScores>& runs, double RunFigures::*f) {
  std::vector<double> v;
  for (const RunScores& r : runs) v.push_back(run_figures(r).*f);
  return v;
}

// The mean fp32 (or robust) difference of `a` minus `b` over the subnets both evaluated, and how many.
std::pair<std::vector<double>, std::vector<double>> subnet_differences(const RunScores& a,
                                                                       const RunScores& b) {
  std::map<std::string, const ScoredSubnet*> in_b;
  for (const ScoredSubnet& s : b.subnets) in_b.emplace(s.key, &s);
  std::vector<double> fp32, robust;
  std::map<std::string, bool> seen;  // a subnet evaluated under two labels (min and min_depth) counts once
  for (const ScoredSubnet& s : a.subnets) {
    auto it = in_b.find(s.key);
    if (it == in_b.end() || seen[s.key]) continue;
    seen[s.key] = true;
    fp32.push_back(s.fp32 - it->second->fp32);
    if (s.robust >= 0 && it->second->robust >= 0) robust.push_back(s.robust - it->second->robust);
  }
  return {fp32, robust};
}

PairedDifference paired(const GroupFigures& g, const GroupFigures& base, const std::vector<RunScores>& runs) {
  PairedDifference d;
  d.name = g.name;
  d.baseline = base.name;
  std::vector<double> per_seed_fp32, per_seed_robust, all_fp32, all_robust;
  for (const RunScores& a : runs) {
    if (a.group != g.name) continue;
    for (const RunScores& b : runs) {
      if (b.group != base.name || b.seed != a.seed) continue;
      const auto [fp32, robust] = subnet_differences(a, b);
      if (fp32.empty()) continue;
      ++d.seeds;
      d.subnets += int(fp32.size());
      per_seed_fp32.push_back(mean_ci(fp32).mean);
      if (!robust.empty()) per_seed_robust.push_back(mean_ci(robust).mean);
      all_fp32.insert(all_fp32.end(), fp32.begin(), fp32.end());
      all_robust.insert(all_robust.end(), robust.begin(), robust.end());
      break;
    }
  }
  d.basis = d.seeds >= 2 ? "seeds" : "subnets";
  d.fp32 = mean_ci(d.seeds >= 2 ? per_seed_fp32 : all_fp32);
  d.robust = mean_ci(d.seeds >= 2 ? per_seed_robust : all_robust);
  return d;
}

std::string fmt(const char* format, double v) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// "91.27 ±0.09 (25)", or "91.27 (1)" without an interval.
std::string ci_text(const MeanCi& m, const char* format = "%.2f") {
  if (m.n == 0) return "-";
  std::string s = fmt(format, m.mean);
  if (std::isfinite(m.half_width)) s += " ±" + fmt(format, m.half_width);
  return s + " (" + std::to_string(m.n) + ")";
}

void ci_json(JsonWriter& w, const std::string& key, const MeanCi& m) {
  w.key(key).begin_object().field("n", m.n);
  if (m.n > 0) w.field("mean", m.mean);
  if (std::isfinite(m.sd)) w.field("sd", m.sd).field("ci95_half_width", m.half_width);
  w.end_object();
}

void optional_json(JsonWriter& w, const std::string& key, double v) {
  if (std::isfinite(v)) w.field(key, v);
}

}  // namespace

RunScores load_run_scores(const std::string& summary_path) {
  const YamlView v = YamlView::load_file(summary_path);
  RunScores r;
  r.file = summary_path;
  r.name = v.get<std::string>("name");
  r.algorithm = v.get<std::string>("algorithm");
  r.epochs = v.get<int>("epochs");
  r.train_cpu_s = v.get<double>("train_cpu_seconds");
  r.wall_s = v.get<double>("wall_seconds");
  r.eval_cpu_s = v.get<double>("eval_cpu_seconds");
  r.worst_int8_drop = v.get<double>("worst_int8_drop");
  const YamlView prov = v.at("provenance");
  r.seed = prov.at("seeds").get<uint64_t>("train");
  r.config_hash = prov.get<std::string>("config_hash");
  r.git_commit = prov.get<std::string>("git_commit");
  YAML::Node config = YAML::Clone(prov.at("config").node());
  config.remove("seed");
  config.remove("output");
  r.config_key = YAML::Dump(config);
  for (const YamlView& s : v.at("subnets").items()) {
    ScoredSubnet x;
    x.label = s.get<std::string>("label");
    x.key = architecture_key(s.at("subnet"));
    x.fp32 = s.get<double>("top1_fp32");
    x.int8 = s.get<double>("top1_int8", -1.0);
    x.robust = s.get<double>("robust", -1.0);
    r.subnets.push_back(x);
  }
  if (r.subnets.empty()) v.at("subnets").fail("expected at least one evaluated subnet");
  return r;
}

RunFigures run_figures(const RunScores& r) {
  RunFigures f;
  std::vector<double> random, robust;
  for (const ScoredSubnet& s : r.subnets) {
    if (s.label == "max" || (s.label == "trained" && !std::isfinite(f.top))) f.top = s.fp32;
    if (s.label == "min") f.min = s.fp32;
    if (s.label == "random") random.push_back(s.fp32);
    if (s.robust >= 0 && (s.label == "max" || s.label == "trained")) f.robust = s.robust;
  }
  f.random = mean_ci(random);
  return f;
}

RunComparison compare_runs(std::vector<RunScores> runs) {
  RunComparison c;
  std::vector<std::string> keys;  // per group
  for (RunScores& r : runs) {
    const size_t at = size_t(std::find(keys.begin(), keys.end(), r.config_key) - keys.begin());
    if (at == keys.size()) {
      std::string label = r.name + "@" + std::to_string(r.epochs) + "ep";
      int same = 1;
      for (const GroupFigures& g : c.groups) same += g.name.rfind(label, 0) == 0;
      if (same > 1) label += "#" + std::to_string(same);
      keys.push_back(r.config_key);
      c.groups.push_back({label, r.algorithm, {}, {}, {}, {}, {}, {}});
    }
    GroupFigures& g = c.groups[at];
    r.group = g.name;
    if (std::find(g.seeds.begin(), g.seeds.end(), r.seed) != g.seeds.end())
      throw InputError(r.file + ": a second run of " + g.name + " at seed " + std::to_string(r.seed) +
                       " (each seed once: a group's mean is over seeds)");
    g.seeds.push_back(r.seed);
  }
  for (GroupFigures& g : c.groups) {
    std::vector<RunScores> mine;
    for (const RunScores& r : runs)
      if (r.group == g.name) mine.push_back(r);
    g.top = mean_ci(field_of(mine, &RunFigures::top));
    g.min = mean_ci(field_of(mine, &RunFigures::min));
    g.robust = mean_ci(field_of(mine, &RunFigures::robust));
    std::vector<double> random, cpu;
    for (const RunScores& r : mine) {
      random.push_back(run_figures(r).random.mean);
      cpu.push_back(r.train_cpu_s);
    }
    g.random = mean_ci(random);
    g.train_cpu_s = mean_ci(cpu);
  }
  for (size_t i = 1; i < c.groups.size(); ++i)
    c.differences.push_back(paired(c.groups[i], c.groups[0], runs));
  c.runs = std::move(runs);
  return c;
}

std::string comparison_text(const RunComparison& c) {
  std::string out =
      "runs (top = max or the subnet trained alone; random: fp32 mean ±95% CI between subnets)\n";
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-28s %-8s %4s %6s %10s %9s %7s %7s %7s %-20s %s\n", "group", "algo",
                "seed", "epochs", "train_cpu", "wall_s", "top", "min", "robust", "random", "worst_int8_drop");
  out += buf;
  for (const RunScores& r : c.runs) {
    const RunFigures f = run_figures(r);
    std::snprintf(buf, sizeof buf, "%-28s %-8s %4llu %6d %10.0f %9.0f %7s %7s %7s %-20s %.2f\n",
                  r.group.c_str(), r.algorithm.c_str(), (unsigned long long)r.seed, r.epochs, r.train_cpu_s,
                  r.wall_s, fmt("%.2f", f.top).c_str(), fmt("%.2f", f.min).c_str(),
                  fmt("%.1f", f.robust).c_str(), ci_text(f.random).c_str(), r.worst_int8_drop);
    out += buf;
  }
  out += "\ngroups (mean over seeds ±95% CI, t; n = runs)\n";
  for (const GroupFigures& g : c.groups)
    out += g.name + " (" + g.algorithm + "): top " + ci_text(g.top) + ", min " + ci_text(g.min) +
           ", random " + ci_text(g.random) + ", robust " + ci_text(g.robust, "%.1f") + ", train CPU-s " +
           ci_text(g.train_cpu_s, "%.0f") + "\n";
  if (!c.differences.empty()) out += "\npaired against " + c.groups[0].name + " (same seed, same subnets)\n";
  for (const PairedDifference& d : c.differences)
    out += d.name + " - " + d.baseline + ": fp32 " + ci_text(d.fp32) + ", robust " +
           ci_text(d.robust, "%.1f") + "; " + std::to_string(d.seeds) + " seed(s), " +
           std::to_string(d.subnets) + " subnet pair(s), CI over " + d.basis + "\n";
  return out;
}

std::string comparison_json(const RunComparison& c) {
  JsonWriter w;
  w.begin_object().key("runs").begin_array();
  for (const RunScores& r : c.runs) {
    const RunFigures f = run_figures(r);
    w.begin_object().field("file", r.file).field("name", r.name).field("group", r.group);
    w.field("algorithm", r.algorithm);
    w.field("seed", r.seed).field("epochs", r.epochs).field("config_hash", r.config_hash);
    w.field("git_commit", r.git_commit)
        .field("train_cpu_seconds", r.train_cpu_s)
        .field("wall_seconds", r.wall_s);
    optional_json(w, "top", f.top);
    optional_json(w, "min", f.min);
    optional_json(w, "robust", f.robust);
    ci_json(w, "random", f.random);
    w.field("worst_int8_drop", r.worst_int8_drop).end_object();
  }
  w.end_array().key("groups").begin_array();
  for (const GroupFigures& g : c.groups) {
    w.begin_object().field("name", g.name).field("algorithm", g.algorithm).key("seeds").begin_array();
    for (uint64_t s : g.seeds) w.value(s);
    w.end_array();
    ci_json(w, "top", g.top);
    ci_json(w, "min", g.min);
    ci_json(w, "random", g.random);
    ci_json(w, "robust", g.robust);
    ci_json(w, "train_cpu_seconds", g.train_cpu_s);
    w.end_object();
  }
  w.end_array().key("paired").begin_array();
  for (const PairedDifference& d : c.differences) {
    w.begin_object().field("name", d.name).field("baseline", d.baseline).field("seeds", d.seeds);
    w.field("subnet_pairs", d.subnets).field("ci_over", d.basis);
    ci_json(w, "fp32_difference", d.fp32);
    ci_json(w, "robust_difference", d.robust);
    w.end_object();
  }
  w.end_array().end_object();
  return w.str();
}

}  // namespace sushi::train
