// `sushi bench rtl [--json]`: simulated cycles per second of the Verilated RTL (rtl_small and zcu104_sushi)
// on the same timing jobs as the cycle model, and the cycle model's speed-up over it (wall time, median of
// --repeat runs).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "models/space/supernet.h"
#include "rtl/harness/rtl_model.h"
#include "sim/model.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

struct RtlBenchRow {
  std::string accel, space;
  int64_t cycles = 0;
  double rtl_s = 0, cycle_s = 0;
};

double wall_of(sim::AccelModel& m, const sim::AccelJob& job, int repeat, int64_t& cycles) {
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) {
    sim::AccelJob j = job;
    const std::clock_t t0 = std::clock();  // CPU time: the machine may be shared
    cycles = m.run(j).cycles;
    t.push_back(double(std::clock() - t0) / CLOCKS_PER_SEC);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int bench_rtl(const std::vector<std::string>& args) {
  po::options_description o("bench rtl options");
  std::string space_file, big_file, subnet;
  int repeat = 3;
  o.add_options()("supernet", po::value(&space_file)->default_value("workloads/supernets/fmnist_tiny.yaml"),
                  "supernet space of the benchmark job")(
      "large", po::value(&big_file)->default_value("workloads/supernets/ofa_mbv3.yaml"),
      "a larger space, on zcu104_sushi only")("subnet", po::value(&subnet)->default_value("max"),
                                              "subnet spec")(
      "repeat", po::value(&repeat)->default_value(3), "runs per model (median)")("json",
                                                                                 "print one JSON object");
  po::variables_map vm;
  if (!parse("bench rtl", "[--supernet S.yaml] [--large S.yaml] [--subnet SPEC] [--repeat N] [--json]", o,
             args, vm))
    return 0;
  if (repeat < 1 || repeat > 100)
    throw InputError("--repeat: expected 1..100, got " + std::to_string(repeat));
  std::vector<RtlBenchRow> rows;
  const std::pair<const char*, std::string> cases[] = {{"tests/data/rtl/rtl_small.yaml", space_file},
                                                       {"workloads/accel/zcu104_sushi.yaml", space_file},
                                                       {"workloads/accel/zcu104_sushi.yaml", big_file}};
  for (const auto& [file, sp] : cases) {
    const sim::AccelConfig a = sim::AccelConfig::load(file);
    const SupernetSpace space = SupernetSpace::load(sp);
    const Subnet s = subnet_option(space, subnet, 0);
    const sim::AccelJob job = sim::make_job(a, space.layers(s, s.resolution), space.empty_subgraph());
    RtlBenchRow r;
    r.accel = a.name;
    r.space = space.name();
    auto rtl = rtl::make_rtl_model(a);
    auto cycle = sim::make_accel_model("cycle", a);
    int64_t cycle_cycles = 0;
    r.rtl_s = wall_of(*rtl, job, repeat, r.cycles);
    r.cycle_s = wall_of(*cycle, job, repeat, cycle_cycles);
    if (cycle_cycles != r.cycles)
      throw std::logic_error("bench rtl: the RTL and the cycle model disagree on " + a.name + " (" +
                             std::to_string(r.cycles) + " vs " + std::to_string(cycle_cycles) + " cycles)");
    rows.push_back(r);
  }
  if (vm.count("json")) {
    Provenance p("sushi bench rtl");
    JsonWriter j;
    j.begin_object().key("provenance");
    p.write_json(j);
    j.field("subnet", subnet).field("verilator_threads", int64_t(1)).field("time", "process CPU seconds");
    j.key("rows").begin_array();
    for (const RtlBenchRow& r : rows)
      j.begin_object()
          .field("accel", r.accel)
          .field("supernet", r.space)
          .field("cycles", r.cycles)
          .field("rtl_seconds", r.rtl_s)
          .field("rtl_cycles_per_s", double(r.cycles) / r.rtl_s)
          .field("cycle_model_seconds", r.cycle_s)
          .field("cycle_model_speedup", r.rtl_s / r.cycle_s)
          .end_object();
    j.end_array().end_object();
    out() << j.str() << "\n";
    return 0;
  }
  char buf[256];
  out() << "jobs: subnet " << subnet << " (timing), median of " << repeat
        << " runs, process CPU seconds, 1 Verilator thread\n";
  for (const RtlBenchRow& r : rows) {
    std::snprintf(
        buf, sizeof buf,
        "%-14s %-13s %10lld cycles  rtl %8.3f s = %10.0f cycles/s   cycle model %8.4f s   speed-up %7.0fx\n",
        r.accel.c_str(), r.space.c_str(), (long long)r.cycles, r.rtl_s, double(r.cycles) / r.rtl_s, r.cycle_s,
        r.rtl_s / r.cycle_s);
    out() << buf;
  }
  return 0;
}

const bool registered =
    register_bench({"rtl", "Verilated RTL cycles/s and the cycle model's speed-up", bench_rtl});

}  // namespace
}  // namespace sushi::cli
