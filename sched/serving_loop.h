#pragma once
// The event-driven serving loop behind serve(), written once as a template over the queue type so that every
// queue discipline (sched/queues.cpp) runs it with direct, inlinable queue operations. A queue type has
// size(), head() (a trace index), push(trace index) and pop().
#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "sched/serving.h"

namespace sushi {

class ServingLoopBase {
 public:
  // Queries are pulled from `source` as they arrive and each record goes to `sink` in trace order as soon
  // as it and every earlier one are final, so memory holds only the queries between the oldest unfinished
  // one and the newest arrival (the queue), never the trace.
  ServingLoopBase(const LatencyTable& t, QuerySource source, Policy& policy, const ServingOptions& options,
                  const RunCost& cost, ServingClock* clock, RecordSink sink);
  // A query that has arrived and is not yet recorded, by trace index.
  const Query& query(size_t i) const { return window_[i - base_]; }
  // Serves the whole trace through queue `q` (push(i, query), head(), pop(), size(), peek_behind()).
  template <typename Q>
  void run(Q& q) {
    while (has_next_ || q.size() > 0) {
      if (q.size() == 0 && now_ < next_.arrival_ms) advance_to(next_.arrival_ms);
      while (has_next_ && next_.arrival_ms <= now_) {
        const size_t i = arrive();
        q.push(i, query(i));
      }
      arrived_ = int64_t(base_ + window_.size());
      drop_at_head(q);
      if (q.size() > 0) dispatch(q);
    }
  }
  // Checks that every query was recorded once and summarises.
  ServingResult finish();

 private:
  void advance_to(double ms) {
    now_ = ms;
    if (clock_) clock_->advance_to(now_);
  }
  size_t arrive();  // moves the next query of the source into the window; returns its trace index
  void emit();      // hands the finished records at the front of the window to the sink
  // Admission at the head: a query whose deadline passed (drop_expired) or that waited too long is dropped
  // when it reaches the head of the queue.
  template <typename Q>
  void drop_at_head(Q& q) {
    while (q.size() > 0) {
      const Query& x = query(q.head());
      const bool expired = options_.drop_expired && x.has_slo() && x.deadline_ms() < now_;
      const bool timed_out = options_.timeout_ms > 0 && now_ - x.arrival_ms > options_.timeout_ms;
      const bool doomed =
          options_.drop_doomed && x.has_slo() && now_ + fastest_[size_t(cached_)] > x.deadline_ms() + 1e-9;
      if (!expired && !timed_out && !doomed) break;
      QueryRecord& r = record(q.head());
      r.dropped = true;
      r.start_ms = r.finish_ms = now_;
      q.pop();
      emit();
    }
  }
  // One decision of the policy: a run of `batch` queries from the head, then the PB update it asked for.
  template <typename Q>
  void dispatch(Q& q) {
    SchedContext ctx{now_, &query(q.head()), q.size(), cached_, &t_};
    ctx.arrived = arrived_;
    if (lookahead_ > 0) {
      size_t idx[kMaxLookahead];
      ctx.behind = q.peek_behind(size_t(lookahead_), idx);
      for (size_t k = 0; k < ctx.behind; ++k) behind_[k] = query(idx[k]).deadline_ms();
      ctx.behind_deadline = behind_;
    }
    const Decision d = policy_.decide(ctx);
    check(d);
    const int g = d.subgraph_for_run >= 0 ? d.subgraph_for_run : cached_;
    const int batch = std::min<int>(t_.batch_sizes[size_t(d.batch_index)], int(q.size()));
    const LtEntry e = cost_(d.subnet, g, d.batch_index);
    const double start = now_;
    busy_ms_ += d.setup_ms + e.latency_ms;
    advance_to(now_ + d.setup_ms + e.latency_ms);
    for (int k = 0; k < batch; ++k) {
      const size_t i = q.head();
      q.pop();
      served(i, start, d.subnet, g, batch, e);
      emit();
    }
    if (d.next_subgraph >= 0 && size_t(d.next_subgraph) < t_.num_subgraphs() && d.next_subgraph != cached_)
      load(d.next_subgraph);
  }
  // Conservation: every query is recorded exactly once, as served or dropped.
  QueryRecord& record(size_t i) {
    if (i < base_ || done_[i - base_]++)
      throw std::logic_error("query " + std::to_string(i) + " of the trace recorded twice");
    QueryRecord& r = pending_[i - base_];
    const Query& q = query(i);
    r.id = q.id;
    r.arrival_ms = q.arrival_ms;
    r.slo_ms = q.slo_ms;
    r.acc_target = q.acc_target;
    return r;
  }
  void served(size_t i, double start, int subnet, int g, int batch, const LtEntry& e) {
    const Query& q = query(i);
    QueryRecord& r = record(i);
    r.start_ms = start;
    r.finish_ms = now_;
    r.latency_ms = now_ - q.arrival_ms;
    r.subnet = subnet;
    r.subgraph = g;
    r.batch = batch;
    r.accuracy = t_.accuracy[size_t(subnet)];
    r.slo_met = q.has_slo() && r.latency_ms <= q.slo_ms + 1e-9;
    r.acc_met = q.has_acc() && r.accuracy >= q.acc_target;
    r.offchip_weight_bytes = double(e.offchip_weight_bytes) / batch;
    r.offchip_bytes = double(e.offchip_weight_bytes + e.offchip_act_bytes) / batch;
    r.pb_hit_bytes = double(e.pb_hit_bytes) / batch;
    r.energy_pj = e.energy_pj / batch;
    r.offchip_energy_pj = e.offchip_energy_pj / batch;
    const double dram_bytes = double(e.offchip_weight_bytes + e.offchip_act_bytes);
    r.offchip_weight_energy_pj =
        dram_bytes > 0 ? r.offchip_energy_pj * double(e.offchip_weight_bytes) / dram_bytes : 0;
  }
  void check(const Decision& d) const;
  void load(int g);  // a PB fill: occupies the DRAM channel and the accelerator

  const LatencyTable& t_;
  QuerySource source_;
  Policy& policy_;
  const ServingOptions& options_;
  RunCost cost_;
  ServingClock* clock_;
  RecordSink sink_;
  ServingResult result_;
  SummaryAccumulator summary_;
  Query next_;  // the source's next query (valid when has_next_)
  bool has_next_ = false;
  std::deque<Query> window_;  // arrived queries base_, base_ + 1, ... not yet handed to the sink
  std::deque<QueryRecord> pending_;
  std::deque<char> done_;
  size_t base_ = 0;
  double now_ = 0;
  double busy_ms_ = 0;  // accelerator time: runs, model switches and PB loads
  int cached_ = 0;
  int64_t arrived_ = 0;
  int lookahead_ = 0;
  double behind_[kMaxLookahead] = {};
  std::vector<double> fastest_;  // per cached SubGraph: the fastest run any policy can make (admission)
};

}  // namespace sushi
