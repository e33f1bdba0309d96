#include "sched/policy.h"

#include <algorithm>
#include <cmath>

#include "base/errors.h"

namespace sushi {

const char* to_string(PolicyRole role) {
  switch (role) {
    case PolicyRole::Baseline:
      return "baseline";
    case PolicyRole::Sgs:
      return "sgs";
    case PolicyRole::Fixed:
      return "fixed";
  }
  return "?";
}

std::unique_ptr<Policy> make_policy(const YamlView& params) {
  if (!params.is_map()) params.fail("expected a mapping with impl: (a policy)");
  const YamlView impl = params.at("impl");
  return Registry<Policy>::get(impl.as<std::string>(), impl.where())(params);
}

std::string check_subnet_param(const std::string& text) {
  if (text == "min" || text == "max" || text == "median") return "";
  size_t used = 0;
  try {
    std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    return "expected min, median, max or a subnet index, got '" + text + "'";
  return "";
}

int resolve_subnet_param(const YamlView& where, const std::string& key, const std::string& text, size_t n) {
  int idx = 0;
  if (text == "min")
    idx = 0;
  else if (text == "max")
    idx = int(n) - 1;
  else if (text == "median")
    idx = int(n) / 2;
  else
    idx = std::stoi(text);  // the schema checked the form
  if (idx < 0 || size_t(idx) >= n)
    where.at(key).fail("subnet index " + std::to_string(idx) + " out of range (table has " +
                       std::to_string(n) + " subnets)");
  return idx;
}

int subgraph_of_source(const LatencyTable& t, int subnet) {
  for (size_t g = 0; g < t.num_subgraphs(); ++g)
    if (t.subgraph_source[g] == subnet) return int(g);
  return 0;
}

int choose_subnet(const LatencyTable& t, const Query& q, double now_ms, int g) {
  const size_t n = t.num_subnets();
  const double budget = q.has_slo() ? q.deadline_ms() - now_ms : 0;
  int best = -1;
  if (q.has_slo()) {
    // Most accurate subnet that fits the remaining budget (and the accuracy target, when there is one).
    for (int pass = 0; pass < 2 && best < 0; ++pass) {
      for (size_t s = 0; s < n; ++s) {
        if (t.at(s, g).latency_ms > budget) continue;
        if (pass == 0 && q.has_acc() && t.accuracy[s] < q.acc_target) continue;
        if (best < 0 || t.accuracy[s] > t.accuracy[best] ||
            (t.accuracy[s] == t.accuracy[best] && t.at(s, g).latency_ms < t.at(best, g).latency_ms))
          best = int(s);
      }
      if (!q.has_acc()) break;
    }
    if (best >= 0) return best;
    // Nothing fits: the fastest subnet limits the miss.
    for (size_t s = 0; s < n; ++s)
      if (best < 0 || t.at(s, g).latency_ms < t.at(best, g).latency_ms) best = int(s);
    return best;
  }
  if (q.has_acc()) {
    for (size_t s = 0; s < n; ++s) {
      if (t.accuracy[s] < q.acc_target) continue;
      if (best < 0 || t.at(s, g).latency_ms < t.at(best, g).latency_ms ||
          (t.at(s, g).latency_ms == t.at(best, g).latency_ms && t.accuracy[s] > t.accuracy[best]))
        best = int(s);
    }
    if (best >= 0) return best;
  }
  // No constraint met (or none given): the most accurate subnet.
  for (size_t s = 0; s < n; ++s)
    if (best < 0 || t.accuracy[s] > t.accuracy[best]) best = int(s);
  return best;
}

const char* to_string(Rule r) {
  return r == Rule::Paper ? "paper" : "queue_aware";
}

QueueAwareChooser::QueueAwareChooser(const LatencyTable& t, int lookahead, bool expected_arrivals)
    : lookahead_(lookahead), expected_(expected_arrivals) {
  fast_ms_.assign(t.num_subgraphs(), 1e300);
  for (size_t g = 0; g < t.num_subgraphs(); ++g)
    for (size_t s = 0; s < t.num_subnets(); ++s) fast_ms_[g] = std::min(fast_ms_[g], t.at(s, g).latency_ms);
}

// Arrivals per ms over the last kRate decisions (0 until there are that many).
double QueueAwareChooser::arrival_rate(const SchedContext& ctx) {
  const size_t i = size_t(calls_) % kRate;
  const double dt = ctx.now_ms - rate_t_[i];
  const double rate = calls_ >= int64_t(kRate) && dt > 0 ? double(ctx.arrived - rate_n_[i]) / dt : 0;
  rate_t_[i] = ctx.now_ms;
  rate_n_[i] = ctx.arrived;
  ++calls_;
  return rate;
}

double QueueAwareChooser::allowance(const SchedContext& ctx, double fast, double rate) const {
  double end = ctx.now_ms + fast, idle = 0, allow = 1e300;
  for (size_t j = 0; j < ctx.behind; ++j) {
    end += fast;
    const double dl = ctx.behind_deadline[j];
    if (dl < 1e299 && dl + 1e-9 >= end) allow = std::min(allow, dl - end + idle);
  }
  if (!expected_ || rate <= 0 || !ctx.head->has_slo()) return allow;
  double arrival = ctx.now_ms;
  for (int m = int(ctx.behind); m < lookahead_; ++m) {
    arrival += 1 / rate;
    if (arrival > end) idle += arrival - end, end = arrival;
    end += fast;
    const double dl = arrival + ctx.head->slo_ms;
    if (dl + 1e-9 >= end) allow = std::min(allow, dl - end + idle);
  }
  return allow;
}

int QueueAwareChooser::choose(const SchedContext& ctx, int g) {
  const LatencyTable& t = *ctx.table;
  const Query& q = *ctx.head;
  const double rate = arrival_rate(ctx);
  if (!q.has_slo() || q.has_acc()) return choose_subnet(t, q, ctx.now_ms, g);
  const double fast = fast_ms_[size_t(g)];
  const double limit = std::min(q.deadline_ms() - ctx.now_ms, fast + allowance(ctx, fast, rate));
  int best = -1;
  for (size_t s = 0; s < t.num_subnets(); ++s) {
    const double ms = t.at(s, size_t(g)).latency_ms;
    if (ms > limit + 1e-12) continue;
    if (best < 0 || t.accuracy[s] > t.accuracy[size_t(best)] ||
        (t.accuracy[s] == t.accuracy[size_t(best)] && ms < t.at(size_t(best), size_t(g)).latency_ms))
      best = int(s);
  }
  return best >= 0 ? best : choose_subnet(t, q, ctx.now_ms, g);
}

}  // namespace sushi
