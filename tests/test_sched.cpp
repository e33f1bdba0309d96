// Traces, scheduling policies and the serving simulator on hand-built tables (issue 5).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "base/errors.h"
#include "sched/experiment.h"
#include "sched/serving.h"
#include "traces/trace.h"

using namespace sushi;

namespace {

// Four subnets (accuracy 70..76 %) and five SubGraphs: none, then "the weights of subnet k" for k = 0..3.
// Caching a subnet's weights speeds up that subnet most and its neighbours less.
LatencyTable hand_table() {
  return LatencyTable::from_matrix({70, 72, 74, 76},
                                   {{2.0, 1.2, 1.5, 1.6, 1.7},
                                    {4.0, 3.6, 2.8, 3.0, 3.2},
                                    {6.0, 5.6, 5.0, 4.6, 4.8},
                                    {8.0, 7.6, 7.0, 6.7, 6.0}},
                                   {{}, {0.5, 1000, 10}, {0.5, 2000, 20}, {0.5, 3000, 30}, {0.5, 4000, 40}});
}

// Two subnets, batch sizes 1, 2, 4 (a GPU-like profile).
LatencyTable batch_table() {
  LatencyTable t;
  t.platform = "batch";
  t.accuracy = {70, 75};
  t.subnet_names = {"a", "b"};
  t.subgraph_names = {"none"};
  t.subgraph_source = {-1};
  t.subgraph_bytes = {0};
  t.pb_load = {PbLoadCost{}};
  t.batch_sizes = {1, 2, 4};
  for (double ms : {1.0, 1.2, 2.0, 2.0, 2.5, 4.0}) {
    LtEntry e;
    e.latency_ms = ms;
    t.entries.push_back(e);
  }
  return t;
}

std::unique_ptr<Policy> policy(const std::string& yaml) {
  return make_policy(YamlView::parse(yaml, "policy"));
}

Decision decide(Policy& p, const LatencyTable& t, const Query& q, int cached, size_t queued = 1) {
  SchedContext ctx{q.arrival_ms, &q, queued, cached, &t};
  return p.decide(ctx);
}

Query latency_query(double slo) {
  return Query{0, 0, slo, 0};
}
Query accuracy_query(double acc) {
  return Query{0, 0, 0, acc};
}

}  // namespace

TEST_CASE("SushiSched picks the most accurate subnet that fits the SLO under the cached SubGraph",
          "[sched]") {
  const LatencyTable t = hand_table();
  auto p = policy("{impl: sushi, window: 2, variant: min_latency}");
  p->reset(t);
  CHECK(decide(*p, t, latency_query(5), 0).subnet == 1);  // 2 and 4 ms fit without SGS
  CHECK(decide(*p, t, latency_query(5), 3).subnet == 2);  // with subnet 2's weights cached it runs in 4.6 ms
  CHECK(decide(*p, t, accuracy_query(73), 0).subnet == 2);  // fastest subnet with >= 73 %
  CHECK(decide(*p, t, latency_query(1), 0).subnet == 0);    // nothing fits: the fastest
  CHECK(decide(*p, t, Query{0, 0, 5, 75}, 0).subnet == 1);  // both cannot be met: the SLO wins
  CHECK(decide(*p, t, Query{0, 0, 7, 75}, 0).subnet == 2);  // 76 % needs 8 ms > 7: the SLO wins
  CHECK(decide(*p, t, Query{0, 0, 9, 73}, 0).subnet == 3);  // both met: the most accurate
  // The budget is what is left of the SLO at decision time, not the whole SLO.
  Query late = latency_query(5);
  SchedContext ctx{2.5, &late, 1, 0, &t};
  CHECK(p->decide(ctx).subnet == 0);
}

TEST_CASE("SushiSched chooses the next SubGraph every Q queries (both variants)", "[sched]") {
  const LatencyTable t = hand_table();
  {
    auto p = policy("{impl: sushi, window: 2, variant: min_latency}");
    p->reset(t);
    const Decision first = decide(*p, t, accuracy_query(73), 0);   // s2
    CHECK(first.next_subgraph == -1);                              // window not complete yet
    const Decision second = decide(*p, t, accuracy_query(75), 0);  // s3
    CHECK(second.subnet == 3);
    // Window {s2, s3}: totals none 14, g1 13.2, g2 12.0, g3 11.3, g4 10.8, each reload +0.5 ms -> subnet 3's.
    CHECK(second.next_subgraph == 4);
  }
  {
    auto p = policy("{impl: sushi, window: 2, variant: average}");
    p->reset(t);
    decide(*p, t, latency_query(4.5), 0);                     // s1
    const Decision d = decide(*p, t, accuracy_query(73), 0);  // s2
    CHECK(d.next_subgraph == 3);                              // mean rank 1.5 rounds to 2: subnet 2's weights
  }
}

TEST_CASE("SushiSched's min_latency variant switches only when the window saves more than the reload",
          "[sched]") {
  // Same latencies, but loading a SubGraph costs 2 ms: caching subnet 3's weights saves 14 - 10.8 = 3.2 ms
  // over the window {s2, s3} and is worth it from none; from g3 (11.3 ms) it saves 0.5 ms < 2 ms, so stay.
  LatencyTable t = hand_table();
  for (size_t g = 1; g < t.num_subgraphs(); ++g) t.pb_load[g].latency_ms = 2.0;
  auto p = policy("{impl: sushi, window: 2, variant: min_latency}");
  p->reset(t);
  decide(*p, t, accuracy_query(73), 0);
  CHECK(decide(*p, t, accuracy_query(75), 0).next_subgraph == 4);
  decide(*p, t, accuracy_query(73), 3);
  CHECK(decide(*p, t, accuracy_query(75), 3).next_subgraph == -1);
}

TEST_CASE("baseline policies: no SGS, static SubGraph, fixed subnet, INFaaS-like, SlackFit", "[sched]") {
  const LatencyTable t = hand_table();
  auto none = policy("{impl: no_sgs}");
  none->reset(t);
  const Decision d = decide(*none, t, latency_query(5), 3);
  CHECK(d.subnet == 1);  // decides as if nothing were cached
  CHECK(d.subgraph_for_run == 0);
  CHECK(d.next_subgraph == -1);

  auto fixed_sg = policy("{impl: static_sgs, subgraph_of: median}");
  fixed_sg->reset(t);
  CHECK(fixed_sg->initial_subgraph(t) == 3);
  CHECK(decide(*fixed_sg, t, latency_query(5), 3).subnet == 2);
  CHECK(decide(*fixed_sg, t, latency_query(5), 3).next_subgraph == -1);

  auto clipper = policy("{impl: fixed_subnet, subnet: max}");
  clipper->reset(t);
  CHECK(clipper->initial_subgraph(t) == 4);
  CHECK(decide(*clipper, t, latency_query(1), 4).subnet == 3);

  auto infaas = policy("{impl: infaas}");
  infaas->reset(t);
  // Starts on the most accurate variant (8 ms); a 5 ms budget runs on the most accurate that fits.
  CHECK(decide(*infaas, t, latency_query(5), 0).subnet == 1);
  CHECK(decide(*infaas, t, latency_query(9), 0).subnet == 3);    // the loaded variant fits
  CHECK(decide(*infaas, t, accuracy_query(73), 0).subnet == 2);  // cheapest that meets the target

  const LatencyTable bt = batch_table();
  auto slack = policy("{impl: slackfit, buckets: 3}");
  slack->reset(bt);
  // Buckets of width 1 ms over [1, 4]: slack 3.2 ms fits bucket [2, 3); its largest batch is subnet a x4.
  Decision s = decide(*slack, bt, latency_query(3.2), 0, 4);
  CHECK(s.subnet == 0);
  CHECK(bt.batch_sizes[s.batch_index] == 4);
  // With one query waiting, the same bucket's best batch-1 entry is the accurate subnet.
  s = decide(*slack, bt, latency_query(3.2), 0, 1);
  CHECK(s.subnet == 1);
  CHECK(bt.batch_sizes[s.batch_index] == 1);
  // Slack below every latency: the fastest bucket.
  s = decide(*slack, bt, latency_query(0.5), 0, 1);
  CHECK(s.subnet == 0);
}

TEST_CASE("unknown policy or bad policy parameter names the key", "[sched]") {
  CHECK_THROWS_WITH(policy("{impl: lru}"), Catch::Contains("unknown policy 'lru'"));
  CHECK_THROWS_WITH(policy("{impl: sushi, window: 0}"), Catch::Contains("key 'window'"));
  CHECK_THROWS_WITH(policy("{impl: sushi, variant: best}"),
                    Catch::Contains("key 'variant'") && Catch::Contains("average | min_latency | amortised"));
  CHECK_THROWS_WITH(policy("{impl: sushi, rule: greedy}"), Catch::Contains("key 'rule'"));
  CHECK_THROWS_WITH(policy("{impl: slackfit, buckets: .nan}"), Catch::Contains("key 'buckets'"));
  CHECK_THROWS_WITH(policy("{impl: fixed_subnet, subnet: biggest}"),
                    Catch::Contains("key 'subnet'") && Catch::Contains("min, median, max or a subnet index"));
  auto far = policy("{impl: static_sgs, subgraph_of: 9}");
  CHECK_THROWS_WITH(far->reset(hand_table()),
                    Catch::Contains("key 'subgraph_of'") && Catch::Contains("out of range"));
  CHECK_THROWS_WITH(policy("{impl: sushi, windw: 3}"), Catch::Contains("unknown key"));
}

TEST_CASE("serving conserves queries: each is served or dropped exactly once", "[sched]") {
  const LatencyTable t = hand_table();
  TraceSpec spec;
  spec.impl = "gamma";
  spec.rate_qps = 400;  // overloaded on purpose (service 2..8 ms), so drops happen
  spec.cv2 = 4;
  spec.count = 3000;
  spec.constraints.slo_lo_ms = 3;
  spec.constraints.slo_hi_ms = 12;
  spec.constraints.acc_lo = 70;
  spec.constraints.acc_hi = 76;
  const auto trace = generate_trace(spec);
  for (const std::string impl : {"sushi", "no_sgs", "static_sgs", "fixed_subnet", "infaas", "slackfit"}) {
    for (const std::string queue : {"fifo", "edf"}) {
      auto p = policy("{impl: " + impl + "}");
      ServingOptions o;
      o.queue = queue;
      o.drop_expired = true;
      o.timeout_ms = 50;
      o.drop_doomed = queue == "edf";
      const ServingResult r = serve(t, trace, *p, o);
      INFO(impl << " " << queue);
      REQUIRE(r.records.size() == trace.size());
      int64_t served = 0, dropped = 0;
      for (size_t i = 0; i < trace.size(); ++i) {
        const QueryRecord& q = r.records[i];
        REQUIRE(q.id == trace[i].id);
        if (q.dropped) {
          ++dropped;
        } else {
          ++served;
          REQUIRE(q.start_ms >= q.arrival_ms);
          REQUIRE(q.finish_ms > q.start_ms);
        }
      }
      CHECK(served + dropped == int64_t(trace.size()));
      CHECK(r.summary.served == served);
      CHECK(r.summary.dropped == dropped);
      CHECK(dropped > 0);
    }
  }
}

TEST_CASE("trace generators match their target mean rate and CV^2 within 5% on 100,000 arrivals",
          "[traces]") {
  TraceSpec spec;
  spec.count = 100000;
  spec.seed = 11;
  spec.impl = "poisson";
  spec.rate_qps = 250;
  TraceStats s = trace_stats(generate_trace(spec));
  CHECK(s.mean_rate_qps == Approx(250).epsilon(0.05));
  CHECK(s.interarrival_cv2 == Approx(1).epsilon(0.05));
  spec.impl = "gamma";
  for (double cv2 : {0.25, 4.0, 8.0}) {
    spec.cv2 = cv2;
    s = trace_stats(generate_trace(spec));
    INFO("cv2 " << cv2);
    CHECK(s.mean_rate_qps == Approx(250).epsilon(0.05));
    CHECK(s.interarrival_cv2 == Approx(cv2).epsilon(0.05));
  }
  // Ramp 100 -> 300 qps at 10 qps/s: after 20 s the rate holds at 300.
  spec.impl = "ramp";
  spec.rate_qps = 100;
  spec.rate_end_qps = 300;
  spec.accel_qps2 = 10;
  const auto ramp = generate_trace(spec);
  int64_t in_plateau = 0;
  double first = -1, last = 0;
  for (const Query& q : ramp)
    if (q.arrival_ms >= 20000) {
      ++in_plateau;
      if (first < 0) first = q.arrival_ms;
      last = q.arrival_ms;
    }
  CHECK(in_plateau / ((last - first) / 1000) == Approx(300).epsilon(0.05));
  int64_t early = 0;
  for (const Query& q : ramp) early += q.arrival_ms < 10000 ? 1 : 0;
  CHECK(early == Approx(1500).epsilon(0.05));  // integral of 100 + 10 t over [0, 10 s]
  // Azure-like: the long-run mean rate is the configured one (diurnal and bursts average out).
  spec.impl = "azure";
  spec.rate_qps = 5;
  spec.diurnal_period_s = 3600;
  spec.burst_pareto_alpha = 2.5;
  s = trace_stats(generate_trace(spec));
  CHECK(s.mean_rate_qps == Approx(5).epsilon(0.05));
  CHECK(s.interarrival_cv2 > 1.2);  // burstier than Poisson
}

TEST_CASE("trace CSV round-trips and rejects bad input with the line number", "[traces]") {
  TraceSpec spec;
  spec.count = 50;
  spec.constraints.both_fraction = 0.2;
  spec.constraints.latency_fraction = 0.4;
  spec.constraints.accuracy_fraction = 0.4;
  const auto trace = generate_trace(spec);
  std::system("mkdir -p build/test_tmp");
  const std::string path = "build/test_tmp/trace.csv";
  std::ofstream(path) << trace_to_csv(trace);
  const auto back = read_trace_csv(path);
  REQUIRE(back.size() == trace.size());
  for (size_t i = 0; i < trace.size(); ++i) {
    CHECK(back[i].arrival_ms == Approx(trace[i].arrival_ms));
    CHECK(back[i].slo_ms == Approx(trace[i].slo_ms));
    CHECK(back[i].acc_target == Approx(trace[i].acc_target));
  }
  auto error_for = [&](const std::string& text) {
    std::ofstream(path) << text;
    try {
      read_trace_csv(path);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string h = "id,arrival_ms,slo_ms,acc_target\n";
  CHECK_THAT(error_for(h + "0,5,10,0\n1,4,10,0\n"), Catch::Contains("line 3") && Catch::Contains("sorted"));
  CHECK_THAT(error_for(h + "0,5,-1,0\n"),
             Catch::Contains("line 2") && Catch::Contains("slo_ms") && Catch::Contains("non-negative"));
  CHECK_THAT(error_for(h + "0,5,10\n"), Catch::Contains("line 2") && Catch::Contains("expected 4 columns"));
  CHECK_THAT(error_for("id,arrival\n"), Catch::Contains("line 1") && Catch::Contains("expected header"));
  CHECK_THAT(error_for(h + "0,abc,1,0\n"), Catch::Contains("arrival_ms: expected a number"));
  CHECK_THAT(error_for(h + "0,1,1,0\n0,2,1,0\n"), Catch::Contains("duplicate id"));
  CHECK_THAT(error_for(h), Catch::Contains("no queries"));
}

TEST_CASE("policies, trace kinds and queue disciplines register themselves with a doc and their parameters",
          "[sched][traces]") {
  for (const char* impl : {"sushi", "no_sgs", "static_sgs", "fixed_subnet", "infaas", "slackfit"}) {
    INFO(impl);
    const ComponentInfo* c = ComponentIndex::find("policy", impl);
    REQUIRE(c);
    CHECK(!c->doc.empty());
    REQUIRE(c->params);
    CHECK(c->params->find("name"));
  }
  CHECK(ComponentIndex::find("policy", "sushi")->params->find("window")->default_text == "8");
  for (const char* kind : {"poisson", "gamma", "ramp", "azure"}) {
    INFO(kind);
    const ComponentInfo* c = ComponentIndex::find("trace", kind);
    REQUIRE(c);
    REQUIRE(c->params);
    CHECK(c->params->find("rate_qps"));
  }
  CHECK(ComponentIndex::find("trace", "gamma")->params->find("cv2"));
  CHECK(ComponentIndex::find("trace", "azure")->params->find("burst_pareto_alpha")->unit.empty());
  for (const char* queue : {"fifo", "edf"}) CHECK(ComponentIndex::find("queue", queue));
  // Roles are declared by the implementation, whatever the display name.
  CHECK(policy("{impl: sushi, name: mine}")->role() == PolicyRole::Sgs);
  CHECK(policy("{impl: sushi, name: mine}")->impl() == "sushi");
  CHECK(policy("{impl: sushi, name: mine}")->name() == "mine");
  CHECK(policy("{impl: no_sgs, name: sushi_fake}")->role() == PolicyRole::Baseline);
  CHECK(policy("{impl: fixed_subnet}")->role() == PolicyRole::Fixed);
  CHECK_THAT(ComponentIndex::find("policy", "sushi")->doc, Catch::Contains("[role: sgs]"));
}

TEST_CASE("trace specs: impl (or the older kind) picks a registered kind, parsed by its schema", "[traces]") {
  using Catch::Contains;
  auto spec = [](const std::string& yaml) { return TraceSpec::from_yaml(YamlView::parse(yaml, "t.yaml")); };
  const TraceSpec a = spec("{impl: gamma, cv2: 3, count: 20, seed: 4}");
  const TraceSpec b = spec("{kind: gamma, cv2: 3, count: 20, seed: 4}");
  CHECK(a.impl == "gamma");
  CHECK(describe(a) == describe(b));
  const auto ta = generate_trace(a), tb = generate_trace(b);
  REQUIRE(ta.size() == 20);
  for (size_t i = 0; i < ta.size(); ++i) CHECK(ta[i].arrival_ms == tb[i].arrival_ms);
  // Defaults are the struct's.
  const TraceSpec d = spec("{}");
  CHECK(describe(d) == describe(TraceSpec{}));
  const TraceSpec c = spec("{impl: poisson, constraints: {slo_ms: [3, 9], acc_target: {lo: 70, hi: 71}}}");
  CHECK(c.constraints.slo_lo_ms == 3);
  CHECK(c.constraints.slo_hi_ms == 9);
  CHECK(c.constraints.acc_hi == 71);
  CHECK_THROWS_WITH(spec("{impl: weibull}"), Contains("t.yaml: key 'impl'") &&
                                                 Contains("unknown trace 'weibull'") &&
                                                 Contains("azure, azure_csv, gamma, poisson, ramp"));
  CHECK_THROWS_WITH(spec("{kind: weibull}"), Contains("key 'kind'") && Contains("unknown trace 'weibull'"));
  CHECK_THROWS_WITH(spec("{impl: gamma, cv2: .nan}"), Contains("key 'cv2'"));
  CHECK_THROWS_WITH(spec("{impl: gamma, rate_qps: 0}"), Contains("key 'rate_qps'") && Contains("(0, inf]"));
  CHECK_THROWS_WITH(spec("{impl: poisson, cv2: 2}"), Contains("key 'cv2'") && Contains("unknown key"));
  CHECK_THROWS_WITH(spec("{impl: azure, diurnal_amplitude: 1}"), Contains("[0, 1)"));
  CHECK_THROWS_WITH(spec("{impl: gamma, kind: gamma}"), Contains("not both"));
  CHECK_THROWS_WITH(spec("{constraints: {latency_fraction: 0.7}}"), Contains("summing to 1"));
  CHECK_THROWS_WITH(spec("{constraints: {slo_ms: [5]}}"),
                    Contains("key 'constraints.slo_ms'") && Contains("expected [lo, hi]"));
  CHECK_THROWS_WITH(spec("{constraints: {slo_ms: [5, 2]}}"), Contains("lo <= hi"));
  CHECK_THROWS_WITH(spec("{constraints: {acc_target: [70, 150]}}"),
                    Contains("key 'constraints.acc_target.hi'") && Contains("(0, 100]"));
  CHECK_THROWS_WITH(spec("{constraints: {locality: .nan}}"), Contains("key 'constraints.locality'"));
}

TEST_CASE("serving options: the queue is a registered discipline, parsed by the schema", "[sched]") {
  using Catch::Contains;
  auto opts = [](const std::string& yaml) {
    return ServingOptions::from_yaml(YamlView::parse(yaml, "s.yaml"));
  };
  CHECK(opts("{}").queue == "fifo");
  CHECK(opts("{queue: edf, timeout_ms: 5}").timeout_ms == 5);
  CHECK_THROWS_WITH(opts("{queue: lifo}"), Contains("key 'queue'") && Contains("edf, fifo"));
  CHECK_THROWS_WITH(opts("{timeout_ms: -1}"), Contains("key 'timeout_ms'"));
  CHECK_THROWS_WITH(opts("{timeout_ms: .nan}"), Contains("key 'timeout_ms'"));
  CHECK_THROWS_WITH(opts("{queu: edf}"), Contains("unknown key"));
}

TEST_CASE("experiment streams are parsed by their schema and errors name the key", "[sched]") {
  using Catch::Contains;
  std::system("mkdir -p build/test_tmp");
  auto load = [](const std::string& stream) {
    const std::string path = "build/test_tmp/streams.yaml";
    std::ofstream(path) << "name: x\nprofile: workloads/profiles/a40_ofa_resnet50.yaml\nstreams:\n  - "
                        << stream << "\npolicies: [{impl: infaas, name: y}]\n";
    return ExperimentSpec::load(path);
  };
  const ExperimentSpec e = load("{name: s, load: 0.5, slo_relative: [0.1, 0.9], trace: {kind: ramp}}");
  REQUIRE(e.streams.size() == 1);
  CHECK(e.streams[0].load == 0.5);
  CHECK(e.streams[0].slo_rel_hi == 0.9);
  CHECK(e.streams[0].trace.impl == "ramp");
  CHECK(load("{name: s, trace: {}}").streams[0].slo_rel_lo == -1);
  CHECK_THROWS_WITH(load("{name: s, load: 0, trace: {}}"),
                    Contains("streams[0].load") && Contains("(0, 100]"));
  CHECK_THROWS_WITH(load("{name: s, load: 100, trace: {}}"), Contains("below 100"));
  CHECK_THROWS_WITH(load("{name: s, slo_relative: [0.5, 0.2], trace: {}}"),
                    Contains("streams[0].slo_relative") && Contains("lo <= hi"));
  CHECK_THROWS_WITH(load("{name: s}"), Contains("missing required key 'trace'"));
  CHECK_THROWS_WITH(load("{trace: {}}"), Contains("missing required key 'name'"));
  CHECK_THROWS_WITH(load("{name: s, trace: {impl: gamma, cv2: .nan}}"), Contains("streams[0].trace.cv2"));
}
