#pragma once
// The standard-library-independent core of every seeded result (base/random.h: the project's RNG and
// distributions, which replace std:: distributions precisely because those differ between libstdc++ and
// libc++; csv_number, the one number format of traces and results), as one text of named hashes. The
// libstdc++ build (tests/test_determinism.cpp) and a libc++ build (tests/libcxx.sh, clang -stdlib=libc++)
// must both print tests/golden/stdlib_streams.txt.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "base/provenance.h"
#include "base/random.h"
#include "base/record.h"

namespace sushi::stdlib_check {

inline std::string stream_hash(const std::string& name, uint64_t seed, int n, double (*draw)(Rng&, int)) {
  Rng rng(seed);
  std::string text;
  for (int i = 0; i < n; ++i) text += csv_number(draw(rng, i), 17) + "\n";
  return name + " " + content_hash(text) + "\n";
}

inline std::string report() {
  std::string out;
  out += stream_hash("next", 1, 20000, [](Rng& r, int) { return double(r.next() >> 11); });
  out += stream_hash("uniform", 2, 20000, [](Rng& r, int) { return r.uniform(); });
  out += stream_hash("uniform_lo_hi", 3, 20000, [](Rng& r, int) { return r.uniform(-3.5, 1e6); });
  out += stream_hash("uniform_int", 4, 20000,
                     [](Rng& r, int i) { return double(r.uniform_int(uint64_t(i) + 1)); });
  out += stream_hash("uniform_int_range", 5, 20000,
                     [](Rng& r, int i) { return double(r.uniform_int(-int64_t(i), 3 * int64_t(i) + 7)); });
  out += stream_hash("normal", 6, 20000, [](Rng& r, int) { return r.normal(); });
  out += stream_hash("exponential", 7, 20000, [](Rng& r, int i) { return r.exponential(0.1 + i % 50); });
  out += stream_hash("gamma", 8, 20000, [](Rng& r, int i) { return r.gamma(0.05 + 0.37 * (i % 40), 2.5); });
  out +=
      stream_hash("poisson", 9, 5000, [](Rng& r, int i) { return double(r.poisson(0.5 + 3.1 * (i % 60))); });
  {
    Rng rng(10);
    std::vector<int> v(5000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = int(i);
    rng.shuffle(v);
    std::string text;
    for (int x : v) text += std::to_string(x) + ",";
    out += "shuffle " + content_hash(text) + "\n";
  }
  {
    uint64_t state = 11;
    std::string text;
    for (int i = 0; i < 1000; ++i) text += std::to_string(splitmix64(state)) + ",";
    out += "splitmix64 " + content_hash(text) + "\n";
  }
  {  // the number formats of traces and results: csv_number at 6 and 12 digits over awkward values
    Rng rng(12);
    std::string text;
    for (int i = 0; i < 20000; ++i) {
      const double v =
          (rng.uniform() - 0.5) * std::pow(10.0, double(int(rng.uniform_int(uint64_t(40))) - 20));
      text += csv_number(v) + "," + csv_number(v, 12) + "\n";
    }
    out += "csv_number " + content_hash(text) + "\n";
  }
  return out;
}

}  // namespace sushi::stdlib_check
