#pragma once
// Evaluate one point (ARCHITECTURE.md contract 6, Timeloop's split): one query of one subnet on one
// accelerator with one cached SubGraph, on one registered model. The Point is the fully resolved config:
//
//   accel:      every accelerator parameter, defaults filled in (accel_schema().write), overrides applied
//   supernet:   {file: PATH, hash: CONTENT_HASH}     the space, by the content it was loaded from
//   subnet:     max | min | random:SEED | JSON        resolution: R (0 = the subnet's own)
//   cache:      none | a subnet spec (its SubGraph, cut to the PB)
//   model:      analytic | cycle | ...                (Registry<AccelModel>)
//
// evaluate() is pure and thread-safe; results are cached in-process by the Point's hash (canonical config
// plus model version). Orchestration (sweeps, latency tables, experiments) calls it; writers report it.
#include <memory>
#include <string>
#include <vector>

#include "base/point.h"
#include "base/provenance.h"
#include "sim/accel.h"

namespace sushi::sim {

struct SimRequest {
  std::string accel_file, supernet_file;
  std::string subnet = "max", cache = "none", model = "analytic";
  int resolution = 0;
  std::vector<Override> overrides;  // `--set accel.PATH=V`
};

// Reads the inputs (recording each in `provenance` from the bytes read) and resolves them into a Point.
Point make_sim_point(const SimRequest& request, Provenance& provenance);

struct SimEvaluation {
  AccelConfig accel;
  std::shared_ptr<const SupernetSpace> space;
  Subnet subnet;
  SubGraph cached;
  PbLoadResult pb_load;  // what loading `cached` into the PB costs (charged on a cache change, not per query)
  RunResult run;
};

// InputError for a point that names no registered model or whose layers do not fit the buffers.
std::shared_ptr<const SimEvaluation> evaluate(const Point& point);

}  // namespace sushi::sim
