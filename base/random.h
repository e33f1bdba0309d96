#pragma once
// Portable random numbers (ARCHITECTURE.md contract 10): one generator and the distributions of the
// project's own, so a seed gives the same stream with any standard library. The `std::` distributions are
// implementation-defined (libstdc++, libc++ and MSVC's give different numbers from the same engine); never
// use them, nor std::shuffle, in project code.
//
// Generator: xoshiro256** 1.0 (Blackman and Vigna, 2018; period 2^256 - 1), its 256-bit state filled from
// the 64-bit seed by four outputs of SplitMix64 (Steele, Lea and Flood, 2014), as the authors recommend.
//
// Distributions, each a fixed algorithm on the generator's 64-bit outputs, independent of the C++ standard
// library. They use IEEE 754 basic arithmetic and sqrt (correctly rounded everywhere) plus std::log and
// std::exp from the C math library: those are within an ulp everywhere but not guaranteed correctly rounded,
// so a different libm (not a different C++ standard library) could move a value by an ulp.
// - uniform():            (next() >> 11) * 2^-53, a double in [0, 1) on the grid of 2^-53.
// - uniform(lo, hi):      lo + (hi - lo) * uniform().
// - uniform_int(n):       an integer in [0, n) without modulo bias, by rejection: draws x until
//                         x >= 2^64 mod n, then returns x mod n (at most 2 draws expected for any n).
// - uniform_int(lo, hi):  lo + uniform_int(hi - lo + 1), both ends included.
// - normal():             standard normal by Marsaglia's polar method: u, v uniform in (-1, 1) until
//                         0 < s = u² + v² < 1, then u * sqrt(-2 ln s / s); the second deviate is discarded,
//                         so the generator carries no cached state.
// - exponential(rate):    -ln(1 - uniform()) / rate.
// - gamma(shape, scale):  Marsaglia and Tsang (2000) for shape >= 1: d = shape - 1/3, c = 1/sqrt(9d);
//                         repeat x = normal(), v = (1 + c x)^3 until v > 0 and
//                         ln(u) < x²/2 + d - d v + d ln v; return d v scale. For shape < 1:
//                         gamma(shape + 1) * exp(ln(uniform in (0, 1]) / shape) (the same paper's boost).
// - poisson(mean):        a sum of Poisson variates of mean at most 16 each (the sum of independent
//                         Poissons is Poisson), each by Knuth's multiplication method (count uniforms until
//                         their product drops to exp(-mean) or below). Exact; cost ~ mean draws. Means
//                         above 2^24 use the normal approximation max(0, round(mean + sqrt(mean) normal())),
//                         whose relative error there is below 10^-4.
// - shuffle(v):           Fisher-Yates from the back: for i = n-1 .. 1 swap v[i] with v[uniform_int(i + 1)].
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace sushi {

class Rng {
 public:
  using result_type = uint64_t;  // a UniformRandomBitGenerator, for code that needs raw bits

  explicit Rng(uint64_t seed = 0);
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t(0); }

  uint64_t next();  // xoshiro256**
  uint64_t operator()() { return next(); }

  double uniform();
  double uniform(double lo, double hi);
  uint64_t uniform_int(uint64_t n);  // n >= 1
  int64_t uniform_int(int64_t lo, int64_t hi);
  double normal();
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  double exponential(double rate);
  double gamma(double shape, double scale);
  int64_t poisson(double mean);

  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[std::size_t(uniform_int(uint64_t(i)))]);
  }

 private:
  uint64_t s_[4];
};

// One SplitMix64 step: advances `state` and returns the next output (also usable to derive sub-seeds).
uint64_t splitmix64(uint64_t& state);

}  // namespace sushi
