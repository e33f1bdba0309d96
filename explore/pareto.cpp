#include "explore/pareto.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "base/csv.h"
#include "base/errors.h"
#include "base/manifest.h"
#include "base/provenance.h"

namespace sushi::explore {
size_t CsvData::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  std::string known;
  for (const std::string& c : columns) known += (known.empty() ? "" : ", ") + c;
  throw InputError(file + ": no column '" + name + "' (columns: " + known + ")");
}

CsvData read_csv(const std::string& path) {
  verify_output_file(path);  // not a killed run's, nor another run's
  const std::string text = read_file(path);
  CsvData d;
  d.file = path;
  size_t start = 0, line_no = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(start, nl - start);
    start = nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      d.comments.push_back(line.size() > 2 ? line.substr(2) : "");
      continue;
    }
    const std::string where = path + ": line " + std::to_string(line_no);
    std::vector<std::string> cells = split_csv_line(line, where);
    if (d.columns.empty()) {
      d.columns = std::move(cells);
      continue;
    }
    if (cells.size() != d.columns.size())
      throw InputError(where + ": " + std::to_string(cells.size()) + " cells, expected " +
                       std::to_string(d.columns.size()));
    d.rows.push_back(std::move(cells));
  }
  if (d.columns.empty()) throw InputError(path + ": no header line");
  return d;
}

CsvData select_rows(const CsvData& d, const std::vector<std::string>& filters) {
  std::vector<std::pair<size_t, std::string>> want;
  for (const std::string& f : filters) {
    const size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError("--where '" + f + "': expected COLUMN=VALUE (e.g. subnet=max)");
    want.emplace_back(d.column(f.substr(0, eq)), f.substr(eq + 1));
  }
  CsvData out = d;
  out.rows.clear();
  for (const auto& row : d.rows)
    if (std::all_of(want.begin(), want.end(), [&](const auto& w) { return row[w.first] == w.second; }))
      out.rows.push_back(row);
  return out;
}

std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& values,
                                 const std::vector<bool>& maximize) {
  auto cost = [&](size_t i, size_t k) { return maximize[k] ? -values[i][k] : values[i][k]; };
  std::vector<size_t> valid;
  for (size_t i = 0; i < values.size(); ++i)
    if (std::all_of(values[i].begin(), values[i].end(), [](double x) { return std::isfinite(x); }))
      valid.push_back(i);
  std::sort(valid.begin(), valid.end(), [&](size_t a, size_t b) {
    for (size_t k = 0; k < maximize.size(); ++k)
      if (cost(a, k) != cost(b, k)) return cost(a, k) < cost(b, k);
    return a < b;
  });
  // Sorted lexicographically, a row can only be dominated by rows before it.
  std::vector<size_t> front;
  for (size_t i : valid) {
    bool dominated = false;
    for (size_t f : front) {
      bool all_le = true, some_lt = false;
      for (size_t k = 0; k < maximize.size() && all_le; ++k) {
        all_le = cost(f, k) <= cost(i, k);
        some_lt = some_lt || cost(f, k) < cost(i, k);
      }
      if (all_le && some_lt) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace sushi::explore
