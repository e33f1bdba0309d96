// `sushi bench kernels`: speed of the fp32 and int8 reference convolutions on real layer shapes, next to the
// machine's fp32 peak measured in the same run.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "models/ref/int8.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// fp32 peak of one core: 12 independent multiply-add chains on Eigen's widest float packet (the same FMA
// instruction and vector width Eigen's GEMM uses), long enough for turbo to settle.
double fma_peak_one_thread(double budget_seconds) {
  using Packet = Eigen::internal::packet_traits<float>::type;
  constexpr int kChains = 12;
  constexpr int kLanes = int(sizeof(Packet) / sizeof(float));
  const Packet a = Eigen::internal::pset1<Packet>(0.999999f), b = Eigen::internal::pset1<Packet>(1e-7f);
  Packet acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = Eigen::internal::pset1<Packet>(float(j));
  int64_t iterations = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    for (int i = 0; i < 100000; ++i)
      for (int j = 0; j < kChains; ++j) acc[j] = Eigen::internal::pmadd(acc[j], a, b);
    iterations += 100000;
    elapsed = seconds_since(t0);
  } while (elapsed < budget_seconds);
  float sink = 0;
  for (int j = 0; j < kChains; ++j) sink += Eigen::internal::predux(acc[j]);
  volatile float keep = sink;
  (void)keep;
  return 2.0 * kLanes * kChains * double(iterations) / elapsed;
}

double fma_peak(int threads, double budget_seconds) {
  std::vector<double> rates(static_cast<size_t>(threads), 0.0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { rates[size_t(t)] = fma_peak_one_thread(budget_seconds); });
  for (auto& th : pool) th.join();
  double total = 0;
  for (double r : rates) total += r;
  return total;
}

struct Row {
  std::string space, kind;
  int threads = 1, layers = 0;
  int64_t macs = 0;
  double fp32_seconds = 0, int8_seconds = 0;
};

// Best-of-`repeat` time of each layer, summed per layer kind.
void bench_space(const std::string& file, int resolution, int threads, int repeat, std::vector<Row>& rows) {
  const SupernetSpace space = SupernetSpace::load(file);
  Subnet max = space.max_subnet();
  if (resolution > 0) max.resolution = resolution;
  std::map<std::string, Row> by_kind;
  Rng rng(1);
  for (const Layer& l : space.layers(max)) {
    if (!op_properties(l.kind).spatial) continue;  // the conv layers: Conv, Depthwise, Pointwise
    Tensor x(l.in_c, l.in_h, l.in_w);
    for (float& v : x.data) v = float(rng.normal());
    std::vector<float> w(size_t(l.out_c) * (l.in_c / l.groups) * l.kernel * l.kernel);
    for (float& v : w) v = float(rng.normal());
    const ConvWeightView view = ConvWeightView::dense(w.data(), l.out_c, l.in_c / l.groups, l.kernel);
    const QOp op = make_random_qop(l, rng());
    const QTensor qx = make_random_qtensor(l.in_c, l.in_h, l.in_w, rng(), 0.05f, op.in_zp);
    double best_fp32 = 1e30, best_int8 = 1e30;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = Clock::now();
      const Tensor y = conv2d(x, view, nullptr, {l.stride, l.pad, l.groups});
      best_fp32 = std::min(best_fp32, seconds_since(t0));
      t0 = Clock::now();
      const QTensor qy = run_qop(op, qx, nullptr);
      best_int8 = std::min(best_int8, seconds_since(t0));
    }
    Row& row = by_kind[to_string(l.kind)];
    row.space = space.name() + "@" + std::to_string(max.resolution);
    row.kind = to_string(l.kind);
    row.threads = threads;
    row.layers += 1;
    row.macs += l.macs;
    row.fp32_seconds += best_fp32;
    row.int8_seconds += best_int8;
  }
  for (auto& [kind, row] : by_kind) rows.push_back(row);
}

int bench_kernels(const std::vector<std::string>& args) {
  po::options_description o("bench kernels options");
  int repeat = 5;
  o.add_options()("repeat", po::value(&repeat)->default_value(5), "runs per layer (the best one counts)")(
      "json", "print one JSON object");
  po::variables_map vm;
  if (!parse("bench kernels", "[--repeat N] [--json]", o, args, vm)) return 0;
  if (repeat < 1 || repeat > 1000)
    throw InputError("--repeat " + std::to_string(repeat) + ": expected 1..1000");
  const int saved_threads = kernel_threads();
  std::vector<Row> rows;
  std::map<int, double> peak;
  for (int threads : {1, 2}) {
    set_kernel_threads(threads);
    peak[threads] = fma_peak(threads, 0.3);
    bench_space("workloads/supernets/ofa_mbv3.yaml", 224, threads, repeat, rows);
    bench_space("workloads/supernets/fmnist_tiny.yaml", 0, threads, repeat, rows);
    // MobileNets have a single regular conv (the 3-channel stem); ResNet's 3x3 convs show the GEMM path.
    bench_space("workloads/supernets/ofa_resnet50.yaml", 128, threads, std::min(repeat, 2), rows);
  }
  set_kernel_threads(saved_threads);
  const char* simd = Eigen::SimdInstructionSetsInUse();
  if (vm.count("json")) {
    JsonWriter j;
    j.begin_object().key("provenance");
    Provenance("sushi bench kernels").write_json(j);
    j.field("simd", simd).field("repeat", repeat);
    j.key("peak_fp32_gflops")
        .begin_object()
        .field("threads_1", peak[1] / 1e9)
        .field("threads_2", peak[2] / 1e9)
        .end_object();
    j.field("peak_method", "12 independent Eigen pmadd chains on the widest float packet per thread");
    j.key("rows").begin_array();
    for (const Row& r : rows) {
      const double flops = 2.0 * double(r.macs);
      j.begin_object()
          .field("space", r.space)
          .field("kind", r.kind)
          .field("threads", r.threads)
          .field("layers", r.layers)
          .field("macs", r.macs)
          .field("fp32_seconds", r.fp32_seconds)
          .field("fp32_gflops", flops / r.fp32_seconds / 1e9)
          .field("fp32_fraction_of_peak", flops / r.fp32_seconds / peak[r.threads])
          .field("int8_seconds", r.int8_seconds)
          .field("int8_gops", flops / r.int8_seconds / 1e9)
          .end_object();
    }
    j.end_array().end_object();
    out() << j.str() << "\n";
    return 0;
  }
  char buf[256];
  out() << "Eigen SIMD: " << simd << "\n";
  std::snprintf(buf, sizeof buf,
                "fp32 peak (FMA chains, Eigen packet): %.1f GFLOP/s on 1 thread, %.1f on 2\n\n",
                peak[1] / 1e9, peak[2] / 1e9);
  out() << buf;
  std::snprintf(buf, sizeof buf, "%-18s %-10s %3s %6s %9s %12s %7s %11s\n", "space", "kind", "thr", "layers",
                "MMACs", "fp32 GFLOP/s", "% peak", "int8 GOP/s");
  out() << buf;
  for (const Row& r : rows) {
    const double flops = 2.0 * double(r.macs);
    std::snprintf(buf, sizeof buf, "%-18s %-10s %3d %6d %9.1f %12.1f %6.0f%% %11.1f\n", r.space.c_str(),
                  r.kind.c_str(), r.threads, r.layers, double(r.macs) / 1e6, flops / r.fp32_seconds / 1e9,
                  100.0 * flops / r.fp32_seconds / peak[r.threads], flops / r.int8_seconds / 1e9);
    out() << buf;
  }
  out() << "\nGFLOP/s and GOP/s count 2 operations per multiply-accumulate; int8 includes im2col and "
           "requantization.\n";
  return 0;
}

const bool registered = register_bench(
    {"kernels", "fp32 GFLOP/s and int8 GOP/s of the conv layers vs measured fp32 peak", bench_kernels});

}  // namespace
}  // namespace sushi::cli
