#pragma once
// Structure-aware mutation of YAML (and JSON, which is YAML) inputs, beside libFuzzer's byte mutation: the
// text is parsed, one node is picked and replaced by an extreme value of the kind a hostile user writes
// (0, -1, INT_MAX, INT64_MAX, 2^31, 1e300, 1e-300, NaN, inf, "", a list, a map), or a map entry is dropped
// or a sequence item duplicated, and the tree is written back out. The loaders then see well-formed YAML
// with one bad value, which byte mutation rarely produces. Deterministic for a given seed.
#include <cstdint>
#include <optional>
#include <string>

namespace sushi::fuzz {

// The mutated text, or nullopt when `text` is not YAML (the caller then mutates bytes).
std::optional<std::string> mutate_yaml(const std::string& text, uint64_t seed);

}  // namespace sushi::fuzz
