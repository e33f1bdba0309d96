// `sushi bench TARGET [--json]`: dispatches to the registered benchmark targets.
#include <iostream>

#include "base/errors.h"
#include "base/registry.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

int bench(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: sushi bench TARGET [options]   (sushi bench TARGET --help)\n\ntargets:\n";
    for (const ComponentInfo& t : ComponentIndex::of_kind(BenchTarget::kRegistryKind))
      std::cout << "  " << t.name << "  " << t.doc << "\n";
    return args.empty() ? 2 : 0;
  }
  const auto& run = Registry<BenchTarget>::get(args[0], "sushi bench");
  return run(std::vector<std::string>(args.begin() + 1, args.end()));
}

const bool registered =
    register_command({"bench", "speed benchmarks (kernels, sim, serve, sweep, rtl, train)", bench});

}  // namespace

bool register_bench(BenchTarget target) {
  return Registry<BenchTarget>::add(target.name, target.summary, std::move(target.run));
}

}  // namespace sushi::cli
