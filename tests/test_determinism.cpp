// Determinism across standard libraries: the libstdc++ side. tests/libcxx.sh builds the same report with
// libc++ and compares it with the same golden file. Regenerate after an intended change of the RNG or the
// number format with SUSHI_UPDATE_GOLDEN=1.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/libcxx/streams.h"

TEST_CASE("determinism: RNG streams and number formats equal the golden (libstdc++ side)") {
  const std::string path = "tests/golden/stdlib_streams.txt";
  const std::string got = sushi::stdlib_check::report();
  if (std::getenv("SUSHI_UPDATE_GOLDEN")) std::ofstream(path) << got;
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream want;
  want << in.rdbuf();
  CHECK(got == want.str());
}
