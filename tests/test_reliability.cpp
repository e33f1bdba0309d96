// Regression tests for issue 14 (reliability): each case feeds the minimal reproducer of a crash, hang,
// blow-up or accepted nonsense and expects a clear InputError naming the file and key.
#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <cmath>
#include <memory>
#include <string>

#include "base/checked.h"
#include "base/errors.h"
#include "base/provenance.h"
#include "base/random.h"
#include "base/spill.h"
#include "base/yaml.h"
#include "models/ref/checkpoint.h"
#include "models/space/supernet.h"
#include "sched/experiment.h"
#include "sched/latency_table.h"
#include "sched/serving.h"
#include "sim/accel.h"
#include "traces/trace.h"

using namespace sushi;
using Catch::Contains;

namespace {

const std::string kDir = "tests/data/reliability/";

std::string load_error(const std::string& name) {
  try {
    SupernetSpace::load(kDir + name);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TraceSpec trace_spec(const std::string& yaml) {
  return TraceSpec::from_yaml(YamlView::parse(yaml, "t.yaml"));
}

}  // namespace

TEST_CASE("reliability: checked arithmetic names what overflowed") {
  CHECK(checked::add(1, 2, "x") == 3);
  CHECK(checked::mul<int64_t>(1 << 20, 1 << 20, "x") == int64_t(1) << 40);
  CHECK_THROWS_WITH(checked::add(INT_MAX, 1, "stage blocks"), Contains("overflow: stage blocks"));
  CHECK_THROWS_WITH(checked::mul(INT64_MAX, int64_t(2), "MACs"), Contains("overflow: MACs"));
  CHECK_THROWS_AS(checked::sub(INT_MIN, 1, "x"), OverflowError);
  CHECK_THROWS_AS(checked::narrow<int>(int64_t(1) << 40, "channels"), InputError);
  CHECK_THROWS_AS(checked::narrow<int>(1e300, "channels"), OverflowError);
  CHECK_THROWS_AS(checked::narrow<int>(std::nan(""), "channels"), OverflowError);
  CHECK(checked::narrow<int>(2.7, "x") == 2);
  CHECK_THROWS_WITH(checked::div(5, 0, "stride"), Contains("stride"));
}

TEST_CASE("reliability: stride 0 and zero or negative channels are rejected, not SIGFPE") {
  CHECK_THAT(load_error("stem_stride0.yaml"), Contains("stem_stride0.yaml") && Contains("key 'stem.stride'"));
  CHECK_THAT(load_error("first_stride0.yaml"), Contains("key 'first_block.stride'"));
  CHECK_THAT(load_error("stem_out0.yaml"), Contains("stem_out0.yaml") && Contains("key 'stem.out'"));
  CHECK_THAT(load_error("stem_out_neg.yaml"), Contains("key 'stem.out'") && Contains("[1, 65536]"));
  CHECK_THAT(load_error("fm_neg.yaml"), Contains("key 'feature_mix.out'"));
}

TEST_CASE("reliability: an even stem or first-block kernel is rejected, not an internal error") {
  CHECK_THAT(load_error("first_kernel_even.yaml"),
             Contains("first_kernel_even.yaml") && Contains("key 'first_block.kernel'") && Contains("odd"));
  CHECK_THAT(load_error("stem_kernel_even.yaml"), Contains("key 'stem.kernel'") && Contains("odd"));
}

TEST_CASE("reliability: channel counts of 2^31-1 are rejected with the bound") {
  CHECK_THAT(load_error("stem_out_big.yaml"), Contains("key 'stem.out'") && Contains("2147483647"));
  CHECK_THAT(load_error("final_big.yaml"), Contains("key 'final_expand.out'"));
  CHECK_THAT(load_error("stage_out_big.yaml"), Contains("key 'stages[0].out'"));
  CHECK_THAT(load_error("resnet_stem_big.yaml"), Contains("key 'stem.channels'"));
  CHECK_THAT(load_error("expand_huge.yaml"), Contains("key 'elastic.expand[2]'") && Contains("1e12"));
}

TEST_CASE("reliability: depth and resolution choices that overflow are rejected") {
  CHECK_THAT(load_error("resnet_extra_intmax.yaml"), Contains("resnet_extra_intmax.yaml") &&
                                                         Contains("key 'elastic.extra_depth[2]'") &&
                                                         Contains("[0, 16]"));
  CHECK_THAT(load_error("depth_1e6.yaml"), Contains("key 'elastic.depth[2]'") && Contains("[1, 32]"));
  CHECK_THAT(load_error("res_intmax.yaml"), Contains("key 'resolution.min'") && Contains("[8, 4096]"));
}

TEST_CASE("reliability: a PB of INT64_MAX does not fit a small chip") {
  try {
    sim::AccelConfig::load(kDir + "pb_int64max.yaml");
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK_THAT(std::string(e.what()), Contains("pb_int64max.yaml") && Contains("buffers.persistent_bytes"));
  }
}

TEST_CASE("reliability: absurd trace rates are rejected with the bound") {
  CHECK_THROWS_WITH(trace_spec("{impl: azure, rate_qps: 1e300, count: 5}"),
                    Contains("key 'rate_qps'") && Contains("expected a rate in"));
  CHECK_THROWS_WITH(trace_spec("{impl: poisson, rate_qps: 1e-300, count: 5}"), Contains("key 'rate_qps'"));
  CHECK_THROWS_WITH(trace_spec("{impl: azure, rate_qps: 1e-3, count: 5}"), Contains("one per minute"));
  CHECK_THROWS_WITH(trace_spec("{impl: ramp, rate_qps: 10, rate_end_qps: 1e-300, count: 5}"),
                    Contains("key 'rate_end_qps'"));
  CHECK_THROWS_WITH(trace_spec("{impl: ramp, rate_qps: 1000, rate_end_qps: 0.01, count: 5}"),
                    Contains("key 'rate_end_qps'") && Contains("within a factor"));
  CHECK_THROWS_WITH(trace_spec("{impl: azure, rate_qps: 1e12, count: 5}"), Contains("key 'rate_qps'"));
  CHECK_THROWS_WITH(trace_spec("{count: 100000000}"), Contains("key 'count'"));
  // A spec built in code (an experiment's load-derived rate) is checked by the generator too.
  TraceSpec t;
  t.impl = "azure";
  t.rate_qps = 1e300;
  CHECK_THROWS_WITH(generate_trace(t), Contains("rate_qps"));
}

TEST_CASE("reliability: azure at the largest rate builds only the queries asked for") {
  const TraceSpec t = trace_spec("{impl: azure, rate_qps: 1e6, count: 5, burst_probability: 1}");
  const auto trace = generate_trace(t);
  REQUIRE(trace.size() == 5);
  for (size_t i = 1; i < trace.size(); ++i) CHECK(trace[i].arrival_ms >= trace[i - 1].arrival_ms);
  CHECK(trace.back().arrival_ms < 60000);
}

TEST_CASE("reliability: NaN is rejected in every float parameter") {
  CHECK_THROWS_WITH(trace_spec("{constraints: {locality: .nan}}"), Contains("constraints.locality"));
  CHECK_THROWS_WITH(trace_spec("{constraints: {latency_fraction: .nan}}"),
                    Contains("constraints.latency_fraction"));
  CHECK_THROWS_WITH(trace_spec("{constraints: {slo_ms: [.nan, 5]}}"), Contains("constraints.slo_ms"));
  CHECK_THROWS_WITH(load_profile_table(kDir + "profile_top1_nan.yaml"),
                    Contains("profile_top1_nan.yaml") && Contains("top1"));
  const YamlView v = YamlView::parse("{x: .nan, y: .inf}", "n.yaml");
  CHECK_THROWS_WITH(v.get<double>("x"), Contains("n.yaml: key 'x'") && Contains("finite"));
  CHECK_THROWS_WITH(v.get<double>("y"), Contains("n.yaml: key 'y'"));
}

TEST_CASE("reliability: a non-scalar YAML key names the file") {
  CHECK_THROWS_WITH(SupernetSpace::load(kDir + "nonscalar_key.yaml"),
                    Contains("nonscalar_key.yaml") && Contains("scalar key"));
  CHECK_THROWS_WITH(trace_spec("{[1]: 2}"), Contains("t.yaml") && Contains("scalar key"));
  CHECK_THROWS_WITH(YamlView::parse("? [a]\n: 1\n", "k.yaml").expect_keys({"a"}), Contains("k.yaml"));
}

TEST_CASE("reliability: serve --count above the bound is rejected") {
  ExperimentSpec spec = ExperimentSpec::load("workloads/experiments/sushi_mbv3.yaml");
  ExperimentOverrides ov;
  ov.count = 100000000;
  CHECK_THROWS_WITH(run_experiment(spec, ov), Contains("--count") && Contains("10000000"));
}

TEST_CASE("reliability: every shipped sample trace parses") {
  for (const char* f : {"traces/sample_azure.csv", "traces/sample_gamma_cv4.csv"}) {
    INFO(f);
    CHECK(!read_trace_csv(f).empty());
  }
}

TEST_CASE("reliability: a checkpoint with an empty tensor round-trips (the null memcpy)") {
  Checkpoint c;
  c.metadata = "{}";
  NdArray empty;
  empty.shape = {0, 5};
  c.add("z", empty);
  NdArray one;
  one.shape = {1};
  one.data = {2.5f};
  c.add("s", one);
  const Checkpoint back = Checkpoint::deserialize(c.serialize(), "mem");
  CHECK(back == c);
  CHECK(back.at("z").data.empty());
}

namespace {
std::string write_text(const std::string& name, const std::string& text) {
  const std::string dir = "build/test_tmp/reliability_stream";
  make_directories(dir);
  write_file_atomic(dir + "/" + name, text);
  return dir + "/" + name;
}
}  // namespace

TEST_CASE("reliability: the streamed trace reader and writer match the whole-file ones") {
  TraceSpec t;
  t.impl = "gamma";
  t.count = 3000;
  t.seed = 5;
  const std::vector<Query> trace = generate_trace(t);
  const std::string path = "build/test_tmp/reliability_stream/streamed.csv";
  make_directories("build/test_tmp/reliability_stream");
  write_trace_csv(path, trace, "provenance line");
  CHECK(read_file(path) == trace_to_csv(trace, "provenance line"));
  TraceReader r(path);
  TraceStatsAccumulator acc;
  size_t n = 0;
  for (Query q; r.next(q); ++n) {
    REQUIRE(n < trace.size());
    CHECK(q.id == trace[n].id);
    acc.add(q);
  }
  CHECK(n == trace.size());
  const TraceStats whole = trace_stats(read_trace_csv(path)), streamed = acc.stats();
  CHECK(streamed.mean_rate_qps == Approx(whole.mean_rate_qps).epsilon(1e-12));
  CHECK(streamed.interarrival_cv2 == Approx(whole.interarrival_cv2).epsilon(1e-9));
}

TEST_CASE("reliability: duplicate and huge trace ids are found by the streamed reader") {
  const std::string h = "id,arrival_ms,slo_ms,acc_target\n";
  CHECK_THROWS_WITH(read_trace_csv(write_text("dup.csv", h + "2,0,0,0\n0,1,0,0\n1,2,0,0\n2,3,0,0\n")),
                    Contains("dup.csv: line 5: duplicate id 2"));
  CHECK_THROWS_WITH(read_trace_csv(write_text("dup0.csv", h + "0,0,0,0\n1,1,0,0\n0,2,0,0\n")),
                    Contains("line 4: duplicate id 0"));
  CHECK(read_trace_csv(write_text("gaps.csv", h + "5,0,0,0\n3,1,0,0\n0,2,0,0\n9,3,0,0\n")).size() == 4);
  CHECK_THROWS_WITH(read_trace_csv(write_text("big.csv", h + "1e300,0,0,0\n")),
                    Contains("column id: expected an integer"));
}

TEST_CASE("reliability: order statistics of a spilled stream equal those of the values held in memory") {
  Rng rng(7);
  SpilledDoubles spilled;
  std::vector<double> all;
  const size_t n = 3 * SpilledDoubles::kInMemory + 123;  // spilled three times, then a tail in memory
  for (size_t i = 0; i < n; ++i) {
    const double v = i % 3 == 0 ? std::round(rng.normal(0, 5)) : rng.normal(10, 100);  // ties, negatives, 0
    spilled.push(v);
    all.push_back(v);
  }
  REQUIRE(spilled.size() == n);
  std::sort(all.begin(), all.end());
  std::vector<size_t> ranks = {0, 1, n / 2, n - 2, n - 1};
  for (int k = 0; k < 40; ++k) ranks.push_back(size_t(rng.uniform_int(uint64_t(n))));
  const std::vector<double> got = spilled.select(ranks);
  REQUIRE(got.size() == ranks.size());
  for (size_t k = 0; k < ranks.size(); ++k) CHECK(got[k] == all[ranks[k]]);
  SpilledDoubles few;  // never spilled
  for (double v : {3.0, -1.0, 2.0}) few.push(v);
  CHECK(few.select({0, 2}) == std::vector<double>{-1.0, 3.0});
}

TEST_CASE("reliability: serve streams a trace file and gives what the same queries in memory give") {
  const LatencyTable t =
      LatencyTable::from_matrix({70, 72, 74, 76},
                                {{2.0, 1.2, 1.5, 1.6, 1.7},
                                 {4.0, 3.6, 2.8, 3.0, 3.2},
                                 {6.0, 5.6, 5.0, 4.6, 4.8},
                                 {8.0, 7.6, 7.0, 6.7, 6.0}},
                                {{}, {0.5, 1000, 10}, {0.5, 2000, 20}, {0.5, 3000, 30}, {0.5, 4000, 40}});
  TraceSpec spec;
  spec.impl = "gamma";
  spec.rate_qps = 100;
  spec.cv2 = 4;
  spec.count = int64_t(SpilledDoubles::kInMemory) + 5000;  // the latencies spill
  spec.constraints.slo_lo_ms = 3;
  spec.constraints.slo_hi_ms = 30;
  spec.constraints.acc_lo = 70;
  spec.constraints.acc_hi = 76;
  make_directories("build/test_tmp/reliability_serve");
  const std::string path = "build/test_tmp/reliability_serve/trace.csv";
  write_trace_csv(path, generate_trace(spec), "");
  const std::vector<Query> trace = read_trace_csv(path);
  for (const std::string queue : {"fifo", "edf"}) {
    INFO(queue);
    ServingOptions o;
    o.queue = queue;
    const auto p1 = make_policy(YamlView::parse("{impl: sushi, window: 8}", "p")),
               p2 = make_policy(YamlView::parse("{impl: sushi, window: 8}", "p"));
    const ServingResult whole = serve(t, trace, *p1, o);
    auto reader = std::make_shared<TraceReader>(path);
    size_t k = 0, mismatches = 0;
    const ServingResult streamed = serve_stream(
        t, [&](Query& q) { return reader->next(q); }, *p2, o,
        [&](const QueryRecord& r) {
          const QueryRecord& w = whole.records.at(k++);
          mismatches += r.id != w.id || r.finish_ms != w.finish_ms || r.subnet != w.subnet ? 1 : 0;
        });
    CHECK(k == trace.size());
    CHECK(mismatches == 0);
    CHECK(streamed.records.empty());
    CHECK(streamed.summary.p99_latency_ms == whole.summary.p99_latency_ms);
    CHECK(streamed.summary.mean_latency_ms == whole.summary.mean_latency_ms);
    // The spilled percentiles are the nearest-rank ones of the values in memory.
    std::vector<double> lat;
    for (const QueryRecord& r : whole.records)
      if (!r.dropped) lat.push_back(r.latency_ms);
    REQUIRE(lat.size() > SpilledDoubles::kInMemory);
    std::sort(lat.begin(), lat.end());
    CHECK(whole.summary.p50_latency_ms == lat[size_t(std::ceil(0.5 * double(lat.size()))) - 1]);
    CHECK(whole.summary.p99_latency_ms == lat[size_t(std::ceil(0.99 * double(lat.size()))) - 1]);
  }
}

TEST_CASE("reliability: an experiment stream replays a trace file (trace_file:, serve --trace)") {
  ExperimentSpec spec = ExperimentSpec::load("workloads/experiments/trace_replay.yaml");
  spec.output_dir = "build/test_tmp/reliability_replay";
  spec.cache_dir = "";
  ExperimentOverrides ov;
  ov.seeds = 3;  // a file is replayed once whatever the seeds
  const ExperimentResult r = run_experiment(spec, ov);
  write_experiment_outputs(spec, r);
  REQUIRE(r.streams.size() == 1);
  REQUIRE(r.streams[0].seeds.size() == 1);
  CHECK(r.streams[0].seeds[0].summaries[0].queries == 300);
  const std::string rows = read_file(spec.output_dir + "/zcu104_sushi/replay/queries.csv");
  CHECK(std::count(rows.begin(), rows.end(), '\n') == 2 + 2 * 300);
  ExperimentSpec first = ExperimentSpec::load("workloads/experiments/trace_replay.yaml");
  first.output_dir = "build/test_tmp/reliability_replay_100";
  first.cache_dir = "";
  ov.count = 100;  // the first 100 queries
  const ExperimentResult r100 = run_experiment(first, ov);
  CHECK(r100.streams[0].seeds[0].summaries[1].queries == 100);
  ExperimentSpec gen = ExperimentSpec::load("workloads/experiments/sushi_mbv3.yaml");
  gen.cache_dir = "";
  ov.count = 0;
  ov.platform = "zcu104_sushi";
  ov.trace_file = "traces/sample_gamma_cv4.csv";  // --trace: every stream replays it
  const ExperimentResult g = run_experiment(gen, ov);
  REQUIRE(g.streams.size() == 2);
  CHECK(g.streams[1].seeds.size() == 1);
  CHECK(g.streams[1].curve.empty());
  CHECK(g.streams[1].seeds[0].summaries[0].queries == 200);
  const std::string bad =
      write_text("replay_load.yaml",
                 "name: x\nsupernet: workloads/supernets/ofa_mbv3.yaml\naccuracy_table: "
                 "../shared/data/ofa_mbv3_224_top1.jsonl\n"
                 "accelerators: [workloads/accel/zcu104_sushi.yaml]\nstreams:\n  - name: s\n    trace_file: "
                 "traces/sample_azure.csv\n    load: 0.5\npolicies: [{impl: no_sgs}]\n");
  CHECK_THROWS_WITH(ExperimentSpec::load(bad),
                    Contains("line 8") && Contains("load") && Contains("not with trace_file"));
}
