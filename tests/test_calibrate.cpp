// Stand-alone layers and `sushi calibrate` (sim/calibrate.h): layer specs, the layers CSV, recovery of known
// parameters from latencies the model itself generated (with noise), and rejection of degenerate inputs.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/errors.h"
#include "base/provenance.h"
#include "base/random.h"
#include "sim/calibrate.h"
#include "sim/mapping.h"

using namespace sushi;
using sim::AccelConfig;

namespace {

std::string temp_csv(const std::string& tag, const std::string& text) {
  std::string path = "build/test_tmp/calibrate_" + tag + "_" + std::to_string(getpid()) + ".csv";
  std::filesystem::create_directories("build/test_tmp");
  write_file_atomic(path, text);
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

// A varied layer set: compute-bound 3x3 convs, weight-bound FCs and 1x1s, strided and depthwise layers.
std::vector<std::string> layer_specs() {
  return {"conv K=64 C=64 R=3 X=56 Y=56",
          "conv K=128 C=64 R=3 X=56 Y=56 stride=2",
          "conv K=128 C=128 R=3 X=28 Y=28",
          "conv K=256 C=128 R=3 X=28 Y=28 stride=2",
          "conv K=256 C=256 R=3 X=14 Y=14",
          "conv K=512 C=256 R=3 X=7 Y=7",
          "conv K=32 C=3 R=3 X=112 Y=112",
          "conv K=64 C=32 R=5 X=28 Y=28",
          "pointwise K=256 C=64 X=56 Y=56",
          "pointwise K=64 C=256 X=56 Y=56",
          "pointwise K=512 C=128 X=28 Y=28",
          "pointwise K=1024 C=256 X=14 Y=14",
          "pointwise K=512 C=1024 X=7 Y=7",
          "pointwise K=960 C=160 X=7 Y=7",
          "depthwise K=96 R=3 X=56 Y=56",
          "depthwise K=144 R=5 X=28 Y=28 stride=2",
          "depthwise K=480 R=3 X=14 Y=14",
          "fc K=1000 C=512",
          "fc K=1000 C=1280",
          "fc K=256 C=2048",
          "conv K=48 C=24 R=3 X=40 Y=40 pad=0",
          "pointwise K=40 C=240 X=28 Y=28",
          "conv K=16 C=16 R=3 X=112 Y=112",
          "fc K=4096 C=256"};
}

// Latencies of `truth` for the layers, with multiplicative Gaussian noise of `noise` (project RNG).
std::vector<sim::ShapedLayer> synthetic(const AccelConfig& truth, double noise, uint64_t seed) {
  Rng rng(seed);
  std::vector<sim::ShapedLayer> out;
  const std::vector<std::string> specs = layer_specs();
  for (size_t i = 0; i < specs.size(); ++i) {
    sim::ShapedLayer m;
    m.layer = sim::parse_layer_spec(specs[i], "test");
    m.layer.slice.tensor = int(i);
    m.network = i % 2 ? "odd" : "even";
    const sim::LayerEstimate e = sim::analytic_layer(truth, m.layer, WeightSlice{});
    const double ms = double(e.cycles) / (truth.clock_mhz * 1e3) + truth.call_overhead_us * 1e-3;
    m.latency_ms = ms * (1 + noise * rng.normal());
    out.push_back(m);
  }
  return out;
}

}  // namespace

TEST_CASE("calibrate: layer specs build the layers the supernets build", "[calibrate]") {
  const Layer c = sim::parse_layer_spec("conv K=64 C=32 R=3 S=3 X=56 Y=28 stride=2 pad=1", "--layer");
  CHECK(c.kind == LayerKind::Conv);
  CHECK(c.out_w == 28);
  CHECK(c.out_h == 14);
  CHECK(c.macs == int64_t(28) * 14 * 64 * 32 * 9);
  CHECK(c.slice.bytes() == 64 * (32 * 9 + 4));
  const Layer d = sim::parse_layer_spec("dw K=96 R=5 X=28 Y=28", "--layer");
  CHECK(d.groups == 96);
  CHECK(d.pad == 2);
  CHECK(d.out_w == 28);
  const Layer f = sim::parse_layer_spec("fc K=1000 C=1280", "--layer");
  CHECK(f.macs == 1280000);
  CHECK_THAT(error_of([] { sim::parse_layer_spec("conv K=64 C=64 R=3 S=5 X=8 Y=8", "--layer"); }),
             Catch::Matchers::Contains("R and S differ"));
  CHECK_THAT(error_of([] { sim::parse_layer_spec("conv K=64 Q=3", "--layer"); }),
             Catch::Matchers::Contains("'Q=3'"));
  CHECK_THAT(error_of([] { sim::parse_layer_spec("gemm K=1", "--layer"); }),
             Catch::Matchers::Contains("layer kind 'gemm'"));
  CHECK_THAT(error_of([] { sim::parse_layer_spec("conv K=64 C=x R=3 X=8 Y=8", "--layer"); }),
             Catch::Matchers::Contains("C = 'x'"));
}

TEST_CASE("calibrate: the layers CSV is validated with file and line", "[calibrate]") {
  const std::string head = "kind,K,C,R,S,X,Y,stride,pad,network,latency_ms\n";
  const std::string ok = temp_csv("ok", "# measured\n" + head + "conv,64,64,3,3,56,56,1,1,r50,1.5\n");
  const std::vector<sim::ShapedLayer> rows = sim::read_layers_csv(ok, true);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].line == 3);
  CHECK(rows[0].network == "r50");
  CHECK(rows[0].latency_ms == 1.5);
  auto err = [&](const std::string& tag, const std::string& text) {
    const std::string p = temp_csv(tag, text);
    return error_of([&] { sim::read_layers_csv(p, true); });
  };
  CHECK_THAT(err("neg", head + "conv,64,64,3,3,56,56,1,1,r50,1\nconv,64,64,3,3,56,56,1,1,r50,-2\n"),
             Catch::Matchers::Contains(":3: latency_ms = '-2'"));
  CHECK_THAT(err("nan", head + "conv,64,64,3,3,56,56,1,1,r50,nan\n"), Catch::Matchers::Contains(":2:"));
  CHECK_THAT(err("col", "kind,K,C,R,S,X,Y,stride,latency_ms\n"),
             Catch::Matchers::Contains("missing column 'pad'"));
  CHECK_THAT(err("cells", head + "conv,64,64,3,3,56\n"), Catch::Matchers::Contains(":2: 6 cells"));
  CHECK_THAT(err("empty", head), Catch::Matchers::Contains("no layer rows"));
  CHECK_THAT(err("dup", "kind,K,K,C,R,S,X,Y,stride,pad,latency_ms\n"), Catch::Matchers::Contains("twice"));
}

TEST_CASE("calibrate: recovers known parameters within 2% from the model's own latencies with noise",
          "[calibrate]") {
  // The truth: a slower machine than the shipped ideal one (a per-call overhead, a bubble every 6 steps,
  // 45% DRAM efficiency on a 4 GB/s channel, serial weight loads).
  const std::vector<Override> ov = {{"accel.dram.peak_gbps", "4"}};
  const AccelConfig base = AccelConfig::load("workloads/accel/zcu104_sushi_ideal.yaml", ov);
  AccelConfig truth = base;
  truth.call_overhead_us = 37.5;
  truth.bubble_every = 6;
  truth.dram_efficiency = 0.45;
  truth.weight_load = sim::Overlap::Serial;
  const std::vector<sim::ShapedLayer> m = synthetic(truth, 0.003, 11);
  sim::CalibrationOptions o;
  o.fit = {"controller.call_overhead_us", "array.bubble_every", "dram.efficiency", "behaviour.weight_load"};
  o.folds = 4;
  const sim::CalibrationResult r = sim::calibrate(base, m, o);
  CHECK(r.calibrated.weight_load == sim::Overlap::Serial);
  CHECK(r.calibrated.bubble_every == 6);
  CHECK(r.calibrated.call_overhead_us == Approx(37.5).epsilon(0.02));
  CHECK(r.calibrated.dram_efficiency == Approx(0.45).epsilon(0.02));
  CHECK(r.after.mape < 0.01);
  CHECK(r.before.mape > 0.1);
  CHECK(r.cross_validated.mape < 0.02);
  CHECK(r.after.spearman > 0.99);
  REQUIRE(r.networks.size() == 2);
  // The calibrated YAML loads back to the same parameters.
  const AccelConfig back = AccelConfig::parse(sim::calibrated_yaml(r, "# test\n"), "calibrated.yaml");
  CHECK(back.bubble_every == 6);
  CHECK(back.weight_load == sim::Overlap::Serial);
  CHECK(back.name == base.name + "_calibrated");
}

TEST_CASE("calibrate: degenerate inputs are rejected", "[calibrate]") {
  const AccelConfig base = AccelConfig::load("workloads/accel/zcu104_sushi.yaml");
  std::vector<sim::ShapedLayer> m = synthetic(base, 0, 1);
  sim::CalibrationOptions o;
  o.fit = {"controller.call_overhead_us"};
  o.folds = 3;
  auto err = [&](const std::vector<sim::ShapedLayer>& rows, const sim::CalibrationOptions& opt) {
    return error_of([&] { sim::calibrate(base, rows, opt); });
  };
  std::vector<sim::ShapedLayer> same(5, m[0]);
  CHECK_THAT(err(same, o), Catch::Matchers::Contains("same shape"));
  std::vector<sim::ShapedLayer> flat(m.begin(), m.begin() + 5);
  for (auto& r : flat) r.latency_ms = 1;
  CHECK_THAT(err(flat, o), Catch::Matchers::Contains("latency is equal"));
  CHECK_THAT(err({m[0], m[1]}, o), Catch::Matchers::Contains("at least 3"));
  sim::CalibrationOptions bad = o;
  bad.fit = {"array.k_parallel"};
  CHECK_THAT(err(m, bad), Catch::Matchers::Contains("not a fittable parameter"));
  bad.fit = {"dram.efficiency", "dram.efficiency"};
  CHECK_THAT(err(m, bad), Catch::Matchers::Contains("given twice"));
  bad = o;
  bad.folds = 1;
  CHECK_THAT(err(m, bad), Catch::Matchers::Contains("--folds 1"));
  bad.folds = int(m.size()) + 1;
  CHECK_THAT(err(m, bad), Catch::Matchers::Contains("--folds"));
  CHECK(sim::spearman({1, 2, 3, 4}, {10, 20, 30, 40}) == Approx(1));
  CHECK(sim::spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == Approx(-1));
  CHECK(sim::spearman({1, 1, 1}, {1, 2, 3}) == 0);
}
