#pragma once
// Offline upper bounds on SLO attainment for a trace on one accelerator, whatever the policy (issue 10). They
// read only the table's fastest run and peak throughput, so every policy's attainment on that trace, with
// any queue discipline, batching, SubGraph or admission rule, is at most the bound.
//
// The argument: any group G of queries (a set, not necessarily disjoint in time) whose on-time members must
// all run inside the window W(G) = [min arrival, max deadline]. A query is on time only if its run lies
// inside its own [arrival, deadline] (runs do not overlap on one accelerator, a batch finishes together), so
// the number of G's members met is at most cap(|W(G)|) = 0 when |W| < p (the fastest run of one query), else
// floor(|W| * rho) where rho = max over (subnet, SubGraph, batch) of batch size / latency (for batch-1 tables
// floor(|W| / p)). Groups of a partition bound independently, so attainment <= sum_G min(|G|, cap(|W(G)|)).
// `pairwise` uses singletons and consecutive pairs (the reviewer's bound); `segments` picks the best
// partition into runs of consecutive queries (arrival order) of at most `max_segment` queries by dynamic
// programming, which includes every pairwise partition and so is never looser.
#include <deque>
#include <utility>
#include <vector>

#include "sched/latency_table.h"
#include "traces/trace.h"

namespace sushi {

struct ServiceBound {
  double fastest_ms = 0;               // p: the fastest run of any subnet under any SubGraph at any batch
  double peak_per_ms = 0;              // rho: the most queries per ms any run completes
  double cap(double window_ms) const;  // queries that can finish inside a window of this length
};
ServiceBound service_bound(const LatencyTable& t);

struct FeasibilityBound {
  int64_t with_slo = 0;  // queries with an SLO
  int64_t singles = 0;   // bound from each query alone (its SLO >= the fastest run)
  int64_t pairwise = 0;  // singletons and consecutive pairs
  int64_t segments = 0;  // best partition into consecutive runs (never above pairwise)
  double attainment() const { return with_slo ? double(segments) / double(with_slo) : 0; }
  double pairwise_attainment() const { return with_slo ? double(pairwise) / double(with_slo) : 0; }
};
FeasibilityBound feasibility_bound(const std::vector<Query>& trace, const ServiceBound& b,
                                   size_t max_segment = 128);

// The same dynamic programs one query at a time, for queries given in arrival order (a streamed trace):
// memory is the last max_segment queries. feasibility_bound sorts the trace's SLO queries by arrival and
// feeds them here.
class FeasibilityAccumulator {
 public:
  explicit FeasibilityAccumulator(const ServiceBound& b, size_t max_segment = 128);
  void add(const Query& q);  // queries without an SLO are skipped
  const FeasibilityBound& result() const { return f_; }

 private:
  ServiceBound b_;
  size_t span_;                                   // the longest segment, max(2, max_segment)
  std::deque<std::pair<double, double>> recent_;  // (arrival, deadline) of the last span_ SLO queries
  std::deque<double> best_;                       // best[i - span_ .. i]: the segments program
  double pair_[2] = {0, 0};                       // pair[i - 1], pair[i]: the pairwise program
  FeasibilityBound f_;
};

}  // namespace sushi
