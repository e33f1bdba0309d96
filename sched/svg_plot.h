#pragma once
// A small SVG chart writer (lines, step lines and points with axes, ticks and a legend): the plots that
// `sushi serve` writes beside its JSON and CSV, with no plotting dependency.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace sushi {

// Series are told apart by colour, line dash and marker shape (all three follow the series index, so a
// black-and-white print still separates them); the legend shows each series' dash and marker.
struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;
  enum class Style { Line, Step, Points } style = Style::Line;
  std::vector<double> y_err{};              // optional: +- error bar per point (e.g. a 95% CI)
  std::vector<std::string> point_labels{};  // optional: a text label beside each point
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::string footnote;  // provenance line under the chart
  bool y_from_zero = false;
  std::vector<std::pair<double, std::string>> x_markers{};  // labelled vertical reference lines (e.g. SLOs)
  double y_min = NAN, y_max = NAN;
  double x_min = NAN,
         x_max = NAN;  // fixed x range when given                          // fixed y range when given
};

std::string render_svg(const PlotSpec& spec, const std::vector<PlotSeries>& series);

}  // namespace sushi
