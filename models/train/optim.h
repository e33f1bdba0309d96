#pragma once
// Optimisation: SGD with Nesterov momentum and decoupled-from-BN weight decay, the cosine schedule with
// linear warm-up, and the automatic learning-rate controller (`lr_schedule: auto`).
//
// The automatic schedule is a reconstruction of Mukherjee, Khare and Verma, "A Simple Dynamic Learning Rate
// Tuning Algorithm For Automated Training of DNNs" (arXiv 1910.11605): a loss-driven, epoch-level
// controller with no extra forward or backward passes. What is implemented (see README "Training"):
//   1. exploration: start at lr0; after every epoch whose mean training loss is lower than the best so far,
//      remember the weights (in memory) and double the rate;
//   2. the first epoch whose loss is not lower ends exploration: restore the remembered weights and halve
//      the rate;
//   3. exploitation: keep the rate while the loss improves; after `patience` epochs without improvement
//      restore the best weights and halve the rate, and the patience grows by one.
// The paper's exact patience rule and constants could not be retrieved; these are the reconstruction's.
#include <cstdint>
#include <string>
#include <vector>

#include "models/ref/checkpoint.h"

namespace sushi::train {

struct SgdConfig {
  double momentum = 0.9;
  double weight_decay = 3e-5;
  bool nesterov = true;
};

// Trainable tensors of a supernet checkpoint: everything but batch-norm statistics and subnet_norm/ entries.
bool trainable(const std::string& name);
// Weight decay applies to conv / FC weights only (not biases, batch-norm affine or kernel transforms).
bool decayed(const std::string& name);

// One SGD step on every trainable tensor of params (grads absent for a tensor = zero gradient).
void sgd_step(Checkpoint& params, Checkpoint& momentum, const Checkpoint& grads, double lr,
              const SgdConfig& c);

// Cosine decay from base to 0 over `total` steps after `warmup` steps of linear ramp from base/warmup.
double cosine_lr(double base, int64_t step, int64_t warmup, int64_t total);

struct AutoLrState {
  int exponent = 0;  // lr = lr0 * 2^exponent
  bool exploring = true;
  double best_loss = 1e300;
  int since_best = 0;
  int patience = 2;
  bool has_snapshot = false;
};
enum class AutoLrAction { Keep, Doubled, HalvedRestored };
// Updates the state after an epoch with mean training loss `loss`. The caller snapshots the weights when
// `improved` is set and restores the snapshot on HalvedRestored.
AutoLrAction auto_lr_epoch_end(AutoLrState& s, double loss, bool& improved);
inline double auto_lr(double lr0, const AutoLrState& s) {
  double v = lr0;
  for (int i = 0; i < s.exponent; ++i) v *= 2;
  for (int i = 0; i > s.exponent; --i) v /= 2;
  return v;
}

}  // namespace sushi::train
