#pragma once
// Scheduling policies behind one interface (ARCHITECTURE.md contract 8). A policy sees the head of the
// queue and its length (in the simulator's discipline order), the clock and the cached SubGraph, and returns
// which subnet serves how many queries from the head of the queue; it may request a Persistent Buffer update,
// whose cost the simulator charges. Each policy registers itself with SUSHI_REGISTER(Policy, ...) in its own
// file, with a one-line doc and its parameter schema, and is picked with `impl:` in an experiment YAML. It
// declares its role (what it is compared as); nothing is identified by its display name (`name:`).
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/params.h"
#include "base/registry.h"
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
  // The queue behind the head, for policies whose lookahead() > 0: the deadlines (1e300 = no SLO) of up to
  // that many queries after the head, in the discipline's order; `behind` entries are valid.
  const double* behind_deadline = nullptr;
  size_t behind = 0;
  int64_t arrived = 0;  // queries arrived so far (served, dropped or waiting): a policy's rate estimate
};
inline constexpr int kMaxLookahead = 16;

struct Decision {
  int subnet = 0;
  int batch_index = 0;        // index into LatencyTable::batch_sizes
  int subgraph_for_run = -1;  // SubGraph the run uses; -1 = the cached one (policies without SGS pass 0)
  int next_subgraph = -1;     // >= 0: load this SubGraph into the PB after the run (charged)
  double setup_ms = 0;        // accelerator time before the run (e.g. loading another model), charged
};

// What a policy is compared as. `Sgs`: SubGraph-Stationary scheduling (the SUSHI headline compares each
// against the `no_sgs` baseline); `Baseline`: a reference scheduler (no_sgs, static_sgs, INFaaS-like,
// SlackFit); `Fixed`: one subnet for every query (Clipper-like).
enum class PolicyRole { Baseline, Sgs, Fixed };
const char* to_string(PolicyRole role);

class Policy {
 public:
  static constexpr const char* kRegistryKind = "policy";
  using Factory = std::function<std::unique_ptr<Policy>(const YamlView& params)>;

  virtual ~Policy() = default;
  virtual std::string name() const = 0;  // display name (`name:`, by default the impl name)
  virtual std::string impl() const = 0;  // the registered name it was created by
  virtual PolicyRole role() const = 0;
  // Called once before a run with the table it will consult.
  virtual void reset(const LatencyTable& table) { (void)table; }
  virtual Decision decide(const SchedContext& ctx) = 0;
  // How many queries behind the head the policy wants to see (SchedContext::behind_deadline), at most
  // kMaxLookahead; 0 (the default) costs nothing per decision.
  virtual int lookahead() const { return 0; }
  // The subnet-choice rule, for policies that have one (SushiSched and no_sgs: "queue_aware" or "paper"); the
  // SUSHI headline compares each SGS policy with the no_sgs baseline of the same rule.
  virtual const char* rule() const { return ""; }
  // The SubGraph to load before the first query (-1 = leave the PB empty).
  virtual int initial_subgraph(const LatencyTable& table) const {
    (void)table;
    return -1;
  }
};

// Reads `impl:` and builds the registered policy; errors name the key and list the registered policies.
std::unique_ptr<Policy> make_policy(const YamlView& params);

// The keys every policy accepts, declared once: a policy's parameter struct derives from this and its schema
// starts from policy_schema<P>(impl, doc).
struct PolicyParams {
  std::string impl;
  std::string name;
};
template <typename P>
ParamSchema<P> policy_schema(const std::string& impl, const std::string& doc) {
  return ParamSchema<P>(impl, doc)
      .string("impl", &P::impl, impl, "the registered policy")
      .string("name", &P::name, impl, "display name in outputs (selection goes by impl and role)");
}

// Implements name(), impl() and role() from a parsed parameter struct.
template <typename P, PolicyRole Role>
class PolicyWith : public Policy {
 public:
  static constexpr PolicyRole kRole = Role;
  explicit PolicyWith(P params) : params_(std::move(params)) {}
  std::string name() const override { return params_.name; }
  std::string impl() const override { return params_.impl; }
  PolicyRole role() const override { return kRole; }

 protected:
  P params_;
};

// A policy's one-line doc for the registry, its role appended (what `sushi describe policy` shows).
template <typename C>
std::string policy_doc(const std::string& doc) {
  return doc + " [role: " + to_string(C::kRole) + "]";
}

// The subnet choice shared by SushiSched and its baselines, for one query given the SubGraph in the PB:
// latency-constrained: the most accurate subnet whose latency fits the remaining budget (else the fastest);
// accuracy-constrained: the fastest subnet meeting the target (else the most accurate);
// both: the most accurate subnet meeting both, else the SLO wins.
int choose_subnet(const LatencyTable& t, const Query& q, double now_ms, int g);  // g: the SubGraph in the PB

// SushiSched's subnet-choice rule, shared by sushi and no_sgs (`rule:`): `paper` = choose_subnet; the
// queue-aware rule takes the most accurate subnet that fits the head's budget AND is no slower than the queue
// behind allows: no query behind (the lookahead, then arrivals expected at the measured rate with the head's
// SLO, when expected_arrivals) that would meet its deadline if every run were the fastest misses it because
// of the head's run. Idle gaps before an expected arrival absorb delay. Queries with an accuracy target (or
// none) are chosen as by choose_subnet.
enum class Rule { QueueAware, Paper };
const char* to_string(Rule r);
struct RuleParams : PolicyParams {
  Rule rule = Rule::QueueAware;
  int lookahead = 8;
  bool expected_arrivals = true;
};
template <typename P>
void add_rule_params(ParamSchema<P>& s) {
  s.choice("rule", static_cast<Rule P::*>(&P::rule), Rule::QueueAware,
           {{"queue_aware", Rule::QueueAware}, {"paper", Rule::Paper}},
           "paper: the most accurate subnet fitting the head's remaining budget (SushiSched as published); "
           "queue_aware: the same, no slower than the queries behind allow")
      .integer("lookahead", static_cast<int P::*>(&P::lookahead), 8, {1, kMaxLookahead}, "queries",
               "queue_aware: queries behind the head taken into account")
      .boolean("expected_arrivals", static_cast<bool P::*>(&P::expected_arrivals), true,
               "queue_aware: fill the lookahead with arrivals expected at the measured rate, each with the "
               "head's SLO");
}

class QueueAwareChooser {
 public:
  QueueAwareChooser() = default;
  QueueAwareChooser(const LatencyTable& t, int lookahead, bool expected_arrivals);
  // The subnet for the head of ctx when SubGraph g is used; call once per decision (it measures the rate).
  int choose(const SchedContext& ctx, int g);
  // The extra time over the fastest run (`fast` ms) the head's run may take (exposed for tests).
  double allowance(const SchedContext& ctx, double fast, double rate_per_ms) const;

 private:
  double arrival_rate(const SchedContext& ctx);
  static constexpr size_t kRate = 32;
  std::vector<double> fast_ms_;
  int lookahead_ = 8;
  bool expected_ = true;
  int64_t calls_ = 0;
  double rate_t_[kRate] = {};
  int64_t rate_n_[kRate] = {};
};

// Helpers shared by the policies.
// A subnet named in a policy's parameters: min | median | max | an index into the table's subnets; "" when
// `text` is one of those forms, else what was expected (a schema check).
std::string check_subnet_param(const std::string& text);
// Resolves such a name against a table of `n` subnets; `where` (the YAML entry) names the key in errors.
int resolve_subnet_param(const YamlView& where, const std::string& key, const std::string& text, size_t n);
// The SubGraph whose source subnet is `subnet` (0 = none when there is none).
int subgraph_of_source(const LatencyTable& t, int subnet);
// Adaptive batching for policies that serve one subnet at a time (Clipper's rule): the largest batch the
// queue can fill whose latency still fits the head query's remaining SLO budget; batch 1 when none fits.
// Inline: it runs at every decision of the batching policies.
inline int batch_for(const LatencyTable& t, int subnet, const SchedContext& ctx, int subgraph) {
  int best = 0;
  const double budget = ctx.head->has_slo() ? ctx.head->deadline_ms() - ctx.now_ms : 1e300;
  for (size_t b = 1; b < t.num_batches(); ++b)
    if (size_t(t.batch_sizes[b]) <= ctx.queued &&
        t.at(size_t(subnet), size_t(subgraph), b).latency_ms <= budget)
      best = int(b);
  return best;
}

}  // namespace sushi
