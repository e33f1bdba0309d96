// Points of a sweep: bases resolved once, each point's hash and constraints from its axis values, the fast
// (tree-free) analytic path and the Point path (explore/sweep.h).
#include <cmath>
#include <exception>
#include <set>

#include "base/errors.h"
#include "base/params.h"
#include "base/provenance.h"
#include "explore/area.h"
#include "explore/sweep.h"
#include "sim/accel.h"

namespace sushi::explore {
namespace {

constexpr size_t npos = std::string::npos;

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

// A constraint's number from a value's text: a size (1MiB) or a number.
std::optional<double> text_number(const std::string& text) {
  if (const std::optional<int64_t> b = parse_bytes(text)) return double(*b);
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<double> scalar_number(const YamlView& v, const std::string& path) {
  const size_t dot = path.find('.');
  const std::string key = path.substr(0, dot);
  if (!v.is_map() || !v.has(key)) return std::nullopt;
  if (dot != npos) return scalar_number(v.at(key), path.substr(dot + 1));
  // The child view owns the node: hold it while reading (a reference into a temporary dangles).
  const YamlView child = v.at(key);
  if (!child.node().IsScalar()) return std::nullopt;
  return text_number(child.node().Scalar());
}

// The point's config, or nullopt when it fails its own checks.
std::optional<sim::AccelConfig> parse_accel(const Point& p) {
  try {
    return sim::accel_schema().parse(p.view().at("accel"));
  } catch (const InputError&) {
    return std::nullopt;
  }
}

size_t position(const std::vector<std::string>& paths, const std::string& path) {
  for (size_t i = 0; i < paths.size(); ++i)
    if (paths[i] == path) return i;
  return npos;
}

}  // namespace

PointBuilder::PointBuilder(SweepSpec& spec) : spec_(spec), paths_(spec.axis_paths()) {
  accel_pos_ = position(paths_, "accel");
  supernet_pos_ = position(paths_, "supernet");
  for (const Constraint& c : spec.constraints) constraint_axis_.push_back(position(paths_, c.path));
  std::set<std::string> accels{spec.base.accel_file}, spaces{spec.base.supernet_file};
  for (const Axis& axis : spec.axes)
    for (size_t p = 0; p < axis.paths.size(); ++p)
      for (const auto& v : axis.values) {
        if (axis.paths[p] == "accel") accels.insert(v[p]);
        if (axis.paths[p] == "supernet") spaces.insert(v[p]);
      }
  for (const std::string& a : accels)
    for (const std::string& s : spaces) {
      sim::SimRequest r = spec.base;
      r.accel_file = a;
      r.supernet_file = s;
      Provenance scratch;
      const Point p = sim::make_sim_point(r, scratch);
      for (const Provenance::Input& i : scratch.inputs()) spec.provenance.add_input(i.role, i.path, i.hash);
      Base b;
      b.accel = a;
      b.supernet = s;
      b.canonical = p.canonical();
      // The base with every axis path blanked: what no point overrides. Points of different bases whose
      // configs end up equal (the bases differ only where the axes override them) share it, and so a key.
      Point masked = Point::parse(b.canonical, spec.file + " point");
      for (const std::string& path : paths_)
        if (path != "accel" && path != "supernet") masked.set(path, "");
      b.hash = masked.hash();
      const YamlView v = p.view();
      b.config = sim::accel_schema().parse(v.at("accel"));
      b.query.supernet_file = v.at("supernet").get<std::string>("file");
      b.query.supernet_hash = v.at("supernet").get<std::string>("hash");
      b.query.subnet = v.get<std::string>("subnet");
      b.query.cache = v.get<std::string>("cache");
      b.query.resolution = v.get<int>("resolution");
      for (const Constraint& c : spec.constraints) b.constraint_values.push_back(scalar_number(v, c.path));
      bases_.push_back(std::move(b));
    }
  prepare_fast();
}

// The fast path applies when every point runs the analytic model and every accel axis is a declared
// parameter whose values parse as typed patches.
void PointBuilder::prepare_fast() {
  std::set<std::string> models{spec_.base.model};
  patches_.assign(spec_.axes.size(), {});
  for (size_t k = 0, pos = 0; k < spec_.axes.size(); pos += spec_.axes[k].paths.size(), ++k) {
    const Axis& axis = spec_.axes[k];
    bool accel_axis = false;
    for (size_t p = 0; p < axis.paths.size(); ++p) {
      const std::string& path = axis.paths[p];
      if (path == "model")
        for (const auto& v : axis.values) models.insert(v[p]);
      if (path == "subnet") subnet_pos_ = pos + p, subnet_axis_ = k;
      if (path == "cache") cache_pos_ = pos + p, cache_axis_ = k;
      if (path == "resolution") resolution_pos_ = pos + p, resolution_axis_ = k;
      if (path.rfind("accel.", 0) == 0) accel_axis = true;
    }
    if (!accel_axis) continue;
    accel_axes_.push_back(k);
    for (const auto& v : axis.values) {
      sim::AccelPatch patch;
      for (size_t p = 0; p < axis.paths.size(); ++p)
        if (axis.paths[p].rfind("accel.", 0) == 0) {
          try {
            if (!patch.add(axis.paths[p].substr(6), v[p], spec_.file + " axis")) return;  // a list entry
          } catch (const InputError&) {
            return;  // the Point path reports it per point
          }
        }
      patches_[k].push_back(std::move(patch));
    }
  }
  fast_ = models == std::set<std::string>{"analytic"};
}

void PointBuilder::load(size_t index, PointScratch& s) const {
  s.digits.resize(spec_.axes.size());
  for (size_t k = spec_.axes.size(); k-- > 0;) {  // last axis fastest, as grid_digits()
    s.digits[k] = index % spec_.axes[k].values.size();
    index /= spec_.axes[k].values.size();
  }
  s.values.resize(paths_.size());
  size_t i = 0;
  for (size_t k = 0; k < spec_.axes.size(); ++k)
    for (const std::string& v : spec_.axes[k].values[s.digits[k]]) s.values[i++] = v;
  s.base = base_of(s.values);
}

size_t PointBuilder::base_of(const std::vector<std::string>& values) const {
  const std::string& a = accel_pos_ == npos ? spec_.base.accel_file : values[accel_pos_];
  const std::string& n = supernet_pos_ == npos ? spec_.base.supernet_file : values[supernet_pos_];
  for (size_t i = 0; i < bases_.size(); ++i)  // a few bases: no key built per point
    if (bases_[i].accel == a && bases_[i].supernet == n) return i;
  throw std::logic_error("sweep: no base for " + a + " x " + n);
}

void PointBuilder::identify_values(const std::vector<std::string>& values, size_t base, std::string& text,
                                   SweepPoint& out, const ConfigFn& config) const {
  const Base& b = bases_[base];
  text.assign(b.hash).append("\n");
  for (size_t i = 0; i < paths_.size(); ++i)  // files are in the base by content (the supernet's path too)
    if (i != accel_pos_ && i != supernet_pos_)
      text.append(paths_[i]).append("=").append(values[i]).append("\n");
  out.hash = content_hash(text);
  out.skip_reason.clear();
  out.skip_detail.clear();
  for (size_t c = 0; c < spec_.constraints.size(); ++c) {
    const Constraint& k = spec_.constraints[c];
    std::optional<double> x =
        constraint_axis_[c] == npos ? b.constraint_values[c] : text_number(values[constraint_axis_[c]]);
    if (k.path == kAreaPath) {  // from the config; none when it fails its own checks (skipped for that)
      const sim::AccelConfig* a = config();
      x = a ? std::optional<double>(area_estimate_mm2(*a)) : std::nullopt;
    }
    if (x && (*x < k.min || *x > k.max)) {
      out.skip_reason = out.skip_detail = k.reason;
      return;
    }
  }
}

void PointBuilder::identify(PointScratch& s, SweepPoint& out) const {
  std::optional<sim::AccelConfig> parsed;
  identify_values(s.values, s.base, s.text, out, [&]() -> const sim::AccelConfig* {
    if (fast_) return fast_config(s);
    SweepPoint unused;
    const Point p = build(s.values, unused, &s, false);  // the Point path: the estimate needs a tree
    parsed = parse_accel(p);
    return parsed ? &*parsed : nullptr;
  });
}

Point PointBuilder::build(const std::vector<std::string>& values, SweepPoint& out, Scratch* scratch,
                          bool check_config) const {
  out.values = values;
  const size_t base = base_of(values);
  Point p;
  if (scratch) {
    auto it = scratch->trees.find(base);
    if (it == scratch->trees.end())
      it = scratch->trees.emplace(base, Point::parse(bases_[base].canonical, spec_.file + " point")).first;
    p = it->second;  // shares the worker's tree
  } else {
    p = Point::parse(bases_[base].canonical, spec_.file + " point");
  }
  for (size_t i = 0; i < paths_.size(); ++i)
    if (paths_[i] != "accel" && paths_[i] != "supernet") p.set(paths_[i], values[i]);
  std::string text;
  std::optional<sim::AccelConfig> parsed;
  identify_values(values, base, text, out, [&]() -> const sim::AccelConfig* {
    parsed = parse_accel(p);
    return parsed ? &*parsed : nullptr;
  });
  if (!out.skip_reason.empty() || !check_config) return p;
  try {
    sim::accel_schema().parse(p.view().at("accel"));  // the config's own checks (buffers over the chip, ...)
  } catch (const InputError& e) {
    out.skip_detail = one_line(e.what());
    out.skip_reason = reason_class(out.skip_detail);
  }
  return p;
}

const sim::AccelConfig* PointBuilder::fast_config(PointScratch& s) const {
  if (!fast_) return nullptr;
  if (s.accels.size() != bases_.size()) s.accels.resize(bases_.size());
  sim::AccelConfig& accel = s.accels[s.base];
  accel = bases_[s.base].config;
  for (size_t k : accel_axes_) patches_[k][s.digits[k]].apply(accel);
  return sim::accel_schema().failed_check(accel).empty() ? &accel : nullptr;
}

std::optional<sim::SimTotals> PointBuilder::evaluate_fast(PointScratch& s) const {
  const sim::AccelConfig* config = fast_config(s);
  if (!config) return std::nullopt;
  const sim::AccelConfig& accel = *config;
  const Base& b = bases_[s.base];
  const auto digit = [&s](size_t axis) { return axis == npos ? npos : s.digits[axis]; };
  const auto key = std::make_tuple(s.base, digit(subnet_axis_), digit(cache_axis_), digit(resolution_axis_),
                                   accel.pb_bytes);
  try {
    auto it = s.queries.find(key);
    if (it == s.queries.end()) {
      sim::SimQuery q = b.query;
      if (subnet_pos_ != npos) q.subnet = s.values[subnet_pos_];
      if (cache_pos_ != npos) q.cache = s.values[cache_pos_];
      if (resolution_pos_ != npos)
        q.resolution = YamlView(YAML::Node(s.values[resolution_pos_]), "").as<int>();
      it = s.queries.emplace(key, sim::prepare_query(q, accel.pb_bytes)).first;
    }
    return sim::evaluate_analytic(accel, *it->second);
  } catch (const InputError&) {
    return std::nullopt;  // the Point path gives the message
  }
}

}  // namespace sushi::explore
