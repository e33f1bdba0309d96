// AccelConfig: the one YAML schema of workloads/accel/*.yaml, validated with errors that name file and key.
#include <algorithm>
#include <cmath>

#include "base/provenance.h"
#include "base/yaml.h"
#include "sim/accel.h"

namespace sushi::sim {
namespace {

int positive_int(const YamlView& v, const std::string& key, int fallback, int max_value = 1 << 20) {
  const int x = v.get<int>(key, fallback);
  if (x < 1 || x > max_value)
    v.at(key).fail("expected an integer in 1.." + std::to_string(max_value) + ", got " + std::to_string(x));
  return x;
}

int64_t bytes_at_least(const YamlView& v, const std::string& key, int64_t minimum) {
  const int64_t x = v.get<int64_t>(key);
  if (x < minimum)
    v.at(key).fail("expected at least " + std::to_string(minimum) + " bytes, got " + std::to_string(x));
  return x;
}

double number_in(const YamlView& v, const std::string& key, double lo, double hi, bool lo_open,
                 double fallback) {
  const bool present = v.has(key);
  const double x = present ? v.get<double>(key) : fallback;
  const bool ok = std::isfinite(x) && (lo_open ? x > lo : x >= lo) && x <= hi;
  if (!ok) {
    const std::string range =
        std::string(lo_open ? "(" : "[") + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (present) v.at(key).fail("expected a number in " + range + ", got " + std::to_string(x));
    v.fail("'" + key + "' default out of range");
  }
  return x;
}

}  // namespace

AccelConfig AccelConfig::load(const std::string& yaml_path) {
  AccelConfig c = parse(read_file(yaml_path), yaml_path);
  c.file = yaml_path;
  return c;
}

AccelConfig AccelConfig::parse(const std::string& text, const std::string& origin) {
  const YamlView root = YamlView::parse(text, origin);
  if (!root.is_map()) root.fail("expected a mapping (an accelerator config)");
  root.expect_keys(
      {"name", "description", "clock_mhz", "array", "vector", "buffers", "dram", "controller", "energy"});
  AccelConfig c;
  c.file = origin;
  c.hash = content_hash(text);
  c.name = root.get<std::string>("name");
  c.description = root.get<std::string>("description", "");
  c.clock_mhz = number_in(root, "clock_mhz", 0, 10000, true, 0);

  const YamlView array = root.at("array");
  array.expect_keys({"k_parallel", "c_parallel", "window_parallel", "pipeline_depth", "fold_pointwise"});
  c.k_parallel = positive_int(array, "k_parallel", 16, 4096);
  c.c_parallel = positive_int(array, "c_parallel", 9, 4096);
  c.window_parallel = positive_int(array, "window_parallel", 9, 64);
  c.pipeline_depth = positive_int(array, "pipeline_depth", 12, 1000);
  c.fold_pointwise = array.get<bool>("fold_pointwise", true);

  if (root.has("vector")) {
    const YamlView vector = root.at("vector");
    vector.expect_keys({"lanes", "pipeline_depth"});
    c.vector_lanes = positive_int(vector, "lanes", 16, 4096);
    c.vector_pipeline_depth = positive_int(vector, "pipeline_depth", 4, 1000);
  }

  const YamlView buffers = root.at("buffers");
  buffers.expect_keys({"on_chip_bytes", "weight_stream_bytes", "act_in_bytes", "psum_bytes", "act_out_bytes",
                       "persistent_bytes"});
  c.on_chip_bytes = bytes_at_least(buffers, "on_chip_bytes", 1);
  c.weight_buffer_bytes = bytes_at_least(buffers, "weight_stream_bytes", 2);
  c.act_in_bytes = bytes_at_least(buffers, "act_in_bytes", 2);
  c.psum_bytes = bytes_at_least(buffers, "psum_bytes", 4);
  c.act_out_bytes = bytes_at_least(buffers, "act_out_bytes", 2);
  c.pb_bytes = bytes_at_least(buffers, "persistent_bytes", 0);
  const int64_t streaming = c.weight_buffer_bytes + c.act_in_bytes + c.psum_bytes + c.act_out_bytes;
  if (streaming > c.on_chip_bytes)
    buffers.at("on_chip_bytes")
        .fail(
            "the streaming buffers (weight_stream + act_in + psum + act_out = " + std::to_string(streaming) +
            " bytes) do not fit in on_chip_bytes = " + std::to_string(c.on_chip_bytes));
  if (streaming + c.pb_bytes > c.on_chip_bytes)
    buffers.at("persistent_bytes")
        .fail("a Persistent Buffer of " + std::to_string(c.pb_bytes) +
              " bytes is larger than the on-chip memory left (" +
              std::to_string(c.on_chip_bytes - streaming) +
              " of on_chip_bytes = " + std::to_string(c.on_chip_bytes) + " after the streaming buffers)");

  const YamlView dram = root.at("dram");
  dram.expect_keys({"peak_gbps", "efficiency", "latency_ns", "burst_bytes", "interface_bytes_per_cycle",
                    "energy_pj_per_byte"});
  c.dram_peak_gbps = number_in(dram, "peak_gbps", 0, 1e5, true, 0);
  c.dram_efficiency = number_in(dram, "efficiency", 0, 1, true, 1);
  c.dram_latency_ns = number_in(dram, "latency_ns", 0, 1e6, false, 0);
  c.dram_burst_bytes = bytes_at_least(dram, "burst_bytes", 1);
  c.interface_bytes_per_cycle = bytes_at_least(dram, "interface_bytes_per_cycle", 1);
  c.dram_pj_per_byte = number_in(dram, "energy_pj_per_byte", 0, 1e6, false, 0);

  if (root.has("controller")) {
    const YamlView ctl = root.at("controller");
    ctl.expect_keys({"layer_setup_cycles", "pb_load_setup_cycles"});
    c.layer_setup_cycles = ctl.get<int64_t>("layer_setup_cycles", 0);
    c.pb_load_setup_cycles = ctl.get<int64_t>("pb_load_setup_cycles", 0);
    if (c.layer_setup_cycles < 0 || c.layer_setup_cycles > 1000000000)
      ctl.at("layer_setup_cycles").fail("expected 0..1e9 cycles");
    if (c.pb_load_setup_cycles < 0 || c.pb_load_setup_cycles > 1000000000)
      ctl.at("pb_load_setup_cycles").fail("expected 0..1e9 cycles");
  }

  const YamlView energy = root.at("energy");
  energy.expect_keys({"mac_pj", "sram"});
  c.mac_pj = number_in(energy, "mac_pj", 0, 1e6, false, 0);
  const YamlView sram = energy.at("sram");
  if (!sram.is_sequence() || sram.size() == 0) sram.fail("expected a non-empty list of size classes");
  for (const YamlView& cls : sram.items()) {
    cls.expect_keys({"max_bytes", "read_pj_per_byte", "write_pj_per_byte"});
    SramClass s;
    s.max_bytes = bytes_at_least(cls, "max_bytes", 1);
    s.read_pj_per_byte = number_in(cls, "read_pj_per_byte", 0, 1e6, false, 0);
    s.write_pj_per_byte = number_in(cls, "write_pj_per_byte", 0, 1e6, false, 0);
    if (!c.sram_classes.empty() && s.max_bytes <= c.sram_classes.back().max_bytes)
      cls.at("max_bytes").fail("size classes must be listed by increasing max_bytes");
    c.sram_classes.push_back(s);
  }
  const int64_t largest =
      std::max({c.weight_buffer_bytes, c.act_in_bytes, c.psum_bytes, c.act_out_bytes, c.pb_bytes});
  if (c.sram_classes.back().max_bytes < largest)
    sram.fail("the largest size class (max_bytes " + std::to_string(c.sram_classes.back().max_bytes) +
              ") must hold the largest buffer (" + std::to_string(largest) + " bytes)");
  return c;
}

double AccelConfig::dram_bytes_per_cycle() const {
  return std::min(dram_peak_bytes_per_cycle() * dram_efficiency, double(interface_bytes_per_cycle));
}

int64_t AccelConfig::dram_latency_cycles() const {
  return int64_t(std::ceil(dram_latency_ns * clock_mhz / 1000.0 - 1e-9));
}

int64_t AccelConfig::dram_data_cycles(int64_t bytes) const {
  if (bytes <= 0) return 0;
  const int64_t padded = (bytes + dram_burst_bytes - 1) / dram_burst_bytes * dram_burst_bytes;
  return int64_t(std::ceil(double(padded) / dram_bytes_per_cycle() - 1e-9));
}

const SramClass& AccelConfig::sram_class(int64_t buffer_bytes) const {
  for (const SramClass& s : sram_classes)
    if (buffer_bytes <= s.max_bytes) return s;
  return sram_classes.back();
}

Fidelity parse_fidelity(const std::string& s) {
  if (s == "analytic") return Fidelity::Analytic;
  if (s == "cycle") return Fidelity::Cycle;
  throw InputError("--fidelity '" + s + "': expected analytic or cycle");
}

const char* to_string(Fidelity f) {
  return f == Fidelity::Analytic ? "analytic" : "cycle";
}

SubGraph fit_to_pb(const AccelConfig& accel, const SupernetSpace& space, const Subnet& s) {
  return space.partial_subgraph(s, accel.pb_bytes);
}

PbLoadResult pb_load_cost(const AccelConfig& accel, const SubGraph& g) {
  PbLoadResult r;
  r.bytes = g.bytes();
  if (r.bytes > accel.pb_bytes)
    throw InputError("SubGraph of " + std::to_string(r.bytes) +
                     " bytes does not fit the Persistent Buffer of " + accel.name + " (" +
                     std::to_string(accel.pb_bytes) + " bytes)");
  if (r.bytes == 0) return r;
  // One DMA stream from DRAM straight into the PB: setup, first-data latency, then the sustained rate.
  r.cycles = accel.pb_load_setup_cycles + accel.dram_latency_cycles() + accel.dram_data_cycles(r.bytes);
  r.energy_pj =
      double(r.bytes) * (accel.dram_pj_per_byte + accel.sram_class(accel.pb_bytes).write_pj_per_byte);
  return r;
}

}  // namespace sushi::sim
