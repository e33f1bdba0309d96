#include "sched/policy.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/errors.h"

namespace sushi {

namespace {
std::map<std::string, PolicyFactory>& registry() {
  static std::map<std::string, PolicyFactory> r;
  return r;
}
}  // namespace

bool register_policy(const std::string& impl, PolicyFactory factory) {
  registry()[impl] = std::move(factory);
  return true;
}

std::vector<std::string> policy_names() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

void register_builtin_policies();

std::unique_ptr<Policy> make_policy(const YamlView& params) {
  register_builtin_policies();
  const std::string impl = params.get<std::string>("impl");
  auto it = registry().find(impl);
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
    params.at("impl").fail("unknown policy '" + impl + "' (expected one of: " + known + ")");
  }
  return it->second(params);
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

}  // namespace sushi
