#pragma once
// The value of dynamic SubGraph switching on one demand sequence (the subnets a run served, in order):
// service time with no PB, with the best static SubGraph in hindsight (its one load included), and with the
// hindsight oracle that picks the best SubGraph for every window of `window` queries, each reload charged
// its load time (exact, by dynamic programming over windows x SubGraphs). oracle <= best static <= none.
#include <vector>

#include "sched/experiment.h"

namespace sushi {

SwitchingValue switching_value(const LatencyTable& t, const std::vector<int>& demand, int window);

}  // namespace sushi
