// The shared event trace (sim/events.h).
#include "sim/events.h"

#include <algorithm>
#include <tuple>

namespace sushi::sim {

const char* to_string(EventKind k) {
  switch (k) {
    case EventKind::LayerStart:
      return "layer_start";
    case EventKind::TileStart:
      return "tile_start";
    case EventKind::DmaRequest:
      return "dma_request";
    case EventKind::PbHit:
      return "pb_hit";
    case EventKind::DmaResponse:
      return "dma_response";
    case EventKind::Writeback:
      return "writeback";
    case EventKind::LayerDone:
      return "layer_done";
  }
  return "?";
}

bool TraceEvent::operator<(const TraceEvent& o) const {
  return std::tie(cycle, kind, layer, tile, stream, addr, bytes) <
         std::tie(o.cycle, o.kind, o.layer, o.tile, o.stream, o.addr, o.bytes);
}

std::string describe(const TraceEvent& e) {
  static const char* streams[] = {"weights", "act_in", "act_out"};
  std::string s =
      "cycle " + std::to_string(e.cycle) + " layer " + std::to_string(e.layer) + " " + to_string(e.kind);
  if (e.tile >= 0) s += " tile " + std::to_string(e.tile);
  if (e.stream >= 0 && e.stream < 3) s += std::string(" ") + streams[e.stream];
  if (e.kind == EventKind::DmaRequest || e.kind == EventKind::DmaResponse)
    s += " addr " + std::to_string(e.addr) + " bytes " + std::to_string(e.bytes);
  if (e.kind == EventKind::PbHit) s += " bytes " + std::to_string(e.bytes);
  return s;
}

EventLog*& active_event_log() {
  static EventLog* log = nullptr;
  return log;
}

int64_t first_divergence(const std::vector<TraceEvent>& a, const std::vector<TraceEvent>& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (!(a[i] == b[i])) return int64_t(i);
  return a.size() == b.size() ? -1 : int64_t(n);
}

}  // namespace sushi::sim
