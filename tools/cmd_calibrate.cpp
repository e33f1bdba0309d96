// `sushi calibrate`: fits accelerator parameters to measured per-layer latencies (logic in sim/calibrate.h).
#include <cstdio>
#include <sstream>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "sim/calibrate.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void write_stats(JsonWriter& j, const std::string& key, const sim::ErrorStats& s) {
  j.key(key)
      .begin_object()
      .field("mape", s.mape)
      .field("max_ape", s.max_ape)
      .field("spearman", s.spearman)
      .end_object();
}

void write_json(const Provenance& p, const sim::CalibrationResult& r, const std::string& output) {
  JsonWriter j;
  j.begin_object().field("accel", r.calibrated.name).key("provenance");
  p.write_json(j);
  j.field("output", output)
      .field("folds", r.folds)
      .field("evaluations", r.evaluations)
      .key("fit")
      .begin_object();
  for (const auto& [path, value] : r.values) j.field(path, value);
  j.end_object();
  write_stats(j, "before", r.before);
  write_stats(j, "after", r.after);
  write_stats(j, "cross_validated", r.cross_validated);
  j.key("networks").begin_array();
  for (const sim::NetworkTotal& n : r.networks)
    j.begin_object()
        .field("network", n.network)
        .field("measured_ms", n.measured_ms)
        .field("predicted_ms", n.predicted_ms)
        .end_object();
  j.end_array().key("layers").begin_array();
  for (const sim::LayerFit& l : r.layers)
    j.begin_object()
        .field("name", l.name)
        .field("network", l.network)
        .field("measured_ms", l.measured_ms)
        .field("predicted_ms", l.predicted_ms)
        .field("cv_predicted_ms", l.cv_predicted_ms)
        .end_object();
  j.end_array().end_object();
  out() << j.str() << "\n";
}

std::string summary(const sim::CalibrationResult& r) {
  char buf[400];
  std::string s = "fit:";
  for (const auto& [path, value] : r.values) s += " " + path + "=" + value;
  auto line = [&](const std::string& what, const sim::ErrorStats& e) {
    std::snprintf(buf, sizeof buf, ": MAPE %.2f%%, worst layer %.2f%%, Spearman %.4f", 100 * e.mape,
                  100 * e.max_ape, e.spearman);
    s += "\n" + what + buf;
  };
  line("before (the given config)", r.before);
  line("after (fitted on every layer)", r.after);
  line(std::to_string(r.folds) + "-fold cross-validated", r.cross_validated);
  return s + "\n";
}

void write_table(const sim::CalibrationResult& r, const std::string& output) {
  char buf[320];
  std::snprintf(buf, sizeof buf, "%-4s %-28s %-14s %12s %12s %8s %12s %8s\n", "#", "layer", "network",
                "measured.ms", "fitted.ms", "err", "cv.ms", "cv.err");
  out() << buf;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const sim::LayerFit& l = r.layers[i];
    std::snprintf(buf, sizeof buf, "%-4zu %-28s %-14s %12.4f %12.4f %7.2f%% %12.4f %7.2f%%\n", i,
                  l.name.substr(0, 28).c_str(), l.network.substr(0, 14).c_str(), l.measured_ms,
                  l.predicted_ms, 100 * (l.predicted_ms - l.measured_ms) / l.measured_ms, l.cv_predicted_ms,
                  100 * (l.cv_predicted_ms - l.measured_ms) / l.measured_ms);
    out() << buf;
  }
  for (const sim::NetworkTotal& n : r.networks) {
    std::snprintf(buf, sizeof buf, "network %-14s measured %.4f ms, fitted %.4f ms (%+.2f%%)\n",
                  (n.network.empty() ? "(all)" : n.network).c_str(), n.measured_ms, n.predicted_ms,
                  100 * (n.predicted_ms - n.measured_ms) / n.measured_ms);
    out() << buf;
  }
  out() << summary(r);
  if (!output.empty()) out() << "calibrated accelerator written to " << output << "\n";
}

// The YAML header: provenance, the fit and its residuals, as comment lines.
std::string header(const Provenance& p, const sim::CalibrationResult& r, const std::string& accel_file,
                   const std::string& measured_file) {
  std::string h = "# Calibrated by `sushi calibrate` from " + accel_file + " against " + measured_file + "\n";
  h += "# provenance: " + p.line() + "\n";
  std::istringstream s(summary(r));
  for (std::string line; std::getline(s, line);) h += "# " + line + "\n";
  h += "# per-layer residuals (fitted - measured) / measured:\n";
  char buf[200];
  for (const sim::LayerFit& l : r.layers) {
    std::snprintf(buf, sizeof buf, "#   %s %s: %+.3f%%\n", l.name.c_str(), l.network.c_str(),
                  100 * (l.predicted_ms - l.measured_ms) / l.measured_ms);
    h += buf;
  }
  return h;
}

int calibrate_command(const std::vector<std::string>& args) {
  po::options_description o("calibrate options");
  std::string accel_file, measured_file, fit, output;
  sim::CalibrationOptions options;
  o.add_options()("accel", po::value(&accel_file)->required(), "accelerator YAML to start from")(
      "measured", po::value(&measured_file)->required(),
      "measured per-layer latencies: CSV kind,K,C,R,S,X,Y,stride,pad[,name][,network],latency_ms")(
      "fit",
      po::value(&fit)->default_value(
          "controller.call_overhead_us,array.bubble_every,dram.efficiency,behaviour.weight_load"),
      "comma-separated parameters to fit (sushi calibrate --help lists them)")(
      "folds", po::value(&options.folds)->default_value(5), "K of the K-fold cross-validation")(
      "seed", po::value(&options.seed)->default_value(1), "seed of the fold assignment")(
      "output,o", po::value(&output), "write the calibrated accelerator YAML here")("json",
                                                                                    "print one JSON object");
  std::string names = "\nfittable parameters:\n";
  for (const sim::FitParameter& p : sim::fit_parameters()) names += "  " + p.path + ": " + p.doc + "\n";
  po::variables_map vm;
  if (!parse("calibrate",
             "--accel A.yaml --measured M.csv [--fit a,b,c] [--folds K] [--json] [-o OUT.yaml]" + names, o,
             args, vm))
    return 0;
  options.fit = split_list(fit);
  if (!output.empty()) check_writable(output);
  Provenance provenance("sushi calibrate");
  const sim::AccelConfig base = sim::AccelConfig::load(accel_file);
  provenance.add_input("accel", base.file, base.hash);
  provenance.add_input("measured", measured_file, content_hash(read_file(measured_file)));
  provenance.set_seed("folds", options.seed);
  provenance.set("fit", fit);
  const std::vector<sim::ShapedLayer> measured = sim::read_layers_csv(measured_file, true);
  const sim::CalibrationResult r = sim::calibrate(base, measured, options);
  if (!output.empty())
    write_file_atomic(output, sim::calibrated_yaml(r, header(provenance, r, accel_file, measured_file)));
  if (vm.count("json"))
    write_json(provenance, r, output);
  else
    write_table(r, output);
  return 0;
}

const bool registered = register_command(
    {"calibrate", "fit accelerator parameters to measured per-layer latencies (K-fold cross-validated)",
     calibrate_command});

}  // namespace
}  // namespace sushi::cli
