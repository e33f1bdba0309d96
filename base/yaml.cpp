#include "base/yaml.h"

#include <cstdint>
#include <fstream>
#include <sstream>

namespace sushi {

template <>
const char* yaml_type_name<int>() {
  return "an integer";
}
template <>
const char* yaml_type_name<int64_t>() {
  return "an integer";
}
template <>
const char* yaml_type_name<uint64_t>() {
  return "a non-negative integer";
}
template <>
const char* yaml_type_name<double>() {
  return "a number";
}
template <>
const char* yaml_type_name<bool>() {
  return "a boolean";
}
template <>
const char* yaml_type_name<std::string>() {
  return "a string";
}

YamlView YamlView::load_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file + ": cannot open file");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), file);
}

namespace {
// yaml-cpp keeps both entries of a repeated key and lookups see only the first: reject it instead.
void check_duplicate_keys(const YAML::Node& node, const std::string& origin) {
  if (node.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second)
        throw InputError(origin + ":" + std::to_string(kv.first.Mark().line + 1) + ": duplicate key '" +
                         kv.first.Scalar() + "'");
      check_duplicate_keys(kv.second, origin);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) check_duplicate_keys(item, origin);
  }
}
}  // namespace

YamlView YamlView::parse(const std::string& text, const std::string& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    check_duplicate_keys(root, origin);
    return YamlView(root, origin);
  } catch (const YAML::ParserException& e) {
    throw InputError(origin + ": line " + std::to_string(e.mark.line + 1) + ": malformed YAML: " + e.msg);
  }
}

std::string YamlView::where() const {
  std::string line;
  if (node_.Mark().line >= 0 && node_.IsDefined())
    line = " (line " + std::to_string(node_.Mark().line + 1) + ")";
  return file_ + ": " + (path_.empty() ? std::string("top level") : "key '" + path_ + "'") + line;
}

void YamlView::fail(const std::string& what) const {
  throw InputError(where() + ": " + what);
}

bool YamlView::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined();
}

YamlView YamlView::at(const std::string& key) const {
  if (!node_.IsMap()) fail("expected a mapping containing '" + key + "'");
  YAML::Node child = node_[key];
  if (!child.IsDefined()) fail("missing required key '" + key + "'");
  return YamlView(child, file_, child_path(key));
}

YamlView YamlView::at(size_t index) const {
  if (!node_.IsSequence() || index >= node_.size())
    fail("expected a list with at least " + std::to_string(index + 1) + " entries");
  return YamlView(node_[index], file_, path_ + "[" + std::to_string(index) + "]");
}

std::vector<YamlView> YamlView::items() const {
  if (!node_.IsSequence()) fail("expected a list");
  std::vector<YamlView> out;
  for (size_t i = 0; i < node_.size(); ++i) out.push_back(at(i));
  return out;
}

std::string YamlView::key_text(const YAML::Node& key) const {
  if (!key.IsScalar()) {
    const std::string line =
        key.Mark().line >= 0 ? " (line " + std::to_string(key.Mark().line + 1) + ")" : "";
    throw InputError(file_ + ": " + (path_.empty() ? std::string("top level") : "key '" + path_ + "'") +
                     line + ": expected a plain scalar key, got a " +
                     (key.IsSequence() ? "list"
                      : key.IsMap()    ? "mapping"
                                       : "null") +
                     " as a key");
  }
  return key.Scalar();
}

void YamlView::expect_keys(const std::set<std::string>& allowed) const {
  if (!node_.IsMap()) fail("expected a mapping");
  for (const auto& kv : node_) {
    const std::string key = key_text(kv.first);
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw InputError(file_ + ": key '" + child_path(key) + "': unknown key (expected one of: " + list +
                       ")");
    }
  }
}

}  // namespace sushi
