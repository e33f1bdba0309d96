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
//     - {path: area_mm2_est, max: 9, reason: "over the area budget"}   # explore/area.h: an estimate
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
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
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

// The constraint path of the analytic area estimate (explore/area.h), computed from the point's config.
inline const char* const kAreaPath = "area_mm2_est";

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

// A worker's own state, reused from point to point (nothing allocated once warm).
struct PointScratch {
  size_t base = 0;                  // which (accel file, supernet file) base the point uses
  std::vector<size_t> digits;       // one value index per axis
  std::vector<std::string> values;  // one per axis_paths() entry
  std::string text;                 // what the point's hash is computed from
  std::map<size_t, Point> trees;    // Point path: one tree per base, reused (every point sets every axis)
  std::vector<sim::AccelConfig> accels;  // fast path: one working config per base
  std::map<std::tuple<size_t, size_t, size_t, size_t, int64_t>, std::shared_ptr<const sim::PreparedQuery>>
      queries;  // fast path: (base, subnet, cache, resolution digits, PB bytes)
};

// Builds points from a spec. The bases (one per accel file x supernet file) are resolved once: their
// canonical Point, its hash, and the parsed AccelConfig.
//
// A point's hash is content_hash(BASE_HASH "\n" PATH=VALUE "\n" ...): the hash of the base Point with every
// axis path blanked (its canonical config and the model version) and the point's axis values in axis order
// (accel and supernet files are in the base, by content), which together are the point's full canonical
// config. Two points share a hash exactly when their canonical configs are equal (tests/test_explore.cpp
// checks this against Point::hash() on whole sweeps), and nothing is canonicalised or hashed per point
// beyond that short text.
//
// The fast path (analytic model, every accel axis a declared parameter) evaluates a point without a tree:
// the base config with the point's typed patch applied (sim::AccelPatch), the layer lists prepared once per
// (supernet, subnet, resolution, cache, PB size) and shared read-only across threads
// (sim::prepare_query), sim::evaluate_analytic. Other sweeps, and points the fast path cannot finish (a
// config check or an InputError: their message comes from the Point path), take the Point path.
class PointBuilder {
 public:
  explicit PointBuilder(SweepSpec& spec);
  using Scratch = PointScratch;
  // Loads grid point `index` into s (digits, values, base).
  void load(size_t index, PointScratch& s) const;
  // The hash of the point in `s` and whether a constraint skips it (out.hash, out.skip_reason; out.values
  // untouched). No tree is built.
  void identify(PointScratch& s, SweepPoint& out) const;
  // Thread-safe (each thread with its own scratch, or none). Fills `out` (values, hash, skip reason) and
  // returns the Point. `check_config` runs the accelerator's own checks here (a dry run); otherwise
  // evaluate() does.
  Point build(const std::vector<std::string>& values, SweepPoint& out, Scratch* scratch = nullptr,
              bool check_config = true) const;
  bool fast() const { return fast_; }
  // The fast path for the point loaded in `s`; nullopt when the point must take the Point path. Leaves the
  // point's config in s.accels[s.base].
  std::optional<sim::SimTotals> evaluate_fast(PointScratch& s) const;
  // The fast path's config for the point loaded in `s` (the base config with its typed patch applied, its
  // checks passed), or nullptr when the point takes the Point path. Valid until `s` is used again.
  const sim::AccelConfig* fast_config(PointScratch& s) const;

 private:
  struct Base {
    std::string accel, supernet;  // files
    std::string canonical, hash;  // the base Point
    sim::AccelConfig config;      // parsed from the base Point's accel tree
    sim::SimQuery query;
    std::vector<std::optional<double>> constraint_values;  // each constraint's value in the base Point
  };
  using ConfigFn = std::function<const sim::AccelConfig*()>;  // the point's config, asked for lazily
  size_t base_of(const std::vector<std::string>& values) const;
  void identify_values(const std::vector<std::string>& values, size_t base, std::string& text,
                       SweepPoint& out, const ConfigFn& config) const;
  void prepare_fast();

  const SweepSpec& spec_;
  std::vector<std::string> paths_;
  std::vector<Base> bases_;
  std::vector<size_t> constraint_axis_;  // position in paths_ of each constraint's path, or npos
  size_t accel_pos_ = std::string::npos, supernet_pos_ = std::string::npos;
  bool fast_ = false;
  std::vector<std::vector<sim::AccelPatch>> patches_;  // [axis][value]: the accel.PATH values of that axis
  std::vector<size_t> accel_axes_;                     // axes with accel.PATH paths
  size_t subnet_pos_ = std::string::npos, cache_pos_ = std::string::npos, resolution_pos_ = std::string::npos;
  size_t subnet_axis_ = std::string::npos, cache_axis_ = std::string::npos,
         resolution_axis_ = std::string::npos;
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

// One batch of a run (the sweep's points, or one generation of an evolutionary search) as a distributor
// sees it: positions are claimed in chunks by the local workers and the distributor alike.
class BatchAccess {
 public:
  virtual ~BatchAccess() = default;
  virtual size_t size() const = 0;
  virtual size_t done() const = 0;
  virtual bool failed() const = 0;  // a local worker failed: stop serving (the run rethrows its error)
  // Claims up to `n` unclaimed positions: [first, second), empty when none are left.
  virtual std::pair<size_t, size_t> claim(size_t n) = 0;
  virtual size_t grid_index(size_t position) const = 0;
  // Hashes the point, applies the constraints and looks it up in the store: false when that finished it
  // (it is done), true when it must be evaluated. Called from the distributor's thread only.
  virtual bool pending(size_t position) = 0;
  // Records a point evaluated elsewhere: its store payload (evaluate_payload()) and layer count.
  virtual void complete(size_t position, const std::string& payload, int64_t layers) = 0;
  virtual void progress() = 0;  // reports progress (the run's progress callback)
};

// Shares batches with other processes (MPI ranks: explore/mpi.h). serve() runs on the calling thread
// while the local workers run and returns when every point of the batch is done; finish() ends the run.
class Distributor {
 public:
  virtual ~Distributor() = default;
  virtual void serve(BatchAccess& batch) = 0;
  virtual void finish() = 0;
};

// Evaluates grid point `index` and returns its store payload ("ok V1,V2,..." or "skipped MESSAGE"); what
// another rank sends back. `layers` receives the layer evaluations done.
std::string evaluate_payload(const PointBuilder& builder, PointScratch& scratch, size_t index,
                             int64_t* layers);

struct SweepRunOptions {
  int threads = 0;  // 0: hardware threads
  bool write = true;
  std::function<void(size_t done, size_t total)> progress;  // called from the calling thread
  Distributor* distributor = nullptr;                       // null: the local threads only
  bool local_workers = true;  // false (with a distributor): this process only hands out points and merges
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
