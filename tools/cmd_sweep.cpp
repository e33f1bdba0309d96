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
  out() << "sweep " << spec.name << ": " << s.points << " points, " << s.evaluated << " evaluated, "
        << s.reused << " from the store, " << s.skipped << " skipped\n";
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

const bool registered = register_command(
    {"sweep", "design-space sweep of sim points from YAML: thread pool, resumable, CSV + JSON",
     sweep_command});

}  // namespace
}  // namespace sushi::cli
