#pragma once
// Sample statistics for headline figures: the mean over independent runs (seeds) with a two-sided 95%
// confidence interval from Student's t distribution (half-width t_{0.975, n-1} * s / sqrt(n), s the sample
// standard deviation). NaN samples are skipped; with one sample the half-width is NaN (no interval).
#include <cmath>
#include <limits>
#include <vector>

namespace sushi {

struct MeanCi {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double half_width = std::numeric_limits<double>::quiet_NaN();  // 95% CI = mean +- half_width
  double sd = std::numeric_limits<double>::quiet_NaN();
  int n = 0;
};

// t_{0.975, df}: exact table to df = 30, then the 1/df expansion towards 1.95996 (error < 1e-3).
inline double student_t975(int df) {
  static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                             2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df <= 0) return std::numeric_limits<double>::quiet_NaN();
  if (df <= 30) return t[df];
  return 1.959964 + 2.3723 / df + 2.8227 / (double(df) * df);
}

inline MeanCi mean_ci(const std::vector<double>& samples) {
  MeanCi r;
  double sum = 0;
  for (double v : samples)
    if (std::isfinite(v)) {
      sum += v;
      ++r.n;
    }
  if (r.n == 0) return r;
  r.mean = sum / r.n;
  if (r.n < 2) return r;
  double ss = 0;
  for (double v : samples)
    if (std::isfinite(v)) ss += (v - r.mean) * (v - r.mean);
  r.sd = std::sqrt(ss / (r.n - 1));
  r.half_width = student_t975(r.n - 1) * r.sd / std::sqrt(double(r.n));
  return r;
}

}  // namespace sushi
