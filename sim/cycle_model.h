#pragma once
// The SystemC cycle model of SushiAccel, registered as accel model `cycle` (users call sim::simulate or
// make_accel_model("cycle", accel)). Modules and their channels:
//
//   Host (testbench) --csr fifo (register image)--> Accelerator.Controller
//        --start fifo--> Controller --done fifo--> Host
//        --memory_if (back door: writes the DRAM image, reads outputs back)--> Dram
//        --buffer_if (preloads the resident SubGraph)--> Accelerator.pb
//   Accelerator: Controller, Dma, weight / PB / act_in / psum / act_out buffers (SramBuffer: they hold the
//        bytes in functional mode), ComputeArray and VectorUnit (the post-processing unit), joined by
//        progress channels (which slots hold valid data) and the layer bus (the decoded current layer).
//   Accelerator.Dma --DramRequest fifo (address ranges, length; writes carry their data, reads land in the
//        target buffer)--> Dram, which owns the memory image and models the channel's latency and bursts.
//
// Behaviour (DMA program, layouts, arithmetic) is plain C++ in sim/datapath.h; the modules call it.
// Timing-only jobs move no data (requests carry addresses and lengths only, buffers allocate nothing).
//
// Kernels: every CycleModel owns its own sc_core::sc_simcontext and elaborates its top in it; the context is
// made current (sc_curr_simcontext) only while the model elaborates, runs or is destroyed, under one
// process-wide lock. So several models, with different configs, live and run in one process, each with its
// own simulated time; SystemC's rule "elaborate before the first sc_start" holds per context. Runs of one
// process's models are serialized (SystemC's current context is a process global).
#include <memory>
#include <mutex>
#include <string>

#include "sim/model.h"

namespace sc_core {
class sc_simcontext;
}

namespace sushi::sim {

std::unique_ptr<AccelModel> make_cycle_model(const AccelConfig& accel);
// The process-wide lock every SystemC kernel here runs under (the cycle model's and the RTL harness's).
std::mutex& systemc_kernel_lock();
// Makes `kernel` SystemC's current context (sc_curr_simcontext, sc_default_global_context) for the scope's
// lifetime, restoring the previous one after; taken under systemc_kernel_lock().
class SystemcKernelScope {
 public:
  explicit SystemcKernelScope(sc_core::sc_simcontext* kernel);
  ~SystemcKernelScope();
  SystemcKernelScope(const SystemcKernelScope&) = delete;
  SystemcKernelScope& operator=(const SystemcKernelScope&) = delete;

 private:
  sc_core::sc_simcontext* prev_;
  sc_core::sc_simcontext* prev_default_;
};

}  // namespace sushi::sim
