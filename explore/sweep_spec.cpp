// Sweep specs: parsing and validating axes, enumerating points, building each point's config.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "base/csv.h"
#include "base/errors.h"
#include "base/params.h"
#include "base/random.h"
#include "explore/sweep.h"
#include "sim/accel.h"

namespace sushi::explore {
namespace {

const std::set<std::string> kPlainPaths = {"accel", "supernet", "subnet", "cache", "resolution", "model"};

bool integral_path(const std::string& path) {
  if (path == "resolution") return true;
  if (path.rfind("accel.", 0) != 0) return false;
  const ParamInfo* info = sim::accel_schema().find(path.substr(6));
  return info && (info->type == ParamType::Int || info->type == ParamType::Bytes);
}

std::optional<double> number(const std::string& text) {
  if (const std::optional<int64_t> b = parse_bytes(text)) return double(*b);
  return parse_number(text);
}

// Checks one value of an `accel.PATH` axis against the parameter's declared type and range.
std::string check_accel_value(const ParamInfo& info, const std::string& v) {
  const std::optional<double> x = info.type == ParamType::Bytes && !parse_bytes(v) ? std::nullopt : number(v);
  switch (info.type) {
    case ParamType::Int:
    case ParamType::Bytes:
    case ParamType::Real:
      if (!x || (info.type == ParamType::Int && *x != std::floor(*x)))
        return std::string("expected ") + (info.type == ParamType::Real ? "a number" : "an integer") +
               (info.type == ParamType::Bytes ? " size in bytes (e.g. 65536 or 64KiB)" : "") + ", got '" + v +
               "'";
      if (!info.range.contains(*x)) return "expected a value in " + info.range.text() + ", got " + v;
      return "";
    case ParamType::Bool:
      return v == "true" || v == "false" ? "" : "expected true or false, got '" + v + "'";
    case ParamType::Choice:
      return std::find(info.choices.begin(), info.choices.end(), v) != info.choices.end()
                 ? ""
                 : "expected one of the declared choices, got '" + v + "'";
    default:
      return "";
  }
}

void check_axis(const std::string& where, const std::string& path, std::vector<std::string>& values) {
  const std::string head = where + ": axis '" + path + "'";
  if (path.rfind("accel.", 0) == 0) {
    const std::string sub = path.substr(6);
    const std::string error = sim::accel_schema().check_path(sub);
    if (!error.empty()) throw InputError(head + ": " + error);
    if (const ParamInfo* info = sim::accel_schema().find(sub))
      for (const std::string& v : values) {
        const std::string e = check_accel_value(*info, v);
        if (!e.empty()) throw InputError(head + ": " + e);
      }
    // One spelling per size (64KiB and 65536 are one point, one hash).
    if (const ParamInfo* info = sim::accel_schema().find(sub); info && info->type == ParamType::Bytes)
      for (std::string& v : values) v = std::to_string(*parse_bytes(v));
    return;
  }
  if (!kPlainPaths.count(path))
    throw InputError(head +
                     ": expected accel.PATH (a parameter of `sushi describe accel`) or one of accel, "
                     "supernet, subnet, cache, resolution, model");
  for (const std::string& v : values) {
    if (path == "model") sim::parse_fidelity(v);
    if (path == "resolution" && (!number(v) || *number(v) < 0 || *number(v) != std::floor(*number(v))))
      throw InputError(head + ": expected an integer resolution >= 0, got '" + v + "'");
    if (path == "accel" || path == "supernet") read_file(v);
  }
}

std::string format_value(double x, bool integral) {
  char b[40];
  if (integral)
    std::snprintf(b, sizeof b, "%lld", (long long)std::llround(x));
  else
    std::snprintf(b, sizeof b, "%.10g", x);
  return b;
}

// {linear: [from, to], steps: N} or {log: [from, to], steps: N}.
std::vector<std::string> range_values(const YamlView& v, const std::string& path) {
  v.expect_keys({"linear", "log", "steps"});
  const bool log = v.has("log");
  if (log == v.has("linear")) v.fail("expected exactly one of linear: [FROM, TO] or log: [FROM, TO]");
  const std::vector<std::string> ends = v.get_list<std::string>(log ? "log" : "linear");
  const std::optional<double> a = ends.size() == 2 ? number(ends[0]) : std::nullopt;
  const std::optional<double> b = ends.size() == 2 ? number(ends[1]) : std::nullopt;
  if (!a || !b) v.at(log ? "log" : "linear").fail("expected [FROM, TO], two numbers");
  if (log && (*a <= 0 || *b <= 0)) v.at("log").fail("expected positive ends for a log range");
  const int steps = v.get<int>("steps");
  if (steps < 1 || steps > 1000000) v.at("steps").fail("expected 1..1000000 steps");
  std::vector<std::string> out;
  for (int i = 0; i < steps; ++i) {
    const double t = steps == 1 ? 0.0 : double(i) / (steps - 1);
    const double x = log ? *a * std::pow(*b / *a, t) : *a + (*b - *a) * t;
    out.push_back(format_value(x, integral_path(path)));
  }
  return out;
}

// `PATH: [values]`, `PATH: {range}` or `{path: PATH, values: [...]}`.
std::pair<std::string, std::vector<std::string>> single_axis(const YamlView& v) {
  if (!v.is_map())
    v.fail("expected an axis: PATH: [VALUES], PATH: {linear|log: [FROM, TO], steps: N} or zip");
  std::string path;
  YamlView values = v;
  if (v.has("path")) {
    v.expect_keys({"path", "values"});
    path = v.get<std::string>("path");
    values = v.at("values");
  } else {
    if (v.size() != 1) v.fail("expected one PATH: VALUES entry per axis (use zip: for zipped lists)");
    path = v.node().begin()->first.Scalar();
    values = v.at(path);
  }
  std::vector<std::string> out;
  if (values.is_map())
    out = range_values(values, path);
  else if (values.is_sequence())
    for (const YamlView& item : values.items()) out.push_back(item.as<std::string>());
  else
    values.fail("expected a list of values or a range");
  if (out.empty()) values.fail("expected at least one value");
  check_axis(v.where(), path, out);
  return {path, out};
}

Axis parse_axis(const YamlView& v) {
  Axis axis;
  if (!(v.is_map() && v.has("zip"))) {
    auto [path, values] = single_axis(v);
    axis.paths.push_back(path);
    for (const std::string& x : values) axis.values.push_back({x});
    return axis;
  }
  v.expect_keys({"zip"});
  const YamlView list = v.at("zip");
  if (!list.is_sequence() || list.size() < 1) list.fail("expected a list of axes of equal length");
  for (const YamlView& item : list.items()) {
    auto [path, values] = single_axis(item);
    if (!axis.paths.empty() && values.size() != axis.values.size())
      item.fail("zipped axes must have equal lengths (" + std::to_string(axis.values.size()) + " vs " +
                std::to_string(values.size()) + ")");
    if (axis.paths.empty()) axis.values.resize(values.size());
    for (size_t i = 0; i < values.size(); ++i) axis.values[i].push_back(values[i]);
    axis.paths.push_back(path);
  }
  return axis;
}

Constraint parse_constraint(const YamlView& v) {
  v.expect_keys({"path", "min", "max", "reason"});
  Constraint c;
  c.path = v.get<std::string>("path");
  if (c.path.rfind("accel.", 0) == 0 && !sim::accel_schema().check_path(c.path.substr(6)).empty())
    v.at("path").fail(sim::accel_schema().check_path(c.path.substr(6)));
  for (const char* key : {"min", "max"})
    if (v.has(key)) {
      const std::optional<double> x = number(v.get<std::string>(key));
      if (!x) v.at(key).fail("expected a number or a size (e.g. 4MiB)");
      (std::string(key) == "min" ? c.min : c.max) = *x;
    }
  c.reason = v.get<std::string>("reason", "constraint on " + c.path);
  return c;
}

void check_evolutionary(SweepSpec& s, const YamlView& v) {
  if (s.population < 2 || s.generations < 1)
    v.fail("expected population: P >= 2 and generations: G >= 1 for an evolutionary search");
  if (s.objectives.empty()) v.fail("expected objectives: [COLUMN, ...] (e.g. [latency_ms, energy_uj])");
  const std::vector<std::string> columns = result_columns();
  for (const std::string& o : s.objectives)
    if (std::find(columns.begin(), columns.end(), o) == columns.end())
      v.at("objectives").fail("'" + o + "' is not a result column");
  for (const std::string& m : s.maximize)
    if (std::find(s.objectives.begin(), s.objectives.end(), m) == s.objectives.end())
      v.at("maximize").fail("'" + m + "' is not one of the objectives");
  s.samples = s.population;
}

void parse_search(SweepSpec& s, const YamlView& root) {
  if (!root.has("search")) return;
  const YamlView v = root.at("search");
  if (!v.is_map()) {
    s.search = v.as<std::string>();
  } else {
    v.expect_keys({"kind", "samples", "seed", "population", "generations", "objectives", "maximize"});
    s.search = v.get<std::string>("kind");
    s.samples = v.get<int64_t>("samples", 0);
    s.seed = v.get<uint64_t>("seed", 1);
    s.population = v.get<int64_t>("population", 0);
    s.generations = v.get<int64_t>("generations", 0);
    if (v.has("objectives")) s.objectives = v.get_list<std::string>("objectives");
    if (v.has("maximize")) s.maximize = v.get_list<std::string>("maximize");
  }
  if (s.search != "grid" && s.search != "random" && s.search != "evolutionary")
    v.fail("expected search grid, random or evolutionary, got '" + s.search + "'");
  if (s.search == "random" && s.samples < 1) v.fail("expected samples: N >= 1 for a random search");
  if (s.search == "evolutionary") check_evolutionary(s, v);
}

void parse_base(SweepSpec& s, const YamlView& root) {
  const YamlView b = root.at("base");
  b.expect_keys({"accel", "supernet", "subnet", "cache", "resolution", "model"});
  s.base.accel_file = b.get<std::string>("accel");
  s.base.supernet_file = b.get<std::string>("supernet");
  s.base.subnet = b.get<std::string>("subnet", "max");
  s.base.cache = b.get<std::string>("cache", "none");
  s.base.resolution = b.get<int>("resolution", 0);
  s.base.model = sim::parse_fidelity(b.get<std::string>("model", "analytic"));
}

}  // namespace

SweepSpec SweepSpec::load(const std::string& path, const std::vector<Override>& overrides) {
  SweepSpec s;
  s.file = path;
  Point doc = Point::parse(s.provenance.read_input("sweep", path), path);
  for (const Override& o : overrides) doc.set(o);
  const YamlView root = doc.view();
  root.expect_keys({"sweep", "description", "base", "axes", "constraints", "search", "output"});
  s.name = root.get<std::string>("sweep");
  parse_base(s, root);
  const YamlView axes = root.at("axes");
  if (!axes.is_sequence()) axes.fail("expected a list of axes");
  for (const YamlView& a : axes.items()) s.axes.push_back(parse_axis(a));
  std::set<std::string> seen;
  for (const std::string& p : s.axis_paths())
    if (!seen.insert(p).second) axes.fail("axis path '" + p + "' appears twice");
  if (root.has("constraints"))
    for (const YamlView& c : root.at("constraints").items()) s.constraints.push_back(parse_constraint(c));
  parse_search(s, root);
  s.output_dir = root.get<std::string>("output", "out/sweeps/" + s.name);
  // Where results go is not what they are: the output folder stays out of the recorded config.
  YAML::Node tree = root.node();
  tree.remove("output");
  s.provenance.set_config(canonical_json(tree));
  s.provenance.set_fidelity(s.base.model);
  if (s.search == "random") s.provenance.set_seed("search", s.seed);
  return s;
}

std::vector<std::string> SweepSpec::axis_paths() const {
  std::vector<std::string> out;
  for (const Axis& a : axes) out.insert(out.end(), a.paths.begin(), a.paths.end());
  return out;
}

size_t SweepSpec::grid_size() const {
  size_t n = 1;
  for (const Axis& a : axes) n *= a.values.size();
  return n;
}

std::vector<size_t> grid_digits(const SweepSpec& spec, size_t index) {
  std::vector<size_t> digit(spec.axes.size());
  for (size_t k = spec.axes.size(); k-- > 0;) {  // last axis fastest
    digit[k] = index % spec.axes[k].values.size();
    index /= spec.axes[k].values.size();
  }
  return digit;
}

size_t grid_index(const SweepSpec& spec, const std::vector<size_t>& digits) {
  size_t index = 0;
  for (size_t k = 0; k < spec.axes.size(); ++k) index = index * spec.axes[k].values.size() + digits[k];
  return index;
}

std::vector<std::string> grid_point(const SweepSpec& spec, size_t index) {
  const std::vector<size_t> digit = grid_digits(spec, index);
  std::vector<std::string> values;
  for (size_t k = 0; k < spec.axes.size(); ++k)
    for (const std::string& v : spec.axes[k].values[digit[k]]) values.push_back(v);
  return values;
}

std::vector<std::vector<std::string>> enumerate(const SweepSpec& spec) {
  std::vector<std::vector<std::string>> out;
  for (size_t i : enumerate_indices(spec)) out.push_back(grid_point(spec, i));
  return out;
}

std::vector<size_t> enumerate_indices(const SweepSpec& spec) {
  const size_t n = spec.grid_size();
  if (n > 50000000) throw InputError(spec.file + ": " + std::to_string(n) + " grid points (at most 5e7)");
  std::vector<size_t> indices(n);
  for (size_t i = 0; i < n; ++i) indices[i] = i;
  if (spec.search != "grid" && size_t(spec.samples) < n) {
    // A seeded sample without replacement (partial Fisher-Yates on the portable RNG), in grid order.
    Rng rng(spec.seed);
    for (size_t i = 0; i < size_t(spec.samples); ++i)
      std::swap(indices[i], indices[i + size_t(rng.uniform_int(uint64_t(n - i)))]);
    indices.resize(size_t(spec.samples));
    std::sort(indices.begin(), indices.end());
  }
  return indices;
}

std::string reason_class(const std::string& message) {
  std::string m = message;
  const size_t key = m.find(": key '");
  if (key != std::string::npos) m = m.substr(key + 2);
  const size_t line = m.find(" (line ");
  const size_t close = line == std::string::npos ? line : m.find(')', line);
  if (close != std::string::npos) m.erase(line, close + 1 - line);
  std::string out;
  for (size_t i = 0; i < m.size();) {
    if (std::isdigit((unsigned char)m[i])) {
      while (i < m.size() && (std::isdigit((unsigned char)m[i]) || m[i] == '.')) ++i;
      out += 'N';
    } else {
      out += m[i++];
    }
  }
  return out;
}

}  // namespace sushi::explore
