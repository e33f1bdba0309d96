#include "sched/serving.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "base/errors.h"
#include "sched/serving_loop.h"

namespace sushi {

const ParamSchema<ServingOptions>& serving_options_schema() {
  static const ServingOptions d{};
  static const ParamSchema<ServingOptions> s =
      ParamSchema<ServingOptions>("serving", "serving simulator options")
          .string("queue", &ServingOptions::queue, d.queue,
                  "queue discipline: a registered queue impl (sushi describe queue)")
          .boolean("drop_expired", &ServingOptions::drop_expired, d.drop_expired,
                   "drop a query whose deadline has passed when it reaches the head of the queue")
          .boolean("drop_doomed", &ServingOptions::drop_doomed, d.drop_doomed,
                   "admission control for every policy: drop a query at the head whose deadline not even the "
                   "fastest run can meet")
          .real("timeout_ms", &ServingOptions::timeout_ms, d.timeout_ms, {0}, "ms",
                "drop a query that waited longer than this when it reaches the head (0 = no timeout)")
          .check("queue", [](const ServingOptions& o) {
            return Registry<QueueDiscipline>::has(o.queue)
                       ? std::string()
                       : "expected a queue discipline (one of: " + Registry<QueueDiscipline>::joined_names() +
                             "), got '" + o.queue + "'";
          });
  return s;
}

// Listed by `sushi describe section` (a config section, not a choosable component).
[[maybe_unused]] const bool serving_described =
    (ComponentIndex::add(
         {"section", "serving", "an experiment's serving: options", &serving_options_schema()}),
     true);

ServingOptions ServingOptions::from_yaml(const YamlView& v) {
  return serving_options_schema().parse(v);
}

ServingLoopBase::ServingLoopBase(const LatencyTable& t, const std::vector<Query>& trace, Policy& policy,
                                 const ServingOptions& options, const RunCost& cost, ServingClock* clock)
    : t_(t), trace_(trace), policy_(policy), options_(options), clock_(clock), recorded_(trace.size(), 0) {
  result_.policy = policy.name();
  result_.policy_impl = policy.impl();
  result_.role = policy.role();
  result_.rule = policy.rule();
  result_.records.resize(trace.size());
  policy.reset(t);
  lookahead_ = std::clamp(policy.lookahead(), 0, kMaxLookahead);
  fastest_.assign(t.num_subgraphs(), 1e300);
  for (size_t g = 0; g < t.num_subgraphs(); ++g)
    for (size_t s = 0; s < t.num_subnets(); ++s)
      for (size_t b = 0; b < t.num_batches(); ++b)
        fastest_[g] = std::min({fastest_[g], t.at(s, g, b).latency_ms, t.at(s, 0, b).latency_ms});
  cost_ = cost ? cost : [&t](int s, int g, int b) { return t.at(size_t(s), size_t(g), size_t(b)); };
  const int initial = policy.initial_subgraph(t);
  if (initial > 0) load(initial);
}

void ServingLoopBase::check(const Decision& d) const {
  if (d.subnet < 0 || size_t(d.subnet) >= t_.num_subnets() || d.batch_index < 0 ||
      size_t(d.batch_index) >= t_.num_batches())
    throw std::logic_error("policy " + policy_.name() + " returned an invalid decision");
}

void ServingLoopBase::load(int g) {
  const PbLoadCost& c = t_.pb_load.at(size_t(g));
  result_.cache_events.push_back({now_, g, c.latency_ms, c.bytes, c.energy_pj});
  busy_ms_ += c.latency_ms;
  advance_to(now_ + c.latency_ms);
  cached_ = g;
}

ServingResult ServingLoopBase::finish() {
  for (size_t i = 0; i < trace_.size(); ++i)
    if (recorded_[i] != 1)
      throw std::logic_error("query " + std::to_string(trace_[i].id) + " was never served or dropped");
  result_.summary = summarize(result_.records, result_.cache_events, busy_ms_);
  return std::move(result_);
}

ServingResult serve(const LatencyTable& t, const std::vector<Query>& trace, Policy& policy,
                    const ServingOptions& options, const RunCost& cost, ServingClock* clock) {
  const auto discipline = Registry<QueueDiscipline>::get(options.queue, "serving: key 'queue'")();
  ServingLoopBase loop(t, trace, policy, options, cost, clock);
  discipline->run(loop);
  return loop.finish();
}

namespace {
// The p-quantile (nearest rank) of v, which it reorders.
double percentile(std::vector<double>& v, double p) {
  const size_t k = std::min(v.size() - 1, size_t(std::ceil(p * double(v.size()))) - 1);
  std::nth_element(v.begin(), v.begin() + long(k), v.end());
  return v[k];
}
}  // namespace

ServingSummary summarize(const std::vector<QueryRecord>& records, const std::vector<CacheEvent>& cache_events,
                         double busy_ms) {
  ServingSummary s;
  s.queries = int64_t(records.size());
  s.busy_ms = busy_ms;
  std::vector<double> lat, service;
  double weight_energy = 0, first_arrival = records.empty() ? 0 : records.front().arrival_ms;
  int64_t with_slo = 0, slo_met = 0, with_acc = 0, acc_met = 0;
  double acc_sum = 0, bytes = 0, weight_bytes = 0, off_energy = 0, energy = 0, hit = 0, weight_need = 0;
  for (const QueryRecord& r : records) {
    if (r.slo_ms > 0) {
      ++with_slo;
      slo_met += r.slo_met ? 1 : 0;
    }
    if (r.acc_target > 0) {
      ++with_acc;
      acc_met += r.acc_met ? 1 : 0;
    }
    s.makespan_ms = std::max(s.makespan_ms, r.finish_ms);
    if (r.dropped) {
      ++s.dropped;
      continue;
    }
    ++s.served;
    lat.push_back(r.latency_ms);
    service.push_back(r.finish_ms - r.start_ms);
    weight_energy += r.offchip_weight_energy_pj;
    acc_sum += r.accuracy;
    bytes += r.offchip_bytes;
    off_energy += r.offchip_energy_pj;
    energy += r.energy_pj;
    hit += r.pb_hit_bytes;
    weight_need += r.pb_hit_bytes + r.offchip_weight_bytes;
    weight_bytes += r.offchip_weight_bytes;
  }
  for (const CacheEvent& c : cache_events) {
    bytes += double(c.bytes);
    weight_bytes += double(c.bytes);
    off_energy += c.energy_pj;
    weight_energy += c.energy_pj;
    energy += c.energy_pj;
  }
  for (const QueryRecord& r : records) first_arrival = std::min(first_arrival, r.arrival_ms);
  if (s.makespan_ms > first_arrival) s.utilisation = busy_ms / (s.makespan_ms - first_arrival);
  s.cache_updates = int64_t(cache_events.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!lat.empty()) {
    double sum = 0, service_sum = 0;
    for (double v : lat) sum += v;
    for (double v : service) service_sum += v;
    s.mean_latency_ms = sum / double(lat.size());
    s.mean_service_ms = service_sum / double(service.size());
    s.p50_latency_ms = percentile(lat, 0.50);
    s.p99_latency_ms = percentile(lat, 0.99);
    s.p99_service_ms = percentile(service, 0.99);
    s.mean_accuracy = acc_sum / double(lat.size());
  } else {
    s.mean_latency_ms = s.p50_latency_ms = s.p99_latency_ms = s.mean_accuracy = nan;
    s.mean_service_ms = s.p99_service_ms = nan;
  }
  s.slo_attainment = with_slo ? double(slo_met) / double(with_slo) : nan;
  s.accuracy_attainment = with_acc ? double(acc_met) / double(with_acc) : nan;
  const double n = std::max<double>(1, double(s.queries));
  s.offchip_bytes_per_query = bytes / n;
  s.offchip_weight_bytes_per_query = weight_bytes / n;
  s.offchip_energy_pj_per_query = off_energy / n;
  s.offchip_weight_energy_pj_per_query = weight_energy / n;
  s.energy_pj_per_query = energy / n;
  s.pb_hit_ratio = weight_need > 0 ? hit / weight_need : 0;
  return s;
}

}  // namespace sushi
