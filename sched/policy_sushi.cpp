// SushiSched: the subnet choice under the cached SubGraph, and every `window` queries the SubGraph that suits
// the window's recent subnets.
#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

#include "sched/policy.h"

namespace sushi {
namespace {

enum class Variant { Average, MinLatency };

struct SushiParams : PolicyParams {
  int window;
  Variant variant;
};

const ParamSchema<SushiParams>& sushi_params() {
  static const ParamSchema<SushiParams> s =
      policy_schema<SushiParams>("sushi", "SushiSched: SubGraph-Stationary scheduling")
          .integer("window", &SushiParams::window, 8, {1}, "queries",
                   "queries between SubGraph decisions (the window Q)")
          .choice(
              "variant", &SushiParams::variant, Variant::Average,
              {{"average", Variant::Average}, {"min_latency", Variant::MinLatency}},
              "average: the SubGraph nearest the window's average subnet; min_latency: the one minimising "
              "the window's latency, reload included");
  return s;
}

class SushiSched : public PolicyWith<SushiParams, PolicyRole::Sgs> {
 public:
  explicit SushiSched(const YamlView& p) : PolicyWith(sushi_params().parse(p)) {}
  void reset(const LatencyTable& t) override {
    recent_.clear();
    served_ = 0;
    precompute_features(t);
  }
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    Decision d;
    d.subnet = choose_subnet(t, *ctx.head, ctx.now_ms, ctx.cached_subgraph);
    recent_.push_back(d.subnet);
    if (int(recent_.size()) > params_.window) recent_.pop_front();
    if (++served_ % params_.window == 0) {
      const int next = params_.variant == Variant::Average ? average_subgraph(t)
                                                           : min_latency_subgraph(t, ctx.cached_subgraph);
      if (next != ctx.cached_subgraph) d.next_subgraph = next;
    }
    return d;
  }

 private:
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
  // The SubGraph minimising the window's total latency, the reload's own latency included (a switch must
  // pay for itself over one window); the current one wins ties.
  int min_latency_subgraph(const LatencyTable& t, int current) const {
    int best = current;
    double best_total = total(t, current);
    for (size_t g = 0; g < t.num_subgraphs(); ++g) {
      const double tot = total(t, int(g)) + (int(g) == current ? 0.0 : t.pb_load[g].latency_ms);
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
  int64_t served_ = 0;
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
