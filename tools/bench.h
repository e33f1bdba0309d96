#pragma once
// `sushi bench TARGET`: speed benchmarks register a target here (kernels, sim, serve, ...).
#include <functional>
#include <string>
#include <vector>

namespace sushi::cli {

struct BenchTarget {
  static constexpr const char* kRegistryKind = "bench";
  using Factory = std::function<int(const std::vector<std::string>& args)>;  // runs the target
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;  // args after the target name
};
// Registers the target in Registry<BenchTarget> (base/registry.h).
bool register_bench(BenchTarget target);

}  // namespace sushi::cli
