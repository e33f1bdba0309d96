#include "base/record.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "base/errors.h"

namespace sushi {

std::string Provenance::read_input(const std::string& role, const std::string& path) {
  std::string text = read_file(path);
  add_input(role, path, content_hash(text));
  return text;
}

void Provenance::add_input(const std::string& role, const std::string& path, const std::string& hash) {
  for (const Input& i : inputs_)
    if (i.role == role && i.path == path && i.hash == hash) return;
  inputs_.push_back(Input{role, path, hash});
}

void Provenance::set_config(const std::string& canonical_json) {
  config_json_ = canonical_json;
  config_hash_ = content_hash(canonical_json);
}

void Provenance::write_json(JsonWriter& w) const {
  w.begin_object();
  if (!command_.empty()) w.field("command", command_);
  w.field("git_commit", git_commit()).field("model_version", model_version());
  if (!fidelity_.empty()) w.field("fidelity", fidelity_);
  if (!config_hash_.empty()) w.field("config_hash", config_hash_).key("config").raw(config_json_);
  w.key("seeds").begin_object();
  for (const auto& [name, seed] : seeds_) w.field(name, seed);
  w.end_object().key("inputs").begin_array();
  for (const Input& i : inputs_)
    w.begin_object().field("role", i.role).field("path", i.path).field("hash", i.hash).end_object();
  w.end_array();
  for (const auto& [k, v] : extra_) w.field(k, v);
  w.end_object();
}

std::string Provenance::line() const {
  std::string s = command_.empty() ? "sushi" : command_;
  for (const Input& i : inputs_) s += "; " + i.role + " " + i.path + " hash " + i.hash;
  if (!config_hash_.empty()) s += "; config hash " + config_hash_;
  for (const auto& [name, seed] : seeds_) s += "; seed " + name + "=" + std::to_string(seed);
  if (!fidelity_.empty()) s += "; fidelity " + fidelity_;
  for (const auto& [k, v] : extra_) s += "; " + k + " " + v;
  return s + "; git " + git_commit() + "; model " + model_version();
}

const char* unit_name(Unit u) {
  switch (u) {
    case Unit::None:
      return "";
    case Unit::Count:
      return "count";
    case Unit::Ratio:
      return "ratio";
    case Unit::Percent:
      return "%";
    case Unit::Bytes:
      return "B";
    case Unit::Cycles:
      return "cycles";
    case Unit::Ms:
      return "ms";
    case Unit::Us:
      return "us";
    case Unit::Pj:
      return "pJ";
    case Unit::Uj:
      return "uJ";
    case Unit::Qps:
      return "queries/s";
  }
  return "";
}

namespace {
// Scale to the dimension's base unit (seconds, joules); 0 marks a dimensionless or non-convertible unit.
double to_base(Unit u) {
  switch (u) {
    case Unit::Ms:
      return 1e-3;
    case Unit::Us:
      return 1e-6;
    case Unit::Pj:
      return 1e-12;
    case Unit::Uj:
      return 1e-6;
    default:
      return 0;
  }
}
bool is_time(Unit u) {
  return u == Unit::Ms || u == Unit::Us;
}
}  // namespace

double convert(double value, Unit from, Unit to) {
  if (from == to || to == Unit::None) return value;
  if (to_base(from) == 0 || to_base(to) == 0 || is_time(from) != is_time(to))
    throw std::logic_error(std::string("no conversion from ") + unit_name(from) + " to " + unit_name(to));
  return value * (to_base(from) / to_base(to));
}

StatSet& StatSet::add(const std::string& name, double value, Unit unit, Unit written_as) {
  const Unit out = written_as == Unit::None ? unit : written_as;
  stats_.push_back(Stat{name, convert(value, unit, out), out});
  return *this;
}

void StatSet::write_fields(JsonWriter& w) const {
  for (const Stat& s : stats_) {
    if (s.unit == Unit::Count)
      w.field(s.name, int64_t(s.value));
    else
      w.field(s.name, s.value);
  }
}

std::string csv_number(double v, int digits) {
  if (!std::isfinite(v)) return "";
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

void CsvTable::add_row(std::vector<std::string> cells) {
  if (cells.size() != columns_.size())
    throw std::logic_error("CsvTable: a row of " + std::to_string(cells.size()) + " cells for " +
                           std::to_string(columns_.size()) + " columns");
  rows_.push_back(std::move(cells));
}

const Stat* StatSet::find(const std::string& name) const {
  for (const Stat& s : stats_)
    if (s.name == name) return &s;
  return nullptr;
}

void CsvTable::add_row(const std::string& first, const StatSet& stats) {
  std::vector<std::string> cells{first};
  for (size_t i = 1; i < columns_.size(); ++i) {
    const Stat* s = stats.find(columns_[i]);
    cells.push_back(!s                       ? ""
                    : s->unit == Unit::Count ? std::to_string(int64_t(s->value))
                                             : csv_number(s->value));
  }
  add_row(std::move(cells));
}

std::string CsvTable::str(const Provenance& provenance) const {
  return str(provenance.line());
}

std::string CsvTable::str(const std::string& comment) const {
  std::string out = comment.empty() ? "" : "# " + comment + "\n";
  for (size_t i = 0; i < columns_.size(); ++i) out += (i ? "," : "") + columns_[i];
  out += "\n";
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + row[i];
    out += "\n";
  }
  return out;
}

}  // namespace sushi
