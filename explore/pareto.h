#pragma once
// Pareto fronts of sweep results: `sushi pareto RESULTS.csv --x latency_ms --y energy_uj [--maximize COL]`.
#include <string>
#include <vector>

namespace sushi::explore {

struct CsvData {
  std::string file;
  std::vector<std::string> comments;  // the leading '#' lines, without "# "
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  size_t column(const std::string& name) const;  // InputError naming the file and the columns
};
// Reads a CSV as the project writes it: '#' comment lines, a header, cells quoted when they hold , or ".
CsvData read_csv(const std::string& path);
// The rows whose cells equal every `COL=VALUE` filter (text comparison; a sweep's axis values are written
// as the spec gives them). InputError naming the filter when it has no '=' or names no column.
CsvData select_rows(const CsvData& d, const std::vector<std::string>& filters);

// Rows (indices into `values`) that no other row dominates; objective k is minimised unless maximize[k].
// Rows with a non-finite objective are left out. Result in ascending order of the first objective
// (maximised ones descending), ties by index.
std::vector<size_t> pareto_front(const std::vector<std::vector<double>>& values,
                                 const std::vector<bool>& maximize);

}  // namespace sushi::explore
