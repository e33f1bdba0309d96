#pragma once
// The event-driven serving simulator: one accelerator, a queue with a discipline (FIFO or EDF), a policy
// deciding at every dispatch, Persistent Buffer updates charged as accelerator time, DRAM bytes and energy.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/params.h"
#include "base/spill.h"
#include "sched/policy.h"

namespace sushi {

// `serving:` of an experiment. The queue discipline is a registered component (kind "queue"); `queue: NAME`
// names its impl (the disciplines have no parameters of their own).
struct ServingOptions {
  std::string queue = "fifo";  // a registered queue discipline: fifo | edf
  bool drop_expired = false;   // drop a query whose deadline has passed when it reaches the head of the queue
  double timeout_ms = 0;       // > 0: drop a query that waited longer than this, when it reaches the head
  // Admission control, the same for every policy: drop a query, when it reaches the head, whose deadline
  // even the fastest run (any subnet and batch, under the cached SubGraph or none) cannot meet.
  bool drop_doomed = false;
  static ServingOptions from_yaml(const YamlView& v);
};
const ParamSchema<ServingOptions>& serving_options_schema();

// How a dispatched run is costed: table mode reads LT; cycle mode runs the SystemC model per query.
using RunCost = std::function<LtEntry(int subnet, int subgraph, int batch_index)>;

// Where simulated time lives. Table mode keeps it in the serving loop alone; in co-simulation the loop runs
// as a SystemC process and every move of its clock (an arrival, a PB load, a finished run) is a wait in the
// kernel, so the accelerator's modules and the scheduler share one timeline.
class ServingClock {
 public:
  virtual ~ServingClock() = default;
  virtual void advance_to(double ms) = 0;
};

struct QueryRecord {
  int64_t id = 0;
  double arrival_ms = 0, start_ms = 0, finish_ms = 0, latency_ms = 0;
  double slo_ms = 0, acc_target = 0;
  int subnet = -1, subgraph = 0, batch = 0;
  bool dropped = false, slo_met = false, acc_met = false;
  double accuracy = 0;
  double offchip_bytes = 0, offchip_weight_bytes = 0, pb_hit_bytes = 0;  // this query's share of its batch
  double energy_pj = 0, offchip_energy_pj = 0;
  double offchip_weight_energy_pj = 0;  // the DRAM energy of its weight bytes (DRAM energy is per byte)
};

struct CacheEvent {
  double time_ms = 0;
  int subgraph = 0;
  double load_ms = 0;
  int64_t bytes = 0;
  double energy_pj = 0;
};

struct ServingSummary {
  int64_t queries = 0, served = 0, dropped = 0, cache_updates = 0;
  double mean_latency_ms = 0, p50_latency_ms = 0, p99_latency_ms = 0;  // end to end: arrival to finish
  double mean_service_ms = 0, p99_service_ms = 0;  // service time: start of its run (switch incl.) to finish
  double slo_attainment = 0;                  // over queries with an SLO; dropped ones miss (NaN when none)
  double accuracy_attainment = 0;             // over queries with an accuracy target (NaN when none)
  double mean_accuracy = 0;                   // top-1 of the serving subnet, over served queries
  double offchip_weight_bytes_per_query = 0;  // weights streamed from DRAM plus PB loads
  double offchip_bytes_per_query = 0, offchip_energy_pj_per_query = 0,
         energy_pj_per_query = 0;                 // incl. PB loads
  double offchip_weight_energy_pj_per_query = 0;  // DRAM energy of weight bytes only, PB loads included
  double pb_hit_ratio = 0;                        // PB hit bytes / weight bytes the runs needed
  double makespan_ms = 0;
  double busy_ms = 0;      // accelerator time (runs, switches, PB loads)
  double utilisation = 0;  // measured: busy time / (makespan - first arrival)
};

struct ServingResult {
  std::string policy;       // the policy's display name
  std::string policy_impl;  // its registered impl
  PolicyRole role = PolicyRole::Baseline;
  std::string rule;                  // the policy's subnet-choice rule ("" when it has none)
  std::vector<QueryRecord> records;  // in trace order (empty from serve_stream)
  std::vector<CacheEvent> cache_events;
  ServingSummary summary;
};

// summarize() one record at a time, in trace order, with the same result bit for bit; memory is bounded
// (the latencies for the percentiles spill to a temporary file beyond SpilledDoubles::kInMemory).
class SummaryAccumulator {
 public:
  void add(const QueryRecord& r);
  ServingSummary finish(const std::vector<CacheEvent>& cache_events, double busy_ms) const;

 private:
  ServingSummary s_;
  SpilledDoubles lat_, service_;
  double lat_sum_ = 0, service_sum_ = 0, weight_energy_ = 0, first_arrival_ = 0;
  int64_t with_slo_ = 0, slo_met_ = 0, with_acc_ = 0, acc_met_ = 0;
  double acc_sum_ = 0, bytes_ = 0, weight_bytes_ = 0, off_energy_ = 0, energy_ = 0, hit_ = 0,
         weight_need_ = 0;
};

// A trace read one query at a time, in trace order: fills `q` and returns true, or false after the last.
using QuerySource = std::function<bool(Query& q)>;
// A source over a trace held in memory (which must outlive it).
QuerySource vector_source(const std::vector<Query>& trace);
// Receives every query's record once, in trace order.
using RecordSink = std::function<void(const QueryRecord& r)>;

class ServingLoopBase;

// A queue discipline: the order in which waiting queries reach the head. Registered by name
// (SUSHI_REGISTER(QueueDiscipline, ...)); run() runs the serving loop instantiated with its own queue type,
// so the per-query queue operations are direct calls (one virtual call per run, none per query).
class QueueDiscipline {
 public:
  static constexpr const char* kRegistryKind = "queue";
  using Factory = std::function<std::unique_ptr<QueueDiscipline>()>;
  virtual ~QueueDiscipline() = default;
  virtual void run(ServingLoopBase& loop) const = 0;
};

ServingResult serve(const LatencyTable& table, const std::vector<Query>& trace, Policy& policy,
                    const ServingOptions& options, const RunCost& cost = nullptr,
                    ServingClock* clock = nullptr);
// The same, streamed: queries pulled from `source`, records handed to `sink` (not kept: the result's
// `records` stay empty), so memory does not grow with the trace (only with the queue).
ServingResult serve_stream(const LatencyTable& table, const QuerySource& source, Policy& policy,
                           const ServingOptions& options, const RecordSink& sink,
                           const RunCost& cost = nullptr, ServingClock* clock = nullptr);
ServingSummary summarize(const std::vector<QueryRecord>& records, const std::vector<CacheEvent>& cache_events,
                         double busy_ms = 0);

}  // namespace sushi
