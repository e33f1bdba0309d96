#pragma once
// SubGraph selection as an optimisation (issue 10): which weight slices to keep in the Persistent Buffer for
// a distribution of subnets. Each tensor is a group of options (the slices the distribution's subnets read,
// their union, their common core; or nothing); an option's value is the expected latency it saves,
// sum_s p_s * saved_s(tensor, bytes of s's slice it holds), and its weight its bytes. Choosing one option per
// tensor within the PB is a multiple-choice knapsack, solved exactly by dynamic programming over the capacity
// in `unit`-byte steps (option sizes rounded up, so the result always fits; exact when unit = 1).
//
// The saving model, from one analytic run of each subnet without SGS: caching h of a layer's W weight bytes
// removes h/W of its weight traffic, so it saves min(exposed_l, h * t_byte) where exposed_l is the layer's
// weight-load time not hidden by compute (its weight-wait cycles) and t_byte the DRAM time per byte. Memory-
// bound tail layers (the classifier, the last 1x1 convolutions) therefore rank by their own saving per byte,
// whatever their position. The table then costs every candidate with the accelerator model itself.
#include <cstdint>
#include <vector>

#include "models/space/supernet.h"

namespace sushi::sim {
struct AccelConfig;
}

namespace sushi {

struct KnapsackGroup {
  std::vector<int64_t> bytes;  // per option
  std::vector<double> value;   // per option
};
// The option chosen per group (-1 = none) maximising total value with total bytes <= capacity.
std::vector<int> solve_mck(const std::vector<KnapsackGroup>& groups, int64_t capacity, int64_t unit = 1);
// The same by enumerating every combination (tests; small instances only).
std::vector<int> brute_force_mck(const std::vector<KnapsackGroup>& groups, int64_t capacity);
double mck_value(const std::vector<KnapsackGroup>& groups, const std::vector<int>& choice);
int64_t mck_bytes(const std::vector<KnapsackGroup>& groups, const std::vector<int>& choice);

// Per subnet, per tensor: the slice it reads and the ms that caching all of it would save.
struct SavingModel {
  std::vector<SubGraph> reads;                  // per subnet
  std::vector<std::vector<double>> exposed_ms;  // [subnet][tensor]
  double ms_per_byte = 0;
  double saved_ms(size_t subnet, size_t tensor, int64_t hit_bytes) const;
};
SavingModel saving_model(const sim::AccelConfig& accel, const SupernetSpace& space,
                         const std::vector<Subnet>& subnets);

// The SubGraph maximising the expected saving over `weights` (one per subnet, summing to 1) within
// `pb_bytes`.
SubGraph optimise_subgraph(const SavingModel& m, const std::vector<double>& weights, int64_t pb_bytes,
                           int64_t unit);

}  // namespace sushi
