#pragma once
// Results, written one way (ARCHITECTURE.md contract 9). A component registers its statistics in a StatSet
// with their units; a CsvTable holds rows of such statistics; every writer takes the run's Provenance, so
// each JSON, CSV and SVG file says where it came from.
#include <string>
#include <vector>

#include "base/json.h"
#include "base/provenance.h"

namespace sushi {

// Units statistics are registered in. A writer may ask for another unit of the same dimension.
enum class Unit { None, Count, Ratio, Percent, Bytes, Cycles, Ms, Us, Pj, Uj, Qps };
const char* unit_name(Unit u);
// Converts `value` from unit `from` to unit `to` (same dimension: time, energy); throws std::logic_error
// for a conversion between different dimensions.
double convert(double value, Unit from, Unit to);

struct Stat {
  std::string name;  // as written: "mean_latency_ms", "energy_uj_per_query"
  double value = 0;
  Unit unit = Unit::None;
};

class StatSet {
 public:
  // Registers a statistic measured in `unit`, to be written in `written_as` (default: the same unit).
  StatSet& add(const std::string& name, double value, Unit unit, Unit written_as = Unit::None);
  StatSet& count(const std::string& name, int64_t value) { return add(name, double(value), Unit::Count); }
  const std::vector<Stat>& stats() const { return stats_; }
  const Stat* find(const std::string& name) const;
  // Every statistic as a JSON field of the object being written.
  void write_fields(JsonWriter& w) const;

 private:
  std::vector<Stat> stats_;
};

// The one number format of CSV cells: %.6g (or `digits` significant digits), empty for NaN and infinities.
std::string csv_number(double v, int digits = 6);

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  // Cells are given already formatted (csv_number for numbers); a row must have one cell per column.
  void add_row(std::vector<std::string> cells);
  // A label in the first column, then the statistic each other column names (empty when absent).
  void add_row(const std::string& first, const StatSet& stats);
  size_t rows() const { return rows_.size(); }
  // "# <provenance>" first, then the header and the rows; CSV readers of the project skip '#' lines.
  std::string str(const Provenance& provenance) const;
  // The same with a given comment line (none when empty).
  std::string str(const std::string& comment) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sushi
