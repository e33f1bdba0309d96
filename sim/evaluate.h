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
#include <functional>
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

// ---- The fast path of sweeps (analytic model): no tree parsed, canonicalised or hashed per point. ----
//
// A typed patch: axis values applied to an already-parsed AccelConfig through accel_schema(), each value
// parsed and range-checked once (when the patch is made), applied per point as a plain field assignment.
struct AccelPatch {
  std::vector<std::function<void(AccelConfig&)>> setters;
  // Adds `path` = `value` (YAML scalar text; `origin` names it in errors). False when `path` is not a
  // declared parameter of accel_schema() (a list entry's field): such points take the Point path.
  bool add(const std::string& path, const std::string& value, const std::string& origin);
  void apply(AccelConfig& accel) const {
    for (const auto& set : setters) set(accel);
  }
};

// What one query needs besides the accelerator: the space, the subnet's layers as the controller decodes
// them from the job's registers, and the PB's part of each (the cached SubGraph cut to `pb_bytes`). Depends
// only on the query and the PB size, so it is built once and shared read-only across threads.
struct SimQuery {
  std::string supernet_file, supernet_hash;  // as in the Point: the space by the content it was loaded from
  std::string subnet = "max", cache = "none";
  int resolution = 0;
};
struct PreparedQuery {
  std::shared_ptr<const SupernetSpace> space;
  std::vector<Layer> layers;
  std::vector<WeightSlice> hits;  // hits[i]: the PB part of layers[i] (empty: nothing cached)
  SubGraph cached;
  int64_t cached_bytes = 0;
};
// Cached in-process (bounded) by the query and the PB size. InputError as evaluate(Point) for a bad subnet,
// resolution or cache.
std::shared_ptr<const PreparedQuery> prepare_query(const SimQuery& query, int64_t pb_bytes);

// A point's totals: what a sweep row holds (the per-layer list is not built).
struct SimTotals {
  RunResult run;  // run.layers stays empty; `layers` counts them
  PbLoadResult pb_load;
  int64_t cached_bytes = 0;
  int64_t layers = 0;
};
// evaluate() for `accel` (a parsed config with its patch applied and accel_schema().failed_check() passed)
// and a prepared query, on the analytic model. Pure and thread-safe; results identical to evaluate(Point) of
// the same config (tests/test_explore.cpp checks every field on whole sweeps). Not cached: the caller keys
// the result by its own content hash (a sweep's store). InputError when a layer does not fit the buffers.
SimTotals evaluate_analytic(const AccelConfig& accel, const PreparedQuery& query);

}  // namespace sushi::sim
