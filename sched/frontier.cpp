#include "sched/frontier.h"

#include <algorithm>
#include <cmath>

namespace sushi {

FrontierGain frontier_gain(std::vector<std::pair<double, double>> points, double attainment,
                           double accuracy) {
  FrontierGain g{NAN, NAN};
  points.erase(
      std::remove_if(points.begin(), points.end(),
                     [](const auto& p) { return !std::isfinite(p.first) || !std::isfinite(p.second); }),
      points.end());
  if (points.empty()) return g;
  // Pareto front: by attainment ascending, keep a point only if it is more accurate than every point of
  // higher attainment (scan from the right).
  std::sort(points.begin(), points.end());
  std::vector<std::pair<double, double>> front;
  for (size_t i = points.size(); i-- > 0;)
    if (front.empty() || points[i].second > front.back().second) front.push_back(points[i]);
  std::reverse(front.begin(), front.end());  // attainment up, accuracy down
  auto lerp = [](double x, double x0, double x1, double y0, double y1) {
    return x1 == x0 ? std::max(y0, y1) : y0 + (x - x0) / (x1 - x0) * (y1 - y0);
  };
  for (size_t i = 0; i < front.size(); ++i) {
    const double a0 = front[i].first, a1 = i + 1 < front.size() ? front[i + 1].first : a0;
    if (attainment >= a0 - 1e-12 && attainment <= a1 + 1e-12) {
      g.accuracy_gain_pp = accuracy - lerp(attainment, a0, a1, front[i].second,
                                           i + 1 < front.size() ? front[i + 1].second : front[i].second);
      break;
    }
  }
  // Attainment of the frontier at that accuracy (accuracy falls as attainment rises).
  for (size_t i = 0; i < front.size(); ++i) {
    const double y0 = front[i].second, y1 = i + 1 < front.size() ? front[i + 1].second : y0;
    if (accuracy <= y0 + 1e-12 && accuracy >= y1 - 1e-12) {
      const double a =
          lerp(accuracy, y0, y1, front[i].first, i + 1 < front.size() ? front[i + 1].first : front[i].first);
      if (a > 0) g.attainment_ratio = attainment / a;
      break;
    }
  }
  return g;
}

}  // namespace sushi
