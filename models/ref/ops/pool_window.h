#pragma once
// The int8 window loop shared by the MaxPool and AvgPool entries: for every output position, the max or
// the sum of (x - in_zp) over the window's positions inside the input, requantized by aux[0] (max) or by
// aux[n - 1] for a window of n positions (average, count_include_pad=False).
#include <algorithm>
#include <limits>

#include "models/ref/int8.h"

namespace sushi::detail {

inline void int8_pool_window(const QOp& op, ConstQImage a, QImage y, bool is_max) {
  const Layer& l = op.layer;
  for (int c = 0; c < y.c; ++c)
    for (int oy = 0; oy < y.h; ++oy)
      for (int ox = 0; ox < y.w; ++ox) {
        const int y0 = std::max(oy * l.stride - l.pad, 0),
                  y1 = std::min(oy * l.stride - l.pad + l.kernel, a.h);
        const int x0 = std::max(ox * l.stride - l.pad, 0),
                  x1 = std::min(ox * l.stride - l.pad + l.kernel, a.w);
        int64_t sum = 0, best = std::numeric_limits<int64_t>::min();
        for (int yy = y0; yy < y1; ++yy)
          for (int xx = x0; xx < x1; ++xx) {
            const int64_t v = int32_t(a.at(c, yy, xx)) - op.in_zp;
            sum += v;
            best = std::max(best, v);
          }
        const int n = (y1 - y0) * (x1 - x0);
        y.at(c, oy, ox) =
            op.activate(is_max ? apply_requant(best, op.aux[0]) : apply_requant(sum, op.aux[size_t(n - 1)]));
      }
}

}  // namespace sushi::detail
