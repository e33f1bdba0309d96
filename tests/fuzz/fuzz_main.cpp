// The libFuzzer binary (built with -DSUSHI_FUZZ=ON; run by tools/fuzz.sh, `make fuzz`). One binary holds
// every target of tests/fuzz/targets.cpp; SUSHI_FUZZ_TARGET=NAME picks the one to run. YAML targets get the
// structure-aware mutator (tests/fuzz/yaml_mutator.h) for half of the mutations and libFuzzer's byte
// mutation for the other half.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/fuzz/targets.h"
#include "tests/fuzz/yaml_mutator.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {
const sushi::fuzz::Target* target = nullptr;
}

// libsystemc.so wants an sc_main; the fuzz binary never elaborates SystemC.
extern "C" int sc_main(int, char*[]) {
  return 1;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  const char* name = std::getenv("SUSHI_FUZZ_TARGET");
  if (name && std::string(name) == "list") {  // tools/fuzz.sh asks for the names
    for (const auto& t : sushi::fuzz::targets()) std::printf("%s\n", t.name);
    std::exit(0);
  }
  target = name ? sushi::fuzz::find_target(name) : nullptr;
  if (!target) {
    std::fprintf(stderr, "set SUSHI_FUZZ_TARGET to one of:");
    for (const auto& t : sushi::fuzz::targets()) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sushi::fuzz::run_one(*target, std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  if (target->yaml && (seed & 1)) {
    const auto m = sushi::fuzz::mutate_yaml(std::string(reinterpret_cast<const char*>(data), size), seed);
    if (m && m->size() <= max_size) {
      std::copy(m->begin(), m->end(), data);  // libFuzzer's buffer is bytes with a size, no terminator
      return m->size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
