// Yosys area figures of the generated RTL (rtl/area.h).
#include "rtl/area.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "base/errors.h"
#include "base/provenance.h"
#include "rtl/generator.h"

namespace sushi::rtl {
namespace {

// The count after "   NAME   " on a `stat` line, 0 when absent.
int64_t stat_count(const std::string& log, const std::string& name) {
  std::istringstream in(log);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string a, b;
    words >> a >> b;
    if (a == name && !b.empty() && std::isdigit(static_cast<unsigned char>(b[0]))) n = std::stoll(b);
  }
  return n;
}

// "Number of X:   N" (the last one: the top's totals after the per-module sections).
int64_t stat_number(const std::string& log, const std::string& what) {
  const std::string key = "Number of " + what + ":";
  const size_t at = log.rfind(key);
  return at == std::string::npos ? 0 : std::stoll(log.substr(at + key.size()));
}

std::string run_yosys(const std::string& dir, const std::string& name, const std::string& script) {
  const std::string ys = dir + "/" + name + ".ys", log = dir + "/" + name + ".log";
  write_file_atomic(ys, script);
  const std::string cmd = "cd '" + dir + "' && yosys -q -l '" + log + "' -s '" + ys + "' > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw InputError("yosys failed on " + ys + " (log: " + log + ")");
  return read_file(log);
}

}  // namespace

bool yosys_available() {
  return std::system("command -v yosys > /dev/null 2>&1") == 0;
}

void read_xcup_stat(const std::string& stat, AreaFigures& a) {
  a.xilinx_cells = stat_number(stat, "cells");
  a.luts = a.flip_flops = a.lutram = 0;
  for (const char* l : {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6"}) a.luts += stat_count(stat, l);
  for (const char* f : {"FDRE", "FDSE", "FDCE", "FDPE"}) a.flip_flops += stat_count(stat, f);
  a.dsps = stat_count(stat, "DSP48E2");
  a.carry = stat_count(stat, "CARRY8") + stat_count(stat, "CARRY4");  // Yosys 0.23 emits CARRY4 for xcup too
  a.bram36 = double(stat_count(stat, "RAMB36E2")) + 0.5 * double(stat_count(stat, "RAMB18E2"));
  a.uram = stat_count(stat, "URAM288");
  for (const char* m : {"RAM32M16", "RAM64M8", "RAM32M", "RAM64M", "RAM128X1D", "RAM256X1D", "RAM64X1D",
                        "RAM32X1D", "RAM512X1S", "RAM256X1S", "RAM128X1S", "RAM64X1S", "RAM32X1S"})
    a.lutram += stat_count(stat, m);
}

std::vector<AreaFigures> rtl_area(const sim::AccelConfig& accel, bool xilinx, const std::string& work_dir) {
  if (!yosys_available())
    throw InputError(
        "sushi rtl area needs Yosys, which is not on PATH (Debian package 'yosys'; "
        "tools/install-deps.sh installs it)");
  const std::vector<std::string> files = rtl_sources([&] {
    std::vector<GeneratedFile> f = generate_rtl(accel);
    return f;
  }());
  write_rtl(accel, work_dir);
  // sushi_core (the simulated datapath, multi-port byte memories) is a black box here: its ports only.
  const std::string core = read_file(work_dir + "/sushi_core.sv");
  const size_t ports_end = core.find(");\n", core.find("module sushi_core ("));
  const size_t beat = core.find("localparam int BEAT = ");
  if (ports_end == std::string::npos || beat == std::string::npos)
    throw std::logic_error("rtl area: sushi_core.sv has no port list");
  write_file_atomic(
      work_dir + "/sushi_core_blackbox.sv",
      "(* blackbox *)\n" +
          core.substr(core.find("module sushi_core ("), ports_end + 3 - core.find("module sushi_core (")) +
          "  " + core.substr(beat, core.find('\n', beat) - beat) + "\nendmodule\n");
  std::string read = "read_verilog -sv";
  for (const std::string& f : files) read += " " + (f == "sushi_core.sv" ? "sushi_core_blackbox.sv" : f);
  std::vector<AreaFigures> out;
  for (const std::string top : {"sushi_accel", "sushi_datapath"}) {
    const auto t0 = std::chrono::steady_clock::now();
    AreaFigures a;
    a.top = top;
    const std::string generic =
        run_yosys(work_dir, top + "_generic",
                  read + "\nhierarchy -top " + top + "\nproc\nflatten\nopt\nwreduce\nalumacc\nopt\ntee -o " +
                      top + "_generic.stat stat\n");
    const std::string gstat = read_file(work_dir + "/" + top + "_generic.stat");
    a.cells = stat_number(gstat, "cells");
    a.memories = stat_number(gstat, "memories");
    a.memory_bits = stat_number(gstat, "memory bits");
    a.multipliers = stat_count(gstat, "$mul") + stat_count(gstat, "$macc");
    if (xilinx) {
      // Hierarchical (no -flatten): each distinct module (one DPE, not 144) is mapped once and `stat -top`
      // counts it per instance (~2.5 CPU-minutes for zcu104_sushi's datapath); the boundaries only cost
      // cross-module optimisation. Out of context: no I/O or clock buffers (these are blocks, not a chip).
      run_yosys(work_dir, top + "_xcup",
                read + "\nsynth_xilinx -family xcup -uram -noiopad -noclkbuf -top " + top + "\ntee -o " +
                    top + "_xcup.stat stat -top " + top + "\n");
      read_xcup_stat(read_file(work_dir + "/" + top + "_xcup.stat"), a);
    }
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.push_back(a);
  }
  return out;
}

}  // namespace sushi::rtl
