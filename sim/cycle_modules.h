#pragma once
// Modules of the SystemC cycle model (sim/cycle_model.h): DRAM, DMA, compute units, controller, host and
// the accelerator that groups its parts. The schedule is the one documented in sim/mapping.h; processes
// wait on events for whole transfers and whole passes (pixels x window passes cycles in one wait) instead
// of ticking a clock, and every wait is an exact cycle count. Internal to sim/cycle_*.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>

#include "sim/cycle_channels.h"
#include "sim/events.h"

namespace sushi::sim::cycle {
// Internal linkage: these headers are included by sim/cycle_model.cpp only, and the compiler then sees every
// use of the channel types (it devirtualizes the fifo calls of the DMA-DRAM path).
namespace {

// SUSHI_SIM_DEBUG=1 logs every DRAM transfer and K-tile end to stderr (to calibrate the analytic model).
inline const bool debug_log = std::getenv("SUSHI_SIM_DEBUG") != nullptr;

// The DRAM: owns the memory image and serves requests in order; a request's data phase starts at
// max(issue + latency, channel free) and holds the channel for all its bursts, at the rate of the AXI
// masters its stream uses (AccelConfig::dram_data_cycles: burst size, outstanding bursts, overheads).
class Dram : public sc_core::sc_module, public memory_if {
 public:
  sc_core::sc_fifo_in<DramRequest> requests{"requests"};
  sc_core::sc_signal<bool> busy{"busy"};

  Dram(sc_core::sc_module_name name, const AccelConfig& accel) : sc_core::sc_module(name), accel_(accel) {
    SC_THREAD(serve);
  }
  SC_HAS_PROCESS(Dram);
  using sc_core::sc_object::dump;  // sc_object's dump(ostream&) stays visible beside the image's

  void load(uint64_t addr, const uint8_t* src, int64_t n) override {
    if (image_.size() < addr + uint64_t(n)) image_.resize(addr + uint64_t(n), 0);
    if (n > 0) std::memcpy(image_.data() + addr, src, size_t(n));
  }
  void dump(uint64_t addr, uint8_t* dst, int64_t n) const override {
    if (addr + uint64_t(n) > image_.size()) throw std::logic_error("dram: read outside the memory image");
    if (n > 0) std::memcpy(dst, image_.data() + addr, size_t(n));
  }

 private:
  void move_data(const DramRequest& r) {
    int64_t at = 0;
    for (int s = 0; s < r.t->segments; ++s) {
      if (r.write)
        load(r.t->addr[s], r.data + at, r.t->len[s]);
      else
        dump(r.t->addr[s], r.local + at, r.t->len[s]);
      at += r.t->len[s];
    }
  }
  void serve() {
    for (;;) {
      const DramRequest r = requests.read();
      const int64_t start = std::max(now_cycles(), r.issue_cycle + accel_.dram_latency_cycles());
      wait_cycles(start - now_cycles());
      if (EventLog* log = active_event_log())  // the request as the DRAM starts serving it
        log->add(now_cycles(), EventKind::DmaRequest, -1, int(r.t->stream), r.t->addr[0], r.t->bytes);
      if (r.started) r.started->advance();
      busy.write(true);
      wait_cycles(accel_.dram_data_cycles(r.t->bytes, r.t->stream));
      busy.write(false);
      if (r.local || r.data) move_data(r);
      if (EventLog* log = active_event_log())
        log->add(now_cycles(), EventKind::DmaResponse, -1, int(r.t->stream), r.t->addr[0], r.t->bytes);
      if (debug_log)
        std::fprintf(stderr, "  dram %d %lldB issue %lld start %lld done %lld\n", int(r.t->stream),
                     (long long)r.t->bytes, (long long)r.issue_cycle, (long long)start,
                     (long long)now_cycles());
      r.done->advance();
    }
  }
  const AccelConfig& accel_;
  std::vector<uint8_t> image_;
};

// The DMA engine: runs the layer's in-order program (datapath.h: dma_program), waiting for each step's slot
// to be free, and hands transfers to the DRAM.
class Dma : public sc_core::sc_module {
 public:
  sc_core::sc_fifo_out<DramRequest> requests{"requests"};
  sc_core::sc_port<layer_bus_if> bus{"bus"};
  sc_core::sc_port<buffer_if> wbuf{"wbuf"}, act_in{"act_in"}, act_out{"act_out"};
  sc_core::sc_port<progress_if> w_loaded{"w_loaded"}, a_loaded{"a_loaded"}, o_filled{"o_filled"},
      o_drained{"o_drained"}, passes_done{"passes_done"}, ktiles_done{"ktiles_done"};
  int64_t bytes[3] = {0, 0, 0};  // per Stream, over the model's life

  Dma(sc_core::sc_module_name name, const AccelConfig& accel) : sc_core::sc_module(name), accel_(accel) {
    SC_THREAD(run);
  }
  SC_HAS_PROCESS(Dma);

 private:
  progress_if* done_of(Stream s) {
    return s == Stream::Weights ? w_loaded[0] : s == Stream::ActIn ? a_loaded[0] : o_drained[0];
  }
  void issue(size_t step, bool functional) {
    const Transfer& t = program_[step].t;
    if (t.bytes == 0) {
      done_of(t.stream)->advance();  // nothing to move (e.g. a weight tile the PB holds entirely)
      return;
    }
    bytes[int(t.stream)] += t.bytes;
    DramRequest r;
    r.t = &t;
    r.write = t.stream == Stream::ActOut;
    r.issue_cycle = now_cycles();
    r.done = done_of(t.stream);
    if (functional && r.write) {  // the write's data, as it leaves the output buffer
      const uint8_t* src = act_out->bytes(t.local, t.bytes);
      payloads_[step].assign(src, src + t.bytes);
      r.data = payloads_[step].data();
    } else if (functional) {
      r.local = (t.stream == Stream::Weights ? wbuf : act_in)->bytes(t.local, t.bytes);
    }
    requests.write(r);
  }
  void wait_for(const DmaStep& s) {
    switch (s.wait) {
      case WaitOn::Nothing:
        break;
      case WaitOn::PassesDone:
        passes_done->wait_until(s.at_least);
        break;
      case WaitOn::KTilesDone:
        ktiles_done->wait_until(s.at_least);
        break;
      case WaitOn::OutFilled:
        o_filled->wait_until(s.at_least);
        break;
    }
  }
  void run() {
    for (int64_t layer = 1;; ++layer) {
      bus->wait_started(layer);
      const LayerWork& w = bus->current();
      dma_program(accel_, *w.regs, *w.plan, program_);
      if (w.functional) payloads_.resize(program_.size());
      for (size_t s = 0; s < program_.size(); ++s) {
        wait_for(program_[s]);
        issue(s, w.functional);
      }
    }
  }
  const AccelConfig& accel_;
  std::vector<DmaStep> program_;
  std::vector<std::vector<uint8_t>> payloads_;  // functional mode: write data per step
};

// A compute unit: the array (conv-like layers) or the post-processing unit (pools, Add, SE scale). Both run
// the same pass sequence of mapping.h on the layers mapped to them and skip the others.
class ComputeUnit : public sc_core::sc_module {
 public:
  sc_core::sc_port<layer_bus_if> bus{"bus"};
  sc_core::sc_port<buffer_if> wbuf{"wbuf"}, pb{"pb"}, act_in{"act_in"}, psum{"psum"}, act_out{"act_out"};
  sc_core::sc_port<progress_if> w_loaded{"w_loaded"}, a_loaded{"a_loaded"}, o_filled{"o_filled"},
      o_drained{"o_drained"}, passes_done{"passes_done"}, ktiles_done{"ktiles_done"};
  sc_core::sc_signal<bool> busy{"busy"};
  sc_core::sc_signal<int> ktile{"ktile"};
  // Of the current layer (reset when a layer mapped here starts).
  int64_t compute_cycles = 0, pb_read_bytes = 0, act_in_read_bytes = 0;
  int64_t weight_wait = 0, act_in_wait = 0, act_out_wait = 0;  // cycles spent waiting, by cause

  ComputeUnit(sc_core::sc_module_name name, const AccelConfig& accel, Unit unit)
      : sc_core::sc_module(name), accel_(accel), unit_(unit) {
    SC_THREAD(run);
    SC_THREAD(writeback);
  }
  SC_HAS_PROCESS(ComputeUnit);

 private:
  void compute(const LayerWork& w, int kt, int ct) {
    const LayerPlan& p = *w.plan;
    const uint8_t* chunk = act_in->bytes(act_in_offset(accel_, p, kt, ct), p.chunk_bytes(kt, ct));
    uint8_t* out = act_out->bytes(act_out_offset(accel_, kt), p.out_bytes(kt));
    if (unit_ == Unit::Vector) {
      vector_tile(*w.regs, p, *w.params, kt, chunk, out);
      return;
    }
    if (ct == 0) {
      const uint8_t* stream = wbuf->bytes(weight_offset(accel_, kt), p.weight_dram_bytes(kt));
      datapath_.load_ktile(*w.regs, p, kt, stream, pb->bytes(0, pb->capacity()));
    }
    int32_t* sums = nullptr;
    if (p.nc > 1) sums = reinterpret_cast<int32_t*>(psum->bytes(0, p.psum_bytes_per_pass(kt)));
    datapath_.pass(*w.regs, p, *w.params, kt, ct, chunk, sums, out);
  }
  void run_pass(const LayerWork& w, int kt, int ct) {
    const LayerPlan& p = *w.plan;
    const int64_t pass = int64_t(kt) * p.nc + ct;
    timed_wait(*a_loaded[0], (p.per_ktile_chunks || !p.act_resident) ? pass + 1 : (kt == 0 ? ct + 1 : p.nc),
               act_in_wait);
    if (ct == p.nc - 1 && kt >= 2) timed_wait(*o_drained[0], kt - 1, act_out_wait);  // its half written back
    act_in_read_bytes += p.chunk_bytes(kt, ct);
    if (w.functional) compute(w, kt, ct);
    busy.write(true);
    wait_cycles(p.pass_cycles);
    busy.write(false);
    compute_cycles += p.pass_cycles;
    passes_done->advance();
  }
  void timed_wait(progress_if& c, int64_t n, int64_t& bucket) {
    const int64_t t0 = now_cycles();
    c.wait_until(n);
    bucket += now_cycles() - t0;
  }
  // A K-tile's start: its weights, the previous write-back (out_store serial), the tile overhead.
  void start_ktile(const LayerPlan& p, int kt) {
    timed_wait(*w_loaded[0], kt + 1, weight_wait);
    if (accel_.out_store == Overlap::Serial && kt >= 1) timed_wait(*o_drained[0], kt, act_out_wait);
    if (EventLog* log = active_event_log()) {
      log->add(now_cycles(), EventKind::TileStart, kt);
      if (p.weight_hit_bytes(kt) > 0)
        log->add(now_cycles(), EventKind::PbHit, kt, 0, 0, p.weight_hit_bytes(kt));
    }
    wait_cycles(p.tile_overhead);
    compute_cycles += p.tile_overhead;
  }
  void run() {
    for (int64_t layer = 1;; ++layer) {
      bus->wait_started(layer);
      const LayerWork& w = bus->current();
      if (w.plan->unit != unit_) continue;
      const LayerPlan& p = *w.plan;
      ktile_done_at_.assign(size_t(p.nk), 0);
      compute_cycles = pb_read_bytes = act_in_read_bytes = 0;
      weight_wait = act_in_wait = act_out_wait = 0;
      for (int kt = 0; kt < p.nk; ++kt) {
        start_ktile(p, kt);
        pb_read_bytes += p.weight_hit_bytes(kt);
        ktile.write(kt);
        for (int ct = 0; ct < p.nc; ++ct) run_pass(w, kt, ct);
        ktile_done_at_[size_t(kt)] = now_cycles();
        if (debug_log) std::fprintf(stderr, "  E%d = %lld\n", kt, (long long)now_cycles());
        ktiles_done->advance();
      }
    }
  }
  // A K-tile's results reach the output buffer pipeline_depth cycles after its last operands entered.
  void writeback() {
    for (int64_t layer = 1;; ++layer) {
      bus->wait_started(layer);
      const LayerPlan& p = *bus->current().plan;
      if (p.unit != unit_) continue;
      for (int kt = 0; kt < p.nk; ++kt) {
        ktiles_done->wait_until(kt + 1);
        wait_cycles(ktile_done_at_[size_t(kt)] + p.pipeline_depth - now_cycles());
        if (EventLog* log = active_event_log()) log->add(now_cycles(), EventKind::Writeback, kt);
        o_filled->advance();
      }
    }
  }

  const AccelConfig& accel_;
  Unit unit_;
  ArrayDatapath datapath_;
  std::vector<int64_t> ktile_done_at_;
};

}  // namespace
}  // namespace sushi::sim::cycle
