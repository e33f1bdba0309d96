// Clipper-like: one subnet for every query, adaptively batched; its own weights (cut to the PB) stay cached
// when `cache` is on.
#include "sched/policy.h"

namespace sushi {
namespace {

struct FixedSubnetParams : PolicyParams {
  std::string subnet;
  bool cache;
};

const ParamSchema<FixedSubnetParams>& fixed_subnet_params() {
  static const ParamSchema<FixedSubnetParams> s =
      policy_schema<FixedSubnetParams>("fixed_subnet", "one subnet for every query")
          .string("subnet", &FixedSubnetParams::subnet, "median",
                  "the subnet served: min | median | max | a Pareto subnet index")
          .boolean("cache", &FixedSubnetParams::cache, true, "keep the subnet's own weights in the PB")
          .check("subnet", [](const FixedSubnetParams& p) { return check_subnet_param(p.subnet); });
  return s;
}

class FixedSubnet : public PolicyWith<FixedSubnetParams, PolicyRole::Fixed> {
 public:
  explicit FixedSubnet(const YamlView& p) : PolicyWith(fixed_subnet_params().parse(p)), where_(p) {}
  void reset(const LatencyTable& t) override {
    subnet_ = resolve_subnet_param(where_, "subnet", params_.subnet, t.num_subnets());
  }
  int initial_subgraph(const LatencyTable& t) const override {
    return params_.cache ? subgraph_of_source(t, subnet_) : -1;
  }
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = subnet_;
    d.batch_index = batch_for(*ctx.table, subnet_, ctx, ctx.cached_subgraph);
    return d;
  }

 private:
  YamlView where_;
  int subnet_ = 0;
};

SUSHI_REGISTER(
    Policy, "fixed_subnet",
    policy_doc<FixedSubnet>("Clipper-like: one subnet for every query, adaptive batching"),
    [](const YamlView& p) { return std::make_unique<FixedSubnet>(p); }, &fixed_subnet_params());

}  // namespace
}  // namespace sushi
