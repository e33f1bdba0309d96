// The `rtl` fidelity (rtl/harness/rtl_model.h): SystemC harness around the Verilated sushi_accel.
#include "rtl/harness/rtl_model.h"

#include <deque>

#include "base/errors.h"
#include "base/registry.h"
#include "rtl/generator.h"
#include "rtl/harness/rtl_top.h"
#include "sim/cycle_model.h"
#include "sim/cycle_modules.h"
#include "sim/mapping.h"

namespace sushi::rtl {

std::vector<RtlBuild>& rtl_builds() {
  static std::vector<RtlBuild> builds;
  return builds;
}

bool register_rtl_build(RtlBuild b) {
  rtl_builds().push_back(std::move(b));
  return true;
}

namespace {

using namespace sushi::sim;
using sim::cycle::DramRequest;
using sim::cycle::progress_if;

int64_t g_cycles = 0;

uint32_t u32(int64_t v, const char* what, const Layer& l) {
  if (v < 0 || v > int64_t(UINT32_MAX))
    throw InputError("rtl: layer " + l.name + ": " + what + " = " + std::to_string(v) +
                     " does not fit the RTL's 32-bit descriptor field");
  return uint32_t(v);
}

// The host driver: one layer's descriptor from its registers and the plan of sim/mapping.h.
void set_descriptor(const LayerRegs& r, const Layer& l, const LayerPlan& p, RtlPins& d) {
  d.desc_unit_vector = p.unit == Unit::Vector;
  d.desc_has_weights = l.has_weights();
  d.desc_per_ktile = p.per_ktile_chunks;
  d.desc_act_resident = p.act_resident;
  d.desc_nk = u32(p.nk, "K-tiles", l);
  d.desc_nc = u32(p.nc, "C-tiles", l);
  d.desc_out_c = u32(p.out_channels, "out_c", l);
  d.desc_in_c = u32(p.in_channels, "in_c", l);
  d.desc_c_tile = u32(p.c_tile, "c_tile", l);
  d.desc_stride = r.stride;
  d.desc_pixels = u32(p.pixels, "pixels", l);
  const int64_t s1 =
      (int64_t(l.in_h) + 2 * l.pad - l.kernel + 1) * (int64_t(l.in_w) + 2 * l.pad - l.kernel + 1);
  d.desc_s1_pixels = u32(std::max<int64_t>(s1, 0), "stride-1 positions", l);
  d.desc_window_passes = u32(p.window_passes, "window passes", l);
  d.desc_w_rec = u32(p.w_per_channel, "weight record bytes", l);
  d.desc_hit_rec = u32(p.hit_per_channel, "PB record bytes", l);
  d.desc_hit_channels = u32(p.hit_channels, "PB channels", l);
  d.desc_in_plane = u32(p.in_plane, "input plane bytes", l);
  d.desc_chunk_extra = u32(p.chunk_extra_per_channel, "second operand bytes", l);
  d.desc_w_addr = r.w_addr;
  d.desc_in_addr = r.in_addr;
  d.desc_in2_addr = r.in2_addr;
  d.desc_out_addr = r.out_addr;
  u32(int64_t(p.pass_cycles) * p.nk * p.nc, "cycles of compute", l);
}

// Completions of one stream, from the DRAM module: recorded with their cycle for the clock process.
class Landing : public progress_if {
 public:
  explicit Landing(int stream, std::deque<std::pair<int64_t, int>>& q) : stream_(stream), q_(q) {}
  void advance() override { q_.emplace_back(cycle::now_cycles(), stream_); }
  void wait_until(int64_t) override { throw std::logic_error("rtl harness: nothing waits on a landing"); }
  int64_t value() const override { return 0; }
  void reset() override {}

 private:
  int stream_;
  std::deque<std::pair<int64_t, int>>& q_;
};

struct LayerOut {
  int64_t start = 0, cycles = 0, compute = 0;
  LayerTraffic traffic;
};

struct Job {
  std::vector<RtlPins> descriptors;
  std::vector<LayerOut> layers;
};

// The accelerator side: clocks the Verilated top one cycle per simulated nanosecond while a job runs.
class RtlAccel : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<DramRequest> mem{"mem"};
  cycle::Progress jobs{"jobs"};
  Job* job = nullptr;
  std::unique_ptr<RtlTop> top;

  RtlAccel(sc_core::sc_module_name name, std::unique_ptr<RtlTop> t)
      : sc_core::sc_module(name), top(std::move(t)) {
    SC_THREAD(run);
  }
  SC_HAS_PROCESS(RtlAccel);

 private:
  void reset() {
    pins_.rst_n = false;
    for (int i = 0; i < 2; ++i) {
      top->settle(pins_);
      top->rise();
    }
    pins_.rst_n = true;
  }
  void request(LayerOut& l) {
    transfers_.emplace_back();
    Transfer& t = transfers_.back();
    t.stream = Stream(pins_.mem_req_stream);
    t.segments = pins_.mem_req_len1 ? 2 : 1;
    t.addr[0] = pins_.mem_req_addr0;
    t.len[0] = pins_.mem_req_len0;
    t.addr[1] = pins_.mem_req_addr1;
    t.len[1] = pins_.mem_req_len1;
    t.bytes = t.len[0] + t.len[1];
    (t.stream == Stream::Weights ? l.traffic.dram_weight_bytes
     : t.stream == Stream::ActIn ? l.traffic.dram_act_in_bytes
                                 : l.traffic.dram_act_out_bytes) += t.bytes;
    DramRequest r;
    r.t = &t;
    r.write = pins_.mem_req_write;
    r.issue_cycle = cycle::now_cycles();
    r.done = &landings_[int(t.stream)];
    mem->write(r);  // the DRAM module records it (DmaRequest) when it starts serving it
  }
  void record_events(int64_t now, uint32_t& filled) {
    EventLog* log = active_event_log();
    if (!log) return;
    if (pins_.ev_tile_start) log->add(now, EventKind::TileStart, pins_.ev_tile);
    if (pins_.ev_hit_valid)
      log->add(now, EventKind::PbHit, pins_.ev_hit_tile, int(Stream::Weights), 0, pins_.ev_hit_bytes);
    if (pins_.ev_filled > filled) log->add(now, EventKind::Writeback, pins_.ev_filled - 1);
    filled = pins_.ev_filled;
  }
  // One clock cycle at `now`; returns whether the job's last layer finished in it.
  bool cycle(int64_t now, size_t& next, size_t& current, uint32_t& filled) {
    pins_.mem_resp_valid = false;
    if (!landed_.empty() && landed_.front().first <= now) {
      if (landed_.front().first < now || (landed_.size() > 1 && landed_[1].first == now))
        throw std::logic_error("rtl harness: DRAM completions not one per cycle");
      pins_.mem_resp_valid = true;
      pins_.mem_resp_stream = uint8_t(landed_.front().second);
      landed_.pop_front();
    }
    const bool have = next < job->descriptors.size();
    if (have) static_cast<RtlPins&>(desc_) = job->descriptors[next];
    copy_descriptor(have);
    top->settle(pins_);
    bool finished = false;
    if (pins_.ev_layer_done) {
      LayerOut& l = job->layers[current];
      l.cycles = now - l.start;
      if (EventLog* log = active_event_log()) log->add(now, EventKind::LayerDone);
      finished = current + 1 == job->descriptors.size();
    }
    if (pins_.desc_valid && pins_.desc_ready) {
      current = next++;
      job->layers[current].start = now;
      filled = pins_.ev_filled;  // the count restarts at the next edge
      if (EventLog* log = active_event_log()) log->add(now, EventKind::LayerStart);
    }
    record_events(now, filled);
    if (pins_.mem_req_valid) request(job->layers[current]);
    if (pins_.ev_hit_valid) job->layers[current].traffic.pb_hit_bytes += pins_.ev_hit_bytes;
    if (pins_.ev_compute) ++job->layers[current].compute;
    top->rise();
    ++g_cycles;
    return finished;
  }
  void copy_descriptor(bool valid) {
    RtlPins d = desc_;
    d.rst_n = pins_.rst_n;
    d.desc_valid = valid;
    d.mem_req_ready = true;
    d.mem_resp_valid = pins_.mem_resp_valid;
    d.mem_resp_stream = pins_.mem_resp_stream;
    pins_ = d;
  }
  void run() {
    reset();
    for (int64_t n = 1;; ++n) {
      jobs.wait_until(n);
      transfers_.clear();
      size_t next = 0, current = 0;
      uint32_t filled = 0;
      for (;;) {
        sc_core::wait(sc_core::SC_ZERO_TIME);  // the DRAM completions of this cycle land first
        const bool finished = cycle(cycle::now_cycles(), next, current, filled);
        cycle::wait_cycles(1);
        if (finished) break;
      }
      sc_core::sc_pause();
    }
  }
  RtlPins pins_, desc_;
  std::deque<Transfer> transfers_;  // the requests' transfers outlive them (DramRequest points here)
  std::deque<std::pair<int64_t, int>> landed_;
  Landing landings_[3] = {Landing(0, landed_), Landing(1, landed_), Landing(2, landed_)};
};

class Harness : public sc_core::sc_module {
 public:
  cycle::Dram dram;
  RtlAccel accel;
  sc_core::sc_fifo<DramRequest> requests{"requests", 4096};
  Harness(sc_core::sc_module_name name, const AccelConfig& a, std::unique_ptr<RtlTop> top)
      : sc_core::sc_module(name), dram("dram", a), accel("accel", std::move(top)) {
    accel.mem(requests);
    dram.requests(requests);
  }
};

class KernelScope {
 public:
  explicit KernelScope(sc_core::sc_simcontext* k)
      : prev_(sc_core::sc_curr_simcontext), prev_default_(sc_core::sc_default_global_context) {
    sc_core::sc_curr_simcontext = k;
    sc_core::sc_default_global_context = k;
  }
  ~KernelScope() {
    sc_core::sc_curr_simcontext = prev_;
    sc_core::sc_default_global_context = prev_default_;
  }

 private:
  sc_core::sc_simcontext* prev_;
  sc_core::sc_simcontext* prev_default_;
};

class RtlModel : public AccelModel {
 public:
  RtlModel(const AccelConfig& accel, const RtlBuild& build)
      : accel_(accel), kernel_(new sc_core::sc_simcontext) {
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const KernelScope scope(kernel_.get());
    harness_ = std::make_unique<Harness>("sushi_rtl", accel_, build.make());
  }
  ~RtlModel() override {
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const KernelScope scope(kernel_.get());
    harness_->accel.top->close_trace();
    harness_.reset();
    kernel_.reset();
  }
  // FST of the Verilated top (every RTL signal; time in half cycles): PATH as given when it ends in .fst.
  void trace_to(const std::string& path) override {
    std::string p = path;
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".vcd") == 0) p.resize(p.size() - 4);
    trace_path_ = p.size() > 4 && p.compare(p.size() - 4, 4, ".fst") == 0 ? p : p + ".fst";
  }
  RunResult run(AccelJob& job) override;

 private:
  AccelConfig accel_;
  std::unique_ptr<sc_core::sc_simcontext> kernel_;
  std::unique_ptr<Harness> harness_;
  std::string trace_path_;
};

RunResult RtlModel::run(AccelJob& job) {
  if (job.functional())
    throw InputError("--fidelity rtl: the RTL moves no data yet (timing only); run --functional with cycle");
  std::vector<Layer> layers;
  std::vector<LayerPlan> plans;
  layers.reserve(job.regs.size());
  plans.reserve(job.regs.size());
  Job j;
  for (size_t i = 0; i < job.regs.size(); ++i) {
    layers.push_back(decode_layer(job.regs[i], job.meta[i]));
    plans.push_back(plan_layer(accel_, layers.back(), decode_cached(job.regs[i])));
    j.descriptors.emplace_back();
    set_descriptor(job.regs[i], layers.back(), plans.back(), j.descriptors.back());
  }
  if (job.regs.empty()) return sum_layers(accel_, {});
  j.layers.resize(job.regs.size());
  {
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const KernelScope scope(kernel_.get());
    RtlAccel& a = harness_->accel;
    if (!trace_path_.empty()) a.top->open_trace(trace_path_);
    a.job = &j;
    if (EventLog* log = active_event_log()) log->begin(cycle::now_cycles());
    a.jobs.advance();
    sc_core::sc_start();
    a.job = nullptr;
    if (!trace_path_.empty()) a.top->close_trace();
    trace_path_.clear();
  }
  std::vector<LayerResult> results(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    LayerResult& r = results[i];
    r.name = layers[i].name;
    r.kind = to_string(layers[i].kind);
    r.cycles = j.layers[i].cycles;
    const LayerTraffic model = layer_traffic(plans[i]);
    LayerTraffic t = j.layers[i].traffic;
    t.act_in_read_bytes = model.act_in_read_bytes;  // on-chip reads: the datapath's, not the DMA's
    t.psum_bytes_rw = model.psum_bytes_rw;
    LayerCycles c;
    c.cycles = r.cycles;
    r.compute_cycles = c.compute_cycles = j.layers[i].compute;
    set_breakdown(accel_, c, r);
    finish_layer_result(accel_, plans[i], t, r);
  }
  return sum_layers(accel_, std::move(results));
}

const RtlBuild* find_build(const AccelConfig& accel, bool injected) {
  const std::string hash = rtl_config_hash(accel);
  for (const RtlBuild& b : rtl_builds())
    if (b.hash == hash && b.injected_bug == injected) return &b;
  return nullptr;
}

SUSHI_REGISTER(
    AccelModel, "rtl",
    "the generated SystemVerilog (rtl/), Verilated and clocked beside the cycle model's SystemC DRAM "
    "module; timing only; built for the configs listed in rtl/CMakeLists.txt",
    [](const AccelConfig& a) { return make_rtl_model(a, false); });

}  // namespace

std::unique_ptr<AccelModel> make_rtl_model(const AccelConfig& accel, bool injected) {
  const RtlBuild* b = find_build(accel, injected);
  if (!b) {
    std::string built;
    for (const std::string& s : rtl_built_configs()) built += (built.empty() ? "" : ", ") + s;
    throw InputError(accel.file + ": --fidelity rtl: no Verilated RTL of config '" + accel.name + "' (hash " +
                     rtl_config_hash(accel) + (injected ? ", with the injected bug" : "") +
                     ") is built into this program; built: " + built +
                     " (add the config to SUSHI_RTL_CONFIGS in rtl/CMakeLists.txt)");
  }
  return std::make_unique<RtlModel>(accel, *b);
}

std::vector<std::string> rtl_built_configs() {
  std::vector<std::string> out;
  for (const RtlBuild& b : rtl_builds())
    out.push_back(b.config + (b.injected_bug ? " [injected bug]" : "") + " (" + b.yaml + ")");
  return out;
}

int64_t rtl_cycles_simulated() {
  return g_cycles;
}

}  // namespace sushi::rtl
