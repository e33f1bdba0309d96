// The SystemC cycle model of SushiAccel: controller, DMA, DRAM channel, weight buffer, Persistent Buffer,
// activation buffers and the compute array, connected by SystemC channels. The schedule is the one documented
// in sim/mapping.h. Simulation time runs at 1 ns per accelerator cycle, so VCD timestamps read as cycles.
//
// Speed: processes wait on events for whole transfers and whole passes (pixels x window passes cycles in one
// wait) instead of ticking a clock; the cycle counts stay exact because every wait is an exact cycle count.
#include "sim/cycle_model.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <systemc>

#include "base/errors.h"
#include "models/ref/int8.h"

namespace sushi::sim {
namespace {

using sc_core::sc_event;
using sc_core::sc_module;
using sc_core::sc_module_name;
using sc_core::sc_time;

constexpr double kNsPerCycle = 1.0;

// SUSHI_SIM_DEBUG=1 logs every DRAM transfer and K-tile end to stderr (to calibrate the analytic model).
const bool debug_log = std::getenv("SUSHI_SIM_DEBUG") != nullptr;

int64_t now_cycles() {
  return int64_t(sc_core::sc_time_stamp().value() / 1000);
}  // default resolution: 1 ps
void wait_cycles(int64_t n) {
  if (n > 0) sc_core::wait(sc_time(double(n) * kNsPerCycle, sc_core::SC_NS));
}

// A monotonic progress count (K-tiles loaded, passes done, ...): a primitive channel one process advances and
// others wait on. Waiting for "at least n" instead of on a bare event cannot miss a notification.
class Progress : public sc_core::sc_prim_channel {
 public:
  explicit Progress(const char* name) : sc_core::sc_prim_channel(name) {}
  void reset() { value_ = 0; }
  void advance() {
    ++value_;
    // Delta notification: also valid from outside the simulation (run_cycle_model starting a job between
    // sc_start calls); waiters see the new value at the same simulated time.
    changed_.notify(sc_core::SC_ZERO_TIME);
  }
  void wait_until(int64_t n) {
    while (value_ < n) sc_core::wait(changed_);
  }
  int64_t value() const { return value_; }

 private:
  int64_t value_ = 0;
  sc_event changed_;
};

enum class Stream { Weights, ActIn, ActOut };

struct DramRequest {
  int64_t bytes = 0;
  int64_t issue_cycle = 0;
  Stream stream = Stream::Weights;
  Progress* done = nullptr;
};
inline std::ostream& operator<<(std::ostream& os, const DramRequest& r) {
  return os << r.bytes << "B";
}

// State shared by the modules for the job being run: the plan of the current layer and the job itself.
struct Context {
  CycleJob* job = nullptr;
  const LayerPlan* plan = nullptr;
  size_t layer = 0;
  const AccelConfig& accel() const { return *job->accel; }
};

// One DRAM channel: requests are served in order; a request's data phase starts at
// max(issue + latency, channel free) and holds the channel for its whole bursts.
class DramChannel : public sc_module {
 public:
  sc_core::sc_fifo_in<DramRequest> requests;
  sc_core::sc_signal<bool> busy{"busy"};
  int64_t bytes[3] = {0, 0, 0};

  DramChannel(sc_module_name name, Context& ctx) : sc_module(name), ctx_(ctx) { SC_THREAD(serve); }
  SC_HAS_PROCESS(DramChannel);

 private:
  void serve() {
    for (;;) {
      const DramRequest r = requests.read();
      const int64_t start = std::max(now_cycles(), r.issue_cycle + ctx_.accel().dram_latency_cycles());
      wait_cycles(start - now_cycles());
      busy.write(true);
      wait_cycles(ctx_.accel().dram_data_cycles(r.bytes));
      busy.write(false);
      bytes[int(r.stream)] += r.bytes;
      if (debug_log)
        std::fprintf(stderr, "  dram %d %lldB issue %lld start %lld done %lld\n", int(r.stream),
                     (long long)r.bytes, (long long)r.issue_cycle, (long long)start, (long long)now_cycles());
      r.done->advance();
    }
  }
  Context& ctx_;
};

// Buffers: each holds the progress channels that say which of its slots hold valid data, and its traffic.
class WeightBuffer : public sc_module {  // streaming weights, double-buffered per K-tile
 public:
  Progress loaded{"loaded"};  // K-tiles whose streamed part has arrived
  explicit WeightBuffer(sc_module_name name) : sc_module(name) {}
};
class PersistentBuffer : public sc_module {  // the cached SubGraph; read in place, never streamed per query
 public:
  int64_t read_bytes = 0;
  explicit PersistentBuffer(sc_module_name name) : sc_module(name) {}
};
class ActInBuffer : public sc_module {  // input map, resident or two streaming halves
 public:
  Progress loaded{"loaded"};  // chunks loaded, in DMA order
  int64_t read_bytes = 0;
  explicit ActInBuffer(sc_module_name name) : sc_module(name) {}
};
class ActOutBuffer : public sc_module {  // int8 outputs, double-buffered per K-tile
 public:
  Progress filled{"filled"};    // K-tiles whose results left the array pipeline
  Progress drained{"drained"};  // K-tiles written back to DRAM
  explicit ActOutBuffer(sc_module_name name) : sc_module(name) {}
};

// The DMA engine: walks the layer's in-order descriptor queue (mapping.h), waiting for each descriptor's slot
// to be free, and hands transfers to the DRAM channel.
class Dma : public sc_module {
 public:
  sc_core::sc_fifo_out<DramRequest> requests;
  Progress* layer_started = nullptr;
  WeightBuffer* wbuf = nullptr;
  ActInBuffer* abuf = nullptr;
  ActOutBuffer* obuf = nullptr;
  Progress* passes_done = nullptr;
  Progress* ktiles_done = nullptr;

  Dma(sc_module_name name, Context& ctx) : sc_module(name), ctx_(ctx) { SC_THREAD(run); }
  SC_HAS_PROCESS(Dma);

 private:
  void issue(int64_t bytes, Stream s, Progress& done) {
    if (bytes == 0) {
      done.advance();  // nothing to move (e.g. a weight tile the PB holds entirely)
      return;
    }
    requests.write(DramRequest{bytes, now_cycles(), s, &done});
  }
  void run() {
    for (int64_t layer = 1;; ++layer) {
      layer_started->wait_until(layer);
      const LayerPlan& p = *ctx_.plan;
      issue(p.weight_dram_bytes(0), Stream::Weights, wbuf->loaded);
      for (int kt = 0; kt < p.nk; ++kt) {
        if (p.loads_chunk(kt)) {
          for (int ct = 0; ct < p.nc; ++ct) {
            const int64_t pass = int64_t(kt) * p.nc + ct;
            if (!p.act_resident) passes_done->wait_until(pass - 1);  // its half was read by pass - 2
            issue(p.chunk_bytes(kt, ct), Stream::ActIn, abuf->loaded);
          }
        }
        if (kt + 1 < p.nk) {
          ktiles_done->wait_until(kt);  // K-tile kt-1 computed: its weight half is free
          issue(p.weight_dram_bytes(kt + 1), Stream::Weights, wbuf->loaded);
        }
        if (kt >= 1) {
          obuf->filled.wait_until(kt);
          issue(p.out_bytes(kt - 1), Stream::ActOut, obuf->drained);
        }
      }
      obuf->filled.wait_until(p.nk);
      issue(p.out_bytes(p.nk - 1), Stream::ActOut, obuf->drained);
    }
  }
  Context& ctx_;
};

// The compute array (DPEs, adder trees, psum buffer, requantization) and its output pipeline.
class ComputeArray : public sc_module {
 public:
  Progress* layer_started = nullptr;
  WeightBuffer* wbuf = nullptr;
  PersistentBuffer* pb = nullptr;
  ActInBuffer* abuf = nullptr;
  ActOutBuffer* obuf = nullptr;
  Progress passes_done{"passes_done"};
  Progress ktiles_done{"ktiles_done"};
  sc_core::sc_signal<bool> busy{"busy"};
  sc_core::sc_signal<int> ktile{"ktile"};
  int64_t compute_cycles = 0;

  ComputeArray(sc_module_name name, Context& ctx) : sc_module(name), ctx_(ctx) {
    SC_THREAD(run);
    SC_THREAD(writeback);
  }
  SC_HAS_PROCESS(ComputeArray);

 private:
  void run() {
    for (int64_t layer = 1;; ++layer) {
      layer_started->wait_until(layer);
      const LayerPlan& p = *ctx_.plan;
      ktile_done_at_.assign(size_t(p.nk), 0);
      compute_cycles = 0;
      if (ctx_.job->outputs) begin_functional_layer(p);
      for (int kt = 0; kt < p.nk; ++kt) {
        wbuf->loaded.wait_until(kt + 1);
        pb->read_bytes += p.weight_hit_bytes(kt);
        ktile.write(kt);
        for (int ct = 0; ct < p.nc; ++ct) {
          const int64_t pass = int64_t(kt) * p.nc + ct;
          if (p.per_ktile_chunks || !p.act_resident)
            abuf->loaded.wait_until(pass + 1);
          else
            abuf->loaded.wait_until(kt == 0 ? ct + 1 : p.nc);
          if (ct == p.nc - 1 && kt >= 2) obuf->drained.wait_until(kt - 1);  // its output half is written back
          abuf->read_bytes += p.chunk_bytes(kt, ct);
          if (ctx_.job->outputs) functional_pass(p, kt, ct);
          busy.write(true);
          wait_cycles(p.pass_cycles);
          busy.write(false);
          compute_cycles += p.pass_cycles;
          passes_done.advance();
        }
        ktile_done_at_[size_t(kt)] = now_cycles();
        if (debug_log) std::fprintf(stderr, "  E%d = %lld\n", kt, (long long)now_cycles());
        ktiles_done.advance();
      }
    }
  }
  // A K-tile's results reach the output buffer pipeline_depth cycles after its last operands entered.
  void writeback() {
    for (int64_t layer = 1;; ++layer) {
      layer_started->wait_until(layer);
      const LayerPlan& p = *ctx_.plan;
      for (int kt = 0; kt < p.nk; ++kt) {
        ktiles_done.wait_until(kt + 1);
        wait_cycles(ktile_done_at_[size_t(kt)] + p.pipeline_depth - now_cycles());
        obuf->filled.advance();
      }
    }
  }

  void begin_functional_layer(const LayerPlan& p);
  void functional_pass(const LayerPlan& p, int kt, int ct);

  Context& ctx_;
  std::vector<int64_t> ktile_done_at_;
  std::vector<int32_t> psum_;
};

const QOp& layer_op(const CycleJob& job, size_t plan) {
  return job.ops ? (*job.ops)[plan] : job.net->ops[size_t(job.layer_index[plan])];
}
// Operand `which` (0 = input, 1 = input2) of the layer of plan `plan`.
const QTensor& layer_operand(const CycleJob& job, size_t plan, const Layer& l, int which) {
  if (job.inputs) return which == 0 ? (*job.inputs)[plan] : (*job.inputs2)[plan];
  const int index = which == 0 ? l.input : l.input2;
  return index < 0 ? *job.input : (*job.outputs)[size_t(index)];
}

void ComputeArray::begin_functional_layer(const LayerPlan& p) {
  const CycleJob& job = *ctx_.job;
  const int index = job.layer_index[ctx_.layer];
  const QOp& op = layer_op(job, ctx_.layer);
  QTensor& out = (*job.outputs)[size_t(index)];
  const Layer& l = *p.layer;
  if (p.unit == Unit::Vector) {
    // The post-processing unit's values are the reference's by construction; only its timing is modelled.
    const bool two = l.kind == LayerKind::Add || l.kind == LayerKind::SEScale;
    const QTensor* b = two ? &layer_operand(job, ctx_.layer, l, 1) : nullptr;
    out = run_qop(op, layer_operand(job, ctx_.layer, l, 0), b);
    return;
  }
  out = QTensor{};
  out.c = l.out_c;
  out.h = l.out_h;
  out.w = l.out_w;
  out.scale = op.out_scale;
  out.zero_point = op.out_zp;
  out.data.assign(size_t(out.c) * out.h * out.w, 0);
  psum_.assign(size_t(p.k_tile) * size_t(p.pixels), 0);
}

// One pass in the array's loop order: every output pixel of the K-tile accumulates the C-tile's products into
// its partial sum; the last C-tile requantizes into the int8 output. int32 wraps like the hardware adders.
void ComputeArray::functional_pass(const LayerPlan& p, int kt, int ct) {
  if (p.unit == Unit::Vector) return;
  const CycleJob& job = *ctx_.job;
  const int index = job.layer_index[ctx_.layer];
  const QOp& op = layer_op(job, ctx_.layer);
  const Layer& l = *p.layer;
  const QTensor& x = layer_operand(job, ctx_.layer, l, 0);
  QTensor& out = (*job.outputs)[size_t(index)];
  const bool depthwise = p.per_ktile_chunks;
  const int k0 = kt * p.k_tile, kn = p.channels_in_ktile(kt);
  const int c0 = depthwise ? 0 : ct * p.c_tile;
  const int cn = depthwise ? 1 : std::min(l.in_c, c0 + p.c_tile) - c0;
  const int in_per_group = depthwise ? 1 : l.in_c;
  const int K = l.kernel, S = l.stride, P = l.pad;
  const bool first = ct == 0, last = ct == p.nc - 1;
  for (int oy = 0; oy < l.out_h; ++oy) {
    for (int ox = 0; ox < l.out_w; ++ox) {
      const size_t pix = size_t(oy) * l.out_w + ox;
      for (int k = 0; k < kn; ++k) {
        const int o = k0 + k;
        uint32_t acc = first ? uint32_t(op.bias.empty() ? 0 : op.bias[size_t(o)])
                             : uint32_t(psum_[size_t(k) * p.pixels + pix]);
        for (int ci = 0; ci < cn; ++ci) {
          const int c = depthwise ? o : c0 + ci;
          const int wc = depthwise ? 0 : c0 + ci;
          for (int ky = 0; ky < K; ++ky) {
            const int iy = oy * S + ky - P;
            if (iy < 0 || iy >= l.in_h) continue;
            for (int kx = 0; kx < K; ++kx) {
              const int ix = ox * S + kx - P;
              if (ix < 0 || ix >= l.in_w) continue;
              const int32_t w = op.weights[((size_t(o) * in_per_group + wc) * K + ky) * K + kx];
              acc += uint32_t(w * (int32_t(x.at(c, iy, ix)) - op.in_zp));
            }
          }
        }
        if (last)
          out.at(o, oy, ox) = op.finish(o, int32_t(acc));
        else
          psum_[size_t(k) * p.pixels + pix] = int32_t(acc);
      }
    }
  }
}

// Sequences the layers of one job: per layer, register setup, start DMA and compute, wait for the last
// write-back.
class Controller : public sc_module {
 public:
  Progress layer_started{"layer_started"};
  sc_core::sc_signal<int> layer{"layer"};
  ActOutBuffer* obuf = nullptr;
  std::vector<sc_core::sc_object*> resettables;
  std::function<void()> reset_layer;
  std::function<void(size_t)> finish_layer;

  Controller(sc_module_name name, Context& ctx) : sc_module(name), ctx_(ctx) { SC_THREAD(run); }
  SC_HAS_PROCESS(Controller);
  Progress jobs_started{"jobs_started"};
  Progress jobs_done{"jobs_done"};
  int64_t jobs_finished = 0;
  // Stand-alone runs pause the kernel after each job; in co-simulation the caller's process waits on
  // jobs_done instead and the kernel keeps running.
  bool pause_after_job = true;

 private:
  void run() {
    for (int64_t n = 1;; ++n) {
      jobs_started.wait_until(n);
      CycleJob& job = *ctx_.job;
      for (size_t i = 0; i < job.plans->size(); ++i) {
        const int64_t start = now_cycles();
        wait_cycles(ctx_.accel().layer_setup_cycles);
        if (debug_log) std::fprintf(stderr, "layer %zu t0 %lld\n", i, (long long)now_cycles());
        ctx_.plan = &(*job.plans)[i];
        ctx_.layer = i;
        reset_layer();
        layer.write(int(i));
        layer_started.advance();
        obuf->drained.wait_until(ctx_.plan->nk);
        job.cycles[i].cycles = now_cycles() - start;
        finish_layer(i);
      }
      ++jobs_finished;
      jobs_done.advance();
      if (pause_after_job) sc_core::sc_pause();
    }
  }
  Context& ctx_;
};

// Runs tasks from outside the kernel as a SystemC process beside the accelerator (co-simulation): a task
// may wait simulated time and hand jobs to the controller, which then run concurrently with it.
class HostProcess : public sc_module {
 public:
  explicit HostProcess(sc_module_name name) : sc_module(name) { SC_THREAD(run); }
  SC_HAS_PROCESS(HostProcess);
  Progress tasks_started{"tasks_started"};
  const std::function<void()>* task = nullptr;
  std::exception_ptr error;
  int64_t tasks_finished = 0;

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

class SushiAccelTop : public sc_module {
 public:
  Context ctx;
  HostProcess host{"host"};
  Controller controller{"controller", ctx};
  Dma dma{"dma", ctx};
  DramChannel dram{"dram", ctx};
  WeightBuffer weight_buffer{"weight_buffer"};
  PersistentBuffer persistent_buffer{"persistent_buffer"};
  ActInBuffer act_in{"act_in"};
  ActOutBuffer act_out{"act_out"};
  ComputeArray array{"array", ctx};
  sc_core::sc_fifo<DramRequest> dram_queue{"dram_queue", 1 << 16};
  int64_t dram_bytes_before[3] = {0, 0, 0};

  explicit SushiAccelTop(sc_module_name name) : sc_module(name) {
    dma.requests(dram_queue);
    dram.requests(dram_queue);
    dma.layer_started = &controller.layer_started;
    dma.wbuf = &weight_buffer;
    dma.abuf = &act_in;
    dma.obuf = &act_out;
    dma.passes_done = &array.passes_done;
    dma.ktiles_done = &array.ktiles_done;
    array.layer_started = &controller.layer_started;
    array.wbuf = &weight_buffer;
    array.pb = &persistent_buffer;
    array.abuf = &act_in;
    array.obuf = &act_out;
    controller.obuf = &act_out;
    controller.reset_layer = [this] {
      for (Progress* p : {&weight_buffer.loaded, &act_in.loaded, &act_out.filled, &act_out.drained,
                          &array.passes_done, &array.ktiles_done})
        p->reset();
      persistent_buffer.read_bytes = 0;
      act_in.read_bytes = 0;
      for (int s = 0; s < 3; ++s) dram_bytes_before[s] = dram.bytes[s];
    };
    controller.finish_layer = [this](size_t i) {
      CycleJob& job = *ctx.job;
      job.cycles[i].compute_cycles = array.compute_cycles;
      LayerTraffic& t = job.traffic[i];
      t.dram_weight_bytes = dram.bytes[int(Stream::Weights)] - dram_bytes_before[int(Stream::Weights)];
      t.dram_act_in_bytes = dram.bytes[int(Stream::ActIn)] - dram_bytes_before[int(Stream::ActIn)];
      t.dram_act_out_bytes = dram.bytes[int(Stream::ActOut)] - dram_bytes_before[int(Stream::ActOut)];
      t.pb_hit_bytes = persistent_buffer.read_bytes;
      t.act_in_read_bytes = act_in.read_bytes;
      const LayerPlan& p = *ctx.plan;
      t.psum_bytes_rw = p.nc > 1 ? int64_t(p.nc - 1) * p.out_channels * p.pixels * 4 : 0;
    };
  }
  SC_HAS_PROCESS(SushiAccelTop);

  void trace_to(const std::string& path) {
    std::string base = path;
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0) base.resize(base.size() - 4);
    trace_ = sc_core::sc_create_vcd_trace_file(base.c_str());
    trace_->set_time_unit(1, sc_core::SC_NS);
    sc_core::sc_trace(trace_, controller.layer, "layer");
    sc_core::sc_trace(trace_, array.ktile, "ktile");
    sc_core::sc_trace(trace_, array.busy, "array_busy");
    sc_core::sc_trace(trace_, dram.busy, "dram_busy");
  }
  void close_trace() {
    if (trace_) sc_core::sc_close_vcd_trace_file(trace_);
    trace_ = nullptr;
  }

 private:
  sc_core::sc_trace_file* trace_ = nullptr;
};

SushiAccelTop* top_instance = nullptr;
bool traced = false;

}  // namespace

std::mutex& kernel_mutex() {
  static std::mutex kernel;  // one SystemC kernel per process
  return kernel;
}
bool in_host_task = false;

void elaborate(const SimOptions& options) {
  if (!top_instance) {
    top_instance = new SushiAccelTop("sushi_accel");  // lives for the process: SystemC elaborates once
    if (!options.trace_vcd.empty()) {
      top_instance->trace_to(options.trace_vcd);
      traced = true;
    }
  } else if (!options.trace_vcd.empty()) {
    throw InputError("--trace: a VCD can only be written by the first cycle simulation in a process");
  }
}

void run_cycle_model(CycleJob& job, const SimOptions& options) {
  if (in_host_task) {  // called from a co-simulation task: hand the job over and wait for it in simulated
                       // time
    if (!options.trace_vcd.empty()) throw InputError("--trace is not available inside a co-simulation");
    job.cycles.assign(job.plans->size(), LayerCycles{});
    job.traffic.assign(job.plans->size(), LayerTraffic{});
    if (job.plans->empty()) return;
    const int64_t done = top_instance->controller.jobs_done.value();
    top_instance->ctx.job = &job;
    top_instance->controller.jobs_started.advance();
    top_instance->controller.jobs_done.wait_until(done + 1);
    top_instance->ctx.job = nullptr;
    return;
  }
  const std::lock_guard<std::mutex> hold(kernel_mutex());
  elaborate(options);
  job.cycles.assign(job.plans->size(), LayerCycles{});
  job.traffic.assign(job.plans->size(), LayerTraffic{});
  if (job.plans->empty()) return;
  top_instance->ctx.job = &job;
  top_instance->controller.jobs_started.advance();
  const int64_t finished_before = top_instance->controller.jobs_finished;
  sc_core::sc_start();
  top_instance->ctx.job = nullptr;
  if (top_instance->controller.jobs_finished != finished_before + 1)  // every process waits: a schedule bug
    throw std::logic_error("SushiAccel cycle model stalled forever in layer " +
                           std::to_string(top_instance->ctx.layer) + " (deadlock)");
  if (traced) {
    top_instance->close_trace();
    traced = false;
  }
}

void run_in_kernel(const std::function<void()>& task) {
  if (in_host_task) throw std::logic_error("run_in_kernel: co-simulation tasks do not nest");
  const std::lock_guard<std::mutex> hold(kernel_mutex());
  elaborate(SimOptions{});
  HostProcess& host = top_instance->host;
  host.task = &task;
  host.error = nullptr;
  top_instance->controller.pause_after_job = false;
  in_host_task = true;
  const int64_t finished_before = host.tasks_finished;
  host.tasks_started.advance();
  sc_core::sc_start();
  in_host_task = false;
  top_instance->controller.pause_after_job = true;
  host.task = nullptr;
  if (host.error) std::rethrow_exception(host.error);
  if (host.tasks_finished != finished_before + 1)
    throw std::logic_error("co-simulation stalled: the host task never finished (deadlock)");
}

void kernel_wait_cycles(int64_t cycles) {
  if (!in_host_task) throw std::logic_error("kernel_wait_cycles: only inside run_in_kernel");
  wait_cycles(cycles);
}

int64_t kernel_now_cycles() {
  return now_cycles();
}

}  // namespace sushi::sim
