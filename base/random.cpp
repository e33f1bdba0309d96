#include "base/random.h"

#include <cmath>

namespace sushi {

namespace {

uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

// Knuth's multiplication method for a mean of at most 16 (exp(-16) is far above the smallest double).
int64_t poisson_small(Rng& rng, double mean) {
  const double limit = std::exp(-mean);
  int64_t k = 0;
  double product = 1.0 - rng.uniform();  // in (0, 1]
  while (product > limit) {
    ++k;
    product *= 1.0 - rng.uniform();
  }
  return k;
}

}  // namespace

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  for (uint64_t& w : s_) w = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() {
  return double(next() >> 11) * 0x1.0p-53;
}

double Rng::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}

uint64_t Rng::uniform_int(uint64_t n) {
  if (n <= 1) return 0;
  const uint64_t threshold = (0 - n) % n;  // 2^64 mod n: the values below it would bias the remainder
  for (;;) {
    const uint64_t x = next();
    if (x >= threshold) return x % n;
  }
}

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  if (hi <= lo) return lo;
  const uint64_t span = uint64_t(hi) - uint64_t(lo) + 1;  // 0 means the whole 64-bit range
  return int64_t(uint64_t(lo) + (span == 0 ? next() : uniform_int(span)));
}

double Rng::normal() {
  for (;;) {
    const double u = 2.0 * uniform() - 1.0, v = 2.0 * uniform() - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * std::log(s) / s);
  }
}

double Rng::exponential(double rate) {
  return -std::log(1.0 - uniform()) / rate;
}

double Rng::gamma(double shape, double scale) {
  if (shape < 1.0) {
    const double boost = std::exp(std::log(1.0 - uniform()) / shape);
    return gamma(shape + 1.0, scale) * boost;
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();  // in (0, 1]
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * scale;
  }
}

int64_t Rng::poisson(double mean) {
  if (!(mean > 0)) return 0;
  if (mean > 0x1.0p24) {
    const double x = std::round(mean + std::sqrt(mean) * normal());
    return x > 0 ? int64_t(x) : 0;
  }
  int64_t k = 0;
  for (; mean > 16.0; mean -= 16.0) k += poisson_small(*this, 16.0);
  return k + poisson_small(*this, mean);
}

}  // namespace sushi
