// The generated RTL (rtl/) and the `rtl` fidelity: generator output, Verilator lint, cycle-exactness with
// the cycle model on constrained-random layers and fmnist_tiny subnets (quick subset here; the full set is
// tagged [rtl-full], run by `ctest -L rtl-full`), and the first-divergence debugger on an injected bug.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "base/errors.h"
#include "base/provenance.h"
#include "base/yaml.h"
#include "models/space/supernet.h"
#include "rtl/area.h"
#include "rtl/generator.h"
#include "rtl/harness/lockstep.h"
#include "rtl/harness/rtl_model.h"
#include "sched/cosim.h"
#include "sched/experiment.h"
#include "sched/policy.h"
#include "sim/mapping.h"
#include "sim/model.h"
#include "traces/trace.h"

using namespace sushi;
using sim::AccelConfig;

namespace {

const char* const kShipped[] = {"workloads/accel/zcu104_sushi.yaml", "workloads/accel/edge_small.yaml",
                                "workloads/accel/cloud_large.yaml"};
const char* const kTest[] = {"tests/data/rtl/rtl_small.yaml", "tests/data/rtl/rtl_serial.yaml"};

// Every layer of the job on its own (a case each): cycles and traces equal, and (functional) the RTL's
// output bit-exact with the int8 reference; returns the cases run.
int check_layers_one_by_one(const AccelConfig& a, const rtl::FunctionalJob& f) {
  int cases = 0;
  for (size_t i = 0; i < f.job.regs.size(); ++i) {
    const rtl::FunctionalJob one = rtl::single_layer(f, i);
    const sim::LayerRegs& r = f.job.regs[i];
    const rtl::LockstepReport rep = rtl::lockstep(a, one.job, false, &one.reference);
    INFO(a.name << " layer " << i << " " << sim::decode_layer(r, f.job.meta[i]).name << " ("
                << to_string(LayerKind(r.opcode)) << " " << r.in_c << "x" << r.in_h << "x" << r.in_w << " -> "
                << r.out_c << " k" << r.kernel << " s" << r.stride << ", PB " << r.pb_out << "/" << r.w_out
                << ")\n"
                << rep.describe());
    CHECK(rep.ok());
    CHECK(rep.layers_checked == 1);
    ++cases;
  }
  return cases;
}

int check_subnets(const AccelConfig& a, const std::vector<std::string>& subnets) {
  const SupernetSpace tiny = SupernetSpace::load("workloads/supernets/fmnist_tiny.yaml");
  int cases = 0;
  for (const std::string& spec : subnets) {
    const Subnet s = tiny.parse_subnet(spec);
    for (const bool cache : {false, true}) {
      const SubGraph cached = cache ? sim::fit_to_pb(a, tiny, s) : tiny.empty_subgraph();
      const rtl::FunctionalJob f = rtl::subnet_functional_job(a, tiny, s, cached, 7 + uint64_t(cases));
      const rtl::LockstepReport r = rtl::lockstep(a, f.job, false, &f.reference);
      INFO(a.name << " fmnist_tiny " << spec << (cache ? " cached" : " uncached") << "\n" << r.describe());
      CHECK(r.ok());
      CHECK(r.layers_checked == int(f.reference.size()));
      CHECK(r.rtl.offchip_weight_bytes == r.cycle.offchip_weight_bytes);
      CHECK(r.rtl.offchip_act_bytes == r.cycle.offchip_act_bytes);
      CHECK(r.rtl.pb_hit_bytes == r.cycle.pb_hit_bytes);
      if (cache) CHECK(r.rtl.pb_hit_bytes > 0);
      ++cases;
    }
  }
  return cases;
}

}  // namespace

TEST_CASE("rtl generate: one module per file, config hash in every header, the Yosys 0.23 subset", "[rtl]") {
  const AccelConfig a = AccelConfig::load("workloads/accel/zcu104_sushi.yaml");
  const auto files = rtl::generate_rtl(a);
  REQUIRE(files.size() == 13);
  const std::string hash = rtl::rtl_config_hash(a);
  const std::regex forbidden(
      R"(\binside\b|\bforeach\b|\bimport\b|\]\s*\[[^\]]*\]\s*\w+\s*[;,)]|[A-Za-z_]\w*'\()");
  for (const rtl::GeneratedFile& f : files) {
    INFO(f.name);
    CHECK(f.text.find("config hash " + hash) != std::string::npos);
    CHECK(f.text.find('@' + std::string("K_PARALLEL")) == std::string::npos);
    if (f.name.size() > 3 && f.name.substr(f.name.size() - 3) == ".sv") {
      CHECK(f.text.find("module " + f.name.substr(0, f.name.size() - 3) + " ") != std::string::npos);
      CHECK_FALSE(std::regex_search(f.text, forbidden));
    }
  }
  // The parameters come from the config: change one, the RTL changes with it.
  const AccelConfig b =
      AccelConfig::load("workloads/accel/zcu104_sushi.yaml", {parse_override("accel.array.k_parallel=8")});
  CHECK(rtl::generate_rtl(b)[11].text.find("K_PARALLEL = 32'd8") != std::string::npos);
  CHECK(rtl::generate_rtl(a)[11].text.find("K_PARALLEL = 32'd16") != std::string::npos);
  CHECK(rtl::rtl_config_hash(b) != hash);
  // A config the RTL cannot implement is refused naming the key.
  const AccelConfig z = AccelConfig::load("workloads/accel/zcu104_sushi.yaml",
                                          {parse_override("accel.controller.layer_setup_cycles=0")});
  CHECK_THROWS_WITH(rtl::generate_rtl(z), Catch::Contains("controller.layer_setup_cycles"));
}

TEST_CASE("rtl area: the synth_xilinx figures are the design hierarchy's totals, not a module's", "[rtl]") {
  // The shape of Yosys 0.23's `stat -top`: per-module sections, then the hierarchy with every module counted
  // per instance (here 4 DPEs of 2 DSPs and 10 LUT6 each).
  const std::string stat = R"(
=== $paramod\sushi_dpe\WP=s32'00000000000000000000000000000010 ===

   Number of cells:                 12
     DSP48E2                         2
     LUT6                           10

=== sushi_datapath ===

   Number of cells:                 22
     FDRE                           16
     RAMB36E2                        3
     RAMB18E2                        1
     URAM288                         2

=== design hierarchy ===

   sushi_datapath                    1
     $paramod\sushi_dpe\WP=s32'00000000000000000000000000000010      4

   Number of wires:                 99
   Number of cells:                 70
     CARRY4                          5
     DSP48E2                         8
     FDRE                           16
     FDSE                            2
     LUT2                            3
     LUT6                           40
     RAM64M8                         1
     RAMB36E2                        3
     RAMB18E2                        1
     URAM288                         2
)";
  rtl::AreaFigures a;
  rtl::read_xcup_stat(stat, a);
  CHECK(a.xilinx_cells == 70);
  CHECK(a.luts == 43);
  CHECK(a.flip_flops == 18);
  CHECK(a.dsps == 8);
  CHECK(a.carry == 5);
  CHECK(a.bram36 == 3.5);
  CHECK(a.uram == 2);
  CHECK(a.lutram == 1);
}

TEST_CASE("rtl lint: verilator --lint-only -Wall is clean on every shipped and test config", "[rtl]") {
  std::vector<std::string> configs(std::begin(kShipped), std::end(kShipped));
  configs.insert(configs.end(), std::begin(kTest), std::end(kTest));
  const std::string dir = "build/test_tmp/rtl_lint";
  for (const std::string& c : configs) {
    std::filesystem::remove_all(dir);
    const AccelConfig a = AccelConfig::load(c);
    const auto files = rtl::rtl_sources(rtl::generate_rtl(a));
    rtl::write_rtl(a, dir);
    for (const char* top : {"sushi_accel", "sushi_datapath"}) {
      std::string cmd = "cd " + dir + " && verilator --lint-only -Wall --top-module " + top;
      for (const std::string& f : files) cmd += " " + f;
      cmd += " > lint.log 2>&1";
      INFO(c << " " << top << ": " << (std::system(cmd.c_str()), read_file(dir + "/lint.log")));
      CHECK(std::system(cmd.c_str()) == 0);
      CHECK(read_file(dir + "/lint.log").empty());
    }
  }
}

TEST_CASE("rtl fidelity: functional, and only for configs with a Verilated build", "[rtl]") {
  CHECK(rtl::rtl_built_configs().size() >= 5);
  const AccelConfig other =
      AccelConfig::load("workloads/accel/zcu104_sushi.yaml", {parse_override("accel.array.k_parallel=8")});
  CHECK_THROWS_WITH(sim::make_accel_model("rtl", other), Catch::Contains("no Verilated RTL"));
  const AccelConfig a = AccelConfig::load("tests/data/rtl/rtl_small.yaml");
  auto m = sim::make_accel_model("rtl", a);
  CHECK(m->functional());
  // The outputs come from the RTL's datapath: a wrong weight in DRAM changes them, the timing stays.
  const rtl::FunctionalJob all = rtl::random_functional_job(a, 5, 40);
  size_t i = 0;
  while (i + 1 < all.job.regs.size() && all.job.regs[i].dram_weight_bytes() == 0) ++i;
  const rtl::FunctionalJob f = rtl::single_layer(all, i);
  REQUIRE(f.job.regs[0].dram_weight_bytes() > 0);
  sim::AccelJob good = f.job, bad = f.job;
  const sim::RunResult rg = m->run(good);
  for (uint64_t b = 0; b < uint64_t(bad.regs[0].dram_weight_bytes()); ++b)
    bad.dram[bad.regs[0].w_addr + b] ^= 0x5a;
  const sim::RunResult rb = m->run(bad);
  CHECK(rg.cycles == rb.cycles);
  CHECK(sim::read_output(good, 0, 1).data == f.reference[0].data);
  CHECK(sim::read_output(bad, 0, 1).data != f.reference[0].data);
}

TEST_CASE("rtl quick regression: random layers cycle-exact with the cycle model (rtl_small, rtl_serial)",
          "[rtl]") {
  int cases = 0;
  for (const char* c : kTest)
    cases += check_layers_one_by_one(AccelConfig::load(c),
                                     rtl::random_functional_job(AccelConfig::load(c), 11, 30));
  CHECK(cases == 60);
}

TEST_CASE("rtl quick regression: fmnist_tiny subnets with and without a cached SubGraph", "[rtl]") {
  int cases = 0;
  for (const char* c : kTest) cases += check_subnets(AccelConfig::load(c), {"min", "random:3"});
  cases += check_subnets(AccelConfig::load("workloads/accel/zcu104_sushi.yaml"), {"max"});
  CHECK(cases == 10);
}

TEST_CASE("rtl diff: an injected one-cycle bug is caught and located at its K-tile", "[rtl]") {
  const AccelConfig a = AccelConfig::load("tests/data/rtl/rtl_small.yaml");
  const SupernetSpace tiny = SupernetSpace::load("workloads/supernets/fmnist_tiny.yaml");
  const Subnet s = tiny.parse_subnet("min");
  const sim::AccelJob job = sim::make_job(a, tiny.layers(s, s.resolution), tiny.empty_subgraph());
  REQUIRE(rtl::lockstep(a, job).ok());
  const rtl::LockstepReport r = rtl::lockstep(a, job, true);
  CHECK_FALSE(r.ok());
  REQUIRE(r.divergence >= 0);
  // The first divergence: the first layer with two K-tiles, right after K-tile 1's first pass would end.
  const sim::TraceEvent& c = r.cycle_events.at(size_t(r.divergence));
  const sim::TraceEvent& v = r.rtl_events.at(size_t(r.divergence));
  INFO(r.describe());
  CHECK(c.layer == v.layer);
  CHECK(r.describe().find("first divergence") != std::string::npos);
  CHECK(r.rtl.cycles > r.cycle.cycles);
  // Every event before it agrees (the bug is in K-tile 1, so K-tile 0's events all match).
  for (int64_t i = 0; i < r.divergence; ++i) CHECK(r.cycle_events[size_t(i)] == r.rtl_events[size_t(i)]);
  bool saw_tile1 = false;
  for (int64_t i = 0; i < r.divergence; ++i)
    saw_tile1 |= r.rtl_events[size_t(i)].kind == sim::EventKind::TileStart &&
                 r.rtl_events[size_t(i)].tile == 1 && r.rtl_events[size_t(i)].layer == c.layer;
  CHECK(saw_tile1);
}

TEST_CASE("rtl co-simulation: a short serving trace on rtl_small gives the cycle model's records", "[rtl]") {
  const AccelConfig a = AccelConfig::load("tests/data/rtl/rtl_small.yaml");
  const SupernetSpace tiny = SupernetSpace::load("workloads/supernets/fmnist_tiny.yaml");
  const AccuracyTable acc =
      AccuracyTable::load_jsonl("workloads/train/results/fmnist_deps_top1_int8.jsonl", tiny);
  const LatencyTable t = build_latency_table(a, tiny, acc, "analytic", ParetoOptions{3}, "");
  TraceSpec spec;
  spec.rate_qps = 100;  // queries do not queue (a back-to-back one starts a cycle later on the RTL)
  spec.count = 6;
  spec.constraints.latency_fraction = 0;
  spec.constraints.accuracy_fraction = 1;
  spec.constraints.acc_lo = 40;
  spec.constraints.acc_hi = 52;
  const auto trace = generate_trace(spec);
  ServingResult runs[2];
  const char* models[] = {"cycle", "rtl"};
  for (int m = 0; m < 2; ++m) {
    auto p = make_policy(YamlView::parse("{impl: sushi, window: 2, variant: min_latency}", "policy"));
    runs[m] = serve_cosim(a, tiny, t, trace, *p, ServingOptions{}, models[m]);
  }
  REQUIRE(runs[0].records.size() == trace.size());
  REQUIRE(runs[1].records.size() == trace.size());
  for (size_t i = 0; i < trace.size(); ++i) {
    INFO("query " << i);
    CHECK(runs[1].records[i].subnet == runs[0].records[i].subnet);
    CHECK(runs[1].records[i].start_ms == runs[0].records[i].start_ms);
    CHECK(runs[1].records[i].finish_ms == runs[0].records[i].finish_ms);
    CHECK(runs[1].records[i].finish_ms > runs[1].records[i].start_ms);
  }
}

TEST_CASE("rtl full regression: 300+ random layers and subnets over five configs", "[rtl-full]") {
  int cases = 0;
  std::vector<std::string> configs(std::begin(kTest), std::end(kTest));
  configs.insert(configs.end(), std::begin(kShipped), std::end(kShipped));
  uint64_t seed = 100;
  for (const std::string& c : configs) {
    const AccelConfig a = AccelConfig::load(c);
    cases += check_layers_one_by_one(a, rtl::random_functional_job(a, seed++, 100));
    cases += check_subnets(a, {"min", "max", "random:7"});
  }
  WARN("rtl full regression: " << cases << " cases");
  CHECK(cases >= 300);
}
