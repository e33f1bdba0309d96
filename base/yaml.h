#pragma once
// Typed, checked access to YAML nodes. Every failure throws InputError naming file, key path and the
// expected value. yaml-cpp's as<T>(fallback) silently returns the fallback on a type mismatch, so all
// reads go through here instead.
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "base/errors.h"

namespace sushi {

// A YAML node together with where it came from, so errors can say "file.yaml: key a.b.c: expected ...".
class YamlView {
 public:
  YamlView(const YAML::Node& node, std::string file, std::string path = "")
      : node_(node), file_(std::move(file)), path_(std::move(path)) {}
  static YamlView load_file(const std::string& file);
  static YamlView parse(const std::string& text, const std::string& origin);

  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  bool has(const std::string& key) const;
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  size_t size() const { return node_.size(); }

  YamlView at(const std::string& key) const;  // required
  YamlView at(size_t index) const;
  std::vector<YamlView> items() const;  // sequence elements

  template <typename T>
  T get(const std::string& key) const;  // required scalar
  template <typename T>
  T get(const std::string& key, const T& fallback) const;  // optional scalar, type still checked
  template <typename T>
  std::vector<T> get_list(const std::string& key) const;
  template <typename T>
  T as() const;

  // Rejects keys outside `allowed` (catches typos such as "strid:").
  void expect_keys(const std::set<std::string>& allowed) const;
  // A key of this mapping as text; a non-scalar key (`[1]: 2`, `{a: b}: c`) is an error naming the file.
  std::string key_text(const YAML::Node& key) const;
  [[noreturn]] void fail(const std::string& what) const;
  std::string where() const;

 private:
  std::string child_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  YAML::Node node_;
  std::string file_;
  std::string path_;
};

template <typename T>
const char* yaml_type_name();

template <typename T>
T YamlView::as() const {
  if (!node_.IsScalar()) fail(std::string("expected ") + yaml_type_name<T>());
  T value{};
  try {
    value = node_.as<T>();
  } catch (const YAML::Exception&) {
    fail(std::string("expected ") + yaml_type_name<T>() + ", got '" + node_.Scalar() + "'");
  }
  if constexpr (std::is_floating_point_v<T>)
    if (!std::isfinite(value)) fail("expected a finite number, got '" + node_.Scalar() + "'");
  return value;
}

template <typename T>
T YamlView::get(const std::string& key) const {
  return at(key).as<T>();
}

template <typename T>
T YamlView::get(const std::string& key, const T& fallback) const {
  return has(key) ? at(key).as<T>() : fallback;
}

template <typename T>
std::vector<T> YamlView::get_list(const std::string& key) const {
  YamlView list = at(key);
  if (!list.is_sequence()) list.fail(std::string("expected a list, each entry ") + yaml_type_name<T>());
  std::vector<T> out;
  for (const YamlView& item : list.items()) out.push_back(item.as<T>());
  return out;
}

}  // namespace sushi
