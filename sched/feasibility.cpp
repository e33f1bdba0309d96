#include "sched/feasibility.h"

#include <algorithm>
#include <cmath>

namespace sushi {

double ServiceBound::cap(double window_ms) const {
  const double w = window_ms + 1e-9;  // the simulator's on-time tolerance
  if (w < fastest_ms) return 0;
  return std::floor(w * peak_per_ms * (1 + 1e-12));
}

ServiceBound service_bound(const LatencyTable& t) {
  ServiceBound b;
  b.fastest_ms = 1e300;
  for (size_t s = 0; s < t.num_subnets(); ++s)
    for (size_t g = 0; g < t.num_subgraphs(); ++g)
      for (size_t k = 0; k < t.num_batches(); ++k) {
        const double ms = t.at(s, g, k).latency_ms;
        b.fastest_ms = std::min(b.fastest_ms, ms);
        b.peak_per_ms = std::max(b.peak_per_ms, double(t.batch_sizes[k]) / ms);
      }
  return b;
}

FeasibilityAccumulator::FeasibilityAccumulator(const ServiceBound& b, size_t max_segment)
    : b_(b), span_(std::max<size_t>(2, max_segment)), best_{0} {}

void FeasibilityAccumulator::add(const Query& q) {
  if (!q.has_slo()) return;
  recent_.emplace_back(q.arrival_ms, q.deadline_ms());
  if (recent_.size() > span_) recent_.pop_front();
  const size_t m = recent_.size();  // recent_[m - 1] is query i - 1 (i = with_slo after this one)
  auto group = [&](size_t len) {    // the last `len` queries
    double r = 1e300, d = -1e300;
    for (size_t k = m - len; k < m; ++k) {
      r = std::min(r, recent_[k].first);
      d = std::max(d, recent_[k].second);
    }
    return std::min(double(len), b_.cap(d - r));
  };
  ++f_.with_slo;
  // Pairwise: the best partition into singletons and consecutive pairs.
  double pair = pair_[1] + group(1);
  if (f_.with_slo >= 2) pair = std::min(pair, pair_[0] + group(2));
  pair_[0] = pair_[1];
  pair_[1] = pair;
  f_.singles += int64_t(group(1));
  f_.pairwise = int64_t(pair);
  // Segments: best[i] = min over j of best[j] + bound(j..i-1); best_.back() is best[i - 1].
  double d = -1e300, best = 1e300;
  for (size_t len = 1; len <= m; ++len) {
    const auto& [arrival, deadline] = recent_[m - len];
    d = std::max(d, deadline);
    best = std::min(best, best_[best_.size() - len] + std::min(double(len), b_.cap(d - arrival)));
  }
  best_.push_back(best);
  if (best_.size() > span_ + 1) best_.pop_front();
  f_.segments = int64_t(best);
}

FeasibilityBound feasibility_bound(const std::vector<Query>& trace, const ServiceBound& b,
                                   size_t max_segment) {
  std::vector<const Query*> q;
  for (const Query& x : trace)
    if (x.has_slo()) q.push_back(&x);
  std::sort(q.begin(), q.end(), [](const Query* a, const Query* c) { return a->arrival_ms < c->arrival_ms; });
  FeasibilityAccumulator acc(b, max_segment);
  for (const Query* x : q) acc.add(*x);
  return acc.result();
}

}  // namespace sushi
