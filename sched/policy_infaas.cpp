// INFaaS-like (Romero et al., ATC'21), as a policy over one accelerator: a query gets the least accurate
// (cheapest) variant meeting its accuracy target; latency-constrained queries run on the currently loaded
// variant, which the policy upgrades (more accurate) when the measured utilisation is low and no query missed
// in the last interval, and downgrades (faster) when utilisation is high or queries missed: INFaaS's
// load-driven variant switching. A head the loaded variant cannot serve in time runs on the most accurate
// variant that fits (a switch). Switching to a variant other than the loaded one costs `switch_ms`. No PB.
#include <algorithm>

#include "sched/policy.h"

namespace sushi {
namespace {

struct InfaasParams : PolicyParams {
  int interval;
  double upgrade_below, downgrade_above, switch_ms;
};

const ParamSchema<InfaasParams>& infaas_params() {
  static const ParamSchema<InfaasParams> s =
      policy_schema<InfaasParams>("infaas",
                                  "INFaaS-like: cheapest variant meeting the needs, load-driven "
                                  "upgrades and downgrades")
          .integer("interval", &InfaasParams::interval, 64, {1}, "decisions",
                   "decisions between load checks (upgrade/downgrade)")
          .real("upgrade_below", &InfaasParams::upgrade_below, 0.5, {0, 1}, "",
                "upgrade when the measured utilisation was below this and nothing missed")
          .real("downgrade_above", &InfaasParams::downgrade_above, 0.85, {0, 1}, "",
                "downgrade when the measured utilisation was above this or a query missed")
          .real("switch_ms", &InfaasParams::switch_ms, 0, {0}, "ms",
                "accelerator time to load another variant (0: weight-shared subnets switch for free)");
  return s;
}

class Infaas : public PolicyWith<InfaasParams, PolicyRole::Baseline> {
 public:
  explicit Infaas(const YamlView& p) : PolicyWith(infaas_params().parse(p)) {}
  void reset(const LatencyTable& t) override {
    loaded_ = current_ = int(t.num_subnets()) - 1;  // start at the most accurate, downgrade under load
    decisions_ = 0;
    busy_ = 0;
    start_ = -1;
    missed_ = false;
  }
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    const Query& q = *ctx.head;
    Decision d;
    d.subgraph_for_run = 0;
    if (start_ < 0) start_ = ctx.now_ms;
    d.subnet = q.has_acc() ? cheapest_meeting(t, q, ctx.now_ms) : current_;
    if (q.has_slo() && t.at(size_t(d.subnet), 0).latency_ms > q.deadline_ms() - ctx.now_ms) {
      missed_ = true;
      int fit = -1;  // the most accurate variant that still fits (subnets are in accuracy order)
      for (size_t s = 0; s < t.num_subnets(); ++s)
        if (t.at(s, 0).latency_ms <= q.deadline_ms() - ctx.now_ms &&
            (!q.has_acc() || t.accuracy[s] >= q.acc_target))
          fit = int(s);
      if (fit >= 0) d.subnet = fit;
    }
    d.batch_index = batch_for(t, d.subnet, ctx, 0);
    if (d.subnet != loaded_) {
      d.setup_ms = params_.switch_ms;
      loaded_ = d.subnet;
    }
    busy_ += d.setup_ms + t.at(size_t(d.subnet), 0, size_t(d.batch_index)).latency_ms;
    if (++decisions_ % params_.interval == 0) adapt(t, ctx.now_ms);
    return d;
  }

 private:
  // INFaaS's vertical scaling: one step per interval, on the measured utilisation and misses.
  void adapt(const LatencyTable& t, double now) {
    const double util = now > start_ ? busy_ / (now - start_) : 1;
    if ((util > params_.downgrade_above || missed_) && current_ > 0)
      --current_;
    else if (util < params_.upgrade_below && !missed_ && current_ + 1 < int(t.num_subnets()))
      ++current_;
    busy_ = 0;
    start_ = now;
    missed_ = false;
  }
  int cheapest_meeting(const LatencyTable& t, const Query& q, double now) const {
    int best = -1;
    for (size_t s = 0; s < t.num_subnets(); ++s) {
      if (t.accuracy[s] < q.acc_target) continue;
      if (best < 0 || t.accuracy[s] < t.accuracy[size_t(best)]) best = int(s);
    }
    return best >= 0 ? best : choose_subnet(t, q, now, 0);
  }

  int loaded_ = 0, current_ = 0;
  int64_t decisions_ = 0;
  double busy_ = 0, start_ = -1;
  bool missed_ = false;
};

SUSHI_REGISTER(
    Policy, "infaas",
    policy_doc<Infaas>("INFaaS-like: cheapest variant meeting the target; the loaded variant is upgraded "
                       "under low load and downgraded under high load or misses, no PB"),
    [](const YamlView& p) { return std::make_unique<Infaas>(p); }, &infaas_params());

}  // namespace
}  // namespace sushi
