// SushiSched and its baselines. Each registers itself by `impl:` name.
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <numeric>

#include "base/errors.h"
#include "sched/policy.h"

namespace sushi {
namespace {

// A subnet index named in a policy's parameters: min | median | max | an index into the table's subnets.
int subnet_param(const YamlView& p, const std::string& key, const std::string& fallback, size_t n) {
  const std::string v = p.get<std::string>(key, fallback);
  if (v == "min") return 0;
  if (v == "max") return int(n) - 1;
  if (v == "median") return int(n) / 2;
  size_t used = 0;
  int idx = -1;
  try {
    idx = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    p.at(key).fail("expected min, median, max or a subnet index, got '" + v + "'");
  return idx;
}

int subgraph_of_source(const LatencyTable& t, int subnet) {
  for (size_t g = 0; g < t.num_subgraphs(); ++g)
    if (t.subgraph_source[g] == subnet) return int(g);
  return 0;
}

// Adaptive batching for policies that serve one subnet at a time (Clipper's rule): the largest batch the
// queue can fill whose latency still fits the head query's remaining SLO budget; batch 1 when none fits.
int batch_for(const LatencyTable& t, int subnet, const SchedContext& ctx, int subgraph) {
  int best = 0;
  const double budget = ctx.head->has_slo() ? ctx.head->deadline_ms() - ctx.now_ms : 1e300;
  for (size_t b = 1; b < t.num_batches(); ++b)
    if (size_t(t.batch_sizes[b]) <= ctx.queued &&
        t.at(size_t(subnet), size_t(subgraph), b).latency_ms <= budget)
      best = int(b);
  return best;
}

void check_index(const YamlView& p, const std::string& key, int idx, size_t n) {
  if (idx < 0 || size_t(idx) >= n)
    p.at(key).fail("subnet index " + std::to_string(idx) + " out of range (table has " + std::to_string(n) +
                   " subnets)");
}

// ---- SushiSched
// ---------------------------------------------------------------------------------------------
class SushiSched : public Policy {
 public:
  explicit SushiSched(const YamlView& p) {
    p.expect_keys({"impl", "name", "window", "variant"});
    name_ = p.get<std::string>("name", "sushi");
    window_ = p.get<int>("window", 8);
    if (window_ <= 0) p.at("window").fail("expected a positive number of queries");
    variant_ = p.get<std::string>("variant", "average");
    if (variant_ != "average" && variant_ != "min_latency")
      p.at("variant").fail("expected average or min_latency");
  }
  std::string name() const override { return name_; }
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
    if (int(recent_.size()) > window_) recent_.pop_front();
    if (++served_ % window_ == 0) {
      const int next =
          variant_ == "average" ? average_subgraph(t) : min_latency_subgraph(t, ctx.cached_subgraph);
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

  std::string name_, variant_;
  int window_ = 8;
  std::deque<int> recent_;
  int64_t served_ = 0;
  std::vector<double> features_, mean_;
  size_t dims_ = 0;
};

// ---- Baselines
// ---------------------------------------------------------------------------------------------- The same
// accelerator with the PB disabled; same subnet choice rule.
class NoSgs : public Policy {
 public:
  explicit NoSgs(const YamlView& p) {
    p.expect_keys({"impl", "name"});
    name_ = p.get<std::string>("name", "no_sgs");
  }
  std::string name() const override { return name_; }
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = choose_subnet(*ctx.table, *ctx.head, ctx.now_ms, 0);
    d.subgraph_for_run = 0;
    return d;
  }

 private:
  std::string name_;
};

// A SubGraph fixed at start and never changed.
class StaticSgs : public Policy {
 public:
  explicit StaticSgs(const YamlView& p) : params_(p) {
    p.expect_keys({"impl", "name", "subgraph_of"});
    name_ = p.get<std::string>("name", "static_sgs");
  }
  std::string name() const override { return name_; }
  void reset(const LatencyTable& t) override {
    const int s = subnet_param(params_, "subgraph_of", "median", t.num_subnets());
    check_index(params_, "subgraph_of", s, t.num_subnets());
    subgraph_ = subgraph_of_source(t, s);
  }
  int initial_subgraph(const LatencyTable&) const override { return subgraph_; }
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = choose_subnet(*ctx.table, *ctx.head, ctx.now_ms, ctx.cached_subgraph);
    return d;
  }

 private:
  YamlView params_;
  std::string name_;
  int subgraph_ = 0;
};

// Clipper-like: one subnet for every query; its own weights (cut to the PB) stay cached when `cache` is on.
class FixedSubnet : public Policy {
 public:
  explicit FixedSubnet(const YamlView& p) : params_(p) {
    p.expect_keys({"impl", "name", "subnet", "cache"});
    name_ = p.get<std::string>("name", "fixed_subnet");
    cache_ = p.get<bool>("cache", true);
  }
  std::string name() const override { return name_; }
  void reset(const LatencyTable& t) override {
    subnet_ = subnet_param(params_, "subnet", "median", t.num_subnets());
    check_index(params_, "subnet", subnet_, t.num_subnets());
  }
  int initial_subgraph(const LatencyTable& t) const override {
    return cache_ ? subgraph_of_source(t, subnet_) : -1;
  }
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = subnet_;
    d.batch_index = batch_for(*ctx.table, subnet_, ctx, ctx.cached_subgraph);
    return d;
  }

 private:
  YamlView params_;
  std::string name_;
  bool cache_ = true;
  int subnet_ = 0;
};

// INFaaS-like: the least accurate (cheapest) subnet that meets the query's requirements; no PB.
class Infaas : public Policy {
 public:
  explicit Infaas(const YamlView& p) {
    p.expect_keys({"impl", "name"});
    name_ = p.get<std::string>("name", "infaas");
  }
  std::string name() const override { return name_; }
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    const Query& q = *ctx.head;
    Decision d;
    d.subgraph_for_run = 0;
    int best = -1;
    for (size_t s = 0; s < t.num_subnets(); ++s) {
      if (q.has_acc() && t.accuracy[s] < q.acc_target) continue;
      if (q.has_slo() && t.at(s, 0).latency_ms > q.deadline_ms() - ctx.now_ms) continue;
      if (best < 0 || t.accuracy[s] < t.accuracy[best]) best = int(s);
    }
    d.subnet = best >= 0 ? best : choose_subnet(t, q, ctx.now_ms, 0);
    d.batch_index = batch_for(t, d.subnet, ctx, 0);
    return d;
  }

 private:
  std::string name_;
};

// SuperServe's SlackFit: bucket every (subnet, batch) by latency; serve the earliest-deadline query's slack
// with the slowest bucket that fits it, preferring the largest batch the queue can fill, then accuracy.
class SlackFit : public Policy {
 public:
  explicit SlackFit(const YamlView& p) {
    p.expect_keys({"impl", "name", "buckets"});
    name_ = p.get<std::string>("name", "slackfit");
    buckets_ = p.get<int>("buckets", 10);
    if (buckets_ <= 0) p.at("buckets").fail("expected a positive bucket count");
  }
  std::string name() const override { return name_; }
  void reset(const LatencyTable& t) override {
    lo_ = 1e300;
    hi_ = 0;
    for (size_t s = 0; s < t.num_subnets(); ++s)
      for (size_t b = 0; b < t.num_batches(); ++b) {
        lo_ = std::min(lo_, t.at(s, 0, b).latency_ms);
        hi_ = std::max(hi_, t.at(s, 0, b).latency_ms);
      }
  }
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    const Query& head = *ctx.head;
    Decision d;
    d.subgraph_for_run = 0;
    if (!head.has_slo()) {
      d.subnet = choose_subnet(t, head, ctx.now_ms, 0);
      return d;
    }
    const double slack = head.deadline_ms() - ctx.now_ms;
    const double width = std::max(1e-9, (hi_ - lo_) / buckets_);
    auto bucket_of = [&](double ms) { return std::min(buckets_ - 1, int((ms - lo_) / width)); };
    // Slowest bucket whose upper edge fits the slack (bucket 0 when nothing fits).
    int k = 0;
    for (int b = buckets_ - 1; b >= 0; --b)
      if (lo_ + (b + 1) * width <= slack + 1e-9) {
        k = b;
        break;
      }
    const size_t queued = ctx.queued;
    for (; k >= 0; --k) {
      int best_s = -1, best_b = -1;
      for (size_t s = 0; s < t.num_subnets(); ++s)
        for (size_t b = 0; b < t.num_batches(); ++b) {
          const double ms = t.at(s, 0, b).latency_ms;
          if (bucket_of(ms) != k || size_t(t.batch_sizes[b]) > std::max<size_t>(1, queued)) continue;
          if (ms > slack && k > 0) continue;
          if (best_s < 0 || t.batch_sizes[b] > t.batch_sizes[best_b] ||
              (t.batch_sizes[b] == t.batch_sizes[best_b] && t.accuracy[s] > t.accuracy[best_s])) {
            best_s = int(s);
            best_b = int(b);
          }
        }
      if (best_s >= 0) {
        d.subnet = best_s;
        d.batch_index = best_b;
        return d;
      }
    }
    d.subnet = choose_subnet(t, head, ctx.now_ms, 0);
    return d;
  }

 private:
  std::string name_;
  int buckets_ = 10;
  double lo_ = 0, hi_ = 0;
};

template <typename P>
PolicyFactory factory() {
  return [](const YamlView& p) { return std::make_unique<P>(p); };
}

}  // namespace

void register_builtin_policies() {
  static const bool once =
      register_policy("sushi", factory<SushiSched>()) && register_policy("no_sgs", factory<NoSgs>()) &&
      register_policy("static_sgs", factory<StaticSgs>()) &&
      register_policy("fixed_subnet", factory<FixedSubnet>()) &&
      register_policy("infaas", factory<Infaas>()) && register_policy("slackfit", factory<SlackFit>());
  (void)once;
}

}  // namespace sushi
