// base/random.h: the project's own generator and distributions give fixed streams (contract 10), and
// their moments are right.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "base/random.h"

using namespace sushi;

namespace {

// Values of transcendental-based distributions are compared to 1e-12 relative: the algorithm is fixed,
// std::log / std::exp may differ by an ulp between C math libraries.
void check_close(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-12));
}

template <typename F>
std::vector<double> draws(uint64_t seed, int n, F f) {
  Rng rng(seed);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(double(f(rng)));
  return out;
}

struct Moments {
  double mean = 0, var = 0;
};
template <typename F>
Moments moments(uint64_t seed, int n, F f) {
  Rng rng(seed);
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    const double x = double(f(rng));
    sum += x;
    sq += x * x;
  }
  const double mean = sum / n;
  return {mean, sq / n - mean * mean};
}

}  // namespace

TEST_CASE("random: SplitMix64 and xoshiro256** give the reference streams", "[random]") {
  uint64_t state = 0;
  CHECK(splitmix64(state) == 0xe220a8397b1dcdafull);  // the published first output of SplitMix64(0)
  Rng rng(0);
  const uint64_t want[] = {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull,
                           0x6aa594f1262d2d2cull};
  for (uint64_t w : want) CHECK(rng.next() == w);
  Rng a(42), b(42), c(43);
  CHECK(a() == b());
  CHECK(a() != c());
}

TEST_CASE("random: first outputs of every distribution are fixed", "[random]") {
  CHECK(draws(42, 4, [](Rng& r) { return r.uniform(); }) ==
        std::vector<double>{0.083862971059882163, 0.37898025066266861, 0.68004341102813937,
                            0.92469294532538759});
  CHECK(draws(42, 6, [](Rng& r) { return r.uniform_int(-3, 9); }) ==
        std::vector<double>{-1, 3, 1, -3, -1, 3});
  check_close(draws(42, 4, [](Rng& r) { return r.normal(); }),
              {-0.72621913824478568, 0.22162270150359331, 0.46417731016247366, 1.4762494610184149});
  check_close(draws(42, 4, [](Rng& r) { return r.exponential(2.0); }),
              {0.043794665291708786, 0.2381961975393862, 0.56978497592693877, 1.2930907304934212});
  check_close(draws(42, 4, [](Rng& r) { return r.gamma(0.25, 2.0); }),
              {0.34662267480224124, 1.9278712866625558e-08, 0.012364738532534955, 0.00080368497337441073});
  check_close(draws(42, 4, [](Rng& r) { return r.gamma(3.0, 0.5); }),
              {0.82393357825142843, 2.2525660680125403, 2.9383886054203092, 0.87857536207767817});
  CHECK(draws(42, 4, [](Rng& r) { return r.poisson(3.5); }) == std::vector<double>{3, 0, 2, 3});
  CHECK(draws(42, 4, [](Rng& r) { return r.poisson(3000); }) == std::vector<double>{2996, 3005, 3080, 2999});
  Rng rng(42);
  std::vector<int> v{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  rng.shuffle(v);
  CHECK(v == std::vector<int>{7, 3, 8, 9, 5, 6, 4, 1, 0, 2});
}

TEST_CASE("random: moments of the distributions", "[random]") {
  const int n = 200000;
  Moments m = moments(1, n, [](Rng& r) { return r.uniform(); });
  CHECK(m.mean == Approx(0.5).margin(0.005));
  CHECK(m.var == Approx(1.0 / 12).margin(0.002));
  m = moments(2, n, [](Rng& r) { return r.uniform_int(uint64_t(7)); });
  CHECK(m.mean == Approx(3.0).margin(0.02));
  CHECK(m.var == Approx(4.0).margin(0.05));
  m = moments(3, n, [](Rng& r) { return r.normal(1.0, 2.0); });
  CHECK(m.mean == Approx(1.0).margin(0.02));
  CHECK(m.var == Approx(4.0).margin(0.05));
  m = moments(4, n, [](Rng& r) { return r.exponential(4.0); });
  CHECK(m.mean == Approx(0.25).margin(0.003));
  CHECK(m.var == Approx(0.0625).margin(0.002));
  for (double shape : {0.25, 1.0, 3.0}) {  // Gamma(k, θ): mean kθ, variance kθ²
    m = moments(5, n, [shape](Rng& r) { return r.gamma(shape, 2.0); });
    CHECK(m.mean == Approx(2.0 * shape).epsilon(0.02));
    CHECK(m.var == Approx(4.0 * shape).epsilon(0.05));
  }
  for (double mean : {0.3, 5.0, 40.0}) {
    m = moments(6, n, [mean](Rng& r) { return r.poisson(mean); });
    CHECK(m.mean == Approx(mean).epsilon(0.02));
    CHECK(m.var == Approx(mean).epsilon(0.05));
  }
  // No modulo bias: with n = 3 * 2^62 a biased `x % n` would return values below 2^62 twice as often.
  Rng rng(7);
  int low = 0;
  const uint64_t big = 3ull << 62;
  for (int i = 0; i < 30000; ++i) low += rng.uniform_int(big) < (1ull << 62);
  CHECK(double(low) / 30000 == Approx(1.0 / 3).margin(0.015));
}

TEST_CASE("random: shuffle is a permutation and uniform over positions", "[random]") {
  Rng rng(9);
  std::vector<int> first(5, 0);
  for (int t = 0; t < 50000; ++t) {
    std::vector<int> v{0, 1, 2, 3, 4};
    rng.shuffle(v);
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    REQUIRE(sorted == std::vector<int>{0, 1, 2, 3, 4});
    ++first[size_t(v[0])];
  }
  for (int c : first) CHECK(c == Approx(10000).margin(400));
}
