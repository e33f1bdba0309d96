#pragma once
// A small SVG chart writer (lines, step lines and points with axes, ticks and a legend): the plots that
// `sushi serve` writes beside its JSON and CSV, with no plotting dependency.
#include <string>
#include <utility>
#include <vector>

namespace sushi {

struct PlotSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;
  enum class Style { Line, Step, Points } style = Style::Line;
};

struct PlotSpec {
  std::string title, x_label, y_label;
  std::string footnote;  // provenance line under the chart
  bool y_from_zero = false;
};

std::string render_svg(const PlotSpec& spec, const std::vector<PlotSeries>& series);

}  // namespace sushi
