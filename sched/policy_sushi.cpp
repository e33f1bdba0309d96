// SushiSched: the subnet choice under the cached SubGraph, and every `window` queries the SubGraph that suits
// the window's recent subnets.
#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

#include "sched/policy.h"

namespace sushi {
namespace {

enum class Variant { Average, MinLatency, Amortised };

struct SushiParams : RuleParams {
  int window;
  Variant variant;
  double residency_windows;
};

const ParamSchema<SushiParams>& sushi_params() {
  static ParamSchema<SushiParams> s =
      policy_schema<SushiParams>("sushi", "SushiSched: SubGraph-Stationary scheduling")
          .integer("window", &SushiParams::window, 8, {1}, "queries",
                   "queries between SubGraph decisions (the window Q)")
          .choice(
              "variant", &SushiParams::variant, Variant::Average,
              {{"average", Variant::Average},
               {"min_latency", Variant::MinLatency},
               {"amortised", Variant::Amortised}},
              "average: the SubGraph nearest the window's average subnet; min_latency: the one minimising "
              "the window's latency, reload included; amortised: the one minimising the expected latency "
              "over its expected residency (residency_windows), the reload paid once")
          .real("residency_windows", &SushiParams::residency_windows, 0, {0}, "windows",
                "amortised: windows a SubGraph is expected to stay (0 = measured: the mean so far, 4 "
                "before the first switch)");
  static const bool once = (add_rule_params(s), true);
  (void)once;
  return s;
}

class SushiSched : public PolicyWith<SushiParams, PolicyRole::Sgs> {
 public:
  explicit SushiSched(const YamlView& p) : PolicyWith(sushi_params().parse(p)) {}
  void reset(const LatencyTable& t) override {
    recent_.clear();
    served_ = 0;
    windows_ = switches_ = 0;
    chooser_ = QueueAwareChooser(t, params_.lookahead, params_.expected_arrivals);
    precompute_features(t);
  }
  const char* rule() const override { return to_string(params_.rule); }
  int lookahead() const override { return params_.rule == Rule::QueueAware ? params_.lookahead : 0; }
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    Decision d;
    d.subnet = params_.rule == Rule::QueueAware
                   ? chooser_.choose(ctx, ctx.cached_subgraph)
                   : choose_subnet(t, *ctx.head, ctx.now_ms, ctx.cached_subgraph);
    recent_.push_back(d.subnet);
    if (int(recent_.size()) > params_.window) recent_.pop_front();
    if (++served_ % params_.window == 0) {
      ++windows_;
      int next = ctx.cached_subgraph;
      if (params_.variant == Variant::Average)
        next = average_subgraph(t);
      else
        next = min_latency_subgraph(t, ctx.cached_subgraph, residency());
      if (next != ctx.cached_subgraph) {
        d.next_subgraph = next;
        ++switches_;
      }
    }
    return d;
  }

 private:
  // Queries expected per residency of a SubGraph, in units of windows (min_latency: one window).
  double residency() const {
    if (params_.variant == Variant::MinLatency) return 1;
    if (params_.residency_windows > 0) return params_.residency_windows;
    return switches_ == 0 ? 4.0 : std::max(1.0, double(windows_) / double(switches_));
  }
  // The window's "average subnet" (mean of every elastic choice), snapped to the candidate SubGraph whose
  // source subnet is nearest in normalised L1 distance. Tables without subnet configs (hand-built, profiles)
  // use the mean Pareto rank instead, rank being the size order of the Pareto set.
  int average_subgraph(const LatencyTable& t) {
    if (t.subnets.empty()) {
      const double mean = std::accumulate(recent_.begin(), recent_.end(), 0.0) / double(recent_.size());
      return subgraph_of_source(t, int(std::lround(mean)));
    }
    std::fill(mean_.begin(), mean_.end(), 0.0);
    for (int s : recent_)
      for (size_t i = 0; i < dims_; ++i) mean_[i] += features_[size_t(s) * dims_ + i];
    for (double& m : mean_) m /= double(recent_.size());
    int best = 0;
    double best_d = 1e300;
    for (size_t g = 1; g < t.num_subgraphs(); ++g) {
      if (t.subgraph_source[g] < 0) continue;  // optimised candidates have no single source subnet
      const double* f = &features_[size_t(t.subgraph_source[g]) * dims_];
      double dist = 0;
      for (size_t i = 0; i < dims_; ++i) dist += std::fabs(f[i] - mean_[i]);
      if (dist < best_d) {
        best_d = dist;
        best = int(g);
      }
    }
    return best;
  }
  // Every subnet's elastic choices, each dimension scaled to [0, 1] over the table (precomputed once).
  void precompute_features(const LatencyTable& t) {
    features_.clear();
    dims_ = 0;
    if (t.subnets.empty()) return;
    auto raw = [](const Subnet& s) {
      std::vector<double> f;
      for (int d : s.depth) f.push_back(d);
      for (int k : s.kernel) f.push_back(k);
      for (double e : s.expand) f.push_back(e);
      for (double w : s.width) f.push_back(w);
      return f;
    };
    dims_ = raw(t.subnets[0]).size();
    std::vector<double> lo(dims_, 1e300), hi(dims_, -1e300);
    for (const Subnet& s : t.subnets) {
      const auto f = raw(s);
      for (size_t i = 0; i < dims_; ++i) {
        lo[i] = std::min(lo[i], f[i]);
        hi[i] = std::max(hi[i], f[i]);
      }
      features_.insert(features_.end(), f.begin(), f.end());
    }
    for (size_t s = 0; s < t.subnets.size(); ++s)
      for (size_t i = 0; i < dims_; ++i) {
        double& v = features_[s * dims_ + i];
        v = hi[i] > lo[i] ? (v - lo[i]) / (hi[i] - lo[i]) : 0;
      }
    mean_.assign(dims_, 0.0);
  }
  // The SubGraph minimising the window's total latency over `windows` windows like it, the reload's own
  // latency paid once (min_latency: one window, so a switch must pay for itself at once); the current one
  // wins ties.
  int min_latency_subgraph(const LatencyTable& t, int current, double windows) const {
    int best = current;
    double best_total = windows * total(t, current);
    for (size_t g = 0; g < t.num_subgraphs(); ++g) {
      const double tot = windows * total(t, int(g)) + (int(g) == current ? 0.0 : t.pb_load[g].latency_ms);
      if (tot < best_total - 1e-12) {
        best_total = tot;
        best = int(g);
      }
    }
    return best;
  }
  double total(const LatencyTable& t, int g) const {
    double sum = 0;
    for (int s : recent_) sum += t.at(s, g).latency_ms;
    return sum;
  }

  std::deque<int> recent_;
  int64_t served_ = 0, windows_ = 0, switches_ = 0;
  QueueAwareChooser chooser_;
  std::vector<double> features_, mean_;
  size_t dims_ = 0;
};

SUSHI_REGISTER(
    Policy, "sushi",
    policy_doc<SushiSched>(
        "SushiSched: subnet per query under the cached SubGraph, SubGraph re-chosen every window"),
    [](const YamlView& p) { return std::make_unique<SushiSched>(p); }, &sushi_params());

}  // namespace
}  // namespace sushi
