// Issue 10: feasibility bounds, admission control, the queue-aware SushiSched, INFaaS-like switching, the
// SubGraph optimiser (knapsack == brute force), the value of switching, confidence intervals.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "base/provenance.h"
#include "base/random.h"
#include "base/stats.h"
#include "sched/feasibility.h"
#include "sched/serving.h"
#include "sched/subgraph_opt.h"
#include "sched/switching.h"
#include "traces/trace.h"

using namespace sushi;

namespace {

LatencyTable hand_table() {
  return LatencyTable::from_matrix({70, 72, 74, 76},
                                   {{2.0, 1.2, 1.5, 1.6, 1.7},
                                    {4.0, 3.6, 2.8, 3.0, 3.2},
                                    {6.0, 5.6, 5.0, 4.6, 4.8},
                                    {8.0, 7.6, 7.0, 6.7, 6.0}},
                                   {{}, {0.5, 1000, 10}, {0.5, 2000, 20}, {0.5, 3000, 30}, {0.5, 4000, 40}});
}

std::unique_ptr<Policy> policy(const std::string& yaml) {
  return make_policy(YamlView::parse(yaml, "policy"));
}

// A random table: n subnets with increasing accuracy and latency, G SubGraphs that speed them up.
LatencyTable random_table(Rng& rng, size_t n, size_t G) {
  std::vector<double> acc;
  std::vector<std::vector<double>> lat(n, std::vector<double>(G));
  double base = 0.5 + rng.uniform();
  for (size_t s = 0; s < n; ++s) {
    acc.push_back(70 + double(s));
    base += 0.3 + 2 * rng.uniform();
    for (size_t g = 0; g < G; ++g) lat[s][g] = g == 0 ? base : base * (0.6 + 0.4 * rng.uniform());
  }
  std::vector<PbLoadCost> load(G);
  for (size_t g = 1; g < G; ++g) load[g] = {0.2 + rng.uniform(), 1000, 1};
  return LatencyTable::from_matrix(acc, lat, load);
}

}  // namespace

TEST_CASE("feasibility bound: segments <= pairwise <= singles, exact on hand-made pairs", "[sched][bound]") {
  ServiceBound b{2.0, 0.5};  // one query per 2 ms
  // Two queries arriving together with 3 ms SLOs: only one can finish (window 3 ms < 2 x 2 ms).
  std::vector<Query> pair = {{0, 0, 3, 0}, {1, 0, 3, 0}};
  FeasibilityBound f = feasibility_bound(pair, b);
  CHECK(f.singles == 2);
  CHECK(f.pairwise == 1);
  CHECK(f.segments == 1);
  // Three together with 5 ms SLOs: each pair fits (2 in 5 ms) but not all three (needs 6 ms).
  std::vector<Query> three = {{0, 0, 5, 0}, {1, 0, 5, 0}, {2, 0, 5, 0}};
  f = feasibility_bound(three, b);
  CHECK(f.pairwise == 3);
  CHECK(f.segments == 2);
  // A doomed query (SLO below the fastest run) counts 0.
  f = feasibility_bound({{0, 0, 1.5, 0}}, b);
  CHECK(f.segments == 0);
  CHECK(f.with_slo == 1);
}

TEST_CASE("no policy ever exceeds the feasibility bound on random small traces", "[sched][bound]") {
  Rng rng(42);
  for (int trial = 0; trial < 30; ++trial) {
    const LatencyTable t = random_table(rng, 4, 3);
    const ServiceBound sb = service_bound(t);
    TraceSpec spec;
    spec.impl = "gamma";
    spec.cv2 = 1 + 4 * rng.uniform();
    spec.rate_qps = 1000.0 / sb.fastest_ms * (0.3 + 1.5 * rng.uniform());
    spec.count = 60;
    spec.seed = uint64_t(trial) + 1;
    spec.constraints.latency_fraction = 1;
    spec.constraints.accuracy_fraction = 0;
    spec.constraints.slo_lo_ms = 0.5 * sb.fastest_ms;
    spec.constraints.slo_hi_ms = 4 * sb.fastest_ms;
    spec.constraints.locality = 0.5;
    const auto trace = generate_trace(spec);
    const FeasibilityBound f = feasibility_bound(trace, sb);
    REQUIRE(f.segments <= f.pairwise);
    REQUIRE(f.pairwise <= f.singles);
    for (const char* impl : {"{impl: sushi}", "{impl: sushi, rule: paper, variant: min_latency, window: 2}",
                             "{impl: sushi, variant: amortised, window: 3}", "{impl: no_sgs}",
                             "{impl: static_sgs, subgraph_of: max}", "{impl: fixed_subnet, subnet: min}",
                             "{impl: infaas}", "{impl: slackfit, buckets: 3}"})
      for (const char* queue : {"fifo", "edf"})
        for (bool admit : {false, true}) {
          auto p = policy(impl);
          ServingOptions o;
          o.queue = queue;
          o.drop_doomed = admit;
          const ServingResult r = serve(t, trace, *p, o);
          int64_t met = 0;
          for (const QueryRecord& q : r.records) met += q.slo_met ? 1 : 0;
          INFO(impl << " " << queue << " admission " << admit << " trial " << trial);
          REQUIRE(met <= f.segments);
        }
  }
}

TEST_CASE("admission control drops, for every policy, the queries not even the fastest run can serve",
          "[sched]") {
  const LatencyTable t = hand_table();
  // Fastest run: 1.2 ms (subnet 0 under SubGraph 1); without SGS 2 ms. The PB starts empty, so 2 ms counts.
  const std::vector<Query> trace = {{0, 0, 1.5, 0}, {1, 0.1, 30, 0}, {2, 0.2, 30, 0}};
  for (const char* impl : {"{impl: sushi}", "{impl: no_sgs}", "{impl: infaas}", "{impl: slackfit}",
                           "{impl: fixed_subnet, subnet: max, cache: false}"}) {
    auto p = policy(impl);
    ServingOptions o;
    o.drop_doomed = true;
    const ServingResult r = serve(t, trace, *p, o);
    INFO(impl);
    CHECK(r.records[0].dropped);
    CHECK_FALSE(r.records[1].dropped);
    CHECK(r.summary.dropped == 1);
  }
}

TEST_CASE("queue-aware SushiSched leaves the queries behind their slack, the paper rule does not",
          "[sched]") {
  const LatencyTable t = hand_table();
  auto qa = policy("{impl: sushi, window: 100, expected_arrivals: false}");
  auto paper = policy("{impl: sushi, window: 100, rule: paper}");
  qa->reset(t);
  paper->reset(t);
  CHECK(qa->lookahead() == 8);
  CHECK(paper->lookahead() == 0);
  const Query head{0, 0, 9, 0};
  // Behind: one query due at 6 ms. Fastest chain: head 0..2, it 2..4, slack 2 ms -> the head may take 4 ms.
  const double behind[] = {6.0};
  SchedContext ctx{0, &head, 2, 0, &t, behind, 1, 2};
  CHECK(qa->decide(ctx).subnet == 1);     // 4 ms: the most accurate that leaves the next one on time
  CHECK(paper->decide(ctx).subnet == 3);  // 8 ms fits the head's own 9 ms and dooms the next one
  // A query behind that is doomed anyway (due at 3 ms < 4 ms) does not hold the head back.
  const double doomed[] = {3.0};
  SchedContext ctx2{0, &head, 2, 0, &t, doomed, 1, 2};
  CHECK(qa->decide(ctx2).subnet == 3);
  // Under SubGraph 4 (subnet 3's weights) the fastest is 1.7 ms: slack 6 - 3.4 = 2.6 -> limit 4.3 ms: s1.
  SchedContext ctx3{0, &head, 2, 4, &t, behind, 1, 2};
  CHECK(qa->decide(ctx3).subnet == 1);
  // With no queue behind both rules agree.
  SchedContext alone{0, &head, 1, 0, &t};
  CHECK(qa->decide(alone).subnet == 3);
}

TEST_CASE("queue-aware allowance counts expected arrivals and the idle time before them", "[sched]") {
  const LatencyTable t = hand_table();
  QueueAwareChooser c(t, 2, true);
  const Query head{0, 0, 5, 0};
  SchedContext ctx{0, &head, 1, 0, &t};
  // Rate 1 per 4 ms, fast 2 ms: arrivals at 4 and 8 (deadlines 9, 13); the chain ends 2 | idle 2 | 4..6 |
  // idle 2 | 8..10: slacks 3 + idle 2 = 5 and 3 + idle 4 = 7 -> 5 ms allowed.
  CHECK(c.allowance(ctx, 2.0, 0.25) == Approx(5.0));
  // Rate 1 per ms: arrivals at 1 and 2, deadlines 6, 7; chain 2..4 (slack 2), 4..6 (slack 1) -> 1 ms.
  CHECK(c.allowance(ctx, 2.0, 1.0) == Approx(1.0));
}

TEST_CASE("SushiSched amortised variant pays a reload over the expected residency", "[sched]") {
  // Loading costs 2 ms. Window {s2, s3}: caching subnet 3's weights saves 0.5 ms per window over g3; with one
  // window (min_latency) that does not pay for the load, over 8 windows (4 ms saved) it does.
  LatencyTable t = hand_table();
  for (size_t g = 1; g < t.num_subgraphs(); ++g) t.pb_load[g].latency_ms = 2.0;
  auto minlat = policy("{impl: sushi, window: 2, variant: min_latency, rule: paper}");
  auto amort = policy("{impl: sushi, window: 2, variant: amortised, residency_windows: 8, rule: paper}");
  for (auto* p : {minlat.get(), amort.get()}) {
    p->reset(t);
    SchedContext a{0, nullptr, 1, 3, &t};
    const Query q1{0, 0, 0, 73}, q2{1, 0, 0, 75};
    a.head = &q1;
    p->decide(a);
    a.head = &q2;
    const Decision d = p->decide(a);
    if (p == minlat.get())
      CHECK(d.next_subgraph == -1);
    else
      CHECK(d.next_subgraph == 4);
  }
}

TEST_CASE("INFaaS-like downgrades under load and misses, upgrades when idle", "[sched]") {
  const LatencyTable t = hand_table();
  auto p = policy("{impl: infaas, interval: 2, upgrade_below: 0.3, downgrade_above: 0.9, switch_ms: 1.5}");
  p->reset(t);
  Query roomy{0, 0, 100, 0};
  // Busy: decisions back to back (now advances by exactly the run): utilisation 1 > 0.9 -> downgrade.
  SchedContext c{0, &roomy, 1, 0, &t};
  auto at = [&](double now) {  // a fresh query arriving now, with a roomy SLO
    c.now_ms = roomy.arrival_ms = now;
  };
  Decision d = p->decide(c);
  CHECK(d.subnet == 3);
  CHECK(d.setup_ms == 0);  // the most accurate is loaded at start
  at(8);
  p->decide(c);
  at(16);
  d = p->decide(c);
  CHECK(d.subnet == 2);      // downgraded one step
  CHECK(d.setup_ms == 1.5);  // a switch costs the load time
  // Idle: long gaps -> upgrade back.
  at(1000);
  p->decide(c);
  at(2000);
  d = p->decide(c);
  CHECK(d.subnet == 3);
}

TEST_CASE("the multiple-choice knapsack equals brute force on small instances", "[sched][subgraph]") {
  Rng rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<KnapsackGroup> groups(1 + size_t(rng.uniform() * 5));
    for (auto& g : groups) {
      const size_t options = 1 + size_t(rng.uniform() * 3);
      for (size_t o = 0; o < options; ++o) {
        g.bytes.push_back(1 + int64_t(rng.uniform() * 20));
        g.value.push_back(rng.uniform() * 10);
      }
    }
    const int64_t cap = int64_t(rng.uniform() * 40);
    const auto dp = solve_mck(groups, cap, 1);
    const auto bf = brute_force_mck(groups, cap);
    INFO("trial " << trial);
    REQUIRE(mck_bytes(groups, dp) <= cap);
    REQUIRE(mck_value(groups, dp) == Approx(mck_value(groups, bf)).margin(1e-9));
    // A coarser unit never overfills (sizes round up).
    REQUIRE(mck_bytes(groups, solve_mck(groups, cap, 7)) <= cap);
  }
}

TEST_CASE("value of switching: oracle <= best static <= none, exact on a hand-made demand", "[sched]") {
  LatencyTable t = hand_table();
  // Demand: 4 x s0 then 4 x s3 with windows of 4; loads 0.5 ms. Best static: g4 (6x... ) computed below.
  const std::vector<int> demand = {0, 0, 0, 0, 3, 3, 3, 3};
  const SwitchingValue v = switching_value(t, demand, 4);
  CHECK(v.none_ms == Approx((4 * 2.0 + 4 * 8.0) / 8));
  // Static candidates: g1 4*1.2+4*7.6=35.2, g4 4*1.7+4*6.0=30.8 (+0.5 load) -> g4.
  CHECK(v.best_static == 4);
  CHECK(v.best_static_ms == Approx(31.3 / 8));
  // Oracle: g1 for the first window (4.8 + 0.5), g4 for the second (24 + 0.5) = 29.8.
  CHECK(v.oracle_ms == Approx(29.8 / 8));
  CHECK(v.oracle_switches == 2);
  Rng rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    const LatencyTable r = random_table(rng, 5, 4);
    std::vector<int> d;
    for (int i = 0; i < 100; ++i) d.push_back(int(rng.uniform() * 5));
    const SwitchingValue w = switching_value(r, d, 1 + trial % 7);
    REQUIRE(w.oracle_ms <= w.best_static_ms + 1e-12);
    REQUIRE(w.best_static_ms <= w.none_ms + 1e-12);
  }
}

TEST_CASE("mean and 95% confidence interval (Student t)", "[base]") {
  const MeanCi m = mean_ci({1, 2, 3, 4, 5});
  CHECK(m.mean == Approx(3));
  CHECK(m.sd == Approx(std::sqrt(2.5)));
  CHECK(m.half_width == Approx(2.776 * std::sqrt(2.5) / std::sqrt(5.0)));
  CHECK(std::isnan(mean_ci({4}).half_width));
  CHECK(mean_ci({1, NAN, 3}).n == 2);
  CHECK(student_t975(100) == Approx(1.984).margin(2e-3));
}

TEST_CASE("Azure-like traces are bursty over many minutes, Poisson ones are not", "[traces]") {
  TraceSpec az;
  az.impl = "azure";
  az.rate_qps = 400;
  az.diurnal_period_s = 300;
  az.burst_probability = 0.1;
  az.burst_minutes = 3;
  az.count = 240000;
  az.seed = 8;
  const auto a = generate_trace(az);
  const TraceStats sa = trace_stats(a, 10);
  CHECK(a.back().arrival_ms > 5 * 60000);  // many minutes
  CHECK(sa.idc_1s > 5);                    // per-second counts far more variable than Poisson
  CHECK(sa.peak_rate_qps > 1.5 * sa.mean_rate_qps);
  int64_t seconds = 0;
  for (int64_t c : sa.rate_histogram) seconds += c;
  CHECK(seconds == int64_t(a.back().arrival_ms / 1000));
  TraceSpec po;
  po.impl = "poisson";
  po.rate_qps = 400;
  po.count = 100000;
  const TraceStats sp = trace_stats(generate_trace(po), 10);
  CHECK(sp.idc_1s == Approx(1).margin(0.2));
}

TEST_CASE("Azure Functions 2019 per-minute counts: read, replayed exactly, bad input names the line",
          "[traces]") {
  const std::string file = "tests/data/azure_functions_sample.csv";
  const auto all = read_azure_minute_counts(file, "all");
  REQUIRE(all.size() == 30);
  CHECK(all[0] == 60 + 10 + 20);
  const auto timer = read_azure_minute_counts(file, "f_timer");
  CHECK(timer[0] == 10);
  CHECK(timer[1] == 0);
  double total = 0;
  for (double c : all) total += c;
  // Replay at scale 1: minute m of the trace holds exactly the file's count of minute m.
  TraceSpec t;
  t.impl = "azure_csv";
  t.file = file;
  t.scale = 1;
  t.count = int64_t(total);
  const auto trace = generate_trace(t);
  std::vector<double> per_minute(30, 0);
  for (const Query& q : trace) per_minute.at(size_t(q.arrival_ms / 60000)) += 1;
  CHECK(per_minute == all);
  // Rescaled to a mean rate (scale 0): the day's mean rate is rate_qps.
  t.scale = 0;
  t.rate_qps = 50;
  t.count = 20000;
  const TraceStats s = trace_stats(generate_trace(t), 10);
  CHECK(s.mean_rate_qps == Approx(50).epsilon(0.1));
  const std::string dir = "build/test_tmp/azure_csv";
  std::filesystem::create_directories(dir);
  auto bad = [&](const std::string& text) {
    write_file_atomic(dir + "/bad.csv", text);
    return dir + "/bad.csv";
  };
  CHECK_THROWS_WITH(read_azure_minute_counts(bad("HashOwner,HashApp,Func,Trigger,1\n"), "all"),
                    Catch::Contains("line 1") && Catch::Contains("HashFunction"));
  CHECK_THROWS_WITH(
      read_azure_minute_counts(bad("HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,t,3,-1\n"), "all"),
      Catch::Contains("line 2") && Catch::Contains("minute 2"));
  CHECK_THROWS_WITH(
      read_azure_minute_counts(bad("HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,t,3\n"), "all"),
      Catch::Contains("line 2") && Catch::Contains("expected 6 columns"));
  CHECK_THROWS_WITH(read_azure_minute_counts(file, "nope"),
                    Catch::Contains("no row with HashFunction 'nope'"));
}

TEST_CASE("SubGraph optimiser: slices by expected saving per byte, the union when it pays",
          "[sched][subgraph]") {
  // Three tensors; subnet 0 reads t0 (4 B, 4 ms exposed), t1 (8 B, 1 ms), t2 (2 B, nothing exposed);
  // subnet 1 reads t0 wider (8 B, 8 ms exposed). DRAM: 1 ms per byte. PB: 10 B.
  SavingModel m;
  m.ms_per_byte = 1;
  SubGraph r0{{{0, 4, 1, 1, false}, {1, 8, 1, 1, false}, {2, 2, 1, 1, false}}};
  SubGraph r1{{{0, 8, 1, 1, false}, {}, {}}};
  m.reads = {r0, r1};
  m.exposed_ms = {{4, 1, 0}, {8, 0, 0}};
  // Subnet 0 alone: t0 (4 ms for 4 B) beats t1 (1 ms for 8 B); both do not fit; t2 saves nothing.
  SubGraph g = optimise_subgraph(m, {1, 0}, 10, 1);
  CHECK(g.slices[0].out == 4);
  CHECK(g.slices[1].empty());
  CHECK(g.slices[2].empty());
  // Both, equally likely: t0's union (8 B) saves 0.5 x 4 + 0.5 x 8 = 6 ms, subnet 0's slice 4 ms.
  g = optimise_subgraph(m, {0.5, 0.5}, 10, 1);
  CHECK(g.slices[0].out == 8);
  CHECK(g.slices[1].empty());
  // A PB of 12 B takes subnet 0's t0 and t1 (4 + 0.5 = 4.5 ms) over the union alone (6 ms)? No: 6 > 4.5.
  g = optimise_subgraph(m, {0.5, 0.5}, 12, 1);
  CHECK(g.slices[0].out == 8);
  // 16 B: union t0 and t1 (6 + 0.5).
  g = optimise_subgraph(m, {0.5, 0.5}, 16, 1);
  CHECK(g.slices[0].out == 8);
  CHECK(g.slices[1].out == 8);
  CHECK(g.bytes() == 16);
}
