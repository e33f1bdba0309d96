// sushi_rtlgen ACCEL.yaml OUTDIR [--inject-bug]: the build-time RTL generator (rtl/CMakeLists.txt runs it
// before Verilator); `sushi rtl generate` is the same generator for users.
#include <cstdio>
#include <cstring>
#include <exception>
#include <systemc>

#include "base/errors.h"
#include "rtl/generator.h"

extern "C" int sc_main(int argc, char* argv[]) {
  if (argc < 3 || argc > 4 || (argc == 4 && std::strcmp(argv[3], "--inject-bug") != 0)) {
    std::fprintf(stderr, "usage: sushi_rtlgen ACCEL.yaml OUTDIR [--inject-bug]\n");
    return 2;
  }
  try {
    sushi::rtl::GenOptions o;
    o.inject_bug = argc == 4;
    sushi::rtl::write_rtl(sushi::sim::AccelConfig::load(argv[1]), argv[2], o);
  } catch (const sushi::InputError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
