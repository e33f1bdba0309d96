#include "sched/frontier.h"

#include <algorithm>
#include <cmath>

namespace sushi {

FrontierGain frontier_gain(std::vector<std::pair<double, double>> pts, double att, double acc) {
  FrontierGain g{NAN, NAN};
  pts.erase(std::remove_if(pts.begin(), pts.end(),
                           [](const auto& p) { return !std::isfinite(p.first) || !std::isfinite(p.second); }),
            pts.end());
  if (pts.empty()) return g;
  // Pareto front: by attainment ascending, keep a point only if it is more accurate than every point of
  // higher attainment (scan from the right).
  std::sort(pts.begin(), pts.end());
  std::vector<std::pair<double, double>> front;
  for (size_t i = pts.size(); i-- > 0;)
    if (front.empty() || pts[i].second > front.back().second) front.push_back(pts[i]);
  std::reverse(front.begin(), front.end());  // attainment up, accuracy down
  auto lerp = [](double x, double x0, double x1, double y0, double y1) {
    return x1 == x0 ? std::max(y0, y1) : y0 + (x - x0) / (x1 - x0) * (y1 - y0);
  };
  for (size_t i = 0; i < front.size(); ++i) {
    const double a0 = front[i].first, a1 = i + 1 < front.size() ? front[i + 1].first : a0;
    if (att >= a0 - 1e-12 && att <= a1 + 1e-12) {
      g.accuracy_gain_pp = acc - lerp(att, a0, a1, front[i].second,
                                      i + 1 < front.size() ? front[i + 1].second : front[i].second);
      break;
    }
  }
  // Attainment of the frontier at accuracy acc (accuracy falls as attainment rises).
  for (size_t i = 0; i < front.size(); ++i) {
    const double y0 = front[i].second, y1 = i + 1 < front.size() ? front[i + 1].second : y0;
    if (acc <= y0 + 1e-12 && acc >= y1 - 1e-12) {
      const double a =
          lerp(acc, y0, y1, front[i].first, i + 1 < front.size() ? front[i + 1].first : front[i].first);
      if (a > 0) g.attainment_ratio = att / a;
      break;
    }
  }
  return g;
}

}  // namespace sushi
