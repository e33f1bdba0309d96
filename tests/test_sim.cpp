// SushiAccel models: config validation, physical limits, SGS byte accounting, analytic vs cycle agreement and
// the functional models' outputs against the Eigen int8 reference. Every test that applies to all models
// runs once per registered AccelModel (Registry<AccelModel>::names(), named in INFO), so a model that
// registers (the RTL) is tested automatically. Each cycle model owns its SystemC kernel, so several models
// live in one process.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/errors.h"
#include "base/json.h"
#include "base/params.h"
#include "base/provenance.h"
#include "base/registry.h"
#include "models/ref/int8.h"
#include "models/space/supernet.h"
#include "sim/accel.h"
#include "sim/model.h"

using namespace sushi;
using sim::AccelConfig;

namespace {

const char* kAccels[] = {"zcu104_sushi", "edge_small", "cloud_large"};
const char* kSpaces[] = {"ofa_mbv3", "ofa_resnet50", "compofa_mbv3", "fmnist_tiny"};

AccelConfig accel(const std::string& name) {
  return AccelConfig::load("workloads/accel/" + name + ".yaml");
}
SupernetSpace space(const std::string& name) {
  return SupernetSpace::load("workloads/supernets/" + name + ".yaml");
}

// `rtl` is left out: it exists only for the configs verilated into this program (rtl/CMakeLists.txt) and is
// checked against the cycle model, cycle for cycle, in tests/test_rtl.cpp.
std::vector<std::string> models() {
  std::vector<std::string> out = Registry<sim::AccelModel>::names();
  out.erase(std::remove(out.begin(), out.end(), "rtl"), out.end());
  return out;
}
// Models that compute outputs (functional jobs): `cycle`, later `rtl`.
std::vector<std::string> functional_models() {
  std::vector<std::string> out;
  for (const std::string& m : models())
    if (sim::make_accel_model(m, AccelConfig::load("workloads/accel/zcu104_sushi.yaml"))->functional())
      out.push_back(m);
  return out;
}
// Models other than the analytic reference of the schedule.
std::vector<std::string> timed_models() {
  std::vector<std::string> out;
  for (const std::string& m : models())
    if (m != "analytic") out.push_back(m);
  return out;
}

std::string zcu_text() {
  return read_file("workloads/accel/zcu104_sushi.yaml");
}

// Replaces the first occurrence of `from` in the shipped config and returns the error message of loading it.
std::string error_of(const std::string& from, const std::string& to) {
  std::string text = zcu_text();
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  try {
    AccelConfig::parse(text, "bad.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("config with '" << to << "' was accepted");
  return "";
}

}  // namespace

TEST_CASE("sim config: shipped accelerators load with the published SushiAccel figures", "[sim][config]") {
  const AccelConfig z = accel("zcu104_sushi");
  CHECK(z.name == "zcu104_sushi");
  CHECK(z.peak_macs_per_cycle() == 1296);
  CHECK(z.clock_mhz == 100);
  CHECK(z.dram_peak_bytes_per_cycle() == Approx(168));  // DDR4 at 2100 MT/s x 8 B (FEATHER.hwh)
  CHECK(z.dram_bytes_per_cycle() == Approx(96));        // the 6 x 16 B AXI masters bind before 80% of it
  CHECK(z.dram_stream_bytes_per_cycle(sim::Stream::ActIn) == Approx(96));
  CHECK(z.dram_stream_bytes_per_cycle(sim::Stream::Weights) == Approx(16));  // one master
  CHECK(z.dram_stream_bytes_per_cycle(sim::Stream::ActOut) == Approx(16));
  CHECK(accel("zcu104_sushi_ideal").dram_stream_bytes_per_cycle(sim::Stream::Weights) == Approx(96));
  CHECK(z.hash == content_hash(zcu_text()));
  CHECK(z.weight_buffer_bytes + z.act_in_bytes + z.psum_bytes + z.act_out_bytes + z.pb_bytes <=
        z.on_chip_bytes);
  CHECK(accel("edge_small").pb_bytes < z.pb_bytes);
  CHECK(accel("cloud_large").pb_bytes > z.pb_bytes);
  CHECK(sim::parse_fidelity("analytic") == "analytic");
  CHECK(sim::parse_fidelity("cycle") == "cycle");
  CHECK_THROWS_WITH(sim::parse_fidelity("bogus"), Catch::Matchers::Contains("--fidelity") &&
                                                      Catch::Matchers::Contains("analytic") &&
                                                      Catch::Matchers::Contains("cycle"));
}

TEST_CASE("sim config: DRAM efficiency by burst size, outstanding bursts and ports, hand-worked",
          "[sim][config][dram]") {
  // zcu104_sushi_ideal: 96 B/cycle over one master, 64 B bursts, 80% of 19.2 GB/s = 153.6 B/cycle.
  const std::vector<Override> ov = {{"accel.dram.ports", "6"},
                                    {"accel.dram.weight_ports", "2"},
                                    {"accel.dram.max_burst_bytes", "256"},
                                    {"accel.dram.outstanding_bursts", "1"},
                                    {"accel.dram.burst_overhead_cycles", "3"},
                                    {"accel.dram.latency_ns", "300"}};
  const AccelConfig a = AccelConfig::load("workloads/accel/zcu104_sushi_ideal.yaml", ov);
  // Activations on all six masters: min(153.6, 96, 6 x 1 x 256 B / 30 cycles = 51.2) = 51.2 B/cycle.
  CHECK(a.dram_stream_bytes_per_cycle(sim::Stream::ActIn) == Approx(51.2));
  // Weights on two: min(153.6, 32, 2 x 256 / 30 = 17.07) = 17.07 B/cycle.
  CHECK(a.dram_stream_bytes_per_cycle(sim::Stream::Weights) == Approx(512.0 / 30));
  // 1,000 B -> 1,024 B of 64 B bursts -> 4 bursts of <= 256 B: 4 x 3 + ceil(1024 / 51.2 = 20) = 32 cycles.
  CHECK(a.dram_data_cycles(1000, sim::Stream::ActIn) == 32);
  CHECK(a.dram_data_cycles(1000, sim::Stream::Weights) == 12 + 60);
  // Long streams approach the bound, short ones pay the burst overhead: efficiency grows with length.
  const double long_rate = 1e6 / double(a.dram_data_cycles(1000000, sim::Stream::ActIn));
  const double short_rate = 64 / double(a.dram_data_cycles(64, sim::Stream::ActIn));
  CHECK(short_rate == Approx(64.0 / 5));  // 3 + ceil(1.25) cycles
  CHECK(long_rate > 2 * short_rate);
  CHECK(long_rate < 51.2);
  // A stream cannot use more masters than the accelerator has.
  std::string text = read_file("workloads/accel/zcu104_sushi_ideal.yaml");
  text += "\n";
  text.replace(text.find("dram:\n"), 6, "dram:\n  weight_ports: 3\n");
  CHECK_THROWS_WITH(AccelConfig::parse(text, "bad.yaml"), Catch::Matchers::Contains("dram.ports = 1"));
}

TEST_CASE("sim config: one declaration gives defaults, describe and the canonical form", "[sim][config]") {
  const AccelConfig d = sim::accel_schema().defaults();
  CHECK(d.k_parallel == 16);
  CHECK(d.window_parallel == 9);
  CHECK(d.dram_efficiency == 1.0);
  CHECK(d.layer_setup_cycles == 0);
  // A config that leaves out every optional key gets exactly the schema's defaults.
  const AccelConfig minimal = AccelConfig::parse(
      "name: m\nclock_mhz: 200\nbuffers: {on_chip_bytes: 4MiB, weight_stream_bytes: 64KiB, act_in_bytes: "
      "64KiB,"
      " psum_bytes: 64KiB, act_out_bytes: 64KiB, persistent_bytes: 1MiB}\ndram: {peak_gbps: 10, burst_bytes: "
      "64,"
      " interface_bytes_per_cycle: 32}\nenergy: {sram: [{max_bytes: 4MiB}]}\n",
      "minimal.yaml");
  CHECK(minimal.c_parallel == d.c_parallel);
  CHECK(minimal.vector_lanes == d.vector_lanes);
  CHECK(minimal.fold_pointwise);
  CHECK(minimal.pb_bytes == 1 << 20);
  const std::string text = sim::accel_schema().describe_text();
  for (const char* key : {"array.k_parallel", "buffers.persistent_bytes", "dram.peak_gbps", "energy.sram"})
    CHECK_THAT(text, Catch::Matchers::Contains(key));
  REQUIRE(ComponentIndex::find("accel", "sushi_accel"));
  CHECK(ComponentIndex::find("accel", "sushi_accel")->params == &sim::accel_schema());
  for (const char* m : {"analytic", "cycle"}) CHECK(ComponentIndex::find("accel_model", m));
  // Canonical form: every parameter, nested by path; equal configs give equal text, a change shows.
  const AccelConfig z = accel("zcu104_sushi");
  const std::string json = sim::canonical_json(z);
  CHECK_THAT(json, Catch::Matchers::Contains("\"array\":{\"k_parallel\":16") &&
                       Catch::Matchers::Contains("\"persistent_bytes\":2097152"));
  CHECK(json == sim::canonical_json(AccelConfig::parse(zcu_text(), "other.yaml")));
  AccelConfig z2 = z;
  z2.pb_bytes /= 2;
  CHECK(json != sim::canonical_json(z2));
}

TEST_CASE("sim config: bad configs are rejected with errors naming file and key", "[sim][config]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(error_of("act_in_bytes: 1048576", "act_in_bytes: -5"),
             Contains("bad.yaml") && Contains("buffers.act_in_bytes"));
  CHECK_THAT(
      error_of("persistent_bytes: 2097152", "persistent_bytes: 4000000"),
      Contains("bad.yaml") && Contains("buffers.persistent_bytes") && Contains("larger than the on-chip"));
  CHECK_THAT(error_of("peak_gbps: 16.8", "peak_gbps: 0"), Contains("bad.yaml") && Contains("dram.peak_gbps"));
  CHECK_THAT(error_of("interface_bytes_per_cycle: 96", "interface_bytes_per_cycle: 0"),
             Contains("dram.interface_bytes_per_cycle"));
  CHECK_THAT(error_of("  k_parallel: 16", "  k_paralel: 16"), Contains("bad.yaml") && Contains("k_paralel"));
  CHECK_THAT(error_of("clock_mhz: 100", "clock_mhz: fast"), Contains("clock_mhz"));
  CHECK_THAT(error_of("efficiency: 0.8", "efficiency: 1.5"), Contains("dram.efficiency"));
  CHECK_THAT(error_of("  c_parallel: 9", "  c_parallel: 0"), Contains("array.c_parallel"));
  CHECK_THAT(error_of("on_chip_bytes: 4976640", "on_chip_bytes: 100000"), Contains("buffers.on_chip_bytes"));
  CHECK_THAT(error_of("name: zcu104_sushi\n", ""), Contains("name"));
  CHECK_THROWS_WITH(AccelConfig::load("workloads/accel/nope.yaml"), Contains("nope.yaml"));
}

TEST_CASE("sim: a layer that does not fit a buffer is an input error naming the buffer", "[sim][config]") {
  std::string text = zcu_text();
  const std::string from = "psum_bytes: 802816";
  text.replace(text.find(from), from.size(), "psum_bytes: 100000");
  const AccelConfig small = AccelConfig::parse(text, "small_psum.yaml");
  const SupernetSpace s = space("ofa_resnet50");
  Subnet max = s.max_subnet();
  max.resolution = 224;
  for (const std::string& m : models()) {
    INFO("model " << m);
    CHECK_THROWS_WITH(
        sim::simulate(small, s, max, s.empty_subgraph(), m),
        Catch::Matchers::Contains("buffers.psum_bytes") && Catch::Matchers::Contains("small_psum.yaml"));
  }
}

TEST_CASE("sim: the registry picks models by name and an unknown name lists the registered ones", "[sim]") {
  const std::vector<std::string> names = models();
  CHECK(std::count(names.begin(), names.end(), "analytic") == 1);
  CHECK(std::count(names.begin(), names.end(), "cycle") == 1);
  const SupernetSpace tiny = space("fmnist_tiny");
  CHECK_THROWS_WITH(
      sim::simulate(accel("zcu104_sushi"), tiny, tiny.min_subnet(), tiny.empty_subgraph(), "nope"),
      Catch::Matchers::Contains("unknown accel_model 'nope'") &&
          Catch::Matchers::Contains("analytic, cycle"));
}

// Every layer of the max and min subnets (at their own resolutions) of every shipped space on every shipped
// accelerator, for every model, with and without the min subnet cached; bytes and compute cycles equal the
// analytic model's (the schedule's byte counts do not depend on the fidelity).
TEST_CASE("sim: physical limits hold and every model counts the same bytes", "[sim][cycle]") {
  for (const std::string& m : models()) {
    int checked = 0;
    for (const char* a : kAccels) {
      const AccelConfig acc = accel(a);
      const double peak_bytes = acc.dram_peak_bytes_per_cycle();
      for (const char* sp : kSpaces) {
        const SupernetSpace space_ = space(sp);
        for (const Subnet& s : {space_.max_subnet(), space_.min_subnet()}) {
          for (const SubGraph& g :
               {space_.empty_subgraph(), sim::fit_to_pb(acc, space_, space_.min_subnet())}) {
            const sim::RunResult an = sim::simulate(acc, space_, s, g, "analytic");
            const sim::RunResult r = sim::simulate(acc, space_, s, g, m);
            REQUIRE(an.layers.size() == r.layers.size());
            for (size_t i = 0; i < r.layers.size(); ++i) {
              const sim::LayerResult& l = r.layers[i];
              INFO("model " << m << " " << a << " " << sp << " layer " << l.name);
              CHECK(double(l.cycles) * double(acc.peak_macs_per_cycle()) >= double(l.macs));
              CHECK(double(l.cycles) * peak_bytes >= double(l.dram_weight_bytes + l.dram_act_bytes));
              CHECK(l.compute_cycles <= l.cycles);
              CHECK(l.utilization <= 1.0);
              CHECK(an.layers[i].dram_weight_bytes == l.dram_weight_bytes);
              CHECK(an.layers[i].dram_act_bytes == l.dram_act_bytes);
              CHECK(an.layers[i].pb_hit_bytes == l.pb_hit_bytes);
              CHECK(an.layers[i].energy_sram_pj == Approx(l.energy_sram_pj));
              CHECK(an.layers[i].compute_cycles == l.compute_cycles);
              ++checked;
            }
            CHECK(r.latency_ms == Approx(double(r.cycles) / (acc.clock_mhz * 1e3)));
            CHECK(r.energy_pj == Approx(r.energy_dram_pj + r.energy_sram_pj + r.energy_mac_pj));
          }
        }
      }
    }
    INFO("model " << m);
    CHECK(checked > 1500);
  }
}

TEST_CASE("sim: analytic is within 2% of every timed model on every layer of the max and min subnets",
          "[sim][cycle][fidelity]") {
  // Max and min subnets at their own resolutions (224 and 128-160) and the max subnet at 224 with the min
  // subnet cached; every shipped space and accelerator. Worst case seen when this test was written: 0.81%.
  for (const std::string& m : timed_models()) {
    double worst = 0;
    std::string worst_where;
    for (const char* a : kAccels) {
      const AccelConfig acc = accel(a);
      for (const char* sp : kSpaces) {
        const SupernetSpace space_ = space(sp);
        Rng rng(7);
        const Subnet random = space_.random_subnet(rng);
        for (const Subnet& s : {space_.max_subnet(), space_.min_subnet(), random}) {
          for (const SubGraph& g :
               {space_.empty_subgraph(), sim::fit_to_pb(acc, space_, space_.min_subnet())}) {
            const sim::RunResult an = sim::simulate(acc, space_, s, g, "analytic");
            const sim::RunResult cy = sim::simulate(acc, space_, s, g, m);
            for (size_t i = 0; i < cy.layers.size(); ++i) {
              const double err =
                  std::abs(double(an.layers[i].cycles - cy.layers[i].cycles)) / double(cy.layers[i].cycles);
              if (err > worst) {
                worst = err;
                worst_where = std::string(a) + " " + sp + " " + cy.layers[i].name;
              }
            }
            INFO("model " << m << " " << a << " " << sp);
            CHECK(std::abs(double(an.cycles - cy.cycles)) / double(cy.cycles) <= 0.02);
          }
        }
      }
    }
    WARN("model " << m << ": worst analytic error per layer: " << 100 * worst << "% (" << worst_where << ")");
    CHECK(worst <= 0.02);
  }
}

TEST_CASE("sim: SGS removes exactly the shared bytes from off-chip weight traffic", "[sim][sgs]") {
  for (const std::string& m : models()) {
    for (const char* a : kAccels) {
      const AccelConfig acc = accel(a);
      for (const char* sp : kSpaces) {
        const SupernetSpace space_ = space(sp);
        Rng rng(11);
        const Subnet s = space_.random_subnet(rng);
        const sim::RunResult none = sim::simulate(acc, space_, s, space_.empty_subgraph(), m);
        INFO("model " << m << " " << a << " " << sp);
        CHECK(none.pb_hit_bytes == 0);
        CHECK(none.offchip_weight_bytes == space_.bytes(s));
        for (const Subnet& cached : {space_.min_subnet(), space_.max_subnet(), s}) {
          const SubGraph g = sim::fit_to_pb(acc, space_, cached);
          REQUIRE(g.bytes() <= acc.pb_bytes);
          const int64_t shared = space_.shared_bytes(s, g);
          const sim::RunResult with = sim::simulate(acc, space_, s, g, m);
          CHECK(with.offchip_weight_bytes == none.offchip_weight_bytes - shared);
          CHECK(with.pb_hit_bytes == shared);
          CHECK(with.offchip_act_bytes == none.offchip_act_bytes);
          CHECK(with.cycles <= none.cycles);
          CHECK(with.energy_dram_pj <= none.energy_dram_pj);
        }
      }
    }
    // A PB that holds the whole SubGraph: every min subnet fits cloud_large's 16 MiB, and caching the subnet
    // itself removes all of its weight traffic.
    const AccelConfig cloud = accel("cloud_large");
    for (const char* sp : kSpaces) {
      const SupernetSpace space_ = space(sp);
      const Subnet min = space_.min_subnet();
      const SubGraph g = space_.subgraph(min);
      REQUIRE(g.bytes() <= cloud.pb_bytes);
      CHECK(sim::fit_to_pb(cloud, space_, min).bytes() == g.bytes());
      const sim::RunResult with = sim::simulate(cloud, space_, min, g, m);
      INFO("model " << m << " " << sp);
      CHECK(with.offchip_weight_bytes == 0);
      CHECK(with.pb_hit_bytes == space_.bytes(min));
    }
  }
}

TEST_CASE("sim: PB load cost and fit_to_pb", "[sim][sgs]") {
  const AccelConfig z = accel("zcu104_sushi");
  const SupernetSpace mbv3 = space("ofa_mbv3");
  const SubGraph g = sim::fit_to_pb(z, mbv3, mbv3.max_subnet());
  CHECK(g.bytes() <= z.pb_bytes);
  CHECK(g.bytes() > z.pb_bytes * 9 / 10);  // the prefix fills the buffer
  CHECK(g.bytes() == mbv3.partial_subgraph(mbv3.max_subnet(), z.pb_bytes).bytes());
  const sim::PbLoadResult load = sim::pb_load_cost(z, g);
  CHECK(load.bytes == g.bytes());
  CHECK(double(load.cycles) >= double(load.bytes) / z.dram_peak_bytes_per_cycle());
  CHECK(load.cycles >= z.dram_data_cycles(load.bytes, sim::Stream::Weights));
  CHECK(load.energy_pj >= double(load.bytes) * z.dram_pj_per_byte);
  CHECK(sim::pb_load_cost(z, mbv3.empty_subgraph()).cycles == 0);
  CHECK_THROWS_AS(sim::pb_load_cost(z, mbv3.subgraph(mbv3.max_subnet())), InputError);
  for (const std::string& m : models()) {
    INFO("model " << m);
    CHECK_THROWS_AS(sim::simulate(z, mbv3, mbv3.max_subnet(), mbv3.subgraph(mbv3.max_subnet()), m),
                    InputError);
  }
}

TEST_CASE("sim: analytic_layer matches the analytic run layer by layer", "[sim]") {
  const AccelConfig z = accel("zcu104_sushi");
  const SupernetSpace r50 = space("ofa_resnet50");
  const Subnet s = r50.max_subnet();
  const SubGraph g = sim::fit_to_pb(z, r50, r50.min_subnet());
  const sim::RunResult run = sim::simulate(z, r50, s, g, "analytic");
  const std::vector<Layer> layers = r50.layers(s);
  for (size_t i = 0; i < layers.size(); ++i) {
    const WeightSlice cached =
        layers[i].has_weights() ? g.slices[size_t(layers[i].slice.tensor)] : WeightSlice{};
    const sim::LayerEstimate e = sim::analytic_layer(z, layers[i], cached);
    CHECK(e.cycles == run.layers[i].cycles);
    CHECK(e.dram_weight_bytes == run.layers[i].dram_weight_bytes);
    CHECK(e.pb_hit_bytes == run.layers[i].pb_hit_bytes);
  }
}

namespace {

// A random conv-like or vector layer with consistent shapes (what SupernetSpace::layers() would produce).
Layer random_layer(Rng& rng) {
  auto pick = [&](int lo, int hi) { return lo + int(rng() % uint64_t(hi - lo + 1)); };
  const LayerKind kinds[] = {LayerKind::Conv, LayerKind::Pointwise, LayerKind::Depthwise,
                             LayerKind::FC,   LayerKind::SEReduce,  LayerKind::SEExpand,
                             LayerKind::Conv, LayerKind::Depthwise};
  Layer l;
  l.kind = kinds[rng() % 8];
  l.name = std::string("random_") + to_string(l.kind);
  const bool spatial =
      l.kind == LayerKind::Conv || l.kind == LayerKind::Depthwise || l.kind == LayerKind::Pointwise;
  l.in_c = pick(1, 60);
  l.in_h = spatial ? pick(1, 14) : 1;
  l.in_w = spatial ? pick(1, 14) : 1;
  l.kernel = l.kind == LayerKind::Conv        ? 1 + 2 * pick(0, 3)
             : l.kind == LayerKind::Depthwise ? 3 + 2 * pick(0, 2)
                                              : 1;
  l.stride = spatial ? pick(1, 2) : 1;
  l.pad = l.kernel / 2;
  l.out_c = l.kind == LayerKind::Depthwise ? l.in_c : pick(1, 60);
  l.groups = l.kind == LayerKind::Depthwise ? l.in_c : 1;
  l.out_h = (l.in_h + 2 * l.pad - l.kernel) / l.stride + 1;
  l.out_w = (l.in_w + 2 * l.pad - l.kernel) / l.stride + 1;
  const Activation acts[] = {Activation::None, Activation::ReLU, Activation::HSwish, Activation::HSigmoid};
  l.act = acts[rng() % 4];
  l.batch_norm = true;
  const int in_per_group = l.in_c / l.groups;
  l.macs = int64_t(l.out_h) * l.out_w * l.out_c * in_per_group * l.kernel * l.kernel;
  l.slice = WeightSlice{0, l.out_c, in_per_group, l.kernel, true};
  l.weight_bytes = l.slice.bytes();
  return l;
}

// A random vector-unit layer (pools, Add, SE scale) with its operands, shapes as the layer builder makes
// them.
Layer random_vector_layer(Rng& rng) {
  auto pick = [&](int lo, int hi) { return lo + int(rng() % uint64_t(hi - lo + 1)); };
  const LayerKind kinds[] = {LayerKind::GlobalPool, LayerKind::MaxPool, LayerKind::AvgPool, LayerKind::Add,
                             LayerKind::SEScale};
  Layer l;
  l.kind = kinds[rng() % 5];
  l.name = std::string("random_") + to_string(l.kind);
  l.in_c = l.out_c = pick(1, 40);
  l.in_h = pick(1, 12);
  l.in_w = pick(1, 12);
  const bool pool = l.kind == LayerKind::MaxPool || l.kind == LayerKind::AvgPool;
  l.kernel = pool ? std::min({pick(1, 3), l.in_h, l.in_w}) : 1;  // every window overlaps the input
  l.stride = pool ? pick(1, 2) : 1;
  l.pad = pool ? pick(0, l.kernel / 2) : 0;
  l.out_h = l.kind == LayerKind::GlobalPool ? 1 : (l.in_h + 2 * l.pad - l.kernel) / l.stride + 1;
  l.out_w = l.kind == LayerKind::GlobalPool ? 1 : (l.in_w + 2 * l.pad - l.kernel) / l.stride + 1;
  const Activation acts[] = {Activation::None, Activation::ReLU, Activation::HSwish, Activation::HSigmoid};
  l.act = acts[rng() % 4];
  return l;
}

}  // namespace

TEST_CASE("sim functional: every functional model's int8 outputs equal the reference on 450 random layers",
          "[sim][functional]") {
  // Odd array shapes exercise partial K-, C- and window tiles; the shipped config checks the real mapping.
  std::string odd = read_file("workloads/accel/zcu104_sushi.yaml");
  for (auto [from, to] : {std::pair<std::string, std::string>{"k_parallel: 16", "k_parallel: 5"},
                          {"c_parallel: 9", "c_parallel: 4"},
                          {"window_parallel: 9", "window_parallel: 4"},
                          {"fold_pointwise: true", "fold_pointwise: false"}})
    odd.replace(odd.find(from), from.size(), to);
  // A tiny act_in streams the input of the larger layers through its two halves.
  std::string streaming = odd;
  streaming.replace(streaming.find("act_in_bytes: 1048576"), 21, "act_in_bytes: 2048");
  for (const std::string& m : functional_models()) {
    for (const AccelConfig& acc : {accel("zcu104_sushi"), AccelConfig::parse(odd, "odd.yaml"),
                                   AccelConfig::parse(streaming, "stream.yaml")}) {
      Rng rng(2024);
      std::vector<QOp> ops;
      std::vector<QTensor> inputs, inputs2;
      for (int i = 0; i < 150; ++i) {
        const Layer l = random_layer(rng);
        ops.push_back(make_random_qop(l, rng()));
        inputs.push_back(
            make_random_qtensor(l.in_c, l.in_h, l.in_w, rng(), ops.back().in_scale, ops.back().in_zp));
        inputs2.emplace_back();
      }
      std::vector<QTensor> outputs;
      int restreamed = 0;
      const sim::RunResult r = sim::simulate_layers_functional(acc, m, ops, inputs, inputs2, outputs);
      REQUIRE(outputs.size() == ops.size());
      int exact = 0;
      for (size_t i = 0; i < ops.size(); ++i) {
        const QTensor ref = run_qop(ops[i], inputs[i], nullptr);
        INFO("model " << m << " " << acc.name << " layer " << i << " " << ops[i].layer.name << " "
                      << ops[i].layer.in_c << "x" << ops[i].layer.in_h << "x" << ops[i].layer.in_w << " k"
                      << ops[i].layer.kernel << " s" << ops[i].layer.stride << " -> " << ops[i].layer.out_c);
        CHECK(outputs[i].data == ref.data);
        CHECK(outputs[i].c == ref.c);
        CHECK(outputs[i].h == ref.h);
        CHECK(outputs[i].w == ref.w);
        exact += outputs[i].data == ref.data;
        CHECK(r.layers[i].cycles >= r.layers[i].compute_cycles);
        const Layer& l = ops[i].layer;
        restreamed += r.layers[i].dram_act_bytes >
                      int64_t(l.in_c) * l.in_h * l.in_w + int64_t(l.out_c) * l.out_h * l.out_w;
      }
      CHECK(exact == int(ops.size()));
      if (acc.file == "stream.yaml") CHECK(restreamed > 0);
    }
  }
}

TEST_CASE("sim functional: whole fmnist_tiny subnets are bit-exact with the int8 reference",
          "[sim][functional]") {
  const SupernetSpace tiny = space("fmnist_tiny");
  for (const std::string& m : functional_models()) {
    for (const char* a : kAccels) {
      const AccelConfig acc = accel(a);
      for (const std::string spec : {"max", "min", "random:1", "random:2"}) {
        const Subnet s = tiny.parse_subnet(spec);
        const QNetwork net = make_random_qnetwork(tiny, s, 5);
        const QTensor input = make_random_qtensor(1, s.resolution, s.resolution, 9, net.in_scale, net.in_zp);
        const std::vector<QTensor> ref = run_qnetwork(net, input);
        for (const SubGraph& g : {tiny.empty_subgraph(), sim::fit_to_pb(acc, tiny, tiny.min_subnet())}) {
          std::vector<QTensor> outputs;
          const sim::RunResult functional = sim::simulate_functional(acc, tiny, s, g, m, net, input, outputs);
          REQUIRE(outputs.size() == ref.size());
          for (size_t i = 0; i < ref.size(); ++i) {
            INFO("model " << m << " " << a << " " << spec << " layer " << i << " " << net.ops[i].layer.name);
            CHECK(outputs[i].data == ref[i].data);
          }
          // Functional mode changes nothing about timing.
          const sim::RunResult timing = sim::simulate(acc, tiny, s, g, m);
          CHECK(functional.cycles == timing.cycles);
        }
      }
    }
  }
}

TEST_CASE("sim functional: the vector unit computes pools and Add and SE scale from buffer data",
          "[sim][functional]") {
  for (const std::string& m : functional_models()) {
    Rng rng(77);
    std::vector<QOp> ops;
    std::vector<QTensor> inputs, inputs2;
    for (int i = 0; i < 120; ++i) {
      const Layer l = random_vector_layer(rng);
      QOp op = make_random_qop(l, rng());
      inputs.push_back(make_random_qtensor(l.in_c, l.in_h, l.in_w, rng(), op.in_scale, op.in_zp));
      if (l.kind == LayerKind::Add)
        inputs2.push_back(make_random_qtensor(l.in_c, l.in_h, l.in_w, rng(), op.in2_scale, op.in2_zp));
      else if (l.kind == LayerKind::SEScale)
        inputs2.push_back(make_random_qtensor(l.in_c, 1, 1, rng(), op.in2_scale, op.in2_zp));
      else
        inputs2.emplace_back();
      ops.push_back(std::move(op));
    }
    std::vector<QTensor> outputs;
    sim::simulate_layers_functional(accel("zcu104_sushi"), m, ops, inputs, inputs2, outputs);
    for (size_t i = 0; i < ops.size(); ++i) {
      INFO("model " << m << " layer " << i << " " << ops[i].layer.name);
      const QTensor* b = inputs2[i].data.empty() ? nullptr : &inputs2[i];
      CHECK(outputs[i].data == run_qop(ops[i], inputs[i], b).data);
    }
  }
}

TEST_CASE("sim cycle: two cycle models with different configs live and run in one process", "[sim][cycle]") {
  const AccelConfig z = accel("zcu104_sushi"), cloud = accel("cloud_large");
  const SupernetSpace tiny = space("fmnist_tiny");
  const Subnet s = tiny.max_subnet();
  auto job = [&](const AccelConfig& a) {
    return sim::make_job(a, tiny.layers(s, s.resolution), tiny.empty_subgraph());
  };
  std::unique_ptr<sim::AccelModel> m1 = sim::make_accel_model("cycle", z);
  std::unique_ptr<sim::AccelModel> m2 = sim::make_accel_model("cycle", cloud);
  sim::AccelJob j1 = job(z), j2 = job(cloud), j1b = job(z);
  const sim::RunResult a = m1->run(j1);
  const sim::RunResult b = m2->run(j2);
  const sim::RunResult a2 = m1->run(j1b);  // back to the first kernel, after the second ran
  CHECK(a.cycles == a2.cycles);
  CHECK(a.cycles != b.cycles);
  CHECK(a.cycles == sim::simulate(z, tiny, s, tiny.empty_subgraph(), "cycle").cycles);
  CHECK(b.cycles == sim::simulate(cloud, tiny, s, tiny.empty_subgraph(), "cycle").cycles);
  // A third, created after the others ran (its own kernel elaborates before its own first sc_start), and
  // destroyed while the others live on.
  {
    std::unique_ptr<sim::AccelModel> m3 = sim::make_accel_model("cycle", cloud);
    sim::AccelJob j3 = job(cloud);
    CHECK(m3->run(j3).cycles == b.cycles);
  }
  sim::AccelJob j2b = job(cloud);
  CHECK(m2->run(j2b).cycles == b.cycles);
  // A config changed in memory (same file and hash) is a different accelerator to simulate().
  AccelConfig slow = z;
  slow.dram_latency_ns = 900;
  sim::AccelJob js = job(slow);
  const int64_t slow_cycles = sim::make_accel_model("cycle", slow)->run(js).cycles;
  CHECK(slow_cycles > a.cycles);
  CHECK(sim::simulate(slow, tiny, s, tiny.empty_subgraph(), "cycle").cycles == slow_cycles);
}

TEST_CASE("sim cycle: runs from several threads serialize on the kernel lock and give the same answers",
          "[sim][cycle]") {
  const SupernetSpace tiny = space("fmnist_tiny");
  const Subnet s = tiny.max_subnet();
  std::vector<AccelConfig> accels;
  for (const char* a : kAccels) accels.push_back(accel(a));
  std::vector<int64_t> alone, threaded(accels.size() * 4, 0);
  for (const AccelConfig& a : accels)
    alone.push_back(sim::simulate(a, tiny, s, tiny.empty_subgraph(), "cycle").cycles);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < threaded.size(); ++t)
    threads.emplace_back([&, t] {
      const AccelConfig& a = accels[t % accels.size()];
      threaded[t] = sim::simulate(a, tiny, s, tiny.empty_subgraph(), t % 2 ? "cycle" : "analytic").cycles;
    });
  for (std::thread& th : threads) th.join();
  for (size_t t = 0; t < threaded.size(); t += 2) {
    INFO("thread " << t);
    CHECK(threaded[t + 1] == alone[(t + 1) % accels.size()]);
    CHECK(threaded[t] ==
          sim::simulate(accels[t % accels.size()], tiny, s, tiny.empty_subgraph(), "analytic").cycles);
  }
}

TEST_CASE("sim cycle: co-simulation runs a host task beside the accelerator in simulated time",
          "[sim][cycle]") {
  const AccelConfig z = accel("zcu104_sushi");
  const SupernetSpace tiny = space("fmnist_tiny");
  const Subnet s = tiny.min_subnet();
  const int64_t alone = sim::simulate(z, tiny, s, tiny.empty_subgraph(), "cycle").cycles;
  int64_t t0 = 0, t1 = 0, t2 = 0, inside = 0;
  sim::run_in_kernel(z, [&] {
    t0 = sim::kernel_now_cycles();
    sim::kernel_wait_cycles(1000);
    t1 = sim::kernel_now_cycles();
    inside = sim::simulate(z, tiny, s, tiny.empty_subgraph(), "cycle").cycles;
    t2 = sim::kernel_now_cycles();
  });
  CHECK(t1 == t0 + 1000);
  CHECK(inside == alone);
  CHECK(t2 == t1 + alone);
  CHECK_THROWS_AS(sim::kernel_wait_cycles(1), std::logic_error);
}

TEST_CASE("sim cycle: the VCD trace records the controller, DMA and array handshakes", "[sim][cycle]") {
  const std::string path = "/tmp/sushi_test_sim_trace_" + std::to_string(::getpid()) + ".vcd";
  const SupernetSpace tiny = space("fmnist_tiny");
  sim::SimOptions options;
  options.trace_vcd = path;
  // Each traced run gets a fresh model (a trace opens before its kernel's first sc_start), so a second
  // traced run in the same process works too.
  for (int run = 0; run < 2; ++run) {
    std::remove(path.c_str());
    const sim::RunResult r = sim::simulate(accel("zcu104_sushi"), tiny, tiny.min_subnet(),
                                           tiny.empty_subgraph(), "cycle", options);
    CHECK(r.cycles > 0);
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str().find("array_busy") != std::string::npos);
    CHECK(text.str().find("dram_busy") != std::string::npos);
  }
  CHECK_THROWS_AS(sim::simulate(accel("zcu104_sushi"), tiny, tiny.min_subnet(), tiny.empty_subgraph(),
                                "analytic", options),
                  InputError);
  std::remove(path.c_str());
}

// The schedule of sim/mapping.h worked by hand on two small layers: what every model (and the RTL) must
// reproduce cycle for cycle. zcu104_sushi: 96 B/cycle sustained, 64 B bursts, latency ceil(120 ns x 100 MHz)
// = 12, setup 64, pipeline depth 12.
TEST_CASE("sim cycle: hand-worked schedules of a 3x3 conv with one and two K-tiles", "[sim][cycle][golden]") {
  const AccelConfig z = accel("zcu104_sushi_ideal");  // every stream at 96 B/cycle, 64 B bursts
  REQUIRE(z.dram_latency_cycles() == 12);
  auto conv = [](int out_c) {
    Layer l;
    l.name = "conv" + std::to_string(out_c);
    l.kind = LayerKind::Conv;
    l.in_c = 9;
    l.in_h = l.in_w = 8;
    l.out_c = out_c;
    l.out_h = l.out_w = 8;
    l.kernel = 3;
    l.pad = 1;
    l.batch_norm = true;
    l.macs = int64_t(64) * out_c * 9 * 9;
    l.slice = WeightSlice{0, out_c, 9, 3, true};
    l.weight_bytes = l.slice.bytes();
    return l;
  };
  std::vector<QOp> ops = {make_random_qop(conv(16), 1), make_random_qop(conv(32), 2)};
  std::vector<QTensor> inputs = {make_random_qtensor(9, 8, 8, 3), make_random_qtensor(9, 8, 8, 4)};
  const std::vector<std::string> functional = functional_models();
  for (const std::string& m : models()) {
    INFO("model " << m);
    const bool computes = std::count(functional.begin(), functional.end(), m) > 0;
    std::vector<QTensor> inputs2(2), outputs;
    sim::RunResult r;
    if (computes) {
      r = sim::simulate_layers_functional(z, m, ops, inputs, inputs2, outputs);
      for (size_t i = 0; i < 2; ++i) CHECK(outputs[i].data == run_qop(ops[i], inputs[i], nullptr).data);
    } else {
      sim::AccelJob job = sim::make_job(z, {ops[0].layer, ops[1].layer}, SubGraph{});
      r = sim::make_accel_model(m, z)->run(job);
    }
    // One K-tile: W0 = 16 x (81 + 4) = 1,360 B -> 1,408 B of bursts -> 15 cycles, data [12, 27); the 576 B
    // input chunk -> 6 cycles, [27, 33); the pass (64 pixels x 1 window pass) [33, 97); results out at 97 +
    // 12 = 109; O(0) = 1,024 B -> 11 cycles, issued at 109, data [121, 132). Plus 64 setup cycles.
    CHECK(r.layers[0].cycles == 64 + 132);
    CHECK(r.layers[0].compute_cycles == 64);
    // Two K-tiles: W1 is requested at once behind the chunk, [33, 48); K-tile 1 computes [97, 161); O(0)
    // issued at 109 runs [121, 132); O(1) issued at 161 + 12 = 173 runs [185, 196).
    CHECK(r.layers[1].cycles == 64 + 196);
    CHECK(r.layers[1].compute_cycles == 128);
    for (size_t i = 0; i < 2; ++i)
      CHECK(sim::analytic_layer(z, ops[i].layer, WeightSlice{}).cycles == r.layers[i].cycles);
  }
}

namespace {

// Every combination of the machine behaviours on top of a shipped config (via the schema's overrides), each
// with one of three DRAM variants: as shipped; streams on their own AXI masters (weights and outputs on one
// of six); short bursts with few outstanding, a per-burst overhead and a long latency. Combinations the
// closed form serves (no serial behaviour, no weight-tile overhead) get all three variants, the others one in
// turn.
std::vector<std::pair<std::string, std::vector<Override>>> behaviour_combinations() {
  std::vector<std::pair<std::string, std::vector<Override>>> out;
  const std::vector<std::vector<Override>> dram = {
      {},
      {{"accel.dram.ports", "6"}, {"accel.dram.weight_ports", "1"}, {"accel.dram.act_out_ports", "1"}},
      {{"accel.dram.max_burst_bytes", "256"},
       {"accel.dram.outstanding_bursts", "1"},
       {"accel.dram.burst_overhead_cycles", "2"}}};
  const char* const dram_names[] = {"dram=shipped", "dram=ports", "dram=bursts"};
  for (int bits = 0; bits < 64; ++bits)
    for (int variant = 0; variant < 3; ++variant) {
      const bool closed_form = (bits & (1 | 2 | 4 | 32)) == 0;
      if (!closed_form && variant != bits % 3) continue;
      std::vector<Override> ov = dram[size_t(variant)];
      std::string name = std::string(dram_names[variant]) + " ";
      auto add = [&](int bit, const std::string& path, const std::string& on, const std::string& off) {
        const std::string v = (bits >> bit) & 1 ? on : off;
        ov.push_back(Override{"accel." + path, v});
        name += path.substr(path.find('.') + 1) + "=" + v + " ";
      };
      add(0, "behaviour.weight_load", "serial", "overlapped");
      add(1, "behaviour.act_load", "serial", "overlapped");
      add(2, "behaviour.out_store", "serial", "overlapped");
      add(3, "behaviour.stride_mode", "input", "output");
      add(4, "array.bubble_every", "7", "0");
      add(5, "array.weight_tile_overhead_cycles", "20", "0");
      if (bits & 16) ov.push_back(Override{"accel.array.pass_overhead_cycles", "3"});
      if (bits & 32) ov.push_back(Override{"accel.dram.transfer_overhead_cycles", "10"});
      out.emplace_back(name, ov);
    }
  return out;
}

}  // namespace

TEST_CASE("sim: analytic equals every timed model for every combination of the machine behaviours",
          "[sim][cycle][fidelity][behaviour]") {
  // The correlation set of the test above (max, min and a random subnet, with and without the min subnet
  // cached) on zcu104_sushi, zcu104_sushi_ideal and edge_small, for all 64 combinations and the DRAM
  // variants. Combinations that change the order of events or make the DRAM non-uniform (zcu104_sushi's
  // one-master weight stream) use the exact schedule (0 error); the others the closed form (within 2%).
  const SupernetSpace mbv3 = space("ofa_mbv3"), tiny = space("fmnist_tiny");
  for (const std::string& m : timed_models()) {
    double worst_all = 0;
    std::string worst_combo;
    for (const auto& combo : behaviour_combinations()) {
      double worst = 0;
      std::string where;
      for (const char* a : {"zcu104_sushi", "zcu104_sushi_ideal", "edge_small"}) {
        const AccelConfig acc =
            AccelConfig::load("workloads/accel/" + std::string(a) + ".yaml", combo.second);
        for (const SupernetSpace* sp : {&mbv3, &tiny}) {
          Rng rng(7);
          const Subnet random = sp->random_subnet(rng);
          for (const Subnet& s : {sp->max_subnet(), sp->min_subnet(), random})
            for (const SubGraph& g : {sp->empty_subgraph(), sim::fit_to_pb(acc, *sp, sp->min_subnet())}) {
              const sim::RunResult an = sim::simulate(acc, *sp, s, g, "analytic");
              const sim::RunResult cy = sim::simulate(acc, *sp, s, g, m);
              REQUIRE(an.layers.size() == cy.layers.size());
              for (size_t i = 0; i < cy.layers.size(); ++i) {
                const sim::LayerResult& c = cy.layers[i];
                const double err = std::abs(double(an.layers[i].cycles - c.cycles)) / double(c.cycles);
                if (err > worst) {
                  worst = err;
                  where = std::string(a) + " " + c.name;
                }
                if (!acc.default_schedule()) CHECK(err <= 1e-12);  // the exact schedule, both sides
                CHECK(an.layers[i].compute_cycles == c.compute_cycles);
                CHECK(c.setup_cycles + c.compute_cycles + c.weight_wait_cycles + c.act_in_wait_cycles +
                          c.act_out_wait_cycles ==
                      c.cycles);
              }
            }
        }
      }
      WARN("model " << m << " [" << combo.first << "]: worst analytic error per layer " << 100 * worst
                    << "% (" << where << ")");
      CHECK(worst <= 0.02);  // the closed form (default schedule, uniform DRAM) within 2% per layer
      if (worst >= worst_all) worst_all = worst, worst_combo = combo.first + "(" + where + ")";
    }
    WARN("model " << m << ": worst analytic error per layer over " << behaviour_combinations().size()
                  << " combinations: " << 100 * worst_all << "% [" << worst_combo << "]");
  }
}

TEST_CASE("sim functional: outputs stay bit-exact with stride_mode input and serial behaviours",
          "[sim][functional][behaviour]") {
  const SupernetSpace tiny = space("fmnist_tiny");
  const std::vector<Override> ov = {{"accel.behaviour.stride_mode", "input"},
                                    {"accel.behaviour.weight_load", "serial"},
                                    {"accel.behaviour.out_store", "serial"},
                                    {"accel.behaviour.act_load", "serial"}};
  const AccelConfig acc = AccelConfig::load("workloads/accel/zcu104_sushi.yaml", ov);
  const QNetwork net = make_random_qnetwork(tiny, tiny.max_subnet(), 5);
  const QTensor input = make_random_qtensor(1, 28, 28, 9, net.in_scale, net.in_zp);
  for (const std::string& m : functional_models()) {
    std::vector<QTensor> outputs;
    sim::simulate_functional(acc, tiny, tiny.max_subnet(), tiny.empty_subgraph(), m, net, input, outputs);
    const std::vector<QTensor> ref = run_qnetwork(net, input);
    REQUIRE(outputs.size() == ref.size());
    for (size_t i = 0; i < ref.size(); ++i) CHECK(outputs[i].data == ref[i].data);
  }
}
