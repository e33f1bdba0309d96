// The schedule of sim/mapping.h evaluated event by event (exact_cycles): the DMA program of
// sim/datapath.h issued in order, one DRAM channel serving requests in order, and the compute unit's waits,
// exactly as the SystemC modules of sim/cycle_modules.h run them. Time 0 is the first DMA request.
#include <optional>
#include <stdexcept>

#include "sim/datapath.h"
#include "sim/mapping.h"

namespace sushi::sim {
namespace {

using Time = std::optional<int64_t>;

struct ExactRun {
  const AccelConfig& accel;
  const LayerPlan& p;
  std::vector<DmaStep>& program;
  std::vector<int64_t> done[3];  // completion times per stream, in program order (running maximum)
  std::vector<int64_t> pass_end, tile_end;
  size_t step = 0;
  int64_t issue_prev = 0, channel_free = 0;
  int kt = 0, ct = 0;
  bool tile_started = false;
  int64_t now = 0;  // the compute unit's time
  LayerCycles r;

  ExactRun(const AccelConfig& a, const LayerPlan& plan, std::vector<DmaStep>& prog)
      : accel(a), p(plan), program(prog) {}
  Time count(Stream s, int64_t n) const {
    if (n <= 0) return int64_t(0);
    const std::vector<int64_t>& d = done[int(s)];
    if (int64_t(d.size()) < n) return std::nullopt;
    return d[size_t(n - 1)];
  }
  static Time at(const std::vector<int64_t>& v, int64_t n, int64_t plus = 0) {
    if (n <= 0) return int64_t(0);
    if (int64_t(v.size()) < n) return std::nullopt;
    return v[size_t(n - 1)] + plus;
  }
  Time condition(const DmaStep& s) const {
    switch (s.wait) {
      case WaitOn::PassesDone:
        return at(pass_end, s.at_least);
      case WaitOn::KTilesDone:
        return at(tile_end, s.at_least);
      case WaitOn::OutFilled:
        return at(tile_end, s.at_least, p.pipeline_depth);
      case WaitOn::Nothing:
        break;
    }
    return int64_t(0);
  }
  bool issue_next() {
    if (step >= program.size()) return false;
    const Time c = condition(program[step]);
    if (!c) return false;
    const Transfer& t = program[step].t;
    const int64_t issue = std::max(issue_prev, *c);
    issue_prev = issue;
    int64_t end = issue;
    if (t.bytes > 0) {
      end = std::max(issue + accel.dram_latency_cycles(), channel_free) +
            accel.dram_data_cycles(t.bytes, t.stream);
      channel_free = end;
    }
    std::vector<int64_t>& d = done[int(t.stream)];
    d.push_back(d.empty() ? end : std::max(d.back(), end));
    ++step;
    return true;
  }
  // Waits until `t` (known), charging the wait to `bucket`.
  void wait(int64_t t, int64_t& bucket) {
    if (t > now) bucket += t - now;
    now = std::max(now, t);
  }
  bool start_tile() {
    const Time w = count(Stream::Weights, kt + 1);
    const bool serial_o = accel.out_store == Overlap::Serial && kt >= 1;
    const Time o = serial_o ? count(Stream::ActOut, kt) : Time(int64_t(0));
    if (!w || !o) return false;
    wait(*w, r.weight_wait);
    wait(*o, r.act_out_wait);
    now += p.tile_overhead;
    r.compute_cycles += p.tile_overhead;
    tile_started = true;
    return true;
  }
  bool run_pass() {
    if (kt >= p.nk) return false;
    if (!tile_started && !start_tile()) return false;
    const int64_t pass = int64_t(kt) * p.nc + ct;
    const int64_t need_a = (p.per_ktile_chunks || !p.act_resident) ? pass + 1 : (kt == 0 ? ct + 1 : p.nc);
    const Time a = count(Stream::ActIn, need_a);
    const Time o = (ct == p.nc - 1 && kt >= 2) ? count(Stream::ActOut, kt - 1) : Time(int64_t(0));
    if (!a || !o) return false;
    wait(*a, r.act_in_wait);
    wait(*o, r.act_out_wait);
    now += p.pass_cycles;
    r.compute_cycles += p.pass_cycles;
    pass_end.push_back(now);
    if (++ct == p.nc) {
      tile_end.push_back(now);
      ct = 0;
      ++kt;
      tile_started = false;
    }
    return true;
  }
};

}  // namespace

LayerCycles exact_cycles(const AccelConfig& accel, const LayerPlan& p) {
  thread_local std::vector<DmaStep> program;
  static const LayerRegs no_regs{};  // timing only: addresses are not used
  dma_program(accel, no_regs, p, program);
  ExactRun e{accel, p, program};
  for (;;) {
    bool moved = false;
    while (e.issue_next()) moved = true;
    while (e.run_pass()) moved = true;
    if (e.step == program.size() && e.kt >= p.nk) break;
    if (!moved) throw std::logic_error("exact schedule of layer " + p.layer->name + " deadlocks");
  }
  const int64_t end = e.done[int(Stream::ActOut)].back();
  e.r.act_out_wait += end - e.now;  // drain and the last write-back
  e.r.cycles = accel.layer_setup_cycles + end;
  return e.r;
}

void set_breakdown(const AccelConfig& accel, const LayerCycles& c, LayerResult& r) {
  r.setup_cycles = accel.layer_setup_cycles;
  r.weight_wait_cycles = c.weight_wait;
  r.act_in_wait_cycles = c.act_in_wait;
  r.act_out_wait_cycles = c.act_out_wait;
  r.stall_other_cycles =
      r.cycles - r.setup_cycles - r.compute_cycles - c.weight_wait - c.act_in_wait - c.act_out_wait;
}

}  // namespace sushi::sim
