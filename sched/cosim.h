#pragma once
// The serving co-simulation: the scheduler and serving loop run as a SystemC process beside the SushiAccel
// cycle model's modules, in one kernel and on one timeline. Every dispatched query is executed by the cycle
// model (or `model`: any registered model with a SystemC kernel, e.g. the Verilated RTL); arrivals and PB
// reloads are waits in simulated time.
#include "sched/serving.h"
#include "sim/accel.h"

namespace sushi {

ServingResult serve_cosim(const sim::AccelConfig& accel, const SupernetSpace& space,
                          const LatencyTable& table, const std::vector<Query>& trace, Policy& policy,
                          const ServingOptions& options, const std::string& model = "cycle");
// The same, streamed (serve_stream): queries from `source`, records to `sink`.
ServingResult serve_cosim(const sim::AccelConfig& accel, const SupernetSpace& space,
                          const LatencyTable& table, const QuerySource& source, Policy& policy,
                          const ServingOptions& options, const RecordSink& sink,
                          const std::string& model = "cycle");

// The cost of one dispatched run on the cycle model (outside or inside a co-simulation).
LtEntry cycle_cost(const sim::AccelConfig& accel, const SupernetSpace& space, const LatencyTable& table,
                   int subnet, int subgraph);

}  // namespace sushi
