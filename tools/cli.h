#pragma once
// The `sushi` command line: git-style subcommands that register themselves by name. Each subcommand is a
// thin layer over the libraries; errors in user input exit with status 2 and one line naming the problem.
#include <boost/program_options.hpp>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "base/point.h"
#include "models/space/supernet.h"

namespace sushi::cli {

namespace po = boost::program_options;

struct Command {
  static constexpr const char* kRegistryKind = "command";
  using Factory = std::function<int(const std::vector<std::string>& args)>;  // runs the command
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;
};
// Registers the command in Registry<Command> (base/registry.h); `sushi describe command` lists them.
bool register_command(Command cmd);
std::vector<std::string> command_names();

// Runs `sushi ARGS...`; returns the process exit status (0 ok, 1 internal failure, 2 bad input).
int run(int argc, char** argv);
int run(const std::vector<std::string>& args);

// Parses a subcommand's options; returns false when --help was printed (the caller returns 0).
// Throws InputError for unknown flags, missing required options and bad values.
bool parse(const std::string& command, const std::string& usage, const po::options_description& options,
           const std::vector<std::string>& args, po::variables_map& vm,
           const po::positional_options_description* positional = nullptr);

// A subnet given on the command line (max | min | random:SEED | JSON) at --resolution R (0 = its own).
Subnet subnet_option(const SupernetSpace& space, const std::string& spec, int resolution);

// The --set PATH=VALUE flags as overrides. With a `prefix`, every path must start with "prefix." (the tree
// the command reads: "accel" for sim and rtl, "train" for train); otherwise an InputError names the flag and
// says that `command` overrides `what` only.
std::vector<Override> set_overrides(const std::vector<std::string>& sets, const std::string& command = "",
                                    const std::string& prefix = "", const std::string& what = "");

// The --json object or the human table goes to stdout; notes go to stderr.
std::ostream& out();

}  // namespace sushi::cli
