// The `rtl` fidelity (rtl/harness/rtl_model.h): SystemC harness around the Verilated sushi_accel.
#include "rtl/harness/rtl_model.h"

#include <cstring>
#include <deque>
#include <thread>

#include "base/errors.h"
#include "base/registry.h"
#include "models/ref/op_table.h"
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

// sushi_core's operation code of a layer kind.
uint8_t core_op(LayerKind k) {
  switch (k) {
    case LayerKind::Depthwise:
      return 1;
    case LayerKind::Add:
      return 2;
    case LayerKind::SEScale:
      return 3;
    case LayerKind::GlobalPool:
      return 4;
    case LayerKind::MaxPool:
      return 5;
    case LayerKind::AvgPool:
      return 6;
    default:
      return 0;  // Conv, Pointwise, FC, SEReduce, SEExpand: the dense array path
  }
}

// The datapath's registers: the register image's shape, PB part, zero points and parameter-block layout.
void set_core_descriptor(const AccelConfig& a, const LayerRegs& r, const Layer& l, const LayerPlan& p,
                         RtlPins& d) {
  d.desc_op = core_op(l.kind);
  d.desc_fold = p.unit == Unit::Array && !p.per_ktile_chunks && op_properties(l.kind).pointwise_fold &&
                l.kernel == 1 && a.fold_pointwise;
  d.desc_sub = p.unit == Unit::Array && l.stride > 1 && a.stride_mode == StrideMode::Input;
  d.desc_grid_w = d.desc_sub ? u32(int64_t(l.in_w) + 2 * l.pad - l.kernel + 1, "stride-1 row", l) : r.out_w;
  d.desc_kernel = r.kernel, d.desc_pad = r.pad, d.desc_in_h = r.in_h, d.desc_in_w = r.in_w;
  d.desc_pb_in = r.pb_in, d.desc_pb_k = r.pb_k, d.desc_pb_bias = r.pb_bias != 0;
  d.desc_pb_offset = u32(int64_t(r.pb_offset), "PB offset", l);
  d.desc_w_in = r.w_in, d.desc_w_bias = r.w_bias != 0;
  d.desc_aux_count = r.aux_count, d.desc_lut_enable = r.lut_enable != 0;
  d.desc_relu = Activation(r.activation) == Activation::ReLU;
  d.desc_in_zp = uint32_t(r.in_zp), d.desc_in2_zp = uint32_t(r.in2_zp);
  d.desc_out_zp = uint32_t(r.out_zp), d.desc_pre_zp = uint32_t(r.pre_zp);
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
  AccelJob* data = nullptr;  // functional: the register image and DRAM image (parameter blocks)
};

// Data-phase starts of the DRAM's requests (in issue order: the DRAM serves one at a time, in order).
class Starts : public progress_if {
 public:
  explicit Starts(std::deque<int64_t>& q) : q_(q) {}
  void advance() override { q_.push_back(cycle::now_cycles()); }
  void wait_until(int64_t) override { throw std::logic_error("rtl harness: nothing waits on a start"); }
  int64_t value() const override { return 0; }
  void reset() override {}

 private:
  std::deque<int64_t>& q_;
};

// A transfer as the harness moves its bytes: read data taken from DRAM when its data phase starts, or write
// data collected from the RTL's beats (the DRAM module writes `bytes` when the request completes).
struct Moving {
  const Transfer* t = nullptr;
  bool write = false;
  std::vector<uint8_t> bytes;
  int64_t done = 0;  // bytes moved by beats
};

// The accelerator side: clocks the Verilated top one cycle per simulated nanosecond while a job runs.
class RtlAccel : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<DramRequest> mem{"mem"};
  cycle::Progress jobs{"jobs"};
  cycle::Progress jobs_done{"jobs_done"};
  // The SystemC side's signals for the trace (written only when trace_signals).
  bool trace_signals = false;
  sc_core::sc_signal<int> sig_layer{"layer"};
  sc_core::sc_signal<bool> sig_req{"mem_req"}, sig_resp{"mem_resp"}, sig_rd_beat{"mem_rd_beat"},
      sig_wr_beat{"mem_wr_beat"};
  bool cosim = false;  // inside run_in_kernel: the host task waits for jobs_done
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
    if (job->data) {
      moving_.push_back(Moving{&t, r.write, {}, 0});
      r.started = &starts_;
      if (r.write) {
        moving_.back().bytes.assign(size_t(t.bytes), 0);
        r.data = moving_.back().bytes.data();
      }
      if (int64_t(moving_.size()) - int64_t(served_) > kQueueDepth)
        throw std::logic_error("rtl harness: more transfers in flight than the RTL's queue holds");
    }
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
      if (job->data && active_ >= 0 && moving_[size_t(active_)].done < moving_[size_t(active_)].t->bytes)
        throw std::logic_error("rtl harness: a transfer's beats do not fit its data phase");
    }
    if (job->data) drive_beat(now);
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
      if (job->data) load_params(next);  // the controller's parameter read of the setup cycles
      current = next++;
      job->layers[current].start = now;
      filled = pins_.ev_filled;  // the count restarts at the next edge
      if (EventLog* log = active_event_log()) log->add(now, EventKind::LayerStart);
    }
    record_events(now, filled);
    if (pins_.mem_req_valid) request(job->layers[current]);
    if (pins_.ev_hit_valid) job->layers[current].traffic.pb_hit_bytes += pins_.ev_hit_bytes;
    if (pins_.ev_compute) ++job->layers[current].compute;
    if (job->data) take_write_beat();
    if (trace_signals) {
      sig_layer.write(int(current));
      sig_req.write(pins_.mem_req_valid);
      sig_resp.write(pins_.mem_resp_valid);
      sig_rd_beat.write(pins_.mem_rd_valid);
      sig_wr_beat.write(beat_write_);
    }
    top->rise();
    ++g_cycles;
    return finished;
  }
  // The beat of this cycle: the next bytes of the transfer whose data phase is running.
  void drive_beat(int64_t now) {
    pins_.mem_rd_valid = false;
    beat_write_ = false;
    while (!starts_q_.empty() && starts_q_.front() <= now) {
      if (active_ >= 0 && moving_[size_t(active_)].done < moving_[size_t(active_)].t->bytes)
        throw std::logic_error("rtl harness: a transfer's beats do not fit its data phase");
      starts_q_.pop_front();
      active_ = int64_t(served_++);
      Moving& m = moving_[size_t(active_)];
      if (!m.write) {  // the bytes as the DRAM holds them when it starts serving the read
        m.bytes.resize(size_t(m.t->bytes));
        int64_t at = 0;
        for (int s = 0; s < m.t->segments; ++s) {
          dram_->dump(m.t->addr[s], m.bytes.data() + at, m.t->len[s]);
          at += m.t->len[s];
        }
      }
    }
    if (active_ < 0) return;
    Moving& m = moving_[size_t(active_)];
    if (m.done >= m.t->bytes) return;
    const int beat = top->beat_bytes();
    const int n = int(std::min<int64_t>(beat, m.t->bytes - m.done));
    if (m.write) {
      pins_.mem_wr_offset = uint32_t(m.done);
      beat_write_ = true;
      beat_n_ = n;
      return;
    }
    pins_.mem_rd_valid = true;
    pins_.mem_rd_offset = uint32_t(m.done);
    pins_.mem_rd_count = uint32_t(n);
    std::memcpy(pins_.mem_rd_data.data(), m.bytes.data() + m.done, size_t(n));
    m.done += n;
  }
  void take_write_beat() {
    if (!beat_write_) return;
    Moving& m = moving_[size_t(active_)];
    std::memcpy(m.bytes.data() + m.done, pins_.mem_wr_data.data(), size_t(beat_n_));
    m.done += beat_n_;
  }
  void load_params(size_t i) {
    const LayerRegs& r = job->data->regs[i];
    if (r.param_bytes() > kParamBytes)
      throw InputError("rtl: layer " + job->data->meta[i].name + ": its parameter block (" +
                       std::to_string(r.param_bytes()) + " bytes) exceeds the RTL's parameter memory (" +
                       std::to_string(kParamBytes) + " bytes)");
    top->write_params(job->data->dram.data() + r.param_addr, r.param_bytes());
  }
  void copy_descriptor(bool valid) {
    RtlPins d = desc_;
    d.rst_n = pins_.rst_n;
    d.desc_valid = valid;
    d.mem_req_ready = true;
    d.mem_resp_valid = pins_.mem_resp_valid;
    d.mem_resp_stream = pins_.mem_resp_stream;
    d.mem_rd_valid = pins_.mem_rd_valid;
    d.mem_rd_offset = pins_.mem_rd_offset;
    d.mem_rd_count = pins_.mem_rd_count;
    d.mem_wr_offset = pins_.mem_wr_offset;
    d.mem_rd_data = pins_.mem_rd_data;
    pins_ = d;
  }
  void run() {
    reset();
    for (int64_t n = 1;; ++n) {
      jobs.wait_until(n);
      transfers_.clear();
      moving_.clear();
      starts_q_.clear();
      served_ = 0;
      active_ = -1;
      size_t next = 0, current = 0;
      uint32_t filled = 0;
      for (;;) {
        sc_core::wait(sc_core::SC_ZERO_TIME);  // the DRAM completions of this cycle land first
        const bool finished = cycle(cycle::now_cycles(), next, current, filled);
        if (finished && cosim) jobs_done.advance();  // the host task resumes in the done cycle
        cycle::wait_cycles(1);
        if (finished) break;
      }
      if (!cosim) {  // a stand-alone run ends here
        jobs_done.advance();
        sc_core::sc_pause();
      }
    }
  }
  RtlPins pins_, desc_;
  bool beat_write_ = false;
  int beat_n_ = 0;
  std::deque<Moving> moving_;  // functional: every request's bytes, in issue order
  std::deque<int64_t> starts_q_;
  Starts starts_{starts_q_};
  size_t served_ = 0;
  int64_t active_ = -1;  // the transfer whose data phase runs (index into moving_)

 public:
  sim::cycle::memory_if* dram_ = nullptr;

 private:
  std::deque<Transfer> transfers_;  // the requests' transfers outlive them (DramRequest points here)
  std::deque<std::pair<int64_t, int>> landed_;
  Landing landings_[3] = {Landing(0, landed_), Landing(1, landed_), Landing(2, landed_)};
};

// The co-simulation host: runs a task (the serving loop) as a SystemC process beside the RTL.
class RtlHost : public sc_core::sc_module {
 public:
  cycle::Progress tasks_started{"tasks_started"};
  const std::function<void()>* task = nullptr;
  std::exception_ptr error;
  int64_t tasks_finished = 0;
  explicit RtlHost(sc_core::sc_module_name name) : sc_core::sc_module(name) { SC_THREAD(run); }
  SC_HAS_PROCESS(RtlHost);

 private:
  void run() {
    for (int64_t n = 1;; ++n) {
      tasks_started.wait_until(n);
      try {
        (*task)();
      } catch (...) {
        error = std::current_exception();
      }
      ++tasks_finished;
      sc_core::sc_pause();
    }
  }
};

class Harness : public sc_core::sc_module {
 public:
  cycle::Dram dram;
  RtlAccel accel;
  RtlHost host{"host"};
  sc_core::sc_fifo<DramRequest> requests{"requests", 4096};
  Harness(sc_core::sc_module_name name, const AccelConfig& a, std::unique_ptr<RtlTop> top)
      : sc_core::sc_module(name), dram("dram", a), accel("accel", std::move(top)) {
    accel.mem(requests);
    accel.dram_ = &dram;
    dram.requests(requests);
  }
};

class RtlModel : public AccelModel {
 public:
  RtlModel(const AccelConfig& accel, const RtlBuild& build)
      : accel_(accel), kernel_(new sc_core::sc_simcontext) {
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const SystemcKernelScope scope(kernel_.get());
    harness_ = std::make_unique<Harness>("sushi_rtl", accel_, build.make());
  }
  ~RtlModel() override {
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const SystemcKernelScope scope(kernel_.get());
    harness_->accel.top->close_trace();
    close_sc_trace();
    harness_.reset();
    kernel_.reset();
  }
  // FST of the Verilated top (every RTL signal; time in half cycles): PATH as given when it ends in .fst;
  // beside it BASE_systemc.vcd with the SystemC side (the harness's request / response / beat handshakes,
  // the running layer and the DRAM module's busy channel; time in cycles).
  void trace_to(const std::string& path) override {
    std::string p = path;
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".vcd") == 0) p.resize(p.size() - 4);
    trace_path_ = p.size() > 4 && p.compare(p.size() - 4, 4, ".fst") == 0 ? p : p + ".fst";
    if (started_)
      throw InputError("--trace: an rtl model's SystemC trace must be opened before its first run");
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const SystemcKernelScope scope(kernel_.get());
    close_sc_trace();
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_trace_ = sc_core::sc_create_vcd_trace_file(
        (trace_path_.substr(0, trace_path_.size() - 4) + "_systemc").c_str());
    sc_trace_->set_time_unit(1, sc_core::SC_NS);
    RtlAccel& a = harness_->accel;
    a.trace_signals = true;
    sc_core::sc_trace(sc_trace_, a.sig_layer, "layer");
    sc_core::sc_trace(sc_trace_, a.sig_req, "mem_req");
    sc_core::sc_trace(sc_trace_, a.sig_resp, "mem_resp");
    sc_core::sc_trace(sc_trace_, a.sig_rd_beat, "mem_rd_beat");
    sc_core::sc_trace(sc_trace_, a.sig_wr_beat, "mem_wr_beat");
    sc_core::sc_trace(sc_trace_, harness_->dram.busy, "dram_busy");
  }
  void close_sc_trace() {
    if (sc_trace_) sc_core::sc_close_vcd_trace_file(sc_trace_);
    sc_trace_ = nullptr;
  }
  RunResult run(AccelJob& job) override;
  bool functional() const override { return true; }
  void run_in_kernel(const std::function<void()>& task) override;
  int64_t kernel_now() const override { return cycle::now_cycles(); }
  void kernel_wait(int64_t cycles) override {
    if (!in_task()) throw std::logic_error("rtl kernel_wait: only inside run_in_kernel");
    cycle::wait_cycles(cycles);
  }

 private:
  bool in_task() const { return task_thread_ == std::this_thread::get_id(); }
  void execute(Job& j, AccelJob& job);
  RunResult results_of(const Job& j, const std::vector<Layer>& layers,
                       const std::vector<LayerPlan>& plans) const;
  std::thread::id task_thread_{};
  AccelConfig accel_;
  std::unique_ptr<sc_core::sc_simcontext> kernel_;
  std::unique_ptr<Harness> harness_;
  std::string trace_path_;
  sc_core::sc_trace_file* sc_trace_ = nullptr;
  bool started_ = false;
};

RunResult RtlModel::run(AccelJob& job) {
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
    set_core_descriptor(accel_, job.regs[i], layers.back(), plans.back(), j.descriptors.back());
  }
  if (job.regs.empty()) return sum_layers(accel_, {});
  j.layers.resize(job.regs.size());
  if (in_task()) {
    execute(j, job);  // in simulated time, beside the co-simulation's host task
  } else {
    const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
    const SystemcKernelScope scope(kernel_.get());
    execute(j, job);
  }
  return results_of(j, layers, plans);
}

// Runs the job (kernel lock held, kernel current): standalone with sc_start, inside a task by waiting.
void RtlModel::execute(Job& j, AccelJob& job) {
  {
    RtlAccel& a = harness_->accel;
    if (!trace_path_.empty()) a.top->open_trace(trace_path_);
    if (job.functional()) {  // the host's image in DRAM and its SubGraph preloaded into the PB
      j.data = &job;
      harness_->dram.load(0, job.dram.data(), int64_t(job.dram.size()));
      const int64_t n = int64_t(job.memory.pb_image.bytes);
      if (n > accel_.pb_bytes) throw std::logic_error("rtl: PB image larger than the PB");
      a.top->write_pb(0, job.dram.data() + job.memory.pb_image.base, n);
    }
    a.job = &j;
    if (EventLog* log = active_event_log()) log->begin(cycle::now_cycles());
    started_ = true;
    a.jobs.advance();
    if (in_task())
      a.jobs_done.wait_until(a.jobs.value());
    else
      sc_core::sc_start();
    a.job = nullptr;
    if (job.functional()) harness_->dram.dump(0, job.dram.data(), int64_t(job.dram.size()));
    if (!trace_path_.empty()) a.top->close_trace();
    if (!trace_path_.empty()) close_sc_trace();
    trace_path_.clear();
  }
}

void RtlModel::run_in_kernel(const std::function<void()>& task) {
  if (in_task()) throw std::logic_error("run_in_kernel: co-simulation tasks do not nest");
  const std::lock_guard<std::mutex> hold(systemc_kernel_lock());
  const SystemcKernelScope scope(kernel_.get());
  RtlHost& h = harness_->host;
  h.task = &task;
  h.error = nullptr;
  const int64_t before = h.tasks_finished;
  task_thread_ = std::this_thread::get_id();
  harness_->accel.cosim = true;
  h.tasks_started.advance();
  sc_core::sc_start();
  harness_->accel.cosim = false;
  task_thread_ = std::thread::id{};
  h.task = nullptr;
  if (h.error) std::rethrow_exception(h.error);
  if (h.tasks_finished != before + 1)
    throw std::logic_error("rtl co-simulation stalled: the host task never finished (deadlock)");
}

RunResult RtlModel::results_of(const Job& j, const std::vector<Layer>& layers,
                               const std::vector<LayerPlan>& plans) const {
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

const RtlBuild* find_build(const AccelConfig& accel, bool injected, int threads) {
  const std::string hash = rtl_config_hash(accel);
  for (const RtlBuild& b : rtl_builds())
    if (b.hash == hash && b.injected_bug == injected && b.threads == threads) return &b;
  return nullptr;
}

SUSHI_REGISTER(
    AccelModel, "rtl",
    "the generated SystemVerilog (rtl/), Verilated and clocked beside the cycle model's SystemC DRAM "
    "module; functional (int8 outputs through the RTL datapath) and timing; built for the configs listed in "
    "rtl/CMakeLists.txt",
    [](const AccelConfig& a) { return make_rtl_model(a, false); });

}  // namespace

std::unique_ptr<AccelModel> make_rtl_model(const AccelConfig& accel, bool injected, int threads) {
  const RtlBuild* b = find_build(accel, injected, threads);
  if (!b) {
    std::string built;
    for (const std::string& s : rtl_built_configs()) built += (built.empty() ? "" : ", ") + s;
    throw InputError(accel.file + ": --fidelity rtl: no Verilated RTL of config '" + accel.name + "' (hash " +
                     rtl_config_hash(accel) + (injected ? ", with the injected bug" : "") +
                     (threads != 1 ? ", " + std::to_string(threads) + " Verilator threads" : "") +
                     ") is built into this program; built: " + built +
                     " (add the config to SUSHI_RTL_CONFIGS in rtl/CMakeLists.txt)");
  }
  return std::make_unique<RtlModel>(accel, *b);
}

std::vector<std::string> rtl_built_configs() {
  std::vector<std::string> out;
  for (const RtlBuild& b : rtl_builds())
    out.push_back(b.config + (b.injected_bug ? " [injected bug]" : "") +
                  (b.threads != 1 ? " [" + std::to_string(b.threads) + " threads]" : "") + " (" + b.yaml +
                  ")");
  return out;
}

int64_t rtl_cycles_simulated() {
  return g_cycles;
}

}  // namespace sushi::rtl
