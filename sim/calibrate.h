#pragma once
// Stand-alone layers and calibration against measured per-layer latencies (`sushi sim --layer/--layers`,
// `sushi calibrate`).
//
// A layer is given as a spec string, `KIND K=.. C=.. R=.. S=.. X=.. Y=.. stride=.. pad=..` (KIND: conv,
// depthwise (dw), pointwise (pw), fc; X/Y are the input width/height; defaults: R=S=1 for pointwise/fc,
// stride 1, pad R/2, C=K for depthwise, X=Y=1 for fc), or as a row of a layers CSV with the columns
//   kind,K,C,R,S,X,Y,stride,pad          (required; names as in the spec, case-sensitive)
//   name,network                         (optional: the layer's label, and the network it belongs to)
//   latency_ms                           (required by `sushi calibrate`: the measured time of one call)
// '#' lines and blank lines are skipped; every error names the file and line.
//
// Calibration fits chosen accelerator parameters (fit_parameters() lists them) so that the analytic model's
// per-layer latency (cycles at the clock plus the per-call overhead) matches the measured one, minimising the
// sum of squared relative errors: an exhaustive search over the discrete parameters (overlap choices, port
// counts), and for each discrete choice cyclic coordinate descent over the numeric ones (golden-section
// search within their bounds, integers rounded; the per-call overhead, which enters linearly, in closed
// form).
#include <cstdint>
#include <string>
#include <vector>

#include "models/space/supernet.h"
#include "sim/accel.h"

namespace sushi::sim {

struct ShapedLayer {
  Layer layer;
  std::string network;     // "" when the CSV has no network column
  double latency_ms = -1;  // measured; < 0 when not given
  int line = 0;            // CSV line (0 for a spec string)
};

// Parses one layer spec; `where` names the source (e.g. "--layer") in errors.
Layer parse_layer_spec(const std::string& spec, const std::string& where);
// Reads a layers CSV; `need_latency` makes latency_ms a required, positive column.
std::vector<ShapedLayer> read_layers_csv(const std::string& path, bool need_latency);

// A parameter calibration can fit: its accel_schema() path, kind and search bounds.
struct FitParameter {
  std::string path;
  enum Kind { Real, Integer, Choice } kind = Real;
  double lo = 0, hi = 0;  // numeric bounds (Choice: indices)
  std::string doc;
};
const std::vector<FitParameter>& fit_parameters();

struct CalibrationOptions {
  std::vector<std::string> fit;  // paths from fit_parameters()
  int folds = 5;
  uint64_t seed = 1;  // fold assignment
};

struct LayerFit {
  std::string name, network;
  double measured_ms = 0, predicted_ms = 0, cv_predicted_ms = 0;  // cv: by the fit that did not see it
};
struct NetworkTotal {
  std::string network;
  double measured_ms = 0, predicted_ms = 0;
};
struct ErrorStats {
  double mape = 0;      // mean |pred - meas| / meas
  double max_ape = 0;   // worst layer
  double spearman = 0;  // rank correlation of predicted and measured
};
struct CalibrationResult {
  AccelConfig calibrated;
  std::vector<std::pair<std::string, std::string>> values;  // fitted path -> value (as YAML text)
  std::vector<LayerFit> layers;
  std::vector<NetworkTotal> networks;
  ErrorStats before, after, cross_validated;
  int folds = 0;
  int64_t evaluations = 0;  // model evaluations of the whole layer set
};

// Throws InputError for degenerate inputs: unknown or repeated --fit names, fewer layers than fitted
// parameters + 2, fewer than two distinct layer shapes, measured latencies that are all equal, folds outside
// [2, layers].
CalibrationResult calibrate(const AccelConfig& base, const std::vector<ShapedLayer>& measured,
                            const CalibrationOptions& options);
// The calibrated accelerator as YAML: `header` (comment lines: provenance, the fit, residuals) and every
// parameter in block style; loads with AccelConfig::load.
std::string calibrated_yaml(const CalibrationResult& r, const std::string& header);
// Spearman rank correlation (average ranks for ties); 0 when either side is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace sushi::sim
