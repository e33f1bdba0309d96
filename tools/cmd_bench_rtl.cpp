// `sushi bench rtl [--json]`: simulated cycles per second of the Verilated RTL (rtl_small, and zcu104_sushi
// with 1 and 2 Verilator threads) on the same jobs as the cycle model, and the cycle model's speed-up over
// it (process CPU seconds and wall seconds, median of --repeat runs). fmnist_tiny runs functional jobs (both
// models move and compute the data); the timing jobs (--large, fmnist_tiny by default: the RTL's datapath
// still evaluates every step, the cycle model skips its arithmetic, as in every timing experiment).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "models/space/supernet.h"
#include "rtl/harness/lockstep.h"
#include "rtl/harness/rtl_model.h"
#include "sim/model.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

struct RtlBenchRow {
  std::string accel, space;
  bool functional = false;
  int threads = 1;
  int64_t cycles = 0;
  double rtl_s = 0, cycle_s = 0;        // process CPU seconds
  double rtl_wall = 0, cycle_wall = 0;  // wall seconds
};

struct Times {
  double cpu = 0, wall = 0;
};

// Median CPU and wall seconds per run over `repeat` samples (CPU time: the machine may be shared; wall
// time: what a multi-threaded model gains). A sample repeats the job until it lasts at least
// `kMinSampleSeconds`, so a job of a millisecond (the cycle model's timing runs) is not read off the
// clock's noise; one untimed run first takes the one-off costs (elaboration, first allocations).
constexpr double kMinSampleSeconds = 0.05;

Times time_of(sim::AccelModel& m, const sim::AccelJob& job, int repeat, int64_t& cycles) {
  const auto run_once = [&] {
    sim::AccelJob j = job;
    cycles = m.run(j).cycles;
  };
  const std::clock_t c0 = std::clock();
  run_once();
  const double first = std::max(1e-6, double(std::clock() - c0) / CLOCKS_PER_SEC);
  const int per_sample = int(std::clamp(kMinSampleSeconds / first, 1.0, 10000.0));
  std::vector<double> cpu, wall;
  for (int i = 0; i < repeat; ++i) {
    const std::clock_t t0 = std::clock();
    const auto w0 = std::chrono::steady_clock::now();
    for (int k = 0; k < per_sample; ++k) run_once();
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count() / per_sample);
    cpu.push_back(double(std::clock() - t0) / CLOCKS_PER_SEC / per_sample);
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  return {cpu[cpu.size() / 2], wall[wall.size() / 2]};
}

struct BenchCase {
  const char* accel;
  std::string space;
  bool functional;
  int threads;
};

RtlBenchRow run_case(const BenchCase& c, const std::string& subnet, int repeat) {
  const sim::AccelConfig a = sim::AccelConfig::load(c.accel);
  const SupernetSpace space = SupernetSpace::load(c.space);
  const Subnet s = subnet_option(space, subnet, 0);
  const sim::AccelJob job = c.functional
                                ? rtl::subnet_functional_job(a, space, s, space.empty_subgraph(), 3).job
                                : sim::make_job(a, space.layers(s, s.resolution), space.empty_subgraph());
  RtlBenchRow r;
  r.accel = a.name;
  r.space = space.name();
  r.functional = c.functional;
  r.threads = c.threads;
  auto rtl = rtl::make_rtl_model(a, false, c.threads);
  auto cycle = sim::make_accel_model("cycle", a);
  int64_t cycle_cycles = 0;
  const Times rt = time_of(*rtl, job, repeat, r.cycles);
  const Times ct = time_of(*cycle, job, repeat, cycle_cycles);
  r.rtl_s = rt.cpu, r.rtl_wall = rt.wall, r.cycle_s = ct.cpu, r.cycle_wall = ct.wall;
  if (cycle_cycles != r.cycles)
    throw std::logic_error("bench rtl: the RTL and the cycle model disagree on " + a.name + " (" +
                           std::to_string(r.cycles) + " vs " + std::to_string(cycle_cycles) + " cycles)");
  return r;
}

int bench_rtl(const std::vector<std::string>& args) {
  po::options_description o("bench rtl options");
  std::string space_file, big_file, subnet;
  int repeat = 3;
  o.add_options()("supernet", po::value(&space_file)->default_value("workloads/supernets/fmnist_tiny.yaml"),
                  "supernet space of the benchmark job")(
      "large", po::value(&big_file)->default_value("workloads/supernets/fmnist_tiny.yaml"),
      "the space of the timing jobs, on zcu104_sushi only (ofa_mbv3 takes tens of minutes)")(
      "subnet", po::value(&subnet)->default_value("max"), "subnet spec")(
      "repeat", po::value(&repeat)->default_value(3), "runs per model (median)")("json",
                                                                                 "print one JSON object");
  po::variables_map vm;
  if (!parse("bench rtl", "[--supernet S.yaml] [--large S.yaml] [--subnet SPEC] [--repeat N] [--json]", o,
             args, vm))
    return 0;
  if (repeat < 1 || repeat > 100)
    throw InputError("--repeat: expected 1..100, got " + std::to_string(repeat));
  const char* small = "tests/data/rtl/rtl_small.yaml";
  const char* zcu = "workloads/accel/zcu104_sushi.yaml";
  const BenchCase cases[] = {{small, space_file, true, 1},
                             {zcu, space_file, true, 1},
                             {zcu, space_file, true, 2},
                             {zcu, big_file, false, 1},
                             {zcu, big_file, false, 2}};
  std::vector<RtlBenchRow> rows;
  for (const BenchCase& c : cases) rows.push_back(run_case(c, subnet, repeat));
  if (vm.count("json")) {
    Provenance p("sushi bench rtl");
    JsonWriter j;
    j.begin_object().key("provenance");
    p.write_json(j);
    j.field("subnet", subnet)
        .field("time",
               "process CPU seconds (and wall seconds) per run, median of repeats, each sample >= 0.05 s");
    j.key("rows").begin_array();
    for (const RtlBenchRow& r : rows)
      j.begin_object()
          .field("accel", r.accel)
          .field("supernet", r.space)
          .field("job", r.functional ? "functional" : "timing")
          .field("verilator_threads", int64_t(r.threads))
          .field("cycles", r.cycles)
          .field("rtl_seconds", r.rtl_s)
          .field("rtl_wall_seconds", r.rtl_wall)
          .field("rtl_cycles_per_s", double(r.cycles) / r.rtl_s)
          .field("rtl_cycles_per_wall_s", double(r.cycles) / r.rtl_wall)
          .field("cycle_model_seconds", r.cycle_s)
          .field("cycle_model_speedup", r.rtl_s / r.cycle_s)
          .field("cycle_model_wall_speedup", r.rtl_wall / r.cycle_wall)
          .end_object();
    j.end_array().end_object();
    out() << j.str() << "\n";
    return 0;
  }
  char buf[256];
  out() << "jobs: subnet " << subnet << ", median of " << repeat
        << " samples of >= 0.05 s, process CPU seconds per run (wall seconds in brackets)\n";
  for (const RtlBenchRow& r : rows) {
    std::snprintf(buf, sizeof buf,
                  "%-13s %-12s %-10s %dT %9lld cycles  rtl %7.2f s (%7.2f) = %8.0f cycles/s (%8.0f)   "
                  "cycle model %7.4f s   speed-up %6.0fx (%6.0fx)\n",
                  r.accel.c_str(), r.space.c_str(), r.functional ? "functional" : "timing", r.threads,
                  (long long)r.cycles, r.rtl_s, r.rtl_wall, double(r.cycles) / r.rtl_s,
                  double(r.cycles) / r.rtl_wall, r.cycle_s, r.rtl_s / r.cycle_s, r.rtl_wall / r.cycle_wall);
    out() << buf;
  }
  return 0;
}

const bool registered =
    register_bench({"rtl", "Verilated RTL cycles/s and the cycle model's speed-up", bench_rtl});

}  // namespace
}  // namespace sushi::cli
