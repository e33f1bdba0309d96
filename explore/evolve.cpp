// Evolutionary search over the axes (search: evolutionary), a small elitist multi-objective genetic
// algorithm on the sweep's grid, every draw from the portable RNG seeded by `seed`:
//
// 1. Generation 0: `population` distinct grid points drawn without replacement (as search: random).
// 2. Rank every point evaluated so far by non-dominated sorting on `objectives` (rank 0 = the Pareto front,
//    rank 1 = the front once rank 0 is removed, ...); skipped points (constraints, invalid configs) rank
//    last. The best `population` points (rank, then order of evaluation) are the parents.
// 3. Each child: two binary tournaments among the parents (two drawn at random, the better wins), uniform
//    crossover (each axis from either parent with probability 1/2), then each axis mutated to a uniformly
//    drawn value with probability 1/(number of axes). A child already evaluated is redrawn (at most 20
//    tries per child), so each generation adds up to `population` new points.
// 4. Repeat 2-3 until `generations` generations have run.
// The sequence of points depends only on the seed and the results, so it is the same at any -j.
#include <algorithm>
#include <cmath>

#include "base/random.h"
#include "explore/pareto.h"
#include "explore/sweep.h"

namespace sushi::explore {
namespace {

// Non-dominated rank of each row; rows with a non-finite objective get the rank after the last front.
std::vector<size_t> ranks(const std::vector<std::vector<double>>& objectives,
                          const std::vector<bool>& maximize) {
  const size_t unranked = ~size_t(0);
  std::vector<size_t> rank(objectives.size(), unranked);
  std::vector<size_t> remaining;
  for (size_t i = 0; i < objectives.size(); ++i) remaining.push_back(i);
  for (size_t r = 0; !remaining.empty(); ++r) {
    std::vector<std::vector<double>> sub;
    for (size_t i : remaining) sub.push_back(objectives[i]);
    const std::vector<size_t> front = pareto_front(sub, maximize);
    if (front.empty()) {
      for (size_t i : remaining) rank[i] = r;
      break;
    }
    for (size_t f : front) rank[remaining[f]] = r;
    std::vector<size_t> next;
    for (size_t i : remaining)
      if (rank[i] == unranked) next.push_back(i);
    remaining = std::move(next);
  }
  return rank;
}

}  // namespace

std::vector<size_t> next_generation(const SweepSpec& spec, const std::vector<size_t>& evaluated,
                                    const std::vector<std::vector<double>>& objectives, Rng& rng,
                                    std::set<size_t>& seen) {
  std::vector<bool> maximize;
  for (const std::string& o : spec.objectives)
    maximize.push_back(std::find(spec.maximize.begin(), spec.maximize.end(), o) != spec.maximize.end());
  const std::vector<size_t> rank = ranks(objectives, maximize);
  std::vector<size_t> order(evaluated.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rank[a] < rank[b]; });
  order.resize(std::min(order.size(), size_t(spec.population)));  // parents, best first
  if (order.empty()) return {};
  auto tournament = [&]() {
    const size_t a = size_t(rng.uniform_int(uint64_t(order.size())));
    const size_t b = size_t(rng.uniform_int(uint64_t(order.size())));
    return evaluated[order[std::min(a, b)]];  // `order` is sorted best first
  };
  const size_t axes = spec.axes.size();
  std::vector<size_t> children;
  for (int64_t c = 0; c < spec.population; ++c)
    for (int attempt = 0; attempt < 20; ++attempt) {
      const std::vector<size_t> pa = grid_digits(spec, tournament()), pb = grid_digits(spec, tournament());
      std::vector<size_t> child(axes);
      for (size_t k = 0; k < axes; ++k) {
        child[k] = rng.uniform_int(uint64_t(2)) ? pa[k] : pb[k];
        if (rng.uniform() * double(axes) < 1.0)
          child[k] = size_t(rng.uniform_int(uint64_t(spec.axes[k].values.size())));
      }
      const size_t index = grid_index(spec, child);
      if (seen.insert(index).second) {
        children.push_back(index);
        break;
      }
    }
  return children;
}

}  // namespace sushi::explore
