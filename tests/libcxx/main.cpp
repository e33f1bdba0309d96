// Prints the standard-library check (tests/libcxx/streams.h); built with clang -stdlib=libc++ by
// tests/libcxx.sh together with the few base/ sources it needs (none of them uses yaml-cpp, which Debian
// builds against libstdc++ only).
#include <cstdio>

#include "tests/libcxx/streams.h"

int main() {
  std::fputs(sushi::stdlib_check::report().c_str(), stdout);
  return 0;
}
