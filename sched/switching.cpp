#include "sched/switching.h"

#include <algorithm>

namespace sushi {

SwitchingAccumulator::SwitchingAccumulator(const LatencyTable& t, int window)
    : t_(&t),
      w_(size_t(std::max(1, window))),
      total_(t.num_subgraphs(), 0),
      cost_(t.num_subgraphs(), 0),
      prev_(t.num_subgraphs()),
      cur_(t.num_subgraphs()),
      switches_(t.num_subgraphs(), 0),
      switches_cur_(t.num_subgraphs(), 0),
      first_(t.num_subgraphs(), 0),
      first_cur_(t.num_subgraphs(), 0) {}

void SwitchingAccumulator::add(int subnet) {
  const size_t G = total_.size();
  for (size_t g = 0; g < G; ++g) total_[g] += t_->at(size_t(subnet), g).latency_ms;
  for (size_t g = 0; g < G; ++g) cost_[g] += t_->at(size_t(subnet), g).latency_ms;
  if (++n_ % w_ == 0) close_window();
}

// Oracle: cost_[g] of the window, prev_[g] = the cheapest schedule so far ending with g resident (ties keep
// the SubGraph, then the lowest index, as the backward pass of switching_value did).
void SwitchingAccumulator::close_window() {
  const size_t G = total_.size();
  size_t arg = 0;
  for (size_t g = 1; g < G && windows_ > 0; ++g)
    if (prev_[g] < prev_[arg]) arg = g;
  for (size_t g = 0; g < G; ++g) {
    const double load = g > 0 ? t_->pb_load[g].latency_ms : 0;
    if (windows_ == 0) {
      cur_[g] = load + cost_[g];  // the PB starts empty
      switches_cur_[g] = 0;
      first_cur_[g] = int(g);
      continue;
    }
    const bool stay = prev_[g] <= prev_[arg] + load;
    cur_[g] = (stay ? prev_[g] : prev_[arg] + load) + cost_[g];
    const size_t from = stay ? g : arg;
    switches_cur_[g] = switches_[from] + (from != g ? 1 : 0);
    first_cur_[g] = first_[from];
  }
  std::swap(prev_, cur_);
  std::swap(switches_, switches_cur_);
  std::swap(first_, first_cur_);
  std::fill(cost_.begin(), cost_.end(), 0.0);
  ++windows_;
}

SwitchingValue SwitchingAccumulator::result() const {
  SwitchingValue v;
  const size_t G = total_.size();
  if (n_ == 0 || G == 0) return v;
  SwitchingAccumulator last = *this;  // the last, partial window
  if (n_ % w_ != 0) last.close_window();
  v.none_ms = total_[0] / double(n_);
  double best = 1e300;
  for (size_t g = 0; g < G; ++g) {
    const double c = total_[g] + (g > 0 ? t_->pb_load[g].latency_ms : 0);
    if (c < best - 1e-12) best = c, v.best_static = int(g);
  }
  v.best_static_ms = best / double(n_);
  const size_t g = size_t(std::min_element(last.prev_.begin(), last.prev_.end()) - last.prev_.begin());
  v.oracle_ms = last.prev_[g] / double(n_);
  v.oracle_switches = last.switches_[g] + (last.first_[g] != 0 ? 1 : 0);  // and the first load
  return v;
}

SwitchingValue switching_value(const LatencyTable& t, const std::vector<int>& demand, int window) {
  SwitchingAccumulator acc(t, window);
  for (int s : demand) acc.add(s);
  return acc.result();
}

}  // namespace sushi
