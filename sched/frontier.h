#pragma once
// SuperServe's two headline comparisons, read off the fixed-subnet (Clipper-like) frontier: the points
// (SLO attainment, served accuracy) of every fixed subnet, reduced to their Pareto front (no point both
// more attained and more accurate) and joined by straight lines. For a policy at (a, acc):
// accuracy at equal attainment = acc - frontier accuracy at attainment a; attainment at equal accuracy =
// a / frontier attainment at accuracy acc. NaN when the policy lies outside the frontier's span (no fixed
// subnet reaches that attainment or that accuracy).
#include <utility>
#include <vector>

namespace sushi {

struct FrontierGain {
  double accuracy_gain_pp = 0;  // at equal SLO attainment
  double attainment_ratio = 0;  // at equal accuracy
};

// points: (attainment, accuracy) of the fixed subnets.
FrontierGain frontier_gain(std::vector<std::pair<double, double>> points, double attainment, double accuracy);

}  // namespace sushi
