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

FeasibilityBound feasibility_bound(const std::vector<Query>& trace, const ServiceBound& b,
                                   size_t max_segment) {
  std::vector<const Query*> q;
  for (const Query& x : trace)
    if (x.has_slo()) q.push_back(&x);
  std::sort(q.begin(), q.end(), [](const Query* a, const Query* c) { return a->arrival_ms < c->arrival_ms; });
  FeasibilityBound f;
  const size_t n = q.size();
  f.with_slo = int64_t(n);
  auto group = [&](size_t j, size_t i) {  // queries j..i-1
    double r = 1e300, d = -1e300;
    for (size_t k = j; k < i; ++k) {
      r = std::min(r, q[k]->arrival_ms);
      d = std::max(d, q[k]->deadline_ms());
    }
    return std::min(double(i - j), b.cap(d - r));
  };
  // Pairwise: the best partition into singletons and consecutive pairs.
  std::vector<double> pair(n + 1, 0), best(n + 1, 0);
  for (size_t i = 1; i <= n; ++i) {
    pair[i] = pair[i - 1] + group(i - 1, i);
    if (i >= 2) pair[i] = std::min(pair[i], pair[i - 2] + group(i - 2, i));
    f.singles += int64_t(group(i - 1, i));
  }
  f.pairwise = int64_t(pair[n]);
  // Segments: best[i] = min over j of best[j] + bound(j..i-1), segments of at most max_segment queries.
  for (size_t i = 1; i <= n; ++i) {
    double r = 0, d = -1e300;
    best[i] = 1e300;
    for (size_t j = i; j-- > 0 && i - j <= std::max<size_t>(2, max_segment);) {
      r = q[j]->arrival_ms;
      d = std::max(d, q[j]->deadline_ms());
      best[i] = std::min(best[i], best[j] + std::min(double(i - j), b.cap(d - r)));
    }
  }
  f.segments = int64_t(best[n]);
  return f;
}

}  // namespace sushi
