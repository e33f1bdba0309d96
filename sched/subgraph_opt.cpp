#include "sched/subgraph_opt.h"

#include <algorithm>
#include <cmath>

#include "sim/accel.h"

namespace sushi {

double mck_value(const std::vector<KnapsackGroup>& groups, const std::vector<int>& choice) {
  double v = 0;
  for (size_t g = 0; g < groups.size(); ++g)
    if (choice[g] >= 0) v += groups[g].value[size_t(choice[g])];
  return v;
}

int64_t mck_bytes(const std::vector<KnapsackGroup>& groups, const std::vector<int>& choice) {
  int64_t b = 0;
  for (size_t g = 0; g < groups.size(); ++g)
    if (choice[g] >= 0) b += groups[g].bytes[size_t(choice[g])];
  return b;
}

std::vector<int> solve_mck(const std::vector<KnapsackGroup>& groups, int64_t capacity, int64_t unit) {
  unit = std::max<int64_t>(1, unit);
  const size_t C = size_t(std::max<int64_t>(0, capacity / unit));
  std::vector<double> dp(C + 1, 0.0), next(C + 1);
  std::vector<std::vector<int16_t>> pick(groups.size(), std::vector<int16_t>(C + 1, -1));
  for (size_t g = 0; g < groups.size(); ++g) {
    next = dp;  // option "none"
    for (size_t o = 0; o < groups[g].bytes.size(); ++o) {
      const double v = groups[g].value[o];
      if (!(v > 0)) continue;
      const int64_t w = (groups[g].bytes[o] + unit - 1) / unit;
      if (w < 0 || size_t(w) > C) continue;
      for (size_t c = size_t(w); c <= C; ++c)
        if (dp[c - size_t(w)] + v > next[c] + 1e-15) {
          next[c] = dp[c - size_t(w)] + v;
          pick[g][c] = int16_t(o);
        }
    }
    std::swap(dp, next);
  }
  std::vector<int> choice(groups.size(), -1);
  size_t c = C;
  for (size_t g = groups.size(); g-- > 0;) {
    const int o = pick[g][c];
    choice[g] = o;
    if (o >= 0) c -= size_t((groups[g].bytes[size_t(o)] + unit - 1) / unit);
  }
  return choice;
}

std::vector<int> brute_force_mck(const std::vector<KnapsackGroup>& groups, int64_t capacity) {
  std::vector<int> cur(groups.size(), -1), best = cur;
  double best_v = 0;
  while (true) {
    if (mck_bytes(groups, cur) <= capacity && mck_value(groups, cur) > best_v + 1e-12) {
      best_v = mck_value(groups, cur);
      best = cur;
    }
    size_t g = 0;  // next combination: an odometer over -1..options-1
    while (g < groups.size() && ++cur[g] == int(groups[g].bytes.size())) cur[g++] = -1;
    if (g == groups.size()) break;
  }
  return best;
}

double SavingModel::saved_ms(size_t subnet, size_t tensor, int64_t hit_bytes) const {
  return std::min(exposed_ms[subnet][tensor], double(hit_bytes) * ms_per_byte);
}

SavingModel saving_model(const sim::AccelConfig& accel, const SupernetSpace& space,
                         const std::vector<Subnet>& subnets) {
  SavingModel m;
  const double ms_per_cycle = 1.0 / (accel.clock_mhz * 1e3);
  const int64_t probe = int64_t(1) << 20;
  m.ms_per_byte = double(accel.dram_data_cycles(probe, sim::Stream::Weights)) * ms_per_cycle / double(probe);
  const SubGraph none = space.empty_subgraph();
  for (const Subnet& s : subnets) {
    m.reads.push_back(space.subgraph(s));
    std::vector<double> exposed(none.slices.size(), 0.0);
    const sim::RunResult r = sim::simulate(accel, space, s, none, "analytic");
    const std::vector<Layer> layers = space.layers(s);
    for (size_t l = 0; l < layers.size() && l < r.layers.size(); ++l)
      if (layers[l].has_weights())
        exposed[size_t(layers[l].slice.tensor)] += double(r.layers[l].weight_wait_cycles) * ms_per_cycle;
    m.exposed_ms.push_back(exposed);
  }
  return m;
}

namespace {

WeightSlice union_slice(const WeightSlice& a, const WeightSlice& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  WeightSlice u = a;
  u.out = std::max(a.out, b.out);
  u.in = std::max(a.in, b.in);
  u.k = std::max(a.k, b.k);
  u.has_bias = a.has_bias || b.has_bias;
  return u;
}

bool same(const WeightSlice& a, const WeightSlice& b) {
  return a.out == b.out && a.in == b.in && a.k == b.k && a.has_bias == b.has_bias;
}

}  // namespace

SubGraph optimise_subgraph(const SavingModel& m, const std::vector<double>& weights, int64_t pb_bytes,
                           int64_t unit) {
  const size_t T = m.reads.empty() ? 0 : m.reads[0].slices.size();
  std::vector<KnapsackGroup> groups(T);
  std::vector<std::vector<WeightSlice>> options(T);
  for (size_t t = 0; t < T; ++t) {
    std::vector<WeightSlice>& opts = options[t];
    WeightSlice uni, core;
    bool first = true;
    for (size_t s = 0; s < m.reads.size(); ++s) {
      if (weights[s] <= 0) continue;
      const WeightSlice& r = m.reads[s].slices[t];
      uni = union_slice(uni, r);
      core = first ? r : intersect(core, r);
      first = false;
      if (!r.empty() &&
          std::none_of(opts.begin(), opts.end(), [&](const WeightSlice& o) { return same(o, r); }))
        opts.push_back(r);
    }
    for (const WeightSlice& extra : {uni, core})
      if (!extra.empty() &&
          std::none_of(opts.begin(), opts.end(), [&](const WeightSlice& o) { return same(o, extra); }))
        opts.push_back(extra);
    for (const WeightSlice& o : opts) {
      double v = 0;
      for (size_t s = 0; s < m.reads.size(); ++s)
        if (weights[s] > 0) v += weights[s] * m.saved_ms(s, t, intersect(o, m.reads[s].slices[t]).bytes());
      groups[t].bytes.push_back(o.bytes());
      groups[t].value.push_back(v);
    }
  }
  const std::vector<int> choice = solve_mck(groups, pb_bytes, unit);
  SubGraph g;
  g.slices.resize(T);
  for (size_t t = 0; t < T; ++t)
    if (choice[t] >= 0) g.slices[t] = options[t][size_t(choice[t])];
  return g;
}

}  // namespace sushi
