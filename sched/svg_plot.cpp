#include "sched/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace sushi {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

// "Nice" tick spacing: 1, 2 or 5 times a power of ten, about n ticks over [lo, hi].
double tick_step(double lo, double hi, int n) {
  const double raw = (hi - lo) / std::max(1, n);
  const double p = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return b;
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#17becf"};

}  // namespace

std::string render_svg(const PlotSpec& spec, const std::vector<PlotSeries>& series) {
  const double W = 900, H = 460, L = 70, R = 300, T = 40, B = 70;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (spec.y_from_zero) y0 = std::min(0.0, y0);
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.04 * (y1 - y0);
  y1 += pad;
  if (!spec.y_from_zero) y0 -= pad;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << L << "\" y=\"22\" font-size=\"15\">" << esc(spec.title) << "</text>\n";
  // Axes, grid and ticks.
  const double xs = tick_step(x0, x1, 6), ys = tick_step(y0, y1, 6);
  for (double x = std::ceil(x0 / xs) * xs; x <= x1 + 1e-9 * xs; x += xs)
    o << "<line x1=\"" << px(x) << "\" y1=\"" << T << "\" x2=\"" << px(x) << "\" y2=\"" << H - B
      << "\" stroke=\"#eee\"/>"
      << "<text x=\"" << px(x) << "\" y=\"" << H - B + 16 << "\" text-anchor=\"middle\">" << fmt(x)
      << "</text>\n";
  for (double y = std::ceil(y0 / ys) * ys; y <= y1 + 1e-9 * ys; y += ys)
    o << "<line x1=\"" << L << "\" y1=\"" << py(y) << "\" x2=\"" << W - R << "\" y2=\"" << py(y)
      << "\" stroke=\"#eee\"/>"
      << "<text x=\"" << L - 6 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">" << fmt(y)
      << "</text>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"none\" stroke=\"black\"/>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - B + 36 << "\" text-anchor=\"middle\">"
    << esc(spec.x_label) << "</text>\n";
  o << "<text transform=\"translate(18," << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << esc(spec.y_label) << "</text>\n";
  // Series.
  for (size_t i = 0; i < series.size(); ++i) {
    const PlotSeries& s = series[i];
    const char* color = kColors[i % (sizeof kColors / sizeof *kColors)];
    if (s.style == PlotSeries::Style::Points) {
      for (const auto& [x, y] : s.points)
        if (std::isfinite(x) && std::isfinite(y))
          o << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"4\" fill=\"" << color << "\"/>\n";
    } else if (!s.points.empty()) {
      o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.6\" points=\"";
      for (size_t k = 0; k < s.points.size(); ++k) {
        const auto& [x, y] = s.points[k];
        if (s.style == PlotSeries::Style::Step && k > 0)
          o << px(x) << "," << py(s.points[k - 1].second) << " ";
        o << px(x) << "," << py(y) << " ";
      }
      o << "\"/>\n";
    }
    const double ly = T + 14 + 18 * double(i);
    o << "<rect x=\"" << W - R + 12 << "\" y=\"" << ly - 9 << "\" width=\"14\" height=\"10\" fill=\"" << color
      << "\"/>"
      << "<text x=\"" << W - R + 32 << "\" y=\"" << ly << "\">" << esc(s.label) << "</text>\n";
  }
  if (!spec.footnote.empty())
    o << "<text x=\"8\" y=\"" << H - 8 << "\" font-size=\"9\" fill=\"#666\">" << esc(spec.footnote)
      << "</text>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace sushi
