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

ServingLoopBase::ServingLoopBase(const LatencyTable& t, QuerySource source, Policy& policy,
                                 const ServingOptions& options, const RunCost& cost, ServingClock* clock,
                                 RecordSink sink)
    : t_(t),
      source_(std::move(source)),
      policy_(policy),
      options_(options),
      clock_(clock),
      sink_(std::move(sink)) {
  result_.policy = policy.name();
  result_.policy_impl = policy.impl();
  result_.role = policy.role();
  result_.rule = policy.rule();
  policy.reset(t);
  lookahead_ = std::clamp(policy.lookahead(), 0, kMaxLookahead);
  fastest_.assign(t.num_subgraphs(), 1e300);
  for (size_t g = 0; g < t.num_subgraphs(); ++g)
    for (size_t s = 0; s < t.num_subnets(); ++s)
      for (size_t b = 0; b < t.num_batches(); ++b)
        fastest_[g] = std::min({fastest_[g], t.at(s, g, b).latency_ms, t.at(s, 0, b).latency_ms});
  cost_ = cost ? cost : [&t](int s, int g, int b) { return t.at(size_t(s), size_t(g), size_t(b)); };
  has_next_ = source_(next_);
  const int initial = policy.initial_subgraph(t);
  if (initial > 0) load(initial);
}

size_t ServingLoopBase::arrive() {
  window_.push_back(next_);
  pending_.emplace_back();
  done_.push_back(0);
  has_next_ = source_(next_);
  return base_ + window_.size() - 1;
}

void ServingLoopBase::emit() {
  while (!done_.empty() && done_.front()) {
    summary_.add(pending_.front());
    if (sink_) sink_(pending_.front());
    window_.pop_front();
    pending_.pop_front();
    done_.pop_front();
    ++base_;
  }
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
  if (!window_.empty() || has_next_)
    throw std::logic_error("query " + std::to_string(window_.empty() ? next_.id : window_.front().id) +
                           " was never served or dropped");
  result_.summary = summary_.finish(result_.cache_events, busy_ms_);
  return std::move(result_);
}

ServingResult serve_stream(const LatencyTable& t, const QuerySource& source, Policy& policy,
                           const ServingOptions& options, const RecordSink& sink, const RunCost& cost,
                           ServingClock* clock) {
  const auto discipline = Registry<QueueDiscipline>::get(options.queue, "serving: key 'queue'")();
  ServingLoopBase loop(t, source, policy, options, cost, clock, sink);
  discipline->run(loop);
  return loop.finish();
}

QuerySource vector_source(const std::vector<Query>& trace) {
  auto next = std::make_shared<size_t>(0);
  return [&trace, next](Query& q) {
    if (*next == trace.size()) return false;
    q = trace[(*next)++];
    return true;
  };
}

ServingResult serve(const LatencyTable& t, const std::vector<Query>& trace, Policy& policy,
                    const ServingOptions& options, const RunCost& cost, ServingClock* clock) {
  std::vector<QueryRecord> records;
  records.reserve(trace.size());
  ServingResult r = serve_stream(
      t, vector_source(trace), policy, options, [&](const QueryRecord& rec) { records.push_back(rec); }, cost,
      clock);
  r.records = std::move(records);
  return r;
}

void SummaryAccumulator::add(const QueryRecord& r) {
  if (s_.queries++ == 0) first_arrival_ = r.arrival_ms;
  first_arrival_ = std::min(first_arrival_, r.arrival_ms);
  if (r.slo_ms > 0) {
    ++with_slo_;
    slo_met_ += r.slo_met ? 1 : 0;
  }
  if (r.acc_target > 0) {
    ++with_acc_;
    acc_met_ += r.acc_met ? 1 : 0;
  }
  s_.makespan_ms = std::max(s_.makespan_ms, r.finish_ms);
  if (r.dropped) {
    ++s_.dropped;
    return;
  }
  ++s_.served;
  lat_.push(r.latency_ms);
  service_.push(r.finish_ms - r.start_ms);
  lat_sum_ += r.latency_ms;
  service_sum_ += r.finish_ms - r.start_ms;
  weight_energy_ += r.offchip_weight_energy_pj;
  acc_sum_ += r.accuracy;
  bytes_ += r.offchip_bytes;
  off_energy_ += r.offchip_energy_pj;
  energy_ += r.energy_pj;
  hit_ += r.pb_hit_bytes;
  weight_need_ += r.pb_hit_bytes + r.offchip_weight_bytes;
  weight_bytes_ += r.offchip_weight_bytes;
}

namespace {
// The p-quantile (nearest rank) of n values: its rank.
size_t percentile_rank(size_t n, double p) {
  return std::min(n - 1, size_t(std::ceil(p * double(n))) - 1);
}
}  // namespace

ServingSummary SummaryAccumulator::finish(const std::vector<CacheEvent>& cache_events, double busy_ms) const {
  ServingSummary s = s_;
  s.busy_ms = busy_ms;
  double bytes = bytes_, weight_bytes = weight_bytes_, off_energy = off_energy_,
         weight_energy = weight_energy_, energy = energy_;
  for (const CacheEvent& c : cache_events) {
    bytes += double(c.bytes);
    weight_bytes += double(c.bytes);
    off_energy += c.energy_pj;
    weight_energy += c.energy_pj;
    energy += c.energy_pj;
  }
  const double first_arrival = s.queries ? first_arrival_ : 0;
  if (s.makespan_ms > first_arrival) s.utilisation = busy_ms / (s.makespan_ms - first_arrival);
  s.cache_updates = int64_t(cache_events.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const size_t n = lat_.size();
  if (n > 0) {
    s.mean_latency_ms = lat_sum_ / double(n);
    s.mean_service_ms = service_sum_ / double(n);
    const std::vector<double> lat = lat_.select({percentile_rank(n, 0.50), percentile_rank(n, 0.99)});
    s.p50_latency_ms = lat[0];
    s.p99_latency_ms = lat[1];
    s.p99_service_ms = service_.select({percentile_rank(n, 0.99)})[0];
    s.mean_accuracy = acc_sum_ / double(n);
  } else {
    s.mean_latency_ms = s.p50_latency_ms = s.p99_latency_ms = s.mean_accuracy = nan;
    s.mean_service_ms = s.p99_service_ms = nan;
  }
  s.slo_attainment = with_slo_ ? double(slo_met_) / double(with_slo_) : nan;
  s.accuracy_attainment = with_acc_ ? double(acc_met_) / double(with_acc_) : nan;
  const double q = std::max<double>(1, double(s.queries));
  s.offchip_bytes_per_query = bytes / q;
  s.offchip_weight_bytes_per_query = weight_bytes / q;
  s.offchip_energy_pj_per_query = off_energy / q;
  s.offchip_weight_energy_pj_per_query = weight_energy / q;
  s.energy_pj_per_query = energy / q;
  s.pb_hit_ratio = weight_need_ > 0 ? hit_ / weight_need_ : 0;
  return s;
}

ServingSummary summarize(const std::vector<QueryRecord>& records, const std::vector<CacheEvent>& cache_events,
                         double busy_ms) {
  SummaryAccumulator acc;
  for (const QueryRecord& r : records) acc.add(r);
  return acc.finish(cache_events, busy_ms);
}

}  // namespace sushi
