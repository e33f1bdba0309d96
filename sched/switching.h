#pragma once
// The value of dynamic SubGraph switching on one demand sequence (the subnets a run served, in order):
// service time with no PB, with the best static SubGraph in hindsight (its one load included), and with the
// hindsight oracle that picks the best SubGraph for every window of `window` queries, each reload charged
// its load time (exact, by dynamic programming over windows x SubGraphs). oracle <= best static <= none.
#include <vector>

#include "sched/experiment.h"

namespace sushi {

SwitchingValue switching_value(const LatencyTable& t, const std::vector<int>& demand, int window);

// The same, one served subnet at a time (a streamed run): memory is one window's costs per SubGraph.
class SwitchingAccumulator {
 public:
  SwitchingAccumulator(const LatencyTable& t, int window);
  void add(int subnet);
  SwitchingValue result() const;

 private:
  void close_window();  // one step of the oracle's program over the window just filled
  const LatencyTable* t_;
  size_t w_, n_ = 0, windows_ = 0;
  std::vector<double> total_, cost_, prev_, cur_;
  std::vector<int64_t> switches_,
      switches_cur_;                    // per SubGraph: the reloads of the best schedule ending there
  std::vector<int> first_, first_cur_;  // ... and its first window's SubGraph
};

}  // namespace sushi
