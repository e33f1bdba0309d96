#include "models/train/optim.h"

#include <cmath>

namespace sushi::train {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool trainable(const std::string& name) {
  return name.rfind("subnet_norm/", 0) != 0 && !ends_with(name, ".running_mean") &&
         !ends_with(name, ".running_var");
}

bool decayed(const std::string& name) {
  return ends_with(name, ".weight") && !ends_with(name, ".bn.weight");
}

void sgd_step(Checkpoint& params, Checkpoint& momentum, const Checkpoint& grads, double lr,
              const SgdConfig& c) {
  for (const std::string& name : params.names()) {
    if (!trainable(name)) continue;
    NdArray& p = *params.find_mutable(name);
    NdArray* v = momentum.find_mutable(name);
    if (!v) v = &momentum.add(name, NdArray(p.shape, 0.0f));
    const NdArray* g = grads.find(name);
    const double wd = decayed(name) ? c.weight_decay : 0.0;
    const float m = float(c.momentum), rate = float(lr);
    for (size_t i = 0; i < p.data.size(); ++i) {
      const float d = (g ? g->data[i] : 0.0f) + float(wd) * p.data[i];
      v->data[i] = m * v->data[i] + d;
      p.data[i] -= rate * (c.nesterov ? d + m * v->data[i] : v->data[i]);
    }
  }
}

double cosine_lr(double base, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return base * double(step + 1) / double(warmup);
  const double span = double(std::max<int64_t>(1, total - warmup));
  const double t = std::min(1.0, double(step - warmup) / span);
  return 0.5 * base * (1.0 + std::cos(M_PI * t));
}

AutoLrAction auto_lr_epoch_end(AutoLrState& s, double loss, bool& improved) {
  improved = loss < s.best_loss;
  if (improved) {
    s.best_loss = loss;
    s.since_best = 0;
    s.has_snapshot = true;
    if (s.exploring) {
      ++s.exponent;
      return AutoLrAction::Doubled;
    }
    return AutoLrAction::Keep;
  }
  if (s.exploring) {
    s.exploring = false;
    --s.exponent;  // halve the rate that failed (back to the last one that improved)
    s.since_best = 0;
    return s.has_snapshot ? AutoLrAction::HalvedRestored : AutoLrAction::Keep;
  }
  if (++s.since_best >= s.patience) {
    --s.exponent;
    s.since_best = 0;
    ++s.patience;
    return AutoLrAction::HalvedRestored;
  }
  return AutoLrAction::Keep;
}

}  // namespace sushi::train
