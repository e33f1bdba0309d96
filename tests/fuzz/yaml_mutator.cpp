#include "tests/fuzz/yaml_mutator.h"

#include <yaml-cpp/yaml.h>

#include <vector>

#include "base/random.h"

namespace sushi::fuzz {
namespace {

const char* const kExtremes[] = {
    "0",
    "-1",
    "1",
    "2",
    "2147483647",
    "-2147483648",
    "2147483648",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "1e300",
    "-1e300",
    "1e-300",
    "1e12",
    "1e6",
    ".nan",
    ".inf",
    "-.inf",
    "0.5",
    "\"\"",
    "x",
    "null",
    "~",
    "true",
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "1GiB",
    "-1MiB",
    "99999999999TiB",
};

// Every node below `n` (itself included), parents before children.
void collect(const YAML::Node& n, std::vector<YAML::Node>& out) {
  out.push_back(n);
  if (n.IsSequence()) {
    for (const YAML::Node& c : n) collect(c, out);
  } else if (n.IsMap()) {
    for (const auto& kv : n) collect(kv.second, out);
  }
}

void mutate_node(YAML::Node n, Rng& rng) {
  const uint64_t op = rng.uniform_int(uint64_t(10));
  if (op == 0 && n.IsMap() && n.size() > 0) {  // drop an entry
    std::vector<YAML::Node> keys;
    for (const auto& kv : n) keys.push_back(kv.first);
    n.remove(keys[rng.uniform_int(uint64_t(keys.size()))]);
  } else if (op == 1 && n.IsSequence() && n.size() > 0) {  // duplicate an item
    n.push_back(YAML::Clone(n[rng.uniform_int(uint64_t(n.size()))]));
  } else {  // replace by an extreme value (parsed, so lists and maps stay lists and maps)
    const size_t k = rng.uniform_int(uint64_t(std::size(kExtremes)));
    n = YAML::Load(kExtremes[k]);
  }
}

}  // namespace

std::optional<std::string> mutate_yaml(const std::string& text, uint64_t seed) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
  if (!root.IsMap() && !root.IsSequence()) return std::nullopt;
  Rng rng(seed);
  std::vector<YAML::Node> nodes;
  collect(root, nodes);
  const uint64_t times = 1 + rng.uniform_int(uint64_t(3));
  for (uint64_t i = 0; i < times; ++i) mutate_node(nodes[rng.uniform_int(uint64_t(nodes.size()))], rng);
  YAML::Emitter out;
  out << root;
  if (!out.good()) return std::nullopt;
  return std::string(out.c_str());
}

}  // namespace sushi::fuzz
