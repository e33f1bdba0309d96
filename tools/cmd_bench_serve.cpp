// `sushi bench serve`: scheduled queries per second of the serving simulator in table mode (one core).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "base/json.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "sched/serving.h"
#include "sim/accel.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

// The benchmark's stream: Gamma arrivals (CV^2 2) at half the accelerator's mean Pareto-subnet capacity, SLOs
// from the fastest to the slowest subnet.
std::vector<Query> bench_trace(const LatencyTable& t, int64_t count) {
  TraceSpec spec;
  spec.impl = "gamma";
  spec.cv2 = 2;
  double mean = 0;
  for (size_t s = 0; s < t.num_subnets(); ++s) mean += t.at(s, 0).latency_ms / double(t.num_subnets());
  spec.rate_qps = 0.5 * 1000 / mean;
  spec.count = count;
  spec.constraints.slo_lo_ms = t.at(0, 0).latency_ms;
  spec.constraints.slo_hi_ms = t.at(t.num_subnets() - 1, 0).latency_ms;
  return generate_trace(spec);
}

// Queries per second of `repeats` runs of policy `impl`, sorted.
std::vector<double> measure(const LatencyTable& t, const std::vector<Query>& trace, const std::string& impl,
                            int repeats) {
  std::vector<double> qps;
  for (int r = 0; r < repeats; ++r) {
    auto policy = make_policy(YamlView::parse(impl, "bench"));
    ServingOptions options;
    options.drop_doomed = true;  // the experiments' admission control
    // CPU time of this thread, not wall time: on a shared machine the wall clock also counts other work.
    timespec a{}, b{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    const ServingResult res = serve(t, trace, *policy, options);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    const double s = double(b.tv_sec - a.tv_sec) + 1e-9 * double(b.tv_nsec - a.tv_nsec);
    qps.push_back(double(res.records.size()) / s);
  }
  std::sort(qps.begin(), qps.end());
  return qps;
}

int bench_serve(const std::vector<std::string>& args) {
  po::options_description o("bench serve options");
  int64_t count = 1000000;
  int repeats = 5;
  std::string accel_file = project_file("workloads/accel/zcu104_sushi.yaml"), table_file;
  o.add_options()("queries", po::value(&count)->default_value(count), "queries per run")(
      "repeats", po::value(&repeats)->default_value(repeats), "runs per policy (the median is reported)")(
      "accel", po::value(&accel_file)->default_value(accel_file), "accelerator whose latency table is used")(
      "accuracy-table", po::value(&table_file),
      "measured accuracies of ofa_mbv3 subnets (default: the shared data's)")("json",
                                                                              "print one JSON object");
  po::variables_map vm;
  if (!parse("bench serve", "[--queries N] [--repeats R] [--json]", o, args, vm)) return 0;
  if (count <= 0 || repeats <= 0) throw InputError("--queries and --repeats must be positive");
  if (table_file.empty()) table_file = data_file("ofa_mbv3_224_top1.jsonl");
  const SupernetSpace space = SupernetSpace::load(project_file("workloads/supernets/ofa_mbv3.yaml"));
  const sim::AccelConfig accel = sim::AccelConfig::load(accel_file);
  const AccuracyTable acc = AccuracyTable::load_jsonl(table_file, space);
  const LatencyTable t = build_latency_table(accel, space, acc, "analytic", ParetoOptions{24}, "");
  const auto trace = bench_trace(t, count);
  JsonWriter j;
  j.begin_object().field("benchmark", "serve").key("provenance");
  Provenance provenance("sushi bench serve");
  provenance.add_input("accel", accel_file, accel.hash);
  provenance.write_json(j);
  j.field("accel", accel_file)
      .field("queries_per_run", count)
      .field("repeats", repeats)
      .field("subnets", int64_t(t.num_subnets()))
      .field("subgraphs", int64_t(t.num_subgraphs()))
      .key("policies")
      .begin_object();
  if (!vm.count("json"))
    std::printf(
        "serving simulator, table mode, one core (thread CPU time): %lld queries/run, %zu subnets x %zu "
        "SubGraphs, median of %d\n",
        (long long)count, t.num_subnets(), t.num_subgraphs(), repeats);
  const std::pair<const char*, const char*> policies[] = {
      {"sushi", "{impl: sushi}"},
      {"sushi_amortised", "{impl: sushi, variant: amortised}"},
      {"sushi_paper", "{impl: sushi, rule: paper}"},
      {"sushi_minlat", "{impl: sushi, variant: min_latency}"},
      {"no_sgs", "{impl: no_sgs}"},
      {"no_sgs_paper", "{impl: no_sgs, rule: paper}"},
      {"static_sgs", "{impl: static_sgs}"},
      {"fixed_subnet", "{impl: fixed_subnet}"},
      {"infaas", "{impl: infaas}"},
      {"slackfit", "{impl: slackfit}"}};
  for (const auto& [name, yaml] : policies) {
    const std::string impl = name;
    const std::vector<double> qps = measure(t, trace, yaml, repeats);
    const double median = qps[qps.size() / 2];
    j.key(impl)
        .begin_object()
        .field("median_queries_per_s", median)
        .field("min", qps.front())
        .field("max", qps.back())
        .end_object();
    if (!vm.count("json"))
      std::printf("  %-13s %12.0f queries/s (min %.0f, max %.0f)\n", impl.c_str(), median, qps.front(),
                  qps.back());
  }
  j.end_object().end_object();
  if (vm.count("json")) out() << j.str() << "\n";
  return 0;
}

const bool registered = register_bench(
    {"serve", "scheduled queries per second of the serving simulator (table mode)", bench_serve});

}  // namespace
}  // namespace sushi::cli
