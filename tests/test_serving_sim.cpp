// Latency tables built by the accelerator models, and serving on them (issue 5).
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "base/paths.h"
#include "base/provenance.h"
#include "sched/cosim.h"
#include "sched/experiment.h"
#include "sim/accel.h"

using namespace sushi;

namespace {

std::string shared_table() {
  try {
    return data_file("ofa_mbv3_224_top1.jsonl");  // $SUSHI_DATA, else ../shared/data beside the repository
  } catch (const InputError& e) {
    FAIL(e.what());
  }
  return "";
}

struct Fixture {
  SupernetSpace space = SupernetSpace::load("workloads/supernets/ofa_mbv3.yaml");
  sim::AccelConfig accel = sim::AccelConfig::load("workloads/accel/zcu104_sushi.yaml");
  AccuracyTable acc = AccuracyTable::load_jsonl(shared_table(), space);
  LatencyTable table(size_t max_subnets, const std::string& cache = "") {
    return build_latency_table(accel, space, acc, "analytic", ParetoOptions{max_subnets}, cache);
  }
};

std::unique_ptr<Policy> policy(const std::string& yaml) {
  return make_policy(YamlView::parse(yaml, "policy"));
}

}  // namespace

TEST_CASE("latency table: Pareto subnets, SGS never adds off-chip weight bytes, exact PB savings",
          "[sched][sim]") {
  Fixture f;
  const LatencyTable t = f.table(8);
  REQUIRE(t.num_subnets() == 8);
  REQUIRE(t.num_subgraphs() > 9);  // none, 8 prefixes, then the optimised candidates
  for (size_t g = 1; g <= 8; ++g) CHECK(t.subgraph_names[g] == "pb(s" + std::to_string(g - 1) + ")");
  for (size_t g = 9; g < t.num_subgraphs(); ++g) CHECK(t.subgraph_source[g] == -1);
  for (size_t s = 1; s < t.num_subnets(); ++s) {
    CHECK(t.at(s, 0).latency_ms > t.at(s - 1, 0).latency_ms);  // Pareto: slower only if more accurate
    CHECK(t.accuracy[s] > t.accuracy[s - 1]);
  }
  for (size_t s = 0; s < t.num_subnets(); ++s)
    for (size_t g = 0; g < t.num_subgraphs(); ++g) {
      INFO("subnet " << s << " subgraph " << g);
      CHECK(t.subgraph_bytes[g] <= f.accel.pb_bytes);
      CHECK(t.at(s, g).offchip_weight_bytes <= t.at(s, 0).offchip_weight_bytes);
      // The PB holds the whole SubGraph, so the saving is exactly the shared bytes.
      CHECK(t.at(s, g).offchip_weight_bytes ==
            t.at(s, 0).offchip_weight_bytes - f.space.shared_bytes(t.subnets[s], t.subgraphs[g]));
      CHECK(t.at(s, g).pb_hit_bytes == f.space.shared_bytes(t.subnets[s], t.subgraphs[g]));
    }
}

TEST_CASE("SGS never increases off-chip weight bytes for the same subnet sequence", "[sched][sim]") {
  Fixture f;
  const LatencyTable t = f.table(10);
  TraceSpec spec;
  spec.impl = "gamma";
  spec.cv2 = 2;
  spec.rate_qps = 40;
  spec.count = 2000;
  spec.constraints.latency_fraction = 0.5;
  spec.constraints.accuracy_fraction = 0.5;
  spec.constraints.slo_lo_ms = t.at(0, 0).latency_ms;
  spec.constraints.slo_hi_ms = t.at(t.num_subnets() - 1, 0).latency_ms;
  const auto trace = generate_trace(spec);
  for (const std::string p : {"{impl: sushi, variant: average}", "{impl: sushi, variant: min_latency}",
                              "{impl: static_sgs}", "{impl: fixed_subnet}"}) {
    auto pol = policy(p);
    const ServingResult r = serve(t, trace, *pol, ServingOptions{});
    double with_sgs = 0, without = 0;
    for (const QueryRecord& q : r.records) {
      REQUIRE_FALSE(q.dropped);
      with_sgs += q.offchip_weight_bytes;
      without += double(t.at(size_t(q.subnet), 0).offchip_weight_bytes);
      REQUIRE(q.offchip_weight_bytes <= double(t.at(size_t(q.subnet), 0).offchip_weight_bytes));
    }
    INFO(p << ": " << with_sgs << " vs " << without);
    CHECK(with_sgs <= without);
  }
}

TEST_CASE("latency table cache: a second build reads the same table from disk, and a damaged file is rebuilt",
          "[sched][sim]") {
  Fixture f;
  const std::string dir = "build/test_tmp/lt_cache";
  std::filesystem::remove_all(dir);
  const LatencyTable a = f.table(5, dir);
  REQUIRE(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator{}) ==
          1);
  const std::string file = std::filesystem::directory_iterator(dir)->path().string();
  const LatencyTable b = f.table(5, dir);
  CHECK(latency_table_to_text(a) == latency_table_to_text(b));
  CHECK(b.subgraphs.size() == a.subgraphs.size());
  for (size_t g = 0; g < a.subgraphs.size(); ++g) CHECK(b.subgraphs[g].bytes() == a.subgraphs[g].bytes());
  const std::string text = read_file(file);
  std::ofstream(file) << text.substr(0, text.size() / 2);  // truncated
  CHECK_THROWS_AS(latency_table_from_text(read_file(file), file, &f.space), InputError);
  const LatencyTable c = f.table(5, dir);
  CHECK(latency_table_to_text(c) == latency_table_to_text(a));
  CHECK(read_file(file) == text);
}

TEST_CASE("table mode and co-simulation agree on a short trace", "[sched][sim]") {
  Fixture f;
  const LatencyTable t = f.table(4);
  TraceSpec spec;
  spec.rate_qps = 30;
  spec.count = 16;
  spec.constraints.latency_fraction = 0;
  spec.constraints.accuracy_fraction =
      1;  // decisions independent of timing, so both runs serve the same subnets
  spec.constraints.acc_lo = 74;
  spec.constraints.acc_hi = 76.7;
  const auto trace = generate_trace(spec);
  auto p1 = policy("{impl: sushi, window: 4, variant: min_latency}");
  auto p2 = policy("{impl: sushi, window: 4, variant: min_latency}");
  const ServingResult table = serve(t, trace, *p1, ServingOptions{});
  // The co-simulation: the serving loop runs as a SystemC process beside the cycle model.
  const ServingResult cyc = serve_cosim(f.accel, f.space, t, trace, *p2, ServingOptions{});
  double worst = 0;
  for (size_t i = 0; i < trace.size(); ++i) {
    REQUIRE(table.records[i].subnet == cyc.records[i].subnet);
    REQUIRE(table.records[i].subgraph == cyc.records[i].subgraph);
    const double service_t = table.records[i].finish_ms - table.records[i].start_ms;
    const double service_c = cyc.records[i].finish_ms - cyc.records[i].start_ms;
    worst = std::max(worst, std::fabs(service_t - service_c) / service_c);
    CHECK(table.records[i].offchip_weight_bytes == cyc.records[i].offchip_weight_bytes);
  }
  WARN("worst per-query service-time difference, table (analytic) vs cycle: " << 100 * worst << "%");
  CHECK(worst <= 0.02);
  CHECK(table.summary.mean_latency_ms == Approx(cyc.summary.mean_latency_ms).epsilon(0.02));
  // The same runs costed by calling the cycle model from the loop (no shared kernel) give identical records.
  auto p3 = policy("{impl: sushi, window: 4, variant: min_latency}");
  const ServingResult direct = serve(t, trace, *p3, ServingOptions{}, [&](int s, int g, int) {
    return cycle_cost(f.accel, f.space, t, s, g);
  });
  for (size_t i = 0; i < trace.size(); ++i) {
    CHECK(direct.records[i].finish_ms == Approx(cyc.records[i].finish_ms).epsilon(1e-12));
    CHECK(direct.records[i].energy_pj == cyc.records[i].energy_pj);
  }
  CHECK(direct.cache_events.size() == cyc.cache_events.size());
}

TEST_CASE("the A40 profile loads as a batched table and SlackFit batches under load", "[sched]") {
  const LatencyTable t = load_profile_table("workloads/profiles/a40_ofa_resnet50.yaml");
  REQUIRE(t.num_subnets() == 6);
  REQUIRE(t.batch_sizes == std::vector<int>{1, 2, 4, 8, 16, 32});
  CHECK(t.at(5, 0, 5).latency_ms == Approx(36.48));
  TraceSpec spec;
  spec.impl = "gamma";
  spec.cv2 = 4;
  spec.rate_qps = 1500;  // well above batch-1 capacity (~200 qps)
  spec.count = 5000;
  spec.constraints.latency_fraction = 1;
  spec.constraints.accuracy_fraction = 0;
  spec.constraints.slo_lo_ms = 20;
  spec.constraints.slo_hi_ms = 60;
  auto slack = policy("{impl: slackfit}");
  ServingOptions o;
  o.queue = "edf";
  o.drop_expired = true;
  const ServingResult r = serve(t, generate_trace(spec), *slack, o);
  int max_batch = 0;
  for (const QueryRecord& q : r.records) max_batch = std::max(max_batch, q.batch);
  CHECK(max_batch >= 8);
  CHECK(r.summary.slo_attainment > 0.9);
  auto fixed = policy("{impl: fixed_subnet, subnet: max, cache: false}");
  const ServingResult f = serve(t, generate_trace(spec), *fixed, o);
  CHECK(r.summary.slo_attainment > f.summary.slo_attainment);
}

TEST_CASE("the SUSHI headline selects policies by impl and role, not by display name", "[sched][sim]") {
  const std::string dir = "build/test_tmp/renamed";
  std::filesystem::create_directories(dir);
  std::string yaml = read_file("workloads/experiments/sushi_mbv3.yaml");
  auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = yaml.find(from);
    REQUIRE(at != std::string::npos);
    yaml.replace(at, from.size(), to);
  };
  replace("workloads/", std::filesystem::absolute("workloads").string() + "/");
  replace("../shared/data/ofa_mbv3_224_top1.jsonl", shared_table());
  replace("name: sushi_paper_avg", "name: fancy_avg");
  replace("name: sushi_paper_minlat", "name: fancy_minlat");
  replace("{impl: no_sgs}", "{impl: no_sgs, name: reference}");
  replace("{impl: infaas}", "{impl: infaas, name: sushi_fake}");
  write_file_atomic(dir + "/renamed.yaml", yaml);
  auto headline = [](const std::string& file) {
    ExperimentSpec spec = ExperimentSpec::load(file);
    spec.cache_dir = "";
    ExperimentOverrides ov;
    ov.count = 200;
    ov.seeds = 2;
    ov.platform = "zcu104_sushi";
    const std::string text = format_comparison(run_experiment(spec, ov));
    const size_t at = text.find("SUSHI vs the same accelerator");
    std::string h = at == std::string::npos ? std::string() : text.substr(at), squeezed;
    for (char c : h)  // column padding depends on the names' lengths
      if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') squeezed += c;
    return squeezed;
  };
  std::string original = headline("workloads/experiments/sushi_mbv3.yaml");
  const std::string renamed = headline(dir + "/renamed.yaml");
  REQUIRE(!original.empty());
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"sushi_paper_avg", "fancy_avg"},
                                 {"sushi_paper_minlat", "fancy_minlat"}})
    for (size_t at = original.find(from); at != std::string::npos; at = original.find(from, at))
      original.replace(at, from.size(), to);
  CHECK(renamed == original);
  CHECK_THAT(renamed, Catch::Contains("fancy_avg") && Catch::Contains("fancy_minlat"));
  CHECK_THAT(renamed, !Catch::Contains("sushi_fake"));
}
