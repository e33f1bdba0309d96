#pragma once
// Fuzz targets: one per input format the project reads (tests/fuzz/LOADERS lists which source reads which
// format and names its target). Each target feeds the bytes to the real loader and, when they load, uses the
// result a little (layers, totals, a short trace) so a loaded-but-inconsistent value is caught too.
//
// The contract a target checks: any input either loads or throws InputError (the CLI's "FILE: ...", exit 2).
// Anything else (another exception, a crash, a sanitizer report, a hang, running out of memory) escapes the
// target and is a finding. The same functions run in three places: the libFuzzer binary (tests/fuzz/
// fuzz_main.cpp, `make fuzz`), the seed-corpus replay and the structure-aware smoke test of the default
// suite (tests/test_fuzz.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sushi::fuzz {

struct Target {
  const char* name;    // as in tests/fuzz/LOADERS and the corpus folder tests/fuzz/corpus/NAME
  const char* format;  // what the bytes are
  bool yaml;           // the structure-aware YAML mutator applies (YAML and JSON inputs)
  void (*run)(const std::string& bytes);
};

const std::vector<Target>& targets();
const Target* find_target(const std::string& name);  // nullptr when there is none
// Runs `t` on `bytes`: swallows InputError (a clean rejection), lets everything else escape.
void run_one(const Target& t, const std::string& bytes);

}  // namespace sushi::fuzz
