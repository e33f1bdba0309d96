#pragma once
// Design-space sweeps (ARCHITECTURE.md contract 6: evaluate one point, search many). A sweep spec
// (workloads/sweeps/*.yaml) names a base `sim` point and axes that override its values by dotted path:
//
//   sweep: pb_size
//   base: {accel: A.yaml, supernet: S.yaml, subnet: max, cache: none, resolution: 0, model: analytic}
//   axes:                                    # cartesian product, first axis outermost
//     - accel: [workloads/accel/zcu104_sushi.yaml, workloads/accel/edge_small.yaml]   # the accel file
//     - accel.buffers.persistent_bytes: [0, 1MiB, 2MiB]                              # a parameter
//     - accel.dram.peak_gbps: {log: [4.8, 38.4], steps: 4}                           # or {linear: [..]}
//     - zip:                                 # zipped lists: one axis, entries taken together
//         - subnet: [max, min]
//         - cache: [max, min]
//   constraints:                             # skip points, the reason counted
//     - {path: accel.buffers.persistent_bytes, max: 4MiB, reason: "PB over 4 MiB"}
//   search: grid                             # or {kind: random, samples: N, seed: S}, or
//           {kind: evolutionary, population: P, generations: G, seed: S,
//            objectives: [latency_ms, energy_uj], maximize: []}
//   output: out/sweeps/pb_size
//
// Axis paths are `accel` (file), `supernet` (file), `subnet`, `cache`, `resolution`, `model` or
// `accel.PATH` checked against accel_schema() (type and range of every value too). A point whose config
// fails the accelerator's own checks (e.g. buffers over the chip's memory) or whose evaluation raises an
// InputError (a layer does not fit its buffers) is skipped with the reason counted.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/point.h"
#include "base/provenance.h"
#include "base/record.h"
#include "sim/evaluate.h"

namespace sushi {
class Rng;
}
namespace sushi::explore {

struct Axis {
  std::vector<std::string> paths;                // one path, or several for a zipped axis
  std::vector<std::vector<std::string>> values;  // values[i][k]: the i-th value of paths[k]
};

struct Constraint {
  std::string path;
  double min = -1e300, max = 1e300;
  std::string reason;
};

struct SweepSpec {
  std::string name, file, output_dir;
  sim::SimRequest base;
  std::vector<Axis> axes;
  std::vector<Constraint> constraints;
  std::string search = "grid";
  int64_t samples = 0;
  uint64_t seed = 1;
  // Evolutionary search (explore/evolve.cpp): P random grid points, then G-1 generations of P children each.
  int64_t population = 0, generations = 0;
  std::vector<std::string> objectives;  // result columns, minimised unless listed in `maximize`
  std::vector<std::string> maximize;
  Provenance provenance{"sushi sweep"};

  // `overrides` (`--set PATH=VALUE`) change the spec's own values (e.g. output=DIR, base.subnet=min).
  static SweepSpec load(const std::string& path, const std::vector<Override>& overrides = {});
  std::vector<std::string> axis_paths() const;  // every path, axis order (a zipped axis gives several)
  size_t grid_size() const;
};

// One point of the sweep: its axis values (one per axis_paths() entry), its Point and hash, and why it is
// skipped ("" when it is evaluated).
struct SweepPoint {
  std::vector<std::string> values;
  std::string hash;
  std::string skip_reason;  // the class of the reason (numbers replaced by N)
  std::string skip_detail;  // the full message
};

// The points in sweep order: grid order for `grid`, a seeded sample of the grid for `random`, the first
// generation for `evolutionary` (later ones depend on results).
std::vector<std::vector<std::string>> enumerate(const SweepSpec& spec);
std::vector<size_t> enumerate_indices(const SweepSpec& spec);  // the same, as grid indices
std::vector<std::string> grid_point(const SweepSpec& spec, size_t index);
std::vector<size_t> grid_digits(const SweepSpec& spec, size_t index);  // one value index per axis
size_t grid_index(const SweepSpec& spec, const std::vector<size_t>& digits);

// The next generation of an evolutionary search, documented in explore/evolve.cpp. `evaluated` are the grid
// indices evaluated so far with their objective values (NaN when skipped); returns up to `population` new
// grid indices (none already in `seen`, which receives them).
std::vector<size_t> next_generation(const SweepSpec& spec, const std::vector<size_t>& evaluated,
                                    const std::vector<std::vector<double>>& objectives, sushi::Rng& rng,
                                    std::set<size_t>& seen);

// Builds points from a spec: base points per (accel file, supernet file) are made once.
class PointBuilder {
 public:
  explicit PointBuilder(SweepSpec& spec);
  // A worker's own trees, one per base, reused from point to point: every point sets every axis path, so
  // a reused tree holds exactly the base plus this point's values (and parsing the base is most of the cost).
  using Scratch = std::map<std::pair<std::string, std::string>, Point>;
  // Thread-safe (each thread with its own `scratch`, or none). Fills `out` (hash, skip reason) and returns
  // the Point. `check_config` runs the accelerator's own checks here (a dry run); otherwise evaluate() does.
  Point build(const std::vector<std::string>& values, SweepPoint& out, Scratch* scratch = nullptr,
              bool check_config = true) const;

 private:
  const SweepSpec& spec_;
  std::vector<std::string> paths_;
  std::map<std::pair<std::string, std::string>, std::string> bases_;  // canonical base point text
};

// A finished point: skipped (reason) or its results with units.
struct PointResult {
  std::string status;  // "ok" | "skipped"
  std::string reason, detail;
  StatSet stats;
};
// The result columns of every point, in the order of the CSV and the store.
std::vector<std::string> result_columns();
// Evaluates one point (sim::evaluate) into its statistics; an InputError becomes a skipped result.
PointResult evaluate_point(const Point& point, int64_t* layers = nullptr);

// The class of a skip message: the file prefix dropped, numbers replaced by N.
std::string reason_class(const std::string& message);

struct SweepRunOptions {
  int threads = 0;  // 0: hardware threads
  bool write = true;
  std::function<void(size_t done, size_t total)> progress;  // called from the calling thread
};

struct SweepSummary {
  size_t points = 0, evaluated = 0, reused = 0, skipped = 0;
  std::map<std::string, size_t> skipped_by_reason;
  int64_t layers = 0;  // layer evaluations done in this run
  double wall_s = 0;
  std::string csv_path, json_path, store_path;
};

// Runs the sweep: points finished before (in the store) are not recomputed; every finished point is
// appended to the store at once; results.csv and results.json are regenerated from the store in point
// order.
SweepSummary run_sweep(SweepSpec& spec, const SweepRunOptions& options);

// --dry-run: points, skipped by reason, already in the store, and a sample.
struct DryRun {
  size_t points = 0, skipped = 0, stored = 0;
  std::map<std::string, size_t> skipped_by_reason;
  std::vector<SweepPoint> sample;
};
DryRun dry_run(SweepSpec& spec, size_t sample_size = 5);

}  // namespace sushi::explore
