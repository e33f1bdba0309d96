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
const char* kDashes[] = {"", "7,3", "2,3", "9,3,2,3", "4,4", "12,4", "1,3", "6,2,2,2,2,2"};

// Marker i (circle, square, triangle, diamond, cross, inverted triangle, plus, star-like x) at (x, y).
std::string marker(size_t i, double x, double y, const char* color) {
  std::ostringstream o;
  const double r = 4;
  auto poly = [&](std::initializer_list<std::pair<double, double>> pts) {
    o << "<polygon fill=\"" << color << "\" points=\"";
    for (const auto& [dx, dy] : pts) o << x + dx * r << "," << y + dy * r << " ";
    o << "\"/>";
  };
  switch (i % 8) {
    case 0:
      o << "<circle cx=\"" << x << "\" cy=\"" << y << "\" r=\"" << r << "\" fill=\"" << color << "\"/>";
      break;
    case 1:
      poly({{-1, -1}, {1, -1}, {1, 1}, {-1, 1}});
      break;
    case 2:
      poly({{0, -1.2}, {1.1, 0.9}, {-1.1, 0.9}});
      break;
    case 3:
      poly({{0, -1.3}, {1.1, 0}, {0, 1.3}, {-1.1, 0}});
      break;
    case 5:
      poly({{0, 1.2}, {1.1, -0.9}, {-1.1, -0.9}});
      break;
    default: {
      const bool plus = i % 8 == 6;
      const double a = plus ? 0 : r, b = plus ? r * 1.2 : r;
      o << "<path stroke=\"" << color << "\" stroke-width=\"2\" d=\"M" << x - b << "," << y - a << " L"
        << x + b << "," << y + a << " M" << x - a << "," << y + b << " L" << x + a << "," << y - b << "\"/>";
    }
  }
  return o.str();
}

struct Frame {
  double W = 900, H = 460, L = 70, R = 300, T = 40, B = 70;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double px(double x) const { return L + (x - x0) / (x1 - x0) * (W - L - R); }
  double py(double y) const { return H - B - (y - y0) / (y1 - y0) * (H - T - B); }
};

void draw_markers(std::ostringstream& o, const PlotSpec& spec, const Frame& f) {
  for (size_t m = 0; m < spec.x_markers.size(); ++m) {
    const auto& [x, label] = spec.x_markers[m];
    if (!std::isfinite(x)) continue;
    o << "<line x1=\"" << f.px(x) << "\" y1=\"" << f.T << "\" x2=\"" << f.px(x) << "\" y2=\"" << f.H - f.B
      << "\" stroke=\"#555\" stroke-dasharray=\"3,3\"/><text x=\"" << f.px(x) + 3 << "\" y=\""
      << f.T + 12 + 12 * double(m % 4) << "\" font-size=\"10\" fill=\"#555\">" << esc(label) << "</text>\n";
  }
}

void draw_error_bars(std::ostringstream& o, const PlotSeries& s, const char* color, const Frame& f) {
  for (size_t k = 0; k < s.points.size() && k < s.y_err.size(); ++k) {
    const auto& [x, y] = s.points[k];
    const double e = s.y_err[k];
    if (!std::isfinite(x) || !std::isfinite(y) || !std::isfinite(e) || e <= 0) continue;
    const double X = f.px(x);
    o << "<path stroke=\"" << color << "\" d=\"M" << X << "," << f.py(y - e) << " L" << X << ","
      << f.py(y + e) << " M" << X - 4 << "," << f.py(y - e) << " L" << X + 4 << "," << f.py(y - e) << " M"
      << X - 4 << "," << f.py(y + e) << " L" << X + 4 << "," << f.py(y + e) << "\"/>\n";
  }
}

// Series i: colour, dash and marker by index; error bars and point labels when given; its legend entry.
void draw_series(std::ostringstream& o, const PlotSeries& s, size_t i, const Frame& f) {
  const char* color = kColors[i % (sizeof kColors / sizeof *kColors)];
  const char* dash = kDashes[i % (sizeof kDashes / sizeof *kDashes)];
  const std::string dash_attr = *dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : "";
  draw_error_bars(o, s, color, f);
  if (s.style != PlotSeries::Style::Points && !s.points.empty()) {
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.6\"" << dash_attr
      << " points=\"";
    for (size_t k = 0; k < s.points.size(); ++k) {
      const auto& [x, y] = s.points[k];
      if (s.style == PlotSeries::Style::Step && k > 0)
        o << f.px(x) << "," << f.py(s.points[k - 1].second) << " ";
      o << f.px(x) << "," << f.py(y) << " ";
    }
    o << "\"/>\n";
  }
  // Markers: every point of a point series or a short line, about 8 along a long line.
  const size_t stride = s.style == PlotSeries::Style::Points || s.points.size() <= 12
                            ? 1
                            : std::max<size_t>(1, s.points.size() / 8);
  for (size_t k = (stride > 1 ? stride / 2 : 0); k < s.points.size(); k += stride) {
    const auto& [x, y] = s.points[k];
    if (std::isfinite(x) && std::isfinite(y)) o << marker(i, f.px(x), f.py(y), color) << "\n";
  }
  for (size_t k = 0; k < s.points.size() && k < s.point_labels.size(); ++k) {
    const auto& [x, y] = s.points[k];
    if (std::isfinite(x) && std::isfinite(y) && !s.point_labels[k].empty())
      o << "<text x=\"" << f.px(x) + 6 << "\" y=\"" << f.py(y) - 6 - 10 * double(i % 3)
        << "\" font-size=\"10\" fill=\"" << color << "\">" << esc(s.point_labels[k]) << "</text>\n";
  }
  const double lx = f.W - f.R, ly = f.T + 14 + 18 * double(i);
  o << "<line x1=\"" << lx + 8 << "\" y1=\"" << ly - 4 << "\" x2=\"" << lx + 34 << "\" y2=\"" << ly - 4
    << "\" stroke=\"" << color << "\" stroke-width=\"1.6\"" << dash_attr << "/>"
    << marker(i, lx + 21, ly - 4, color) << "<text x=\"" << lx + 40 << "\" y=\"" << ly << "\">"
    << esc(s.label) << "</text>\n";
}

// The data range of every series (error bars and reference lines included), padded.
Frame frame_for(const PlotSpec& spec, const std::vector<PlotSeries>& series) {
  Frame f;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  bool has_points = false;
  for (const auto& s : series) {
    has_points |= s.style == PlotSeries::Style::Points;
    for (size_t k = 0; k < s.points.size(); ++k) {
      const auto& [x, y] = s.points[k];
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      const double e =
          k < s.y_err.size() && std::isfinite(s.y_err[k]) ? std::min(s.y_err[k], 0.25 * std::fabs(y) + 1) : 0;
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y - e), y1 = std::max(y1, y + e);
    }
  }
  for (const auto& m : spec.x_markers)
    if (std::isfinite(m.first)) x0 = std::min(x0, m.first), x1 = std::max(x1, m.first);
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (has_points) {  // keep markers and their labels inside the frame
    const double pad = 0.06 * std::max(1e-9, x1 - x0);
    x0 -= pad, x1 += pad;
  }
  if (spec.y_from_zero) y0 = std::min(0.0, y0);
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.04 * (y1 - y0);
  y1 += pad;
  if (!spec.y_from_zero) y0 -= pad;
  if (std::isfinite(spec.y_min)) y0 = spec.y_min;
  if (std::isfinite(spec.y_max)) y1 = spec.y_max;
  if (std::isfinite(spec.x_min)) x0 = spec.x_min;
  if (std::isfinite(spec.x_max)) x1 = spec.x_max;
  f.x0 = x0, f.x1 = x1, f.y0 = y0, f.y1 = y1;
  return f;
}

}  // namespace

std::string render_svg(const PlotSpec& spec, const std::vector<PlotSeries>& series) {
  const Frame f = frame_for(spec, series);
  const double W = f.W, H = f.H, L = f.L, R = f.R, T = f.T, B = f.B, x0 = f.x0, x1 = f.x1, y0 = f.y0,
               y1 = f.y1;
  auto px = [&](double x) { return f.px(x); };
  auto py = [&](double y) { return f.py(y); };
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
  draw_markers(o, spec, f);
  for (size_t i = 0; i < series.size(); ++i) draw_series(o, series[i], i, f);
  if (!spec.footnote.empty())
    o << "<text x=\"8\" y=\"" << H - 8 << "\" font-size=\"9\" fill=\"#666\">" << esc(spec.footnote)
      << "</text>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace sushi
