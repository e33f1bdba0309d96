#pragma once
// Channels of the SystemC cycle model (sim/cycle_model.h): progress counts, the layer bus, on-chip buffers,
// DRAM requests and the memory back door. Internal to sim/cycle_*.
#include <cstdint>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <systemc>
#include <vector>

#include "models/ref/int8.h"
#include "sim/datapath.h"

namespace sushi::sim::cycle {
// Internal linkage: these headers are included by sim/cycle_model.cpp only, and the compiler then sees every
// use of the channel types (it devirtualizes the fifo calls of the DMA-DRAM path).
namespace {

// Simulation time runs at 1 ns per accelerator cycle (VCD timestamps read as cycles; resolution 1 ps).
inline int64_t now_cycles() {
  return int64_t(sc_core::sc_time_stamp().value() / 1000);
}
inline void wait_cycles(int64_t n) {
  if (n > 0) sc_core::wait(sc_core::sc_time(double(n), sc_core::SC_NS));
}

// A monotonic count (K-tiles loaded, passes done, ...) that one process advances and others wait on.
// Waiting for "at least n" instead of on a bare event cannot miss a notification.
class progress_if : public virtual sc_core::sc_interface {
 public:
  virtual void advance() = 0;
  virtual void wait_until(int64_t n) = 0;
  virtual int64_t value() const = 0;
  virtual void reset() = 0;
};

class Progress : public sc_core::sc_prim_channel, public progress_if {
 public:
  explicit Progress(const char* name) : sc_core::sc_prim_channel(name) {}
  void reset() override { value_ = 0; }
  void advance() override {
    ++value_;
    changed_.notify(sc_core::SC_ZERO_TIME);  // waiters see the new value at the same simulated time
  }
  void wait_until(int64_t n) override {
    while (value_ < n) sc_core::wait(changed_);
  }
  int64_t value() const override { return value_; }

 private:
  int64_t value_ = 0;
  sc_core::sc_event changed_;
};

// The layer the controller has decoded and started: what the DMA and the compute units read.
struct LayerWork {
  const LayerRegs* regs = nullptr;
  const LayerPlan* plan = nullptr;
  const QOp* params = nullptr;  // functional mode: the decoded parameter block
  bool functional = false;
};

class layer_bus_if : public virtual sc_core::sc_interface {
 public:
  virtual void start(const LayerWork& w) = 0;
  virtual void wait_started(int64_t n) = 0;  // until the n-th layer (counted over the model's life) started
  virtual const LayerWork& current() const = 0;
};

class LayerBus : public sc_core::sc_prim_channel, public layer_bus_if {
 public:
  explicit LayerBus(const char* name) : sc_core::sc_prim_channel(name) {}
  void start(const LayerWork& w) override {
    work_ = w;
    started_.advance();
  }
  void wait_started(int64_t n) override { started_.wait_until(n); }
  const LayerWork& current() const override { return work_; }

 private:
  LayerWork work_;
  Progress started_{"started"};
};

// An on-chip buffer: `capacity` bytes, allocated only for functional jobs; `filled` / `drained` count the
// slots that hold valid data (loaded by DMA or written by a compute unit) and those written back.
class buffer_if : public virtual sc_core::sc_interface {
 public:
  virtual uint8_t* bytes(int64_t offset, int64_t n) = 0;  // nullptr in timing-only mode
  virtual int64_t capacity() const = 0;
};

class SramBuffer : public sc_core::sc_module, public buffer_if {
 public:
  Progress filled{"filled"};
  Progress drained{"drained"};
  SramBuffer(sc_core::sc_module_name name, int64_t capacity)
      : sc_core::sc_module(name), capacity_(capacity) {}
  void allocate() {
    if (int64_t(storage_.size()) != capacity_) storage_.assign(size_t(capacity_), 0);
  }
  uint8_t* bytes(int64_t offset, int64_t n) override {
    if (storage_.empty()) return nullptr;
    if (offset < 0 || n < 0 || offset + n > capacity_)
      throw std::logic_error(std::string(name()) + ": access [" + std::to_string(offset) + ", " +
                             std::to_string(offset + n) + ") outside its " + std::to_string(capacity_) +
                             " bytes");
    return storage_.data() + offset;
  }
  int64_t capacity() const override { return capacity_; }

 private:
  int64_t capacity_;
  std::vector<uint8_t> storage_;
};

// One DRAM request: one or two address ranges moved as one transfer (bursts counted on the total). Reads
// deliver their bytes to `local` (the target buffer's storage); writes carry theirs in `data` (a copy the
// DMA took when it issued the write). Both are null in timing-only mode. `t` points into the DMA's program
// of the current layer, which outlives every request of the layer.
struct DramRequest {
  const Transfer* t = nullptr;
  int64_t issue_cycle = 0;
  uint8_t* local = nullptr;
  const uint8_t* data = nullptr;
  progress_if* done = nullptr;     // the completion channel the requester waits on
  progress_if* started = nullptr;  // optional: advanced when the data phase starts (the RTL's beats)
  bool write = false;
};
inline std::ostream& operator<<(std::ostream& os, const DramRequest& r) {
  return os << (r.write ? "W " : "R ") << r.t->bytes << "B @" << r.t->addr[0];
}

// The host's and the controller's untimed access to the memory image (the testbench back door, and
// parameter blocks, which the controller reads during its layer setup cycles).
class memory_if : public virtual sc_core::sc_interface {
 public:
  virtual void load(uint64_t addr, const uint8_t* src, int64_t n) = 0;
  virtual void dump(uint64_t addr, uint8_t* dst, int64_t n) const = 0;
};

struct JobCommand {
  int64_t layers = 0;
  bool functional = false;
};
inline std::ostream& operator<<(std::ostream& os, const JobCommand& c) {
  return os << c.layers << " layers";
}

}  // namespace
}  // namespace sushi::sim::cycle

namespace sushi::sim {
inline std::ostream& operator<<(std::ostream& os, const LayerRegs& r) {
  return os << "layer opcode " << r.opcode;
}
}  // namespace sushi::sim
