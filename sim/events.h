#pragma once
// The event trace that the cycle model and the Verilated RTL both emit (lock-step debugging, `sushi rtl
// diff`): layer start, K-tile start, DMA request (address, bytes; 0 bytes for a step the Persistent Buffer
// covers entirely), Persistent Buffer hit (K-tile, bytes), DMA response (from the shared DRAM module), a
// K-tile's outputs in the output buffer (write-back), layer done. Cycles count from the job's start.
#include <cstdint>
#include <string>
#include <vector>

namespace sushi::sim {

enum class EventKind { LayerStart, TileStart, DmaRequest, PbHit, DmaResponse, Writeback, LayerDone };
const char* to_string(EventKind k);

struct TraceEvent {
  int64_t cycle = 0;
  EventKind kind = EventKind::LayerStart;
  int layer = 0;
  int64_t tile = -1;  // K-tile, where the event names one
  int stream = -1;    // Stream (sim/datapath.h) of DMA events
  uint64_t addr = 0;
  int64_t bytes = 0;
  bool operator==(const TraceEvent& o) const {
    return cycle == o.cycle && kind == o.kind && layer == o.layer && tile == o.tile && stream == o.stream &&
           addr == o.addr && bytes == o.bytes;
  }
  bool operator<(const TraceEvent& o) const;  // by cycle, then kind, then the fields
};
std::string describe(const TraceEvent& e);

// What a model records into while a log is active (one model runs at a time: SystemC kernels serialize).
class EventLog {
 public:
  void begin(int64_t start_cycle) {
    base_ = start_cycle;
    layer_ = 0;
    events.clear();
  }
  void add(int64_t now_cycle, EventKind kind, int64_t tile = -1, int stream = -1, uint64_t addr = 0,
           int64_t bytes = 0) {
    if (kind == EventKind::LayerStart) ++layer_;
    events.push_back({now_cycle - base_, kind, layer_ - 1, tile, stream, addr, bytes});
  }
  std::vector<TraceEvent> events;

 private:
  int64_t base_ = 0;
  int layer_ = 0;
};
// The log models record into, or null (the default: no recording).
EventLog*& active_event_log();

// The first position where two traces (each sorted) differ; -1 when they are identical.
int64_t first_divergence(const std::vector<TraceEvent>& a, const std::vector<TraceEvent>& b);

}  // namespace sushi::sim
