#include "sched/serving.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "base/errors.h"

namespace sushi {

ServingOptions ServingOptions::from_yaml(const YamlView& v) {
  v.expect_keys({"queue", "drop_expired", "timeout_ms"});
  ServingOptions o;
  o.queue = v.get<std::string>("queue", o.queue);
  if (o.queue != "fifo" && o.queue != "edf")
    v.at("queue").fail("expected fifo or edf, got '" + o.queue + "'");
  o.drop_expired = v.get<bool>("drop_expired", o.drop_expired);
  o.timeout_ms = v.get<double>("timeout_ms", o.timeout_ms);
  if (o.timeout_ms < 0) v.at("timeout_ms").fail("expected a non-negative time (0 = no timeout)");
  return o;
}

ServingResult serve(const LatencyTable& t, const std::vector<Query>& trace, Policy& policy,
                    const ServingOptions& options, const RunCost& cost, ServingClock* clock) {
  ServingResult result;
  result.policy = policy.name();
  result.records.resize(trace.size());
  policy.reset(t);
  const RunCost run =
      cost ? cost : [&t](int s, int g, int b) { return t.at(size_t(s), size_t(g), size_t(b)); };

  double now = 0;
  int cached = 0;
  auto load = [&](int g) {
    const PbLoadCost& c = t.pb_load.at(size_t(g));
    result.cache_events.push_back({now, g, c.latency_ms, c.bytes, c.energy_pj});
    now += c.latency_ms;  // the PB fill occupies the DRAM channel and the accelerator
    if (clock) clock->advance_to(now);
    cached = g;
  };
  const int initial = policy.initial_subgraph(t);
  if (initial > 0) load(initial);

  // The waiting queries: FIFO is a ring of trace indices; EDF a binary heap keyed by deadline (ties by
  // arrival).
  const bool edf = options.queue == "edf";
  std::deque<size_t> fifo;
  std::vector<size_t> heap;
  auto later = [&trace](size_t a, size_t b) {
    const double da = trace[a].deadline_ms(), db = trace[b].deadline_ms();
    return da != db ? da > db : a > b;
  };
  auto queued = [&] { return edf ? heap.size() : fifo.size(); };
  auto head = [&] { return edf ? heap.front() : fifo.front(); };
  auto push = [&](size_t i) {
    if (edf) {
      heap.push_back(i);
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      fifo.push_back(i);
    }
  };
  auto pop = [&] {
    if (edf) {
      std::pop_heap(heap.begin(), heap.end(), later);
      heap.pop_back();
    } else {
      fifo.pop_front();
    }
  };
  // Conservation: every query is recorded exactly once, as served or dropped.
  std::vector<char> recorded(trace.size(), 0);
  auto record = [&](size_t i) -> QueryRecord& {
    if (recorded[i]++) throw std::logic_error("query " + std::to_string(trace[i].id) + " recorded twice");
    QueryRecord& r = result.records[i];
    const Query& q = trace[i];
    r.id = q.id;
    r.arrival_ms = q.arrival_ms;
    r.slo_ms = q.slo_ms;
    r.acc_target = q.acc_target;
    return r;
  };
  std::vector<size_t> batch_members;
  size_t next = 0;
  while (next < trace.size() || queued() > 0) {
    if (queued() == 0 && now < trace[next].arrival_ms) {
      now = trace[next].arrival_ms;
      if (clock) clock->advance_to(now);
    }
    while (next < trace.size() && trace[next].arrival_ms <= now) push(next++);
    // Admission at the head: a query whose deadline passed (drop_expired) or that waited too long is dropped
    // when it reaches the head of the queue.
    while (queued() > 0) {
      const Query& q = trace[head()];
      const bool expired = options.drop_expired && q.has_slo() && q.deadline_ms() < now;
      const bool timed_out = options.timeout_ms > 0 && now - q.arrival_ms > options.timeout_ms;
      if (!expired && !timed_out) break;
      QueryRecord& r = record(head());
      r.dropped = true;
      r.start_ms = r.finish_ms = now;
      pop();
    }
    if (queued() == 0) continue;

    const SchedContext ctx{now, &trace[head()], queued(), cached, &t};
    const Decision d = policy.decide(ctx);
    if (d.subnet < 0 || size_t(d.subnet) >= t.num_subnets() || d.batch_index < 0 ||
        size_t(d.batch_index) >= t.num_batches())
      throw std::logic_error("policy " + policy.name() + " returned an invalid decision");
    const int g = d.subgraph_for_run >= 0 ? d.subgraph_for_run : cached;
    const int batch = std::min<int>(t.batch_sizes[size_t(d.batch_index)], int(queued()));
    const LtEntry e = run(d.subnet, g, d.batch_index);
    const double start = now;
    now += e.latency_ms;
    if (clock) clock->advance_to(now);
    for (int k = 0; k < batch; ++k) {
      const size_t i = head();
      pop();
      const Query& q = trace[i];
      QueryRecord& r = record(i);
      r.start_ms = start;
      r.finish_ms = now;
      r.latency_ms = now - q.arrival_ms;
      r.subnet = d.subnet;
      r.subgraph = g;
      r.batch = batch;
      r.accuracy = t.accuracy[size_t(d.subnet)];
      r.slo_met = q.has_slo() && r.latency_ms <= q.slo_ms + 1e-9;
      r.acc_met = q.has_acc() && r.accuracy >= q.acc_target;
      r.offchip_weight_bytes = double(e.offchip_weight_bytes) / batch;
      r.offchip_bytes = double(e.offchip_weight_bytes + e.offchip_act_bytes) / batch;
      r.pb_hit_bytes = double(e.pb_hit_bytes) / batch;
      r.energy_pj = e.energy_pj / batch;
      r.offchip_energy_pj = e.offchip_energy_pj / batch;
    }
    if (d.next_subgraph >= 0 && size_t(d.next_subgraph) < t.num_subgraphs() && d.next_subgraph != cached)
      load(d.next_subgraph);
  }
  for (size_t i = 0; i < trace.size(); ++i)
    if (recorded[i] != 1)
      throw std::logic_error("query " + std::to_string(trace[i].id) + " was never served or dropped");
  result.summary = summarize(result.records, result.cache_events);
  return result;
}

ServingSummary summarize(const std::vector<QueryRecord>& records,
                         const std::vector<CacheEvent>& cache_events) {
  ServingSummary s;
  s.queries = int64_t(records.size());
  std::vector<double> lat;
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
    energy += c.energy_pj;
  }
  s.cache_updates = int64_t(cache_events.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (!lat.empty()) {
    std::vector<double> sorted = lat;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double v : lat) sum += v;
    s.mean_latency_ms = sum / double(lat.size());
    auto pct = [&](double p) {
      return sorted[std::min(sorted.size() - 1, size_t(std::ceil(p * double(sorted.size()))) - 1)];
    };
    s.p50_latency_ms = pct(0.50);
    s.p99_latency_ms = pct(0.99);
    s.mean_accuracy = acc_sum / double(lat.size());
  } else {
    s.mean_latency_ms = s.p50_latency_ms = s.p99_latency_ms = s.mean_accuracy = nan;
  }
  s.slo_attainment = with_slo ? double(slo_met) / double(with_slo) : nan;
  s.accuracy_attainment = with_acc ? double(acc_met) / double(with_acc) : nan;
  const double n = std::max<double>(1, double(s.queries));
  s.offchip_bytes_per_query = bytes / n;
  s.offchip_weight_bytes_per_query = weight_bytes / n;
  s.offchip_energy_pj_per_query = off_energy / n;
  s.energy_pj_per_query = energy / n;
  s.pb_hit_ratio = weight_need > 0 ? hit / weight_need : 0;
  return s;
}

}  // namespace sushi
