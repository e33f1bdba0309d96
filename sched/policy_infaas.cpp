// INFaaS-like: the least accurate (cheapest) subnet that meets the query's requirements; no PB.
#include "sched/policy.h"

namespace sushi {
namespace {

const ParamSchema<PolicyParams>& infaas_params() {
  static const ParamSchema<PolicyParams> s =
      policy_schema<PolicyParams>("infaas", "INFaaS-like: the cheapest subnet meeting the query's needs");
  return s;
}

class Infaas : public PolicyWith<PolicyParams, PolicyRole::Baseline> {
 public:
  explicit Infaas(const YamlView& p) : PolicyWith(infaas_params().parse(p)) {}
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    const Query& q = *ctx.head;
    Decision d;
    d.subgraph_for_run = 0;
    int best = -1;
    for (size_t s = 0; s < t.num_subnets(); ++s) {
      if (q.has_acc() && t.accuracy[s] < q.acc_target) continue;
      if (q.has_slo() && t.at(s, 0).latency_ms > q.deadline_ms() - ctx.now_ms) continue;
      if (best < 0 || t.accuracy[s] < t.accuracy[best]) best = int(s);
    }
    d.subnet = best >= 0 ? best : choose_subnet(t, q, ctx.now_ms, 0);
    d.batch_index = batch_for(t, d.subnet, ctx, 0);
    return d;
  }
};

SUSHI_REGISTER(
    Policy, "infaas",
    policy_doc<Infaas>("INFaaS-like: the least accurate subnet meeting the SLO and target, no PB"),
    [](const YamlView& p) { return std::make_unique<Infaas>(p); }, &infaas_params());

}  // namespace
}  // namespace sushi
