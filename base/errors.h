#pragma once
// Error types shared by every library. An InputError is the user's fault (bad YAML, trace, flag, file) and
// its message already names the file, the key or line, and what was expected; the CLI prints it and exits 2.
#include <stdexcept>
#include <string>

namespace sushi {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sushi
