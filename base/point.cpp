#include "base/point.h"

#include <map>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"

namespace sushi {

Override parse_override(const std::string& text, const std::string& origin) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || text.find("..") != std::string::npos || text.front() == '.' ||
      text[eq - 1] == '.')
    throw InputError(origin + " '" + text +
                     "': expected PATH=VALUE with a dotted path (e.g. accel.dram.peak_gbps=12.8)");
  return Override{text.substr(0, eq), text.substr(eq + 1), origin};
}

Point Point::parse(const std::string& yaml_text, const std::string& origin) {
  Point p;
  p.origin_ = origin;
  p.root_ = YamlView::parse(yaml_text, origin).node();  // not cloned: a clone loses the line numbers
  if (!p.root_.IsMap()) throw InputError(origin + ": expected a mapping");
  return p;
}

namespace {

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Recursion instead of re-binding YAML::Node variables: assigning a Node rewrites the tree it refers to.
void set_at(YAML::Node node, const std::vector<std::string>& parts, size_t i, const Override& o) {
  const std::string& key = parts[i];
  const std::string where = o.origin + " " + o.path + "=" + o.value;
  const bool last = i + 1 == parts.size();
  if (node.IsSequence()) {
    if (!is_index(key) || std::stoul(key) >= node.size())
      throw InputError(where + ": '" + key + "' is not an index of the list (0.." +
                       std::to_string(node.size()) + ")");
    const size_t index = std::stoul(key);
    if (last) {
      if (!node[index].IsScalar() && node[index].IsDefined() && !node[index].IsNull())
        throw InputError(where + ": the list entry is not a scalar");
      node[index] = o.value;
    } else {
      set_at(node[index], parts, i + 1, o);
    }
    return;
  }
  if (!node.IsMap() && !node.IsNull()) throw InputError(where + ": '" + key + "' is under a scalar");
  if (last) {
    if (node[key] && (node[key].IsMap() || node[key].IsSequence()))
      throw InputError(where + ": '" + o.path + "' is a section, not a value");
    node[key] = o.value;
    return;
  }
  if (!node[key]) node[key] = YAML::Node(YAML::NodeType::Map);
  set_at(node[key], parts, i + 1, o);
}

void canonical_into(JsonWriter& w, const YAML::Node& n) {
  if (n.IsMap()) {
    // A std::map emplaces without assigning nodes (sorting a vector of nodes would assign them).
    std::map<std::string, YAML::Node> items;
    for (const auto& kv : n) items.emplace(kv.first.Scalar(), kv.second);
    w.begin_object();
    for (const auto& [k, v] : items) {
      w.key(k);
      canonical_into(w, v);
    }
    w.end_object();
  } else if (n.IsSequence()) {
    w.begin_array();
    for (const auto& v : n) canonical_into(w, v);
    w.end_array();
  } else if (n.IsScalar()) {
    w.value(n.Scalar());
  } else {
    w.raw("null");
  }
}

}  // namespace

namespace {
bool has_at(const YAML::Node& node, const std::vector<std::string>& parts, size_t i) {
  if (i == parts.size()) return true;
  if (node.IsSequence())
    return is_index(parts[i]) && std::stoul(parts[i]) < node.size() &&
           has_at(node[std::stoul(parts[i])], parts, i + 1);
  return node.IsMap() && node[parts[i]] && has_at(node[parts[i]], parts, i + 1);
}
}  // namespace

bool Point::has(const std::string& path) const {
  return has_at(root_, split(path), 0);
}

void Point::set(const Override& o) {
  set_at(root_, split(o.path), 0, o);
}

void Point::apply(const std::vector<Override>& overrides, const std::string& prefix,
                  const ParamSchemaBase& schema) {
  for (const Override& o : overrides) {
    if (o.path.compare(0, prefix.size() + 1, prefix + ".") != 0) continue;
    Override local = o;
    local.path = o.path.substr(prefix.size() + 1);
    const std::string error = schema.check_path(local.path);
    if (!error.empty()) throw InputError(o.origin + " " + o.path + "=" + o.value + ": " + error);
    // Checked here, where the error can name the flag; once set, the value carries the file's line.
    schema.check_value(local.path,
                       YamlView(YAML::Node(o.value), o.origin + " " + o.path + "=" + o.value, local.path));
    set(local);
  }
}

std::string canonical_json(const YAML::Node& node) {
  JsonWriter w;
  canonical_into(w, node);
  return w.str();
}

std::string Point::canonical() const {
  return canonical_json(root_);
}

std::string Point::hash() const {
  return content_hash(canonical() + "\nmodel " + model_version());
}

}  // namespace sushi
