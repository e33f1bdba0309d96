#pragma once
// The parameters every supernet space YAML shares (ARCHITECTURE.md contract 2): the header that picks the
// family, and the input, classes and resolution keys. A family's schema include()s space_common_schema().
#include <string>
#include <vector>

#include "base/params.h"

namespace sushi {

struct SpaceHeader {
  std::string name, family, description, source;
};
// name, family, description, source; SupernetSpace::from_yaml reads it before picking the family.
const ParamSchema<SpaceHeader>& space_header_schema();

struct SpaceCommon : SpaceHeader {
  int input_channels = 0, classes = 0;
  std::vector<int> resolution_choices;
  int resolution_min = 0, resolution_max = 0, resolution_step = 0;
};
// The header plus input_channels, classes and resolution ({choices: [...]} or {min, max, step}).
const ParamSchema<SpaceCommon>& space_common_schema();
// The resolutions a space allows, sorted.
std::vector<int> resolution_list(const SpaceCommon& c);

// Shared bounds: channel counts and image sizes.
inline constexpr Range kChannels{1, 65536};
inline constexpr Range kResolution{8, 4096};
inline constexpr Range kKernel{1, 15};

}  // namespace sushi
