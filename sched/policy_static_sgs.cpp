// A SubGraph fixed at start and never changed; SushiSched's subnet choice under it.
#include "sched/policy.h"

namespace sushi {
namespace {

struct StaticSgsParams : PolicyParams {
  std::string subgraph_of;
};

const ParamSchema<StaticSgsParams>& static_sgs_params() {
  static const ParamSchema<StaticSgsParams> s =
      policy_schema<StaticSgsParams>("static_sgs", "a static SubGraph in the PB")
          .string("subgraph_of", &StaticSgsParams::subgraph_of, "median",
                  "whose weights stay in the PB: min | median | max | a Pareto subnet index")
          .check("subgraph_of", [](const StaticSgsParams& p) { return check_subnet_param(p.subgraph_of); });
  return s;
}

class StaticSgs : public PolicyWith<StaticSgsParams, PolicyRole::Baseline> {
 public:
  explicit StaticSgs(const YamlView& p) : PolicyWith(static_sgs_params().parse(p)), where_(p) {}
  void reset(const LatencyTable& t) override {
    subgraph_ = subgraph_of_source(
        t, resolve_subnet_param(where_, "subgraph_of", params_.subgraph_of, t.num_subnets()));
  }
  int initial_subgraph(const LatencyTable&) const override { return subgraph_; }
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = choose_subnet(*ctx.table, *ctx.head, ctx.now_ms, ctx.cached_subgraph);
    return d;
  }

 private:
  YamlView where_;
  int subgraph_ = 0;
};

SUSHI_REGISTER(
    Policy, "static_sgs",
    policy_doc<StaticSgs>("one SubGraph loaded at start and never changed; SushiSched's subnet choice"),
    [](const YamlView& p) { return std::make_unique<StaticSgs>(p); }, &static_sgs_params());

}  // namespace
}  // namespace sushi
