#pragma once
// Scheduling policies behind one interface (ARCHITECTURE.md contract 6). A policy sees the head of the
// queue and its length (in the simulator's discipline order), the clock and the cached SubGraph, and returns
// which subnet serves how many queries from the head of the queue; it may request a Persistent Buffer update,
// whose cost the simulator charges. Policies register themselves by name and are picked with `impl:` in an
// experiment YAML.
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/yaml.h"
#include "sched/latency_table.h"
#include "traces/trace.h"

namespace sushi {

struct SchedContext {
  double now_ms = 0;
  const Query* head = nullptr;  // the query at the head of the queue (FIFO: oldest; EDF: earliest deadline)
  size_t queued = 0;            // queries waiting, head included (a batch takes them in queue order)
  int cached_subgraph = 0;      // index into the table's SubGraphs (0 = none)
  const LatencyTable* table = nullptr;
};

struct Decision {
  int subnet = 0;
  int batch_index = 0;        // index into LatencyTable::batch_sizes
  int subgraph_for_run = -1;  // SubGraph the run uses; -1 = the cached one (policies without SGS pass 0)
  int next_subgraph = -1;     // >= 0: load this SubGraph into the PB after the run (charged)
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string name() const = 0;
  // Called once before a run with the table it will consult.
  virtual void reset(const LatencyTable& table) { (void)table; }
  virtual Decision decide(const SchedContext& ctx) = 0;
  // The SubGraph to load before the first query (-1 = leave the PB empty).
  virtual int initial_subgraph(const LatencyTable& table) const {
    (void)table;
    return -1;
  }
};

using PolicyFactory = std::function<std::unique_ptr<Policy>(const YamlView& params)>;
bool register_policy(const std::string& impl, PolicyFactory factory);
std::unique_ptr<Policy> make_policy(const YamlView& params);  // reads `impl:`; errors name the key
std::vector<std::string> policy_names();

// The subnet choice shared by SushiSched and its baselines, for one query given the SubGraph in the PB:
// latency-constrained: the most accurate subnet whose latency fits the remaining budget (else the fastest);
// accuracy-constrained: the fastest subnet meeting the target (else the most accurate);
// both: the most accurate subnet meeting both, else the SLO wins.
int choose_subnet(const LatencyTable& t, const Query& q, double now_ms, int subgraph);

}  // namespace sushi
