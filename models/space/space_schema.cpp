#include "models/space/space_schema.h"

#include <algorithm>

namespace sushi {

const ParamSchema<SpaceHeader>& space_header_schema() {
  static const ParamSchema<SpaceHeader> s =
      ParamSchema<SpaceHeader>("supernet_space", "supernet space header")
          .string("name", &SpaceHeader::name, required, "space name (reports, provenance)")
          .string("family", &SpaceHeader::family, required,
                  "supernet family (`sushi describe supernet_family`)")
          .string("description", &SpaceHeader::description, "", "one-line description")
          .string("source", &SpaceHeader::source, "", "where the space's facts come from");
  return s;
}

namespace {
std::string resolution_rule(const SpaceCommon& c) {
  const bool range = c.resolution_min != 0 || c.resolution_max != 0;
  if (c.resolution_choices.empty() && !range)
    return "expected resolution {choices: [...]} or {min, max, step}";
  if (!c.resolution_choices.empty() && (range || c.resolution_step != 4))
    return "expected either choices or min/max/step, not both";
  if (!c.resolution_choices.empty()) return "";
  if (c.resolution_min == 0 || c.resolution_max == 0) return "expected both min and max";
  if (c.resolution_max < c.resolution_min) return "expected min <= max";
  return "";
}
}  // namespace

const ParamSchema<SpaceCommon>& space_common_schema() {
  static const ParamSchema<SpaceCommon> s =
      ParamSchema<SpaceCommon>("supernet_space", "supernet space header, input and resolution")
          .include(space_header_schema())
          .integer("input_channels", &SpaceCommon::input_channels, required, kChannels, "channels",
                   "input image channels")
          .integer("classes", &SpaceCommon::classes, required, Range{2, 65536}, "", "classifier outputs")
          .int_list("resolution.choices", &SpaceCommon::resolution_choices, std::vector<int>{}, kResolution,
                    1, "px", "the image sizes allowed (instead of min/max/step)")
          .integer("resolution.min", &SpaceCommon::resolution_min, 0, kResolution, "px",
                   "smallest image size (with max and step; 0: not given)")
          .integer("resolution.max", &SpaceCommon::resolution_max, 0, kResolution, "px",
                   "largest image size, the default resolution (0: not given)")
          .integer("resolution.step", &SpaceCommon::resolution_step, 4, Range{1, 4096}, "px",
                   "image size step from min")
          .check("resolution", resolution_rule);
  return s;
}

std::vector<int> resolution_list(const SpaceCommon& c) {
  std::vector<int> out = c.resolution_choices;
  if (out.empty())
    for (int r = c.resolution_min; r <= c.resolution_max; r += c.resolution_step) out.push_back(r);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sushi
