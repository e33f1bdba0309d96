// SuperServe's SlackFit: bucket every (subnet, batch) by latency; serve the earliest-deadline query's slack
// with the slowest bucket that fits it, preferring the largest batch the queue can fill, then accuracy.
#include <algorithm>

#include "sched/policy.h"

namespace sushi {
namespace {

struct SlackFitParams : PolicyParams {
  int buckets;
};

const ParamSchema<SlackFitParams>& slackfit_params() {
  static const ParamSchema<SlackFitParams> s =
      policy_schema<SlackFitParams>("slackfit", "SuperServe's SlackFit")
          .integer("buckets", &SlackFitParams::buckets, 10, {1}, "",
                   "latency buckets over the table's (subnet, batch) latencies");
  return s;
}

class SlackFit : public PolicyWith<SlackFitParams, PolicyRole::Baseline> {
 public:
  explicit SlackFit(const YamlView& p) : PolicyWith(slackfit_params().parse(p)), buckets_(params_.buckets) {}
  void reset(const LatencyTable& t) override {
    lo_ = 1e300;
    hi_ = 0;
    for (size_t s = 0; s < t.num_subnets(); ++s)
      for (size_t b = 0; b < t.num_batches(); ++b) {
        lo_ = std::min(lo_, t.at(s, 0, b).latency_ms);
        hi_ = std::max(hi_, t.at(s, 0, b).latency_ms);
      }
  }
  Decision decide(const SchedContext& ctx) override {
    const LatencyTable& t = *ctx.table;
    const Query& head = *ctx.head;
    Decision d;
    d.subgraph_for_run = 0;
    if (!head.has_slo()) {
      d.subnet = choose_subnet(t, head, ctx.now_ms, 0);
      return d;
    }
    const double slack = head.deadline_ms() - ctx.now_ms;
    const double width = std::max(1e-9, (hi_ - lo_) / buckets_);
    // Slowest bucket whose upper edge fits the slack (bucket 0 when nothing fits).
    int k = 0;
    for (int b = buckets_ - 1; b >= 0; --b)
      if (lo_ + (b + 1) * width <= slack + 1e-9) {
        k = b;
        break;
      }
    for (; k >= 0; --k)
      if (best_in_bucket(t, k, width, slack, ctx.queued, d)) return d;
    d.subnet = choose_subnet(t, head, ctx.now_ms, 0);
    return d;
  }

 private:
  // The largest batch (then the most accurate subnet) in bucket k that the queue can fill; false when none.
  bool best_in_bucket(const LatencyTable& t, int k, double width, double slack, size_t queued,
                      Decision& d) const {
    int best_s = -1, best_b = -1;
    for (size_t s = 0; s < t.num_subnets(); ++s)
      for (size_t b = 0; b < t.num_batches(); ++b) {
        const double ms = t.at(s, 0, b).latency_ms;
        if (bucket_of(ms, width) != k || size_t(t.batch_sizes[b]) > std::max<size_t>(1, queued)) continue;
        if (ms > slack && k > 0) continue;
        if (best_s < 0 || t.batch_sizes[b] > t.batch_sizes[best_b] ||
            (t.batch_sizes[b] == t.batch_sizes[best_b] && t.accuracy[s] > t.accuracy[best_s])) {
          best_s = int(s);
          best_b = int(b);
        }
      }
    if (best_s < 0) return false;
    d.subnet = best_s;
    d.batch_index = best_b;
    return true;
  }
  int bucket_of(double ms, double width) const { return std::min(buckets_ - 1, int((ms - lo_) / width)); }

  int buckets_;
  double lo_ = 0, hi_ = 0;
};

SUSHI_REGISTER(
    Policy, "slackfit",
    policy_doc<SlackFit>("SuperServe's SlackFit: latency buckets sized to the head query's slack, batched"),
    [](const YamlView& p) { return std::make_unique<SlackFit>(p); }, &slackfit_params());

}  // namespace
}  // namespace sushi
