#pragma once
// `sushi bench TARGET`: speed benchmarks register a target here (kernels, sim, serve, ...).
#include <functional>
#include <string>
#include <vector>

namespace sushi::cli {

struct BenchTarget {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;  // args after the target name
};
bool register_bench(BenchTarget target);

}  // namespace sushi::cli
