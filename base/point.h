#pragma once
// One point of a design space (ARCHITECTURE.md contract 6): a config tree fully resolved before anything
// runs. Overrides are applied by dotted path (`--set accel.buffers.persistent_bytes=1MiB`, the syntax sweeps
// use for their axes), list entries by index (`energy.sram.0.max_bytes=4096`). Its canonical form (maps with
// sorted keys, scalars as their YAML text) is what is hashed, so two spellings of one config share a hash,
// and evaluations are cached by that hash together with the model version.
#include <string>
#include <utility>
#include <vector>

#include "base/params.h"
#include "base/yaml.h"

namespace sushi {

struct Override {
  std::string path;   // dotted: "accel.dram.peak_gbps"
  std::string value;  // YAML scalar text: "19.2", "1MiB", "edf"
  std::string origin = "--set";
};
// Parses "a.b.c=value"; InputError naming `origin` when malformed.
Override parse_override(const std::string& text, const std::string& origin = "--set");

// Copies share one tree (YAML::Node semantics): set() on a copy changes both.
class Point {
 public:
  Point() = default;
  // `origin` names the source in errors (a file path).
  static Point parse(const std::string& yaml_text, const std::string& origin);

  // Sets the scalar at `path`, creating missing map levels; a list entry is addressed by its index and must
  // exist. Replacing a map or list by a scalar is an error naming the path.
  void set(const Override& o);
  void set(const std::string& path, const std::string& value) { set(Override{path, value}); }
  // Applies every override whose path starts with `prefix` + "." (the prefix stripped), after checking it
  // against `schema` (errors name the override, the path and what was expected).
  void apply(const std::vector<Override>& overrides, const std::string& prefix,
             const ParamSchemaBase& schema);

  bool has(const std::string& path) const;  // a value (scalar, map or list) exists at `path`
  YamlView view() const { return YamlView(root_, origin_); }
  const std::string& origin() const { return origin_; }
  std::string canonical() const;  // one line of JSON
  std::string hash() const;       // content hash of canonical() and the model version

 private:
  YAML::Node root_{YAML::NodeType::Map};
  std::string origin_;
};

// The canonical JSON text of any YAML tree (maps by sorted key, scalars as strings).
std::string canonical_json(const YAML::Node& node);

}  // namespace sushi
