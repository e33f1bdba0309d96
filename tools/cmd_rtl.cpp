// `sushi rtl generate|lint|diff|area`: the RTL generator, its lint, the lock-step first-divergence debugger
// against the cycle model, and Yosys area figures; `sushi bench rtl`: Verilated cycles per second.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "models/space/supernet.h"
#include "rtl/area.h"
#include "rtl/generator.h"
#include "rtl/harness/lockstep.h"
#include "rtl/harness/rtl_model.h"
#include "sim/model.h"
#include "tools/bench.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

sim::AccelConfig load_accel(const std::string& path, const std::vector<std::string>& sets) {
  return sim::AccelConfig::load(path, set_overrides(sets, "rtl", "accel", "accelerator parameters"));
}

std::string temp_dir(const std::string& what) {
  std::string d =
      (std::filesystem::temp_directory_path() / ("sushi_rtl_" + what + "_" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(d);
  return d;
}

int generate(const std::vector<std::string>& args) {
  po::options_description o("rtl generate options");
  std::string accel, dir;
  std::vector<std::string> sets;
  o.add_options()("accel", po::value(&accel)->required(), "accelerator YAML")(
      "out,o", po::value(&dir)->required(), "output folder (one .sv per module and sushi_params.h)")(
      "set", po::value(&sets)->composing(), "accel.PATH=VALUE override")(
      "inject-bug", "debug: K-tile 1's first pass lasts one cycle longer (for `sushi rtl diff`)");
  po::variables_map vm;
  if (!parse("rtl generate", "--accel A.yaml -o DIR [--set accel.PATH=V]... [--inject-bug]", o, args, vm))
    return 0;
  rtl::GenOptions g;
  g.inject_bug = vm.count("inject-bug") > 0;
  const sim::AccelConfig a = load_accel(accel, sets);
  for (const std::string& f : rtl::write_rtl(a, dir, g)) out() << dir << "/" << f << "\n";
  std::cerr << "generated the RTL of " << a.name << " (config hash " << rtl::rtl_config_hash(a) << ")\n";
  return 0;
}

int lint(const std::vector<std::string>& args) {
  po::options_description o("rtl lint options");
  std::string accel;
  std::vector<std::string> sets;
  o.add_options()("accel", po::value(&accel)->required(), "accelerator YAML")(
      "set", po::value(&sets)->composing(), "accel.PATH=VALUE override");
  po::variables_map vm;
  if (!parse("rtl lint", "--accel A.yaml [--set accel.PATH=V]...", o, args, vm)) return 0;
  const sim::AccelConfig a = load_accel(accel, sets);
  const std::string dir = temp_dir("lint");
  const auto files = rtl::rtl_sources(rtl::generate_rtl(a));
  rtl::write_rtl(a, dir);
  int failures = 0;
  for (const char* top : {"sushi_accel", "sushi_datapath"}) {
    std::string cmd = "cd '" + dir + "' && verilator --lint-only -Wall --top-module " + top;
    for (const std::string& f : files) cmd += " " + f;
    const int rc = std::system((cmd + " > " + top + ".lint 2>&1").c_str());
    const std::string log = read_file(dir + "/" + top + ".lint");
    out() << top << ": " << (rc == 0 && log.empty() ? "lint clean" : "LINT FAILED") << "\n" << log;
    failures += rc != 0 || !log.empty();
  }
  std::filesystem::remove_all(dir);
  return failures ? 1 : 0;
}

sim::AccelJob diff_job(const sim::AccelConfig& a, const po::variables_map& vm) {
  if (vm.count("random")) return rtl::random_job(a, vm["seed"].as<uint64_t>(), vm["random"].as<int>());
  if (!vm.count("supernet")) throw InputError("rtl diff: give --supernet S.yaml or --random N");
  const SupernetSpace space = SupernetSpace::load(vm["supernet"].as<std::string>());
  const Subnet s = subnet_option(space, vm["subnet"].as<std::string>(), 0);
  const std::string cache = vm["cache"].as<std::string>();
  const SubGraph cached =
      cache == "none" ? space.empty_subgraph() : sim::fit_to_pb(a, space, space.parse_subnet(cache));
  return sim::make_job(a, space.layers(s, s.resolution), cached);
}

int diff(const std::vector<std::string>& args) {
  po::options_description o("rtl diff options");
  std::string accel;
  std::vector<std::string> sets;
  o.add_options()("accel", po::value(&accel)->required(), "accelerator YAML (one with a Verilated build)")(
      "set", po::value(&sets)->composing(), "accel.PATH=VALUE override")("supernet", po::value<std::string>(),
                                                                         "supernet space YAML")(
      "subnet", po::value<std::string>()->default_value("max"), "max | min | random:SEED | JSON subnet")(
      "cache", po::value<std::string>()->default_value("none"), "SubGraph in the PB: none or a subnet spec")(
      "random", po::value<int>(), "instead of a subnet: N constrained-random layers")(
      "seed", po::value<uint64_t>()->default_value(1), "seed of --random")(
      "inject-bug", "run the RTL built with the injected one-cycle bug")("json", "print one JSON object");
  po::variables_map vm;
  if (!parse("rtl diff",
             "--accel A.yaml (--supernet S.yaml [--subnet SPEC] [--cache SPEC] | --random N [--seed S]) "
             "[--inject-bug] [--json]",
             o, args, vm))
    return 0;
  const sim::AccelConfig a = load_accel(accel, sets);
  const rtl::LockstepReport r = rtl::lockstep(a, diff_job(a, vm), vm.count("inject-bug") > 0);
  if (vm.count("json")) {
    Provenance p("sushi rtl diff");
    p.add_input("accel", a.file, a.hash);
    JsonWriter j;
    j.begin_object().key("provenance");
    p.write_json(j);
    j.field("accel", a.name)
        .field("layers", int64_t(r.cycle.layers.size()))
        .field("cycle_model_cycles", r.cycle.cycles)
        .field("rtl_cycles", r.rtl.cycles)
        .field("cycles_equal", r.cycles_equal)
        .field("events", int64_t(r.cycle_events.size()))
        .field("first_divergence", r.divergence);
    if (r.divergence >= 0) {
      const size_t i = size_t(r.divergence);
      j.field("cycle_model_event", i < r.cycle_events.size() ? describe(r.cycle_events[i]) : "(none)")
          .field("rtl_event", i < r.rtl_events.size() ? describe(r.rtl_events[i]) : "(none)");
    }
    j.end_object();
    out() << j.str() << "\n";
  } else {
    out() << r.describe() << "\n";
  }
  return r.ok() ? 0 : 1;
}

int area(const std::vector<std::string>& args) {
  po::options_description o("rtl area options");
  std::string accel;
  std::vector<std::string> sets;
  o.add_options()("accel", po::value(&accel)->required(), "accelerator YAML")(
      "set", po::value(&sets)->composing(), "accel.PATH=VALUE override")(
      "generic-only", "skip synth_xilinx (minutes on the shipped configs)")("json", "print one JSON object");
  po::variables_map vm;
  if (!parse("rtl area", "--accel A.yaml [--generic-only] [--json]", o, args, vm)) return 0;
  const sim::AccelConfig a = load_accel(accel, sets);
  const std::string dir = temp_dir("area");
  const std::vector<rtl::AreaFigures> figs = rtl::rtl_area(a, vm.count("generic-only") == 0, dir);
  if (vm.count("json")) {
    Provenance p("sushi rtl area");
    p.add_input("accel", a.file, a.hash);
    JsonWriter j;
    j.begin_object().key("provenance");
    p.write_json(j);
    j.field("accel", a.name).field("config_hash", rtl::rtl_config_hash(a)).key("tops").begin_array();
    for (const rtl::AreaFigures& f : figs)
      j.begin_object()
          .field("top", f.top)
          .field("generic_cells", f.cells)
          .field("multipliers", f.multipliers)
          .field("memories", f.memories)
          .field("memory_bits", f.memory_bits)
          .field("xcup_cells", f.xilinx_cells)
          .field("luts", f.luts)
          .field("flip_flops", f.flip_flops)
          .field("dsp48e2", f.dsps)
          .field("carry_cells", f.carry)
          .field("bram36", f.bram36)
          .field("uram288", f.uram)
          .field("lutram", f.lutram)
          .field("seconds", f.seconds)
          .end_object();
    j.end_array().end_object();
    out() << j.str() << "\n";
  } else {
    out() << "accel " << a.name << " (config hash " << rtl::rtl_config_hash(a) << "), Yosys\n";
    for (const rtl::AreaFigures& f : figs)
      out() << f.top << ": generic " << f.cells << " cells, " << f.multipliers << " multipliers, "
            << f.memories << " memories (" << f.memory_bits << " bits); xcup " << f.luts << " LUTs, "
            << f.flip_flops << " FFs, " << f.dsps << " DSP48E2, " << f.bram36 << " BRAM36, " << f.uram
            << " URAM, " << f.lutram << " LUTRAM (" << f.seconds << " s)\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}

int rtl_command(const std::vector<std::string>& args) {
  const std::string usage =
      "usage: sushi rtl generate|lint|diff|area [options]   (sushi rtl SUB --help)\n"
      "  generate  SystemVerilog + C++ header from an accelerator config\n"
      "  lint      verilator --lint-only -Wall on the generated RTL\n"
      "  diff      lock-step RTL vs cycle model: first diverging event\n"
      "  area      Yosys generic + synth_xilinx (UltraScale+) figures\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "generate") return generate(rest);
  if (args[0] == "lint") return lint(rest);
  if (args[0] == "diff") return diff(rest);
  if (args[0] == "area") return area(rest);
  throw InputError("sushi rtl: unknown subcommand '" + args[0] + "' (expected generate, lint, diff or area)");
}

const bool registered =
    register_command({"rtl", "the generated SushiAccel RTL: generate, lint, diff, area", rtl_command});

}  // namespace
}  // namespace sushi::cli
