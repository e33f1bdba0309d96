// The SystemC cycle model of SushiAccel (see sim/cycle_model.h): controller, host/testbench, the accelerator
// module, the top that joins them to the DRAM module, and the model object that owns one SystemC kernel.
#include "sim/cycle_model.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "base/errors.h"
#include "base/registry.h"
#include "sim/cycle_modules.h"

namespace sushi::sim {
namespace cycle {
namespace {

using sc_core::sc_module_name;

// Sequences the layers of a job: reads the register image from the csr fifo, then per layer spends the
// setup cycles (and, in functional mode, reads its parameter block), decodes the registers into the
// layer's plan, starts DMA and compute on the layer bus and waits for the last write-back.
class Controller : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<LayerRegs> csr{"csr"};
  sc_core::sc_fifo_in<JobCommand> start{"start"};
  sc_core::sc_fifo_out<int64_t> done{"done"};
  sc_core::sc_port<memory_if> params_mem{"params_mem"};
  sc_core::sc_port<layer_bus_if> bus{"bus"};
  sc_core::sc_port<progress_if, 0> layer_status{"layer_status"};  // per-layer counts, reset at layer start
  sc_core::sc_port<progress_if> o_drained{"o_drained"};
  sc_core::sc_signal<int> layer{"layer"};
  std::function<void(size_t)> on_layer_start;
  std::function<void(size_t, int64_t, const LayerPlan&)> on_layer_done;

  Controller(sc_module_name name, const AccelConfig& accel) : sc_core::sc_module(name), accel_(accel) {
    SC_THREAD(run);
  }
  SC_HAS_PROCESS(Controller);

 private:
  void run() {
    for (;;) {
      const JobCommand cmd = start.read();
      regs_.resize(size_t(cmd.layers));
      for (LayerRegs& r : regs_) r = csr.read();
      for (size_t i = 0; i < regs_.size(); ++i) run_layer(i, cmd.functional);
      done.write(cmd.layers);
    }
  }
  void run_layer(size_t i, bool functional) {
    const int64_t t0 = now_cycles();
    if (EventLog* log = active_event_log()) log->add(t0, EventKind::LayerStart);
    wait_cycles(accel_.layer_setup_cycles);
    if (debug_log) std::fprintf(stderr, "layer %zu t0 %lld\n", i, (long long)now_cycles());
    const LayerRegs& r = regs_[i];
    layer_ = decode_layer(r, LayerMeta{});
    plan_ = plan_layer(accel_, layer_, decode_cached(r));
    if (functional) {
      block_.resize(size_t(r.param_bytes()));
      params_mem->dump(r.param_addr, block_.data(), int64_t(block_.size()));
      params_ = read_params(r, block_.data());
    }
    for (int p = 0; p < layer_status.size(); ++p) layer_status[p]->reset();
    on_layer_start(i);
    layer.write(int(i));
    bus->start(LayerWork{&r, &plan_, &params_, functional});
    o_drained->wait_until(plan_.nk);
    if (EventLog* log = active_event_log()) log->add(now_cycles(), EventKind::LayerDone);
    on_layer_done(i, now_cycles() - t0, plan_);
  }

  const AccelConfig& accel_;
  std::vector<LayerRegs> regs_;  // the register file
  Layer layer_;
  LayerPlan plan_;
  QOp params_;
  std::vector<uint8_t> block_;
};

// The host / testbench: runs tasks as a SystemC process. A job writes the DRAM image and the resident
// SubGraph, the register image and the start command, waits for done and reads the image back.
class Host : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<LayerRegs> csr{"csr"};
  sc_core::sc_fifo_out<JobCommand> start{"start"};
  sc_core::sc_fifo_in<int64_t> done{"done"};
  sc_core::sc_port<memory_if> memory{"memory"};
  sc_core::sc_port<buffer_if> pb{"pb"};
  Progress tasks_started{"tasks_started"};
  const std::function<void()>* task = nullptr;
  std::exception_ptr error;
  int64_t tasks_finished = 0;

  explicit Host(sc_module_name name) : sc_core::sc_module(name) { SC_THREAD(run); }
  SC_HAS_PROCESS(Host);

  void run_job(AccelJob& job) {
    const bool functional = job.functional();
    if (functional) {
      memory->load(0, job.dram.data(), int64_t(job.dram.size()));
      const int64_t n = int64_t(job.memory.pb_image.bytes);
      if (n > 0) std::memcpy(pb->bytes(0, n), job.dram.data() + job.memory.pb_image.base, size_t(n));
    }
    start.write(JobCommand{int64_t(job.regs.size()), functional});
    for (const LayerRegs& r : job.regs) csr.write(r);
    done.read();
    if (functional) memory->dump(0, job.dram.data(), int64_t(job.dram.size()));
  }

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

struct LayerStats {
  LayerCycles cycles;
  LayerTraffic traffic;
};

// SushiAccel: controller, DMA, buffers and the two compute units, joined by progress channels and the
// layer bus. Its ports: the csr / start / done fifos to the host, the request fifo and the parameter back
// door to the DRAM, and an export of the PB for the host's preload.
class Accelerator : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_in<LayerRegs> csr{"csr"};
  sc_core::sc_fifo_in<JobCommand> start{"start"};
  sc_core::sc_fifo_out<int64_t> done{"done"};
  sc_core::sc_fifo_out<DramRequest> mem{"mem"};
  sc_core::sc_port<memory_if> params_mem{"params_mem"};
  sc_core::sc_export<buffer_if> pb_load{"pb_load"};

  Controller controller;
  Dma dma;
  SramBuffer weights, pb, act_in, psum, act_out;
  ComputeUnit array, vector;
  LayerBus bus{"bus"};
  Progress passes_done{"passes_done"}, ktiles_done{"ktiles_done"};
  std::vector<LayerStats> stats;  // of the current job

  Accelerator(sc_module_name name, const AccelConfig& a)
      : sc_core::sc_module(name),
        controller("controller", a),
        dma("dma", a),
        weights("weight_buffer", a.weight_buffer_bytes),
        pb("persistent_buffer", a.pb_bytes),
        act_in("act_in", a.act_in_bytes),
        psum("psum", a.psum_bytes),
        act_out("act_out", a.act_out_bytes),
        array("array", a, Unit::Array),
        vector("vector_unit", a, Unit::Vector) {
    controller_setup_ = a.layer_setup_cycles;
    bind_controller();
    bind_dma();
    bind_unit(array);
    bind_unit(vector);
    pb_load(pb);
  }
  void allocate() {
    for (SramBuffer* b : {&weights, &pb, &act_in, &psum, &act_out}) b->allocate();
  }

 private:
  void bind_controller() {
    controller.csr(csr);
    controller.start(start);
    controller.done(done);
    controller.params_mem(params_mem);
    controller.bus(bus);
    controller.o_drained(act_out.drained);
    for (progress_if* p : std::initializer_list<Progress*>{&weights.filled, &act_in.filled, &act_out.filled,
                                                           &act_out.drained, &passes_done, &ktiles_done})
      controller.layer_status(*p);
    controller.on_layer_start = [this](size_t i) {
      if (stats.size() <= i) stats.resize(i + 1);
      for (int s = 0; s < 3; ++s) bytes_before_[s] = dma.bytes[s];
    };
    controller.on_layer_done = [this](size_t i, int64_t cycles, const LayerPlan& p) {
      finish_layer(i, cycles, p);
    };
  }
  void bind_dma() {
    dma.requests(mem);
    dma.bus(bus);
    dma.wbuf(weights);
    dma.act_in(act_in);
    dma.act_out(act_out);
    dma.w_loaded(weights.filled);
    dma.a_loaded(act_in.filled);
    dma.o_filled(act_out.filled);
    dma.o_drained(act_out.drained);
    dma.passes_done(passes_done);
    dma.ktiles_done(ktiles_done);
  }
  void bind_unit(ComputeUnit& u) {
    u.bus(bus);
    u.wbuf(weights);
    u.pb(pb);
    u.act_in(act_in);
    u.psum(psum);
    u.act_out(act_out);
    u.w_loaded(weights.filled);
    u.a_loaded(act_in.filled);
    u.o_filled(act_out.filled);
    u.o_drained(act_out.drained);
    u.passes_done(passes_done);
    u.ktiles_done(ktiles_done);
  }
  void finish_layer(size_t i, int64_t cycles, const LayerPlan& p) {
    const ComputeUnit& u = p.unit == Unit::Array ? array : vector;
    LayerStats& s = stats[i];
    s.cycles.cycles = cycles;
    s.cycles.compute_cycles = u.compute_cycles;
    s.cycles.weight_wait = u.weight_wait;
    s.cycles.act_in_wait = u.act_in_wait;
    // The rest after the last pass: the drain and the last write-back.
    s.cycles.act_out_wait = cycles - controller_setup_ - u.compute_cycles - u.weight_wait - u.act_in_wait;
    s.traffic.dram_weight_bytes = dma.bytes[int(Stream::Weights)] - bytes_before_[int(Stream::Weights)];
    s.traffic.dram_act_in_bytes = dma.bytes[int(Stream::ActIn)] - bytes_before_[int(Stream::ActIn)];
    s.traffic.dram_act_out_bytes = dma.bytes[int(Stream::ActOut)] - bytes_before_[int(Stream::ActOut)];
    s.traffic.pb_hit_bytes = u.pb_read_bytes;
    s.traffic.act_in_read_bytes = u.act_in_read_bytes;
    s.traffic.psum_bytes_rw = p.nc > 1 ? int64_t(p.nc - 1) * p.out_channels * p.pixels * 4 : 0;
  }
  int64_t bytes_before_[3] = {0, 0, 0};
  int64_t controller_setup_ = 0;
};

// The testbench top: host, DRAM and accelerator, joined by fifos and the memory back door.
class Top : public sc_core::sc_module {
 public:
  Host host{"host"};
  Dram dram;
  Accelerator accel;
  sc_core::sc_fifo<LayerRegs> csr{"csr", 256};
  sc_core::sc_fifo<JobCommand> start{"start", 1};
  sc_core::sc_fifo<int64_t> done{"done", 1};
  sc_core::sc_fifo<DramRequest> dram_requests{"dram_requests", 4096};

  Top(sc_module_name name, const AccelConfig& a)
      : sc_core::sc_module(name), dram("dram", a), accel("accel", a) {
    host.csr(csr);
    host.start(start);
    host.done(done);
    host.memory(dram);
    host.pb(accel.pb_load);
    accel.csr(csr);
    accel.start(start);
    accel.done(done);
    accel.mem(dram_requests);
    accel.params_mem(dram);
    dram.requests(dram_requests);
  }
};

}  // namespace
}  // namespace cycle

SystemcKernelScope::SystemcKernelScope(sc_core::sc_simcontext* kernel)
    : prev_(sc_core::sc_curr_simcontext), prev_default_(sc_core::sc_default_global_context) {
  sc_core::sc_curr_simcontext = kernel;
  sc_core::sc_default_global_context = kernel;
}

SystemcKernelScope::~SystemcKernelScope() {
  sc_core::sc_curr_simcontext = prev_;
  sc_core::sc_default_global_context = prev_default_;
}

namespace {

std::mutex& kernel_lock() {
  return systemc_kernel_lock();
}

class CycleModel;
// The model whose host task is running (co-simulation), and the thread that runs it (SystemC's coroutines
// run on the thread that called sc_start). Other threads wait for the kernel lock instead.
std::atomic<CycleModel*> host_model{nullptr};
std::atomic<std::thread::id> host_thread{};
CycleModel* current_host_task() {
  return std::this_thread::get_id() == host_thread.load() ? host_model.load() : nullptr;
}

class CycleModel : public AccelModel {
 public:
  explicit CycleModel(const AccelConfig& accel) : accel_(accel), kernel_(new sc_core::sc_simcontext) {
    const std::lock_guard<std::mutex> hold(kernel_lock());
    const SystemcKernelScope scope(kernel_.get());
    top_ = std::make_unique<cycle::Top>("sushi", accel_);
  }
  ~CycleModel() override {
    const std::lock_guard<std::mutex> hold(kernel_lock());
    const SystemcKernelScope scope(kernel_.get());
    close_trace();
    top_.reset();
    kernel_.reset();
  }
  bool functional() const override { return true; }
  void trace_to(const std::string& path) override;
  RunResult run(AccelJob& job) override;
  void run_in_kernel(const std::function<void()>& task) override;

 private:
  void start_host(const std::function<void()>& task);
  void close_trace() {
    if (trace_) sc_core::sc_close_vcd_trace_file(trace_);
    trace_ = nullptr;
  }
  std::vector<LayerPlan> plan_all(const AccelJob& job, std::vector<Layer>& layers) const;
  RunResult run_job(AccelJob& job, const std::vector<LayerPlan>& plans, const std::vector<Layer>& layers,
                    bool start);

  AccelConfig accel_;
  std::unique_ptr<sc_core::sc_simcontext> kernel_;
  std::unique_ptr<cycle::Top> top_;
  sc_core::sc_trace_file* trace_ = nullptr;
  bool started_ = false;
};

void CycleModel::trace_to(const std::string& path) {
  if (started_) throw InputError("--trace: a cycle model's VCD must be opened before its first run");
  const std::lock_guard<std::mutex> hold(kernel_lock());
  const SystemcKernelScope scope(kernel_.get());
  std::string base = path;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0) base.resize(base.size() - 4);
  // SystemC prints its info messages (e.g. the trace's timescale) on stdout, which carries --json output.
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  trace_ = sc_core::sc_create_vcd_trace_file(base.c_str());
  trace_->set_time_unit(1, sc_core::SC_NS);
  cycle::Accelerator& a = top_->accel;
  sc_core::sc_trace(trace_, a.controller.layer, "layer");
  sc_core::sc_trace(trace_, a.array.ktile, "ktile");
  sc_core::sc_trace(trace_, a.array.busy, "array_busy");
  sc_core::sc_trace(trace_, a.vector.busy, "vector_busy");
  sc_core::sc_trace(trace_, top_->dram.busy, "dram_busy");
}

// Runs `task` as the host process until it returns (lock held, kernel current).
void CycleModel::start_host(const std::function<void()>& task) {
  cycle::Host& h = top_->host;
  h.task = &task;
  h.error = nullptr;
  const int64_t finished_before = h.tasks_finished;
  h.tasks_started.advance();
  started_ = true;
  sc_core::sc_start();
  h.task = nullptr;
  if (h.error) std::rethrow_exception(h.error);
  if (h.tasks_finished != finished_before + 1)  // every process waits: a schedule bug
    throw std::logic_error("SushiAccel cycle model stalled: the host task never finished (deadlock)");
}

std::vector<LayerPlan> CycleModel::plan_all(const AccelJob& job, std::vector<Layer>& layers) const {
  layers.clear();
  layers.reserve(job.regs.size());  // plans point into `layers`
  std::vector<LayerPlan> plans;
  plans.reserve(job.regs.size());
  for (size_t i = 0; i < job.regs.size(); ++i) {
    layers.push_back(decode_layer(job.regs[i], job.meta[i]));
    plans.push_back(plan_layer(accel_, layers.back(), decode_cached(job.regs[i])));
  }
  return plans;
}

RunResult CycleModel::run(AccelJob& job) {
  std::vector<Layer> layers;
  const std::vector<LayerPlan> plans = plan_all(job, layers);  // InputErrors before the kernel runs
  if (job.regs.empty()) return sum_layers(accel_, {});
  CycleModel* const task_model = current_host_task();
  if (task_model == this) return run_job(job, plans, layers, false);  // inside our own co-simulation task
  if (task_model)  // would switch kernels in the middle of a simulation
    throw std::logic_error("a co-simulation task can only run jobs on its own cycle model");
  const std::lock_guard<std::mutex> hold(kernel_lock());  // the whole run: the model's state is shared
  const SystemcKernelScope scope(kernel_.get());
  return run_job(job, plans, layers, true);
}

// Runs the job on the host (started as its task when `start`, else from inside a running task) and reads
// the accelerator's per-layer statistics.
RunResult CycleModel::run_job(AccelJob& job, const std::vector<LayerPlan>& plans,
                              const std::vector<Layer>& layers, bool start) {
  if (job.functional()) top_->accel.allocate();
  top_->accel.stats.clear();
  if (EventLog* log = active_event_log()) log->begin(cycle::now_cycles());
  if (start) {
    start_host([&] { top_->host.run_job(job); });
    close_trace();
  } else {
    top_->host.run_job(job);  // the job runs in simulated time, beside the task
  }
  std::vector<LayerResult> results(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    const cycle::LayerStats& s = top_->accel.stats.at(i);
    LayerResult& r = results[i];
    r.name = layers[i].name;
    r.kind = to_string(layers[i].kind);
    r.cycles = s.cycles.cycles;
    r.compute_cycles = s.cycles.compute_cycles;
    set_breakdown(accel_, s.cycles, r);
    finish_layer_result(accel_, plans[i], s.traffic, r);
  }
  return sum_layers(accel_, std::move(results));
}

void CycleModel::run_in_kernel(const std::function<void()>& task) {
  if (current_host_task()) throw std::logic_error("run_in_kernel: co-simulation tasks do not nest");
  const std::lock_guard<std::mutex> hold(kernel_lock());
  const SystemcKernelScope scope(kernel_.get());
  struct Active {
    explicit Active(CycleModel* m) {
      host_thread = std::this_thread::get_id();
      host_model = m;
    }
    ~Active() {
      host_model = nullptr;
      host_thread = std::thread::id{};
    }
  } active(this);
  start_host(task);
}

SUSHI_REGISTER(AccelModel, "cycle",
               "SystemC model: host, DRAM module and accelerator joined by fifos; computes outputs from the "
               "data it moves (functional jobs)",
               make_cycle_model);

}  // namespace

std::mutex& systemc_kernel_lock() {
  static std::mutex m;  // SystemC's current context is process-global: one running kernel at a time
  return m;
}

std::unique_ptr<AccelModel> make_cycle_model(const AccelConfig& accel) {
  return std::make_unique<CycleModel>(accel);
}

void kernel_wait_cycles(int64_t cycles) {
  if (!current_host_task()) throw std::logic_error("kernel_wait_cycles: only inside run_in_kernel");
  cycle::wait_cycles(cycles);
}

int64_t kernel_now_cycles() {
  return cycle::now_cycles();
}

}  // namespace sushi::sim
