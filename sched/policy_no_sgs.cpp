// The same accelerator with the Persistent Buffer disabled; SushiSched's subnet choice rule.
#include "sched/policy.h"

namespace sushi {
namespace {

const ParamSchema<RuleParams>& no_sgs_params() {
  static ParamSchema<RuleParams> s =
      policy_schema<RuleParams>("no_sgs", "no SubGraph-Stationary: the PB stays empty");
  static const bool once = (add_rule_params(s), true);
  (void)once;
  return s;
}

class NoSgs : public PolicyWith<RuleParams, PolicyRole::Baseline> {
 public:
  explicit NoSgs(const YamlView& p) : PolicyWith(no_sgs_params().parse(p)) {}
  void reset(const LatencyTable& t) override {
    chooser_ = QueueAwareChooser(t, params_.lookahead, params_.expected_arrivals);
  }
  const char* rule() const override { return to_string(params_.rule); }
  int lookahead() const override { return params_.rule == Rule::QueueAware ? params_.lookahead : 0; }
  Decision decide(const SchedContext& ctx) override {
    Decision d;
    d.subnet = params_.rule == Rule::QueueAware ? chooser_.choose(ctx, 0)
                                                : choose_subnet(*ctx.table, *ctx.head, ctx.now_ms, 0);
    d.subgraph_for_run = 0;
    return d;
  }

 private:
  QueueAwareChooser chooser_;
};

SUSHI_REGISTER(
    Policy, "no_sgs",
    policy_doc<NoSgs>("the headline's reference: SushiSched's subnet choice with the PB disabled"),
    [](const YamlView& p) { return std::make_unique<NoSgs>(p); }, &no_sgs_params());

}  // namespace
}  // namespace sushi
