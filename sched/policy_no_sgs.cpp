// The same accelerator with the Persistent Buffer disabled; SushiSched's subnet choice rule.
#include "sched/policy.h"

namespace sushi {
namespace {

const ParamSchema<PolicyParams>& no_sgs_params() {
  static const ParamSchema<PolicyParams> s =
      policy_schema<PolicyParams>("no_sgs", "no SubGraph-Stationary: the PB stays empty");
  return s;
}

class NoSgs : public PolicyWith<PolicyParams, PolicyRole::Baseline> {
 public:
  explicit NoSgs(const YamlView& p) : PolicyWith(no_sgs_params().parse(p)) {}
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = choose_subnet(*ctx.table, *ctx.head, ctx.now_ms, 0);
    d.subgraph_for_run = 0;
    return d;
  }
};

SUSHI_REGISTER(
    Policy, "no_sgs",
    policy_doc<NoSgs>("the headline's reference: SushiSched's subnet choice with the PB disabled"),
    [](const YamlView& p) { return std::make_unique<NoSgs>(p); }, &no_sgs_params());

}  // namespace
}  // namespace sushi
