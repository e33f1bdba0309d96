#pragma once
// Integer helpers of the int8 reference shared by int8.cpp and the op-table entries (models/ref/ops/).
#include <algorithm>
#include <cstdint>
#include <limits>

namespace sushi::detail {

__extension__ typedef __int128 int128;  // exact product of a 64-bit accumulator and a 31-bit multiplier

inline int8_t saturate8(int64_t v) {
  return int8_t(std::min<int64_t>(127, std::max<int64_t>(-128, v)));
}

// Rounded (ties away from zero) value / 2^shift, shift >= 1.
inline int128 shift_round(int128 value, int shift) {
  const bool negative = value < 0;
  const int128 magnitude = negative ? -value : value;
  const int128 rounded = shift >= 127 ? 0 : (magnitude + (int128(1) << (shift - 1))) >> shift;
  return negative ? -rounded : rounded;
}

inline int32_t saturate32(int128 v) {
  return int32_t(std::min<int128>(std::numeric_limits<int32_t>::max(),
                                  std::max<int128>(std::numeric_limits<int32_t>::min(), v)));
}

}  // namespace sushi::detail
