// `sushi bench TARGET [--json]`: dispatches to the registered benchmark targets.
#include <iostream>
#include <map>

#include "base/errors.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

std::map<std::string, BenchTarget>& targets() {
  static std::map<std::string, BenchTarget> t;
  return t;
}

int bench(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: sushi bench TARGET [options]   (sushi bench TARGET --help)\n\ntargets:\n";
    for (const auto& [name, t] : targets()) std::cout << "  " << name << "  " << t.summary << "\n";
    return args.empty() ? 2 : 0;
  }
  auto it = targets().find(args[0]);
  if (it == targets().end()) {
    std::string known;
    for (const auto& [name, t] : targets()) known += (known.empty() ? "" : ", ") + name;
    throw InputError("unknown benchmark target '" + args[0] + "' (expected one of: " + known + ")");
  }
  return it->second.run(std::vector<std::string>(args.begin() + 1, args.end()));
}

const bool registered = register_command({"bench", "speed benchmarks (kernels, sim, serve)", bench});

}  // namespace

bool register_bench(BenchTarget target) {
  targets()[target.name] = std::move(target);
  return true;
}

}  // namespace sushi::cli
