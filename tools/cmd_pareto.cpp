// `sushi pareto RESULTS.csv --x COL --y COL [--z COL] [--maximize COL]... [--where COL=V]...`: the
// non-dominated rows of a sweep's results, printed and drawn as an SVG scatter with the front highlighted.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/csv.h"
#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "explore/pareto.h"
#include "sched/svg_plot.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

double cell_number(const std::string& s) {
  return parse_number(s).value_or(NAN);
}

std::string row_label(const explore::CsvData& d, size_t row) {
  for (const char* c : {"point", "hash"})
    for (size_t i = 0; i < d.columns.size(); ++i)
      if (d.columns[i] == c) return d.rows[row][i];
  return std::to_string(row);
}

std::string plot(const explore::CsvData& d, const std::vector<std::vector<double>>& v,
                 const std::vector<size_t>& front, const std::vector<std::string>& cols) {
  PlotSeries all{"all points", {}, PlotSeries::Style::Points};
  PlotSeries best{"Pareto front (" + std::to_string(front.size()) + ")", {}, PlotSeries::Style::Line};
  for (const auto& row : v)
    if (std::isfinite(row[0]) && std::isfinite(row[1])) all.points.emplace_back(row[0], row[1]);
  for (size_t i : front) best.points.emplace_back(v[i][0], v[i][1]);
  std::sort(best.points.begin(), best.points.end());
  PlotSpec spec;
  spec.title = "Pareto front of " + d.file;
  spec.x_label = cols[0];
  spec.y_label = cols[1];
  spec.footnote = d.comments.empty() ? "" : d.comments[0];
  return render_svg(spec, {all, best});
}

void print_front(const explore::CsvData& d, const std::vector<std::vector<double>>& v,
                 const std::vector<size_t>& front, const std::vector<std::string>& cols, bool json,
                 const std::string& svg) {
  if (json) {
    JsonWriter j;
    j.begin_object().field("file", d.file).field("rows", int64_t(d.rows.size())).field("svg", svg);
    j.key("front").begin_array();
    for (size_t i : front) {
      j.begin_object().field("row", int64_t(i)).field("label", row_label(d, i));
      for (size_t k = 0; k < cols.size(); ++k) j.field(cols[k], v[i][k]);
      j.end_object();
    }
    j.end_array().end_object();
    out() << j.str() << "\n";
    return;
  }
  out() << front.size() << " non-dominated of " << d.rows.size() << " rows\n"
        << "point";
  for (const std::string& c : cols) out() << "," << c;
  out() << "\n";
  for (size_t i : front) {
    out() << row_label(d, i);
    for (size_t k = 0; k < cols.size(); ++k) out() << "," << v[i][k];
    out() << "\n";
  }
  out() << "wrote " << svg << "\n";
}

int pareto_command(const std::vector<std::string>& args) {
  po::options_description o("pareto options");
  std::string file, x, y, z, svg;
  std::vector<std::string> maximize, where;
  o.add_options()("results", po::value(&file)->required(), "results CSV (a sweep's results.csv)")(
      "x", po::value(&x)->required(), "column of the first objective")("y", po::value(&y)->required(),
                                                                       "column of the second objective")(
      "z", po::value(&z), "column of a third objective (dominance only; not drawn)")(
      "maximize", po::value(&maximize)->composing(), "an objective column to maximise (default: minimise)")(
      "where", po::value(&where)->composing(), "keep only rows with COLUMN=VALUE (repeatable)")(
      "svg", po::value(&svg), "SVG output (default: pareto_X_Y.svg beside the CSV)")("json",
                                                                                     "print one JSON object");
  po::positional_options_description pos;
  pos.add("results", 1);
  po::variables_map vm;
  if (!parse(
          "pareto",
          "RESULTS.csv --x COL --y COL [--z COL] [--maximize COL]... [--where COL=V]... [--svg F] [--json]",
          o, args, vm, &pos))
    return 0;
  const explore::CsvData d = explore::select_rows(explore::read_csv(file), where);
  std::vector<std::string> cols{x, y};
  if (!z.empty()) cols.push_back(z);
  std::vector<size_t> idx;
  std::vector<bool> max_flags;
  for (const std::string& c : cols) {
    idx.push_back(d.column(c));
    max_flags.push_back(std::find(maximize.begin(), maximize.end(), c) != maximize.end());
  }
  for (const std::string& m : maximize)
    if (std::find(cols.begin(), cols.end(), m) == cols.end())
      throw InputError("--maximize " + m + ": not one of the objectives --x, --y, --z");
  std::vector<std::vector<double>> v(d.rows.size());
  for (size_t r = 0; r < d.rows.size(); ++r)
    for (size_t i : idx) v[r].push_back(cell_number(d.rows[r][i]));
  const std::vector<size_t> front = explore::pareto_front(v, max_flags);
  if (svg.empty())
    svg = (std::filesystem::path(file).parent_path() / ("pareto_" + x + "_" + y + ".svg")).string();
  write_file_atomic(svg, plot(d, v, front, cols));
  print_front(d, v, front, cols, vm.count("json") > 0, svg);
  return 0;
}

const bool registered = register_command(
    {"pareto", "non-dominated rows of a results CSV, printed and as an SVG scatter", pareto_command});

}  // namespace
}  // namespace sushi::cli
