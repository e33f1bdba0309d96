#pragma once
// The pins of the generated sushi_accel top (rtl/templates/sushi_accel.sv.in) as a plain struct, and the
// Verilated models built into this program (one per config listed in rtl/CMakeLists.txt). Each model's
// translation unit (rtl/harness/rtl_instance.cpp.in, configured per config) registers itself here.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sushi::rtl {

constexpr int kMaxBeatBytes = 1024;

struct RtlPins {
  // Inputs.
  bool rst_n = false;
  bool desc_valid = false;
  bool desc_unit_vector = false, desc_has_weights = false, desc_per_ktile = false, desc_act_resident = false;
  uint32_t desc_nk = 0, desc_nc = 0, desc_out_c = 0, desc_in_c = 0, desc_c_tile = 0, desc_stride = 0;
  uint32_t desc_pixels = 0, desc_s1_pixels = 0, desc_window_passes = 0, desc_w_rec = 0, desc_hit_rec = 0;
  uint32_t desc_hit_channels = 0, desc_in_plane = 0, desc_chunk_extra = 0;
  uint64_t desc_w_addr = 0, desc_in_addr = 0, desc_in2_addr = 0, desc_out_addr = 0;
  // The datapath's registers (sushi_core).
  uint8_t desc_op = 0;
  bool desc_fold = false, desc_sub = false, desc_pb_bias = false, desc_w_bias = false;
  bool desc_lut_enable = false, desc_relu = false;
  uint32_t desc_kernel = 0, desc_pad = 0, desc_in_h = 0, desc_in_w = 0, desc_grid_w = 0, desc_pb_in = 0;
  uint32_t desc_pb_k = 0, desc_pb_offset = 0, desc_w_in = 0, desc_aux_count = 0;
  uint32_t desc_in_zp = 0, desc_in2_zp = 0, desc_out_zp = 0, desc_pre_zp = 0;
  bool mem_req_ready = true;
  bool mem_resp_valid = false;
  uint8_t mem_resp_stream = 0;
  // The memory master's data beats (read data in; write data out at wr_offset).
  bool mem_rd_valid = false;
  uint32_t mem_rd_offset = 0, mem_rd_count = 0, mem_wr_offset = 0;
  std::array<uint8_t, kMaxBeatBytes> mem_rd_data{};
  std::array<uint8_t, kMaxBeatBytes> mem_wr_data{};
  // Outputs.
  bool desc_ready = false;
  bool mem_req_valid = false, mem_req_write = false;
  uint8_t mem_req_stream = 0;
  uint64_t mem_req_addr0 = 0, mem_req_addr1 = 0;
  uint32_t mem_req_len0 = 0, mem_req_len1 = 0;
  bool ev_layer_start = false, ev_layer_done = false, ev_tile_start = false;
  uint32_t ev_tile = 0;
  bool ev_zero_valid = false;
  uint8_t ev_zero_stream = 0;
  uint64_t ev_zero_addr = 0;
  bool ev_hit_valid = false;
  uint32_t ev_hit_bytes = 0, ev_hit_tile = 0, ev_filled = 0;
  bool ev_compute = false;
  bool busy = false;
};

// One Verilated sushi_accel.
class RtlTop {
 public:
  virtual ~RtlTop() = default;
  // Drives the inputs with clk low and evaluates (outputs: this cycle's combinational values).
  virtual void settle(RtlPins& pins) = 0;
  // The rising edge (inputs as settled).
  virtual void rise() = 0;
  // Bytes per memory-master beat (the generated BEAT_BYTES).
  virtual int beat_bytes() const = 0;
  // The testbench back door: the Persistent Buffer preload and a layer's parameter block (sushi_core's
  // `pbm` and `prm` memories), written between two cycles.
  virtual void write_pb(int64_t offset, const uint8_t* src, int64_t n) = 0;
  virtual void write_params(const uint8_t* src, int64_t n) = 0;
  virtual void open_trace(const std::string& fst_path) = 0;
  virtual void close_trace() = 0;
};

struct RtlBuild {
  std::string config;  // config name
  std::string hash;    // rtl_config_hash of the config it was generated from
  std::string yaml;    // the config file it was generated from (source tree path)
  bool injected_bug = false;
  int threads = 1;  // Verilator threads the model was built with (--threads)
  std::function<std::unique_ptr<RtlTop>()> make;
};
std::vector<RtlBuild>& rtl_builds();
bool register_rtl_build(RtlBuild b);

}  // namespace sushi::rtl
