#include "tools/cli.h"

#include <sysc/tracing/sc_tracing_ids.h>
#include <sysc/utils/sc_report.h>

#include <filesystem>
#include <iostream>
#include <limits>
#include <map>

#include "base/errors.h"
#include "base/provenance.h"
#include "base/registry.h"

namespace sushi::cli {

namespace {

void print_usage(std::ostream& os) {
  os << "usage: sushi <command> [options]   (sushi <command> --help for a command's options)\n\ncommands:\n";
  for (const ComponentInfo& c : ComponentIndex::of_kind(Command::kRegistryKind))
    os << "  " << c.name << std::string(10 - std::min<size_t>(9, c.name.size()), ' ') << c.doc << "\n";
  os << "\nbuild " << git_commit() << "\n";
}
}  // namespace

bool register_command(Command cmd) {
  return Registry<Command>::add(cmd.name, cmd.summary, std::move(cmd.run));
}

std::vector<std::string> command_names() {
  return Registry<Command>::names();
}

std::vector<Override> set_overrides(const std::vector<std::string>& sets, const std::string& command,
                                    const std::string& prefix, const std::string& what) {
  std::vector<Override> out;
  for (const std::string& s : sets) {
    out.push_back(parse_override(s));
    if (!prefix.empty() && out.back().path.rfind(prefix + ".", 0) != 0)
      throw InputError("--set " + s + ": " + command + " overrides " + what + " only (" + prefix +
                       ".PATH=VALUE)");
  }
  return out;
}

std::ostream& out() {
  return std::cout;
}

Subnet subnet_option(const SupernetSpace& space, const std::string& spec, int resolution) {
  Subnet s = space.parse_subnet(spec);
  if (resolution != 0) {
    if (resolution < 8 || resolution > 4096)
      throw InputError("--resolution " + std::to_string(resolution) + ": expected 8..4096");
    s.resolution = resolution;
  }
  return s;
}

namespace {
// The command's positional arguments, then a catch-all for any extra one, so extras are rejected by name
// instead of silently ignored (program_options drops positionals it has no description for).
const char* const kExtra = "\x01extra";

po::positional_options_description with_extras(const po::positional_options_description* positional) {
  po::positional_options_description p;
  const unsigned n = positional ? positional->max_total_count() : 0;
  if (n == std::numeric_limits<unsigned>::max()) return *positional;  // takes any number itself
  for (unsigned i = 0; i < n; ++i) p.add(positional->name_for_position(i).c_str(), 1);
  p.add(kExtra, -1);
  return p;
}
}  // namespace

bool parse(const std::string& command, const std::string& usage, const po::options_description& options,
           const std::vector<std::string>& args, po::variables_map& vm,
           const po::positional_options_description* positional) {
  po::options_description all, hidden;
  all.add_options()("help,h", "print this help");
  all.add(options);
  hidden.add_options()(kExtra, po::value<std::vector<std::string>>());
  po::options_description parsed_options;
  parsed_options.add(all).add(hidden);
  try {
    po::command_line_parser parser(args);
    parser.options(parsed_options);
    const po::positional_options_description p = with_extras(positional);
    parser.positional(p);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: sushi " << command << " " << usage << "\n\n" << all << "\n";
      return false;
    }
    if (vm.count(kExtra)) {
      std::string extra;
      for (const std::string& a : vm[kExtra].as<std::vector<std::string>>())
        extra += (extra.empty() ? "'" : " '") + a + "'";
      throw InputError("unexpected argument " + extra + " (see sushi " + command + " --help)");
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError(std::string(e.what()) + " (see sushi " + command + " --help)");
  }
  return true;
}

int run(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "sushi " << git_commit() << "\n";
    return 0;
  }
  const auto* command = Registry<Command>::find(args[0]);
  if (!command) {
    std::cerr << "sushi: unknown command '" << args[0] << "' (run sushi --help for the list)\n";
    return 2;
  }
  try {
    return command->factory(std::vector<std::string>(args.begin() + 1, args.end()));
  } catch (const InputError& e) {
    std::cerr << "sushi " << args[0] << ": error: " << e.what() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {  // a folder or file the user named is not usable
    std::cerr << "sushi " << args[0] << ": error: " << e.path1().string() << ": " << e.code().message()
              << "\n";
    return 2;
  } catch (const sc_core::sc_report& e) {
    // SystemC could not open a file the user named (--trace): bad input, one line. Anything else is ours.
    if (std::string(e.get_msg_type()) == sc_core::SC_ID_TRACING_FOPEN_FAILED_) {
      std::cerr << "sushi " << args[0] << ": error: " << e.get_msg()
                << ": cannot open trace file for writing\n";
      return 2;
    }
    std::cerr << "sushi " << args[0] << ": internal error: " << e.get_msg_type() << ": " << e.get_msg()
              << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "sushi " << args[0] << ": internal error: " << e.what() << "\n";
    return 1;
  }
}

int run(int argc, char** argv) {
  return run(std::vector<std::string>(argv + 1, argv + argc));
}

}  // namespace sushi::cli
