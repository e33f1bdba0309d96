#pragma once
// Typed parameters, declared once (ARCHITECTURE.md contract 2). A component declares each parameter with
// its dotted path, type, default, range, unit and a one-line doc, bound to a field of its config struct:
//
//   const ParamSchema<AccelConfig>& accel_schema() {
//     static const ParamSchema<AccelConfig> s = ParamSchema<AccelConfig>("accel", "SushiAccel config")
//         .integer("array.k_parallel", &AccelConfig::k_parallel, 16, {1, 4096}, "", "output channels per
//         cycle") .bytes("buffers.persistent_bytes", &AccelConfig::pb_bytes, required, {0, kMaxBytes}, "PB
//         size");
//     return s;
//   }
//
// The declaration alone drives parsing (defaults, ranges, NaN rejection, unknown keys at every level, errors
// naming file, key, line and what was expected), `sushi describe`, the canonical form a Point hashes, and
// validation of `--set` / sweep-axis paths. Struct fields carry no default of their own: defaults() builds
// one.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/yaml.h"

namespace sushi {

enum class ParamType { Int, Real, Bool, String, Choice, Bytes, List, IntList, RealList, IntRealMap };
const char* to_string(ParamType t);

// Inclusive range; `open_min` excludes the lower bound (e.g. a clock must be > 0).
struct Range {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool open_min = false;
  bool contains(double x) const { return std::isfinite(x) && (open_min ? x > min : x >= min) && x <= max; }
  std::string text() const;  // "[1, 4096]", "(0, 1]"
};

// Marks a parameter without a default: the config must give it.
struct Required {};
inline constexpr Required required{};

struct ParamInfo {
  std::string path;  // dotted, relative to the component's root: "dram.peak_gbps"
  ParamType type = ParamType::Int;
  std::optional<std::string> default_text;  // nullopt: required
  Range range;
  std::string unit;
  std::string doc;
  std::vector<std::string> choices;             // ParamType::Choice
  const class ParamSchemaBase* item = nullptr;  // ParamType::List: the schema of each entry
  size_t min_items = 0;  // IntList / RealList: entries at least (`range` bounds each entry)
};

// Parses "64", "1MiB", "4 KiB", "2GB" (binary suffixes KiB/MiB/GiB, decimal kB/MB/GB); nullopt when not a
// size.
std::optional<int64_t> parse_bytes(const std::string& text);

// The type-erased view every describer and path validator uses.
class ParamSchemaBase {
 public:
  ParamSchemaBase(std::string component, std::string doc)
      : component_(std::move(component)), doc_(std::move(doc)) {}
  virtual ~ParamSchemaBase() = default;
  // Parses `value` as the declared parameter at `path` alone, throwing its InputError (which names value's
  // file, the "--set ..." flag of an override); a path that is not one declared parameter is left to the
  // full parse.
  virtual void check_value(const std::string& path, const YamlView& value) const = 0;
  const std::string& component() const { return component_; }
  const std::string& doc() const { return doc_; }
  const std::vector<ParamInfo>& params() const { return infos_; }
  const ParamInfo* find(const std::string& path) const;
  // Checks that `path` names a declared parameter (a list entry's fields as "list.N.field"); returns an
  // error message naming the path and what was expected, or "" when it is valid.
  std::string check_path(const std::string& path) const;
  // The human listing of `sushi describe`: one line per parameter with type, default, range, unit and doc.
  std::string describe_text(const std::string& indent = "  ") const;
  void describe_json(JsonWriter& w) const;

 protected:
  std::string component_, doc_;
  std::vector<ParamInfo> infos_;
};

template <typename T>
class ParamSchema : public ParamSchemaBase {
 public:
  ParamSchema(std::string component, std::string doc)
      : ParamSchemaBase(std::move(component), std::move(doc)) {}

  template <typename F, typename D>
  ParamSchema& integer(const std::string& path, F T::*field, D def, Range range, std::string unit,
                       std::string doc) {
    static_assert(std::is_integral_v<F>, "integer() binds an integral field");
    return scalar<F>(path, field, ParamType::Int, to_default<F>(def), range, std::move(unit), std::move(doc));
  }
  template <typename D>
  ParamSchema& bytes(const std::string& path, int64_t T::*field, D def, Range range, std::string doc) {
    return scalar<int64_t>(path, field, ParamType::Bytes, to_default<int64_t>(def), range, "B",
                           std::move(doc));
  }
  template <typename D>
  ParamSchema& real(const std::string& path, double T::*field, D def, Range range, std::string unit,
                    std::string doc) {
    return scalar<double>(path, field, ParamType::Real, to_default<double>(def), range, std::move(unit),
                          std::move(doc));
  }
  template <typename D>
  ParamSchema& boolean(const std::string& path, bool T::*field, D def, std::string doc) {
    return scalar<bool>(path, field, ParamType::Bool, to_default<bool>(def), Range{}, "", std::move(doc));
  }
  template <typename D>
  ParamSchema& string(const std::string& path, std::string T::*field, D def, std::string doc) {
    return scalar<std::string>(path, field, ParamType::String, to_default<std::string>(def), Range{}, "",
                               std::move(doc));
  }
  // An enumeration picked by name: `choices` maps each accepted spelling to its value.
  template <typename E, typename D>
  ParamSchema& choice(const std::string& path, E T::*field, D def,
                      std::vector<std::pair<std::string, E>> choices, std::string doc) {
    ParamInfo info = make_info(path, ParamType::Choice, Range{}, "", std::move(doc));
    for (const auto& c : choices) info.choices.push_back(c.first);
    std::optional<E> d = to_default<E>(def);
    if (d)
      for (const auto& c : choices)
        if (c.second == *d) info.default_text = c.first;
    Binding b;
    b.set_default = [field, d](T& t) {
      if (d) t.*field = *d;
    };
    b.parse = [field, choices](T& t, const YamlView& v) {
      const std::string s = v.as<std::string>();
      for (const auto& c : choices)
        if (c.first == s) {
          t.*field = c.second;
          return;
        }
      std::string known;
      for (const auto& c : choices) known += (known.empty() ? "" : " | ") + c.first;
      v.fail("expected one of " + known + ", got '" + s + "'");
    };
    b.write = [field, choices](JsonWriter& w, const T& t) {
      for (const auto& c : choices)
        if (c.second == t.*field) w.value(c.first);
    };
    b.copy = [field](T& to, const T& from) { to.*field = from.*field; };
    return add(std::move(info), std::move(b), d.has_value());
  }
  // A list of entries, each parsed by its own schema (e.g. SRAM energy classes). `min_items` entries at
  // least.
  template <typename U>
  ParamSchema& list(const std::string& path, std::vector<U> T::*field, const ParamSchema<U>& item,
                    size_t min_items, std::string doc) {
    ParamInfo info =
        make_info(path, ParamType::List, Range{double(min_items), 1e9}, "entries", std::move(doc));
    info.item = &item;
    Binding b;
    b.set_default = [field](T& t) { (t.*field).clear(); };
    b.parse = [field, &item, min_items](T& t, const YamlView& v) {
      if (!v.is_sequence() || v.size() < min_items)
        v.fail("expected a list of at least " + std::to_string(min_items) + " entries (" + item.doc() + ")");
      (t.*field).clear();
      for (const YamlView& e : v.items()) (t.*field).push_back(item.parse(e));
    };
    b.write = [field, &item](JsonWriter& w, const T& t) {
      w.begin_array();
      for (const U& u : t.*field) item.write(w, u);
      w.end_array();
    };
    b.copy = [field](T& to, const T& from) { to.*field = from.*field; };
    return add(std::move(info), std::move(b), min_items == 0);
  }
  // A list of integers (e.g. elastic depth choices), each in `range`, at least `min_items` of them when
  // given. `def` is a std::vector<int> or `required`.
  template <typename D>
  ParamSchema& int_list(const std::string& path, std::vector<int> T::*field, D def, Range range,
                        size_t min_items, std::string unit, std::string doc) {
    return scalar_list<int>(path, field, ParamType::IntList, to_default<std::vector<int>>(def), range,
                            min_items, std::move(unit), std::move(doc));
  }
  template <typename D>
  ParamSchema& real_list(const std::string& path, std::vector<double> T::*field, D def, Range range,
                         size_t min_items, std::string unit, std::string doc) {
    return scalar_list<double>(path, field, ParamType::RealList, to_default<std::vector<double>>(def), range,
                               min_items, std::move(unit), std::move(doc));
  }
  // An optional mapping from integer keys in `key_range` to numbers in `range` (e.g. depth: expand ratio);
  // empty when absent.
  ParamSchema& int_real_map(const std::string& path, std::map<int, double> T::*field, Range key_range,
                            Range range, std::string unit, std::string doc) {
    ParamInfo info = make_info(path, ParamType::IntRealMap, range, std::move(unit), std::move(doc));
    info.default_text = "{}";
    Binding b;
    b.set_default = [field](T& t) { (t.*field).clear(); };
    b.parse = [field, key_range, range](T& t, const YamlView& v) {
      if (!v.is_map()) v.fail("expected a mapping of integer keys in " + key_range.text() + " to numbers");
      (t.*field).clear();
      for (const auto& kv : v.node()) {
        const std::string key = kv.first.Scalar();
        const YamlView key_view(kv.first, v.file(), v.path().empty() ? key : v.path() + "." + key);
        const int k = read_scalar<int>(key_view, ParamType::Int, key_range);
        (t.*field)[k] = read_scalar<double>(v.at(key), ParamType::Real, range);
      }
    };
    b.write = [field](JsonWriter& w, const T& t) {
      w.begin_object();
      for (const auto& [k, x] : t.*field) w.key(std::to_string(k)).value(x);
      w.end_object();
    };
    b.copy = [field](T& to, const T& from) { to.*field = from.*field; };
    return add(std::move(info), std::move(b), true);
  }
  // Every parameter and check of `base`'s schema, bound to the base-class part of T (a header shared by
  // several components, e.g. a supernet space's name and family).
  template <typename B>
  ParamSchema& include(const ParamSchema<B>& base) {
    static_assert(std::is_base_of_v<B, T>, "include() takes the schema of a base of T");
    for (size_t i = 0; i < base.infos_.size(); ++i) {
      const typename ParamSchema<B>::Binding& from = base.bindings_[i];
      Binding b;
      b.set_default = [f = from.set_default](T& t) { f(static_cast<B&>(t)); };
      b.parse = [f = from.parse](T& t, const YamlView& v) { f(static_cast<B&>(t), v); };
      b.write = [f = from.write](JsonWriter& w, const T& t) { f(w, static_cast<const B&>(t)); };
      b.copy = [f = from.copy](T& to, const T& from_t) {
        f(static_cast<B&>(to), static_cast<const B&>(from_t));
      };
      add(base.infos_[i], std::move(b), from.optional);
    }
    for (const auto& [path, rule] : base.checks_)
      checks_.push_back({path, [r = rule](const T& t) { return r(static_cast<const B&>(t)); }});
    return *this;
  }
  // A check over several parameters, run after all are parsed: returns "" or an error; `path` is the key the
  // error points at.
  ParamSchema& check(const std::string& path, std::function<std::string(const T&)> rule) {
    checks_.push_back({path, std::move(rule)});
    return *this;
  }

  T defaults() const {
    T t{};
    for (const Binding& b : bindings_) b.set_default(t);
    return t;
  }

  // Parses `root` (the component's mapping): defaults for what is absent, every present key checked.
  T parse(const YamlView& root) const { return parse_impl(root, true); }
  // As parse(), but keys of `root` this schema does not declare are left to the caller (a header read
  // before the full schema is known, e.g. `family:` choosing the schema of the rest).
  T parse_declared(const YamlView& root) const { return parse_impl(root, false); }

  // A typed patch: `value` (a YAML scalar or tree) parsed and checked once as the parameter at `path`
  // (declared, not a list entry's field: nullptr then), returned as a setter of that field alone. What
  // sweeps apply to an already-parsed config instead of re-parsing its tree per point; the cross-parameter
  // checks are left to failed_check().
  std::function<void(T&)> patch(const std::string& path, const YamlView& value) const {
    for (size_t i = 0; i < infos_.size(); ++i) {
      if (infos_[i].path != path) continue;
      auto from = std::make_shared<T>(defaults());
      bindings_[i].parse(*from, value);
      return [copy = bindings_[i].copy, from](T& t) { copy(t, *from); };
    }
    return nullptr;
  }
  void check_value(const std::string& path, const YamlView& value) const override {
    (void)patch(path, value);
  }
  // The first cross-parameter check that `t` fails: its key (`path` receives it) and message; "" if none.
  std::string failed_check(const T& t, std::string* path = nullptr) const {
    for (const auto& [key, rule] : checks_) {
      std::string error = rule(t);
      if (error.empty()) continue;
      if (path) *path = key;
      return error;
    }
    return "";
  }

 private:
  T parse_impl(const YamlView& root, bool all_keys) const {
    if (!root.is_map()) root.fail("expected a mapping (" + doc_ + ")");
    check_keys(root, "", all_keys);
    T t = defaults();
    for (size_t i = 0; i < infos_.size(); ++i) {
      const std::optional<YamlView> v = lookup(root, infos_[i].path);
      if (v)
        bindings_[i].parse(t, *v);
      else if (!bindings_[i].optional)
        missing(root, infos_[i].path);
    }
    for (const auto& [path, rule] : checks_) {
      const std::string error = rule(t);
      if (error.empty()) continue;
      const std::optional<YamlView> v = lookup(root, path);
      (v ? *v : root).fail(error);
    }
    return t;
  }

 public:
  // The canonical form: every parameter in declaration order, nested by path (what a Point hashes).
  void write(JsonWriter& w, const T& t) const {
    std::vector<std::string> open;
    w.begin_object();
    for (const size_t i : grouped_order()) {
      const std::vector<std::string> parts = split_path(infos_[i].path);
      size_t common = 0;
      while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
      while (open.size() > common) {
        w.end_object();
        open.pop_back();
      }
      for (size_t p = common; p + 1 < parts.size(); ++p) {
        w.key(parts[p]).begin_object();
        open.push_back(parts[p]);
      }
      w.key(parts.back());
      bindings_[i].write(w, t);
    }
    while (!open.empty()) {
      w.end_object();
      open.pop_back();
    }
    w.end_object();
  }

 private:
  // Declaration order, except that parameters sharing a path prefix are written together (a group declared in
  // two places, e.g. `dram.*` from two helper functions, must still be one YAML map in the canonical form).
  std::vector<size_t> grouped_order() const {
    std::vector<std::vector<size_t>> keys(infos_.size());
    std::map<std::string, size_t> first_seen;  // prefix -> first declaration index
    for (size_t i = 0; i < infos_.size(); ++i) {
      std::string prefix;
      for (const std::string& part : split_path(infos_[i].path)) {
        prefix += part + ".";
        keys[i].push_back(first_seen.emplace(prefix, i).first->second);
      }
    }
    std::vector<size_t> order(infos_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
    return order;
  }

  template <typename>
  friend class ParamSchema;
  struct Binding {
    std::function<void(T&)> set_default;
    std::function<void(T&, const YamlView&)> parse;
    std::function<void(JsonWriter&, const T&)> write;
    std::function<void(T& to, const T& from)> copy;  // the parameter's field(s) only
    bool optional = true;
  };

  template <typename V, typename D>
  static std::optional<V> to_default(const D& d) {
    if constexpr (std::is_same_v<D, Required>)
      return std::nullopt;
    else
      return V(d);
  }

  ParamInfo make_info(const std::string& path, ParamType type, Range range, std::string unit,
                      std::string doc) {
    ParamInfo info;
    info.path = path;
    info.type = type;
    info.range = range;
    info.unit = std::move(unit);
    info.doc = std::move(doc);
    return info;
  }

  ParamSchema& add(ParamInfo info, Binding b, bool optional) {
    b.optional = optional;
    infos_.push_back(std::move(info));
    bindings_.push_back(std::move(b));
    return *this;
  }

  template <typename V>
  ParamSchema& scalar(const std::string& path, V T::*field, ParamType type, std::optional<V> def, Range range,
                      std::string unit, std::string doc) {
    ParamInfo info = make_info(path, type, range, std::move(unit), std::move(doc));
    if (def) info.default_text = value_text(*def);
    Binding b;
    b.set_default = [field, def](T& t) {
      if (def) t.*field = *def;
    };
    b.parse = [field, type, range](T& t, const YamlView& v) { t.*field = read_scalar<V>(v, type, range); };
    b.write = [field](JsonWriter& w, const T& t) { write_value(w, t.*field); };
    b.copy = [field](T& to, const T& from) { to.*field = from.*field; };
    return add(std::move(info), std::move(b), def.has_value());
  }

  template <typename V>
  ParamSchema& scalar_list(const std::string& path, std::vector<V> T::*field, ParamType type,
                           std::optional<std::vector<V>> def, Range range, size_t min_items, std::string unit,
                           std::string doc) {
    ParamInfo info = make_info(path, type, range, std::move(unit), std::move(doc));
    info.min_items = min_items;
    if (def) {
      std::string text;
      for (const V& x : *def) text += (text.empty() ? "" : ", ") + value_text(x);
      info.default_text = "[" + text + "]";
    }
    Binding b;
    b.set_default = [field, def](T& t) {
      if (def) t.*field = *def;
    };
    b.parse = [field, range, min_items](T& t, const YamlView& v) {
      const ParamType each = std::is_integral_v<V> ? ParamType::Int : ParamType::Real;
      if (!v.is_sequence() || v.size() < min_items)
        v.fail("expected a list of at least " + std::to_string(min_items) + " " +
               (std::is_integral_v<V> ? "integers" : "numbers") + " in " + range.text());
      (t.*field).clear();
      for (const YamlView& e : v.items()) (t.*field).push_back(read_scalar<V>(e, each, range));
    };
    b.write = [field](JsonWriter& w, const T& t) {
      w.begin_array();
      for (const V& x : t.*field) write_value(w, x);
      w.end_array();
    };
    b.copy = [field](T& to, const T& from) { to.*field = from.*field; };
    return add(std::move(info), std::move(b), def.has_value());
  }

  template <typename V>
  static V read_scalar(const YamlView& v, ParamType type, const Range& range) {
    if constexpr (std::is_same_v<V, std::string> || std::is_same_v<V, bool>) {
      (void)type;
      (void)range;
      return v.as<V>();
    } else {
      double x = 0;
      if (type == ParamType::Bytes) {
        const std::optional<int64_t> b = v.node().IsScalar() ? parse_bytes(v.node().Scalar()) : std::nullopt;
        if (!b) v.fail("expected a size in bytes (e.g. 65536 or 64KiB), got '" + scalar_text(v) + "'");
        x = double(*b);
        if (!range.contains(x))
          v.fail("expected a size in " + range.text() + " bytes, got " + scalar_text(v));
        return V(*b);
      }
      const V value = v.as<V>();
      x = double(value);
      if (!range.contains(x))
        v.fail(std::string("expected ") + (std::is_integral_v<V> ? "an integer" : "a number") + " in " +
               range.text() + ", got " + scalar_text(v));
      return value;
    }
  }

  static std::string scalar_text(const YamlView& v) { return v.node().IsScalar() ? v.node().Scalar() : "?"; }
  template <typename V>
  static std::string value_text(const V& v) {
    if constexpr (std::is_same_v<V, std::string>)
      return v;
    else if constexpr (std::is_same_v<V, bool>)
      return v ? "true" : "false";
    else
      return number_text(double(v));
  }
  static std::string number_text(double v);
  template <typename V>
  static void write_value(JsonWriter& w, const V& v) {
    if constexpr (std::is_same_v<V, int>)
      w.value(int64_t(v));
    else
      w.value(v);
  }

  static std::vector<std::string> split_path(const std::string& path);
  // Walks by recursion: assigning a YamlView would assign its YAML::Node, which rewrites the tree in place.
  static std::optional<YamlView> lookup(const YamlView& v, const std::string& path) {
    const size_t dot = path.find('.');
    const std::string head = path.substr(0, dot);
    if (!v.is_map() || !v.has(head)) return std::nullopt;
    if (dot == std::string::npos) return v.at(head);
    return lookup(v.at(head), path.substr(dot + 1));
  }
  [[noreturn]] static void missing(const YamlView& v, const std::string& path) {
    const size_t dot = path.find('.');
    const std::string head = path.substr(0, dot);
    if (dot == std::string::npos) v.fail("missing required key '" + head + "'");
    if (!v.has(head)) v.fail("missing required key '" + head + "' (a section)");
    missing(v.at(head), path.substr(dot + 1));
  }
  // Unknown keys at every section level (catches typos such as "strid:").
  void check_keys(const YamlView& node, const std::string& prefix, bool all_keys = true) const {
    std::set<std::string> allowed;
    std::set<std::string> sections;
    for (const ParamInfo& info : infos_) {
      if (info.path.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string rest = info.path.substr(prefix.size());
      const size_t dot = rest.find('.');
      allowed.insert(rest.substr(0, dot));
      if (dot != std::string::npos) sections.insert(rest.substr(0, dot));
    }
    if (all_keys) node.expect_keys(allowed);
    for (const std::string& s : sections)
      if (node.has(s)) {
        const YamlView child = node.at(s);
        if (!child.is_map()) child.fail("expected a mapping (a section)");
        check_keys(child, prefix + s + ".");
      }
  }

  std::vector<Binding> bindings_;
  std::vector<std::pair<std::string, std::function<std::string(const T&)>>> checks_;
};

template <typename T>
std::string ParamSchema<T>::number_text(double v) {
  JsonWriter w;
  w.value(v);
  return w.str();
}

template <typename T>
std::vector<std::string> ParamSchema<T>::split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace sushi
