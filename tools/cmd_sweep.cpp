// `sushi sweep SPEC.yaml`: design-space sweeps over sim points (explore/sweep.h); `sushi bench sweep`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "explore/sweep.h"
#include "sim/accel.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

void progress_bar(size_t done, size_t total, std::chrono::steady_clock::time_point t0) {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double rate = s > 0 ? double(done) / s : 0;
  const int width = 30, filled = total ? int(width * double(done) / double(total)) : width;
  std::fprintf(stderr, "\r[%s%s] %zu/%zu  %.0f points/s  ETA %.0f s   ",
               std::string(size_t(filled), '#').c_str(), std::string(size_t(width - filled), ' ').c_str(),
               done, total, rate, rate > 0 ? double(total - done) / rate : 0.0);
  if (done == total) std::fprintf(stderr, "\n");
}

void print_dry_run(const explore::SweepSpec& spec, const explore::DryRun& d, bool json) {
  const std::vector<std::string> paths = spec.axis_paths();
  if (json) {
    JsonWriter j;
    j.begin_object().field("sweep", spec.name).field("points", int64_t(d.points));
    j.field("skipped", int64_t(d.skipped)).field("stored", int64_t(d.stored)).key("skipped_by_reason");
    j.begin_object();
    for (const auto& [r, n] : d.skipped_by_reason) j.field(r, int64_t(n));
    j.end_object().key("sample").begin_array();
    for (const explore::SweepPoint& p : d.sample) {
      j.begin_object().field("hash", p.hash).key("values").begin_object();
      for (size_t k = 0; k < paths.size(); ++k) j.field(paths[k], p.values[k]);
      j.end_object().field("skipped", p.skip_reason).end_object();
    }
    j.end_array().end_object();
    out() << j.str() << "\n";
    return;
  }
  out() << "sweep " << spec.name << ": " << d.points << " points (" << spec.search << "), " << d.skipped
        << " skipped before evaluation, " << d.stored << " already in the store\n";
  for (const auto& [r, n] : d.skipped_by_reason) out() << "  skipped " << n << ": " << r << "\n";
  out() << "sample:\n";
  for (const explore::SweepPoint& p : d.sample) {
    out() << "  " << p.hash;
    for (size_t k = 0; k < paths.size(); ++k) out() << "  " << paths[k] << "=" << p.values[k];
    if (!p.skip_reason.empty()) out() << "  (skipped: " << p.skip_reason << ")";
    out() << "\n";
  }
}

void print_summary(const explore::SweepSpec& spec, const explore::SweepSummary& s, bool json) {
  if (json) {
    JsonWriter j;
    j.begin_object().field("sweep", spec.name).field("points", int64_t(s.points));
    j.field("evaluated", int64_t(s.evaluated)).field("reused", int64_t(s.reused));
    j.field("skipped", int64_t(s.skipped)).key("skipped_by_reason").begin_object();
    for (const auto& [r, n] : s.skipped_by_reason) j.field(r, int64_t(n));
    j.end_object().field("csv", s.csv_path).field("json", s.json_path).field("store", s.store_path);
    j.end_object();
    out() << j.str() << "\n";
    return;
  }
  out() << "sweep " << spec.name << ": " << s.points << " points, " << s.points - s.skipped << " ok, "
        << s.skipped << " skipped; " << s.evaluated << " computed in this run, " << s.reused
        << " from the store\n";
  for (const auto& [r, n] : s.skipped_by_reason) out() << "  skipped " << n << ": " << r << "\n";
  out() << "wrote " << s.csv_path << ", " << s.json_path << "\n";
}

int sweep_command(const std::vector<std::string>& args) {
  po::options_description o("sweep options");
  std::string spec_file, out_dir;
  std::vector<std::string> sets;
  int jobs = 0;
  o.add_options()("spec", po::value(&spec_file)->required(), "sweep spec YAML (workloads/sweeps/*.yaml)")(
      "jobs,j", po::value(&jobs)->default_value(0), "worker threads (0 = hardware threads)")(
      "dry-run", "print the number of points, skipped counts by reason and a sample; evaluate nothing")(
      "out", po::value(&out_dir), "output folder (replaces `output:`)")(
      "set", po::value(&sets)->composing(),
      "PATH=VALUE: override a value of the spec (e.g. base.subnet=min)")("json", "print one JSON object");
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse("sweep", "SPEC.yaml [-j N] [--dry-run] [--out DIR] [--set PATH=V]... [--json]", o, args, vm,
             &pos))
    return 0;
  if (jobs < 0 || jobs > 1024) throw InputError("-j " + std::to_string(jobs) + ": expected 0..1024");
  std::vector<Override> overrides;
  for (const std::string& s : sets) overrides.push_back(parse_override(s));
  if (!out_dir.empty()) overrides.push_back(Override{"output", out_dir, "--out"});
  explore::SweepSpec spec = explore::SweepSpec::load(spec_file, overrides);
  const bool json = vm.count("json") > 0;
  if (vm.count("dry-run")) {
    print_dry_run(spec, explore::dry_run(spec), json);
    return 0;
  }
  explore::SweepRunOptions options;
  options.threads = jobs;
  const auto t0 = std::chrono::steady_clock::now();
  if (::isatty(2) && !json) options.progress = [t0](size_t d, size_t t) { progress_bar(d, t, t0); };
  print_summary(spec, explore::run_sweep(spec, options), json);
  return 0;
}

// Single-core analytic layer evaluations/s: the max subnet of ofa_mbv3 at 224 layer by layer for ~0.3 s.
double layer_rate(const sim::AccelConfig& accel, const std::string& supernet) {
  const SupernetSpace space = SupernetSpace::load(supernet);
  Subnet s = space.max_subnet();
  s.resolution = 224;
  const std::vector<Layer> layers = space.layers(s, 224);
  const WeightSlice none;
  int64_t n = 0, sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0;
  do {
    for (const Layer& l : layers) sink += sim::analytic_layer(accel, l, none).cycles;
    n += int64_t(layers.size());
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (elapsed < 0.3);
  if (sink == 42) std::cerr << "";  // keeps the loop observable
  return double(n) / elapsed;
}

struct SweepBench {
  int threads = 0;
  size_t points = 0;
  double wall_s = 0, points_per_s = 0, layers_per_s = 0;
};

// A sweep of `points` distinct analytic points (DRAM bandwidth x subnet x cache on zcu104_sushi, ofa_mbv3 at
// 224), run end to end (points built, hashed, evaluated, appended to the store, files written).
SweepBench bench_one(const std::string& dir, int threads, size_t points, double offset) {
  const std::string spec = dir + "/bench_" + std::to_string(threads) + ".yaml";
  const size_t steps = std::max<size_t>(1, points / 4);
  write_file_atomic(spec,
                    "sweep: bench\nbase: {accel: workloads/accel/zcu104_sushi.yaml, supernet: "
                    "workloads/supernets/ofa_mbv3.yaml, resolution: 224}\naxes:\n"
                    "  - accel.dram.peak_gbps: {linear: [" +
                        std::to_string(offset) + ", " + std::to_string(offset + 10) +
                        "], steps: " + std::to_string(steps) +
                        "}\n  - subnet: [max, min]\n  - cache: [none, min]\noutput: " + dir + "/out_" +
                        std::to_string(threads) + "\n");
  explore::SweepSpec s = explore::SweepSpec::load(spec);
  explore::SweepRunOptions o;
  o.threads = threads;
  const explore::SweepSummary r = explore::run_sweep(s, o);
  SweepBench b{threads, r.evaluated, r.wall_s, double(r.evaluated) / r.wall_s, double(r.layers) / r.wall_s};
  return b;
}

int bench_sweep(const std::vector<std::string>& args) {
  po::options_description o("bench sweep options");
  size_t points = 2000;
  o.add_options()("points", po::value(&points)->default_value(2000), "points per run")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (!parse("bench sweep", "[--points N] [--json]", o, args, vm)) return 0;
  if (points < 4 || points > 10000000) throw InputError("--points: expected 4..10000000");
  const sim::AccelConfig accel = sim::AccelConfig::load("workloads/accel/zcu104_sushi.yaml");
  const double single = layer_rate(accel, "workloads/supernets/ofa_mbv3.yaml");
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("sushi_bench_sweep." + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  std::vector<SweepBench> runs;
  for (int t : {1, 2}) runs.push_back(bench_one(dir, t, points, 5.0 + 20.0 * t));  // distinct points
  std::filesystem::remove_all(dir);
  if (vm.count("json")) {
    JsonWriter j;
    Provenance provenance("sushi bench sweep");
    j.begin_object().key("provenance");
    provenance.write_json(j);
    j.field("single_core_layer_evaluations_per_s", single).key("runs").begin_array();
    for (const SweepBench& b : runs)
      j.begin_object()
          .field("threads", b.threads)
          .field("points", int64_t(b.points))
          .field("wall_s", b.wall_s)
          .field("points_per_s", b.points_per_s)
          .field("layer_evaluations_per_s", b.layers_per_s)
          .field("fraction_of_threads_x_single_core", b.layers_per_s / (b.threads * single))
          .end_object();
    j.end_array().end_object();
    out() << j.str() << "\n";
    return 0;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "analytic model, one core, layer by layer: %.3g layer evaluations/s\n",
                single);
  out() << buf;
  for (const SweepBench& b : runs) {
    std::snprintf(
        buf, sizeof buf,
        "sweep -j %d: %zu points in %.2f s = %.0f points/s, %.3g layer evaluations/s (%.1f%% of %d x "
        "the single-core rate)\n",
        b.threads, b.points, b.wall_s, b.points_per_s, b.layers_per_s,
        100 * b.layers_per_s / (b.threads * single), b.threads);
    out() << buf;
  }
  return 0;
}

const bool registered =
    register_bench({"sweep",
                    "analytic sweep points/s at 1 and 2 threads vs the single-core "
                    "layer-evaluation rate",
                    bench_sweep}) &&
    register_command({"sweep",
                      "design-space sweep of sim points from YAML: thread pool, resumable, CSV + JSON",
                      sweep_command});

}  // namespace
}  // namespace sushi::cli
