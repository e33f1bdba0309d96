#include "explore/area.h"

namespace sushi::explore {

double area_estimate_mm2(const sim::AccelConfig& a) {
  const double macs = double(a.peak_macs_per_cycle()) + double(a.vector_lanes);
  const double bytes = double(a.weight_buffer_bytes) + double(a.act_in_bytes) + double(a.psum_bytes) +
                       double(a.act_out_bytes) + double(a.pb_bytes);
  return (macs * kGatesPerMac * kUm2PerGate + bytes * 8 * kUm2PerSramBit) * 1e-6;
}

}  // namespace sushi::explore
