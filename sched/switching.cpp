#include "sched/switching.h"

#include <algorithm>

namespace sushi {

SwitchingValue switching_value(const LatencyTable& t, const std::vector<int>& demand, int window) {
  SwitchingValue v;
  const size_t n = demand.size(), G = t.num_subgraphs();
  if (n == 0 || G == 0) return v;
  std::vector<double> total(G, 0);
  for (int s : demand)
    for (size_t g = 0; g < G; ++g) total[g] += t.at(size_t(s), g).latency_ms;
  v.none_ms = total[0] / double(n);
  double best = 1e300;
  for (size_t g = 0; g < G; ++g) {
    const double c = total[g] + (g > 0 ? t.pb_load[g].latency_ms : 0);
    if (c < best - 1e-12) best = c, v.best_static = int(g);
  }
  v.best_static_ms = best / double(n);
  // Oracle: cost[g] of each window, prev[g] = the cheapest schedule so far ending with g resident.
  const size_t w = size_t(std::max(1, window));
  const size_t windows = (n + w - 1) / w;
  std::vector<double> prev(G), cur(G), cost(G);
  std::vector<int> from(windows * G, -1);
  for (size_t k = 0; k < windows; ++k) {
    std::fill(cost.begin(), cost.end(), 0.0);
    for (size_t i = k * w; i < std::min(n, (k + 1) * w); ++i)
      for (size_t g = 0; g < G; ++g) cost[g] += t.at(size_t(demand[i]), g).latency_ms;
    size_t arg = 0;
    for (size_t g = 1; g < G && k > 0; ++g)
      if (prev[g] < prev[arg]) arg = g;
    for (size_t g = 0; g < G; ++g) {
      const double load = g > 0 ? t.pb_load[g].latency_ms : 0;
      if (k == 0) {
        cur[g] = load + cost[g];  // the PB starts empty
        continue;
      }
      const bool stay = prev[g] <= prev[arg] + load;
      cur[g] = (stay ? prev[g] : prev[arg] + load) + cost[g];
      from[k * G + g] = stay ? int(g) : int(arg);
    }
    std::swap(prev, cur);
  }
  size_t g = size_t(std::min_element(prev.begin(), prev.end()) - prev.begin());
  v.oracle_ms = prev[g] / double(n);
  for (size_t k = windows; k-- > 1;) {
    const size_t f = size_t(from[k * G + g]);
    v.oracle_switches += f != g ? 1 : 0;
    g = f;
  }
  v.oracle_switches += g != 0 ? 1 : 0;  // the first load
  return v;
}

}  // namespace sushi
