// AccelConfig: every parameter of workloads/accel/*.yaml declared once (accel_schema), validated with errors
// that name file and key; DRAM timing and PB load cost derived from it.
#include <algorithm>
#include <cmath>

#include "base/checked.h"
#include "base/params.h"
#include "base/provenance.h"
#include "base/registry.h"
#include "base/yaml.h"
#include "sim/accel.h"

namespace sushi::sim {
namespace {

constexpr double kMaxBytes = 1e15;
const Range kBytes{0, kMaxBytes};
const Range kEnergy{0, 1e6};

const ParamSchema<SramClass>& sram_schema() {
  static const ParamSchema<SramClass> s =
      ParamSchema<SramClass>("sram_class", "an on-chip energy size class")
          .bytes("max_bytes", &SramClass::max_bytes, required, {1, kMaxBytes},
                 "the class applies to buffers up to this size")
          .real("read_pj_per_byte", &SramClass::read_pj_per_byte, 0.0, kEnergy, "pJ/B",
                "energy per byte read")
          .real("write_pj_per_byte", &SramClass::write_pj_per_byte, 0.0, kEnergy, "pJ/B",
                "energy per byte written");
  return s;
}

int64_t streaming_bytes(const AccelConfig& c) {
  int64_t sum = checked::add(c.weight_buffer_bytes, c.act_in_bytes, "streaming buffer bytes");
  sum = checked::add(sum, c.psum_bytes, "streaming buffer bytes");
  return checked::add(sum, c.act_out_bytes, "streaming buffer bytes");
}

std::string buffers_fit(const AccelConfig& c) {
  const int64_t streaming = streaming_bytes(c);
  if (streaming <= c.on_chip_bytes) return "";
  return "the streaming buffers (weight_stream + act_in + psum + act_out = " + std::to_string(streaming) +
         " bytes) do not fit in on_chip_bytes = " + std::to_string(c.on_chip_bytes);
}

std::string pb_fits(const AccelConfig& c) {
  const int64_t streaming = streaming_bytes(c);
  int64_t total = 0;
  if (!__builtin_add_overflow(streaming, c.pb_bytes, &total) && total <= c.on_chip_bytes) return "";
  return "a Persistent Buffer of " + std::to_string(c.pb_bytes) +
         " bytes is larger than the on-chip memory left (" + std::to_string(c.on_chip_bytes - streaming) +
         " of on_chip_bytes = " + std::to_string(c.on_chip_bytes) + " after the streaming buffers)";
}

std::string ports_exist(const AccelConfig& c) {
  for (int n : {c.weight_ports, c.act_in_ports, c.act_out_ports})
    if (n > c.dram_ports)
      return "a stream uses " + std::to_string(n) +
             " masters, the accelerator has dram.ports = " + std::to_string(c.dram_ports);
  return "";
}

std::string sram_ascending(const AccelConfig& c) {
  for (size_t i = 1; i < c.sram_classes.size(); ++i)
    if (c.sram_classes[i].max_bytes <= c.sram_classes[i - 1].max_bytes)
      return "size classes must be listed by increasing max_bytes (entry " + std::to_string(i) + ")";
  return "";
}

std::string sram_holds_buffers(const AccelConfig& c) {
  const int64_t largest =
      std::max({c.weight_buffer_bytes, c.act_in_bytes, c.psum_bytes, c.act_out_bytes, c.pb_bytes});
  if (c.sram_classes.empty() || c.sram_classes.back().max_bytes >= largest) return "";
  return "the largest size class (max_bytes " + std::to_string(c.sram_classes.back().max_bytes) +
         ") must hold the largest buffer (" + std::to_string(largest) + " bytes)";
}

// DRAM efficiency and the AXI masters each stream uses.
void add_dram_ports(ParamSchema<AccelConfig>& s) {
  using C = AccelConfig;
  s.integer("dram.ports", &C::dram_ports, 1, {1, 64}, "",
            "AXI masters to DRAM; interface_bytes_per_cycle is split evenly among them")
      .integer("dram.weight_ports", &C::weight_ports, 0, {0, 64}, "",
               "masters the weight stream (and PB loads) use (0: all)")
      .integer("dram.act_in_ports", &C::act_in_ports, 0, {0, 64}, "",
               "masters the input-activation stream uses (0: all)")
      .integer("dram.act_out_ports", &C::act_out_ports, 0, {0, 64}, "",
               "masters the output write-back uses (0: all)")
      .bytes("dram.max_burst_bytes", &C::dram_max_burst_bytes, 0, kBytes,
             "longest AXI burst (burst length x data width); a transfer splits into bursts this long "
             "(0: one burst per transfer)")
      .integer("dram.outstanding_bursts", &C::dram_outstanding_bursts, 0, {0, 1024}, "",
               "bursts in flight per master: a stream sustains at most masters x outstanding x "
               "max_burst_bytes per latency (0: unbounded)")
      .integer("dram.burst_overhead_cycles", &C::dram_burst_overhead_cycles, 0, {0, 1e6}, "cycles",
               "channel-busy cycles per burst on top of its data (row activation, turnaround): a burst of "
               "b bytes sustains b / (b + overhead x rate) of the stream bandwidth");
}

ParamSchema<AccelConfig> make_accel_schema() {
  using C = AccelConfig;
  ParamSchema<C> s("accel", "SushiAccel: compute array, on-chip buffers, DRAM, controller and energy");
  s.string("name", &C::name, required, "accelerator name (the platform in results)")
      .string("description", &C::description, "", "one line for humans")
      .real("clock_mhz", &C::clock_mhz, required, {0, 10000, true}, "MHz", "accelerator clock")
      .integer("array.k_parallel", &C::k_parallel, 16, {1, 4096}, "", "output channels per cycle")
      .integer("array.c_parallel", &C::c_parallel, 9, {1, 4096}, "", "input channels per cycle")
      .integer("array.window_parallel", &C::window_parallel, 9, {1, 64}, "",
               "kernel taps per dot-product engine per cycle")
      .integer("array.pipeline_depth", &C::pipeline_depth, 12, {1, 1000}, "cycles",
               "operand read to int8 result in the output buffer")
      .boolean("array.fold_pointwise", &C::fold_pointwise, true,
               "1x1 layers fold window_parallel input channels into the taps")
      .integer("array.bubble_every", &C::bubble_every, 0, {0, 1e9}, "steps",
               "initiation interval: one idle cycle after every N steps of a pass (0: II = 1)")
      .integer("array.pass_overhead_cycles", &C::pass_overhead_cycles, 0, {0, 1e9}, "cycles",
               "fixed array cycles per (K-tile, C-tile) pass")
      .integer("array.weight_tile_overhead_cycles", &C::weight_tile_overhead_cycles, 0, {0, 1e9}, "cycles",
               "array cycles per K-tile before its first pass (weights into the DPE registers)")
      .integer("vector.lanes", &C::vector_lanes, 16, {1, 4096}, "",
               "post-processing unit (pools, Add, SE scale): channels per cycle")
      .integer("vector.pipeline_depth", &C::vector_pipeline_depth, 4, {1, 1000}, "cycles",
               "post-processing pipeline depth");
  s.bytes("buffers.on_chip_bytes", &C::on_chip_bytes, required, {1, kMaxBytes},
          "all BRAM/URAM of the part; the buffers below must fit together")
      .bytes("buffers.weight_stream_bytes", &C::weight_buffer_bytes, required, {2, kMaxBytes},
             "streaming weight buffer, both halves (double-buffered per K-tile)")
      .bytes("buffers.act_in_bytes", &C::act_in_bytes, required, {2, kMaxBytes},
             "input activations (whole map resident, or two streaming halves)")
      .bytes("buffers.psum_bytes", &C::psum_bytes, required, {4, kMaxBytes},
             "int32 partial sums of one K-tile over all output pixels")
      .bytes("buffers.act_out_bytes", &C::act_out_bytes, required, {2, kMaxBytes},
             "int8 outputs, both halves (double-buffered per K-tile)")
      .bytes("buffers.persistent_bytes", &C::pb_bytes, required, kBytes,
             "Persistent Buffer: the cached SubGraph (SubGraph Stationary)");
  s.real("dram.peak_gbps", &C::dram_peak_gbps, required, {0, 1e5, true}, "GB/s", "device peak (1e9 B/s)")
      .real("dram.efficiency", &C::dram_efficiency, 1.0, {0, 1, true}, "", "sustained / peak")
      .real("dram.latency_ns", &C::dram_latency_ns, 0.0, {0, 1e6}, "ns", "request to first data")
      .bytes("dram.burst_bytes", &C::dram_burst_bytes, required, {1, kMaxBytes}, "transfers are whole bursts")
      .bytes("dram.interface_bytes_per_cycle", &C::interface_bytes_per_cycle, required, {1, kMaxBytes},
             "accelerator-side AXI width x ports, bytes per accelerator cycle")
      .real("dram.energy_pj_per_byte", &C::dram_pj_per_byte, 0.0, kEnergy, "pJ/B", "off-chip energy")
      .integer("dram.transfer_overhead_cycles", &C::dram_transfer_overhead_cycles, 0, {0, 1e6}, "cycles",
               "channel-busy cycles per request on top of its bursts: a transfer of n bytes sustains "
               "n / (n + overhead x rate) of the stream bandwidth (short transfers are less efficient)")
      .integer("controller.layer_setup_cycles", &C::layer_setup_cycles, 0, {0, 1e9}, "cycles",
               "per-layer register setup before the first DMA request")
      .integer("controller.pb_load_setup_cycles", &C::pb_load_setup_cycles, 0, {0, 1e9}, "cycles",
               "setup of a Persistent Buffer load")
      .real("controller.call_overhead_us", &C::call_overhead_us, 0.0, {0, 1e7}, "us",
            "host time per layer call (register writes, start, poll), reported apart from cycles")
      .real("energy.mac_pj", &C::mac_pj, 0.0, kEnergy, "pJ", "one int8 MAC with int32 accumulation")
      .list("energy.sram", &C::sram_classes, sram_schema(), 1,
            "on-chip energy per byte by buffer size class, ascending max_bytes");
  add_dram_ports(s);
  const std::vector<std::pair<std::string, Overlap>> overlap = {{"overlapped", Overlap::Overlapped},
                                                                {"serial", Overlap::Serial}};
  s.choice("behaviour.weight_load", &C::weight_load, Overlap::Overlapped, overlap,
           "overlapped: K-tile k+1's weights stream while k computes; serial: a K-tile's weights are loaded, "
           "then computed (a PB hit skips the load)")
      .choice("behaviour.act_load", &C::act_load, Overlap::Overlapped, overlap,
              "serial: an input chunk loads only after the previous pass finished")
      .choice("behaviour.out_store", &C::out_store, Overlap::Overlapped, overlap,
              "serial: a K-tile computes only after the previous K-tile's outputs are written back")
      .choice("behaviour.stride_mode", &C::stride_mode, StrideMode::Output,
              {{"output", StrideMode::Output}, {"input", StrideMode::Input}},
              "strided array layers: steps at output resolution, or at stride 1 (input resolution) with "
              "subsampling at write-back");
  s.check("buffers.on_chip_bytes", buffers_fit)
      .check("buffers.persistent_bytes", pb_fits)
      .check("dram.ports", ports_exist)
      .check("energy.sram", sram_ascending)
      .check("energy.sram", sram_holds_buffers);
  return s;
}

const bool registered = (ComponentIndex::add({"accel", "sushi_accel",
                                              "SushiAccel configuration (workloads/accel/*.yaml), read by "
                                              "every accelerator model and the RTL generator",
                                              &accel_schema()}),
                         true);

}  // namespace

const ParamSchema<AccelConfig>& accel_schema() {
  static const ParamSchema<AccelConfig> s = make_accel_schema();
  return s;
}

std::string canonical_json(const AccelConfig& accel) {
  JsonWriter w;
  accel_schema().write(w, accel);
  return w.str();
}

AccelConfig AccelConfig::load(const std::string& yaml_path) {
  AccelConfig c = parse(read_file(yaml_path), yaml_path);
  c.file = yaml_path;
  return c;
}

AccelConfig AccelConfig::load(const std::string& yaml_path, const std::vector<Override>& overrides) {
  const std::string text = read_file(yaml_path);
  Point point = Point::parse(text, yaml_path);
  point.apply(overrides, "accel", accel_schema());
  AccelConfig c = accel_schema().parse(point.view());
  c.file = yaml_path;
  c.hash = point.canonical() == Point::parse(text, yaml_path).canonical() ? content_hash(text) : point.hash();
  return c;
}

AccelConfig AccelConfig::parse(const std::string& text, const std::string& origin) {
  AccelConfig c = accel_schema().parse(YamlView::parse(text, origin));
  c.file = origin;
  c.hash = content_hash(text);
  return c;
}

double AccelConfig::dram_bytes_per_cycle() const {
  return std::min(dram_peak_bytes_per_cycle() * dram_efficiency, double(interface_bytes_per_cycle));
}

int64_t AccelConfig::dram_latency_cycles() const {
  return int64_t(std::ceil(dram_latency_ns * clock_mhz / 1000.0 - 1e-9));
}

int AccelConfig::ports_of(Stream s) const {
  const int n = s == Stream::Weights ? weight_ports : s == Stream::ActIn ? act_in_ports : act_out_ports;
  return n > 0 ? n : dram_ports;
}

double AccelConfig::dram_stream_bytes_per_cycle(Stream s) const {
  const double ports = ports_of(s);
  double rate = std::min(dram_peak_bytes_per_cycle() * dram_efficiency,
                         double(interface_bytes_per_cycle) * ports / dram_ports);
  const double latency = dram_latency_ns * clock_mhz / 1000.0;
  if (dram_outstanding_bursts > 0 && dram_max_burst_bytes > 0 && latency > 0)
    rate = std::min(rate, ports * dram_outstanding_bursts * double(dram_max_burst_bytes) / latency);
  return rate;
}

bool AccelConfig::uniform_dram() const {
  if (dram_burst_overhead_cycles > 0) return false;
  const double plain =
      std::min(dram_peak_bytes_per_cycle() * dram_efficiency, double(interface_bytes_per_cycle));
  for (Stream s : {Stream::Weights, Stream::ActIn, Stream::ActOut})
    if (dram_stream_bytes_per_cycle(s) != plain) return false;
  return true;
}

int64_t AccelConfig::dram_data_cycles(int64_t bytes, Stream s) const {
  if (bytes <= 0) return 0;
  const int64_t padded = (bytes + dram_burst_bytes - 1) / dram_burst_bytes * dram_burst_bytes;
  const int64_t bursts =
      dram_max_burst_bytes > 0 ? (padded + dram_max_burst_bytes - 1) / dram_max_burst_bytes : 1;
  return dram_transfer_overhead_cycles + bursts * dram_burst_overhead_cycles +
         int64_t(std::ceil(double(padded) / dram_stream_bytes_per_cycle(s) - 1e-9));
}

const SramClass& AccelConfig::sram_class(int64_t buffer_bytes) const {
  for (const SramClass& s : sram_classes)
    if (buffer_bytes <= s.max_bytes) return s;
  return sram_classes.back();
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
  r.cycles = accel.pb_load_setup_cycles + accel.dram_latency_cycles() +
             accel.dram_data_cycles(r.bytes, Stream::Weights);
  r.energy_pj =
      double(r.bytes) * (accel.dram_pj_per_byte + accel.sram_class(accel.pb_bytes).write_pj_per_byte);
  return r;
}

}  // namespace sushi::sim
