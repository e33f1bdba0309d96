// `sushi trace generate|stats`: write a seeded query trace as CSV, or summarise one.
#include <cstdio>
#include <iostream>

#include "base/errors.h"
#include "base/json.h"
#include "base/provenance.h"
#include "base/registry.h"
#include "tools/cli.h"
#include "traces/trace.h"

namespace sushi::cli {
namespace {

struct GenerateFlags {
  std::string spec_file, out_file, kind, slo, acc, file, function;
};

void add_generate_options(po::options_description& o, GenerateFlags& f) {
  const std::string kinds =
      "arrival process, a registered trace kind: " + Registry<TraceGenerator>::joined_names();
  o.add_options()("spec", po::value(&f.spec_file),
                  "trace spec YAML (keys as in an experiment's `trace:`); flags override it")(
      "kind", po::value(&f.kind), kinds.c_str())(
      "rate", po::value<double>(), "mean (or start) rate, queries/s")("cv2", po::value<double>(),
                                                                      "gamma: inter-arrival CV^2")(
      "rate-end", po::value<double>(), "ramp: final rate, queries/s")("accel", po::value<double>(),
                                                                      "ramp: acceleration tau, queries/s^2")(
      "file", po::value(&f.file), "azure_csv: an Azure Functions 2019 invocation-count CSV")(
      "function", po::value(&f.function), "azure_csv: the HashFunction to replay (default: all rows summed)")(
      "count", po::value<int64_t>(), "number of queries")("seed", po::value<uint64_t>(), "random seed")(
      "latency-fraction", po::value<double>(), "share of queries with only an SLO")(
      "accuracy-fraction", po::value<double>(), "share with only an accuracy target")(
      "both-fraction", po::value<double>(), "share with both")(
      "slo-ms", po::value(&f.slo), "SLO range LO:HI in ms")("acc-target", po::value(&f.acc),
                                                            "accuracy target range LO:HI in %")(
      "out", po::value(&f.out_file)->required(), "output CSV (written atomically)");
}

std::vector<double> range_flag(const std::string& flag, const std::string& text) {
  const size_t colon = text.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument(text);
    return std::vector<double>{std::stod(text.substr(0, colon)), std::stod(text.substr(colon + 1))};
  } catch (const std::exception&) {
    throw InputError("--" + flag + " '" + text + "': expected LO:HI");
  }
}

// The flags given, as the YAML keys of a trace spec.
YAML::Node flags_as_yaml(const po::variables_map& vm, const GenerateFlags& f) {
  YAML::Node n;
  if (vm.count("kind")) n["impl"] = f.kind;
  if (vm.count("rate")) n["rate_qps"] = vm["rate"].as<double>();
  if (vm.count("cv2")) n["cv2"] = vm["cv2"].as<double>();
  if (vm.count("rate-end")) n["rate_end_qps"] = vm["rate-end"].as<double>();
  if (vm.count("accel")) n["accel_qps2"] = vm["accel"].as<double>();
  if (vm.count("count")) n["count"] = vm["count"].as<int64_t>();
  if (!f.file.empty()) n["file"] = f.file;
  if (!f.function.empty()) n["function"] = f.function;
  if (vm.count("seed")) n["seed"] = vm["seed"].as<uint64_t>();
  YAML::Node c;
  if (vm.count("latency-fraction")) c["latency_fraction"] = vm["latency-fraction"].as<double>();
  if (vm.count("accuracy-fraction")) c["accuracy_fraction"] = vm["accuracy-fraction"].as<double>();
  if (vm.count("both-fraction")) c["both_fraction"] = vm["both-fraction"].as<double>();
  if (!f.slo.empty()) c["slo_ms"] = range_flag("slo-ms", f.slo);
  if (!f.acc.empty()) c["acc_target"] = range_flag("acc-target", f.acc);
  if (c.size()) n["constraints"] = c;
  return n;
}

// Flags merged over the spec file's values, validated through the same YAML path, so errors read the same.
TraceSpec spec_from_flags(const GenerateFlags& f, const YAML::Node& n) {
  YAML::Node merged = f.spec_file.empty() ? YAML::Node(YAML::NodeType::Map)
                                          : YAML::Clone(YamlView::load_file(f.spec_file).node());
  if (n["impl"]) merged.remove("kind");  // --kind replaces the file's kind (older key) or impl
  for (const auto& kv : n) {
    if (kv.first.as<std::string>() == "constraints" && merged["constraints"]) {
      for (const auto& ckv : kv.second) merged["constraints"][ckv.first.as<std::string>()] = ckv.second;
    } else {
      merged[kv.first.as<std::string>()] = kv.second;
    }
  }
  return TraceSpec::from_yaml(YamlView(merged, "command line"));
}

int generate(const std::vector<std::string>& args) {
  GenerateFlags f;
  po::options_description o("trace generate options");
  add_generate_options(o, f);
  po::variables_map vm;
  if (!parse("trace generate", "--out FILE.csv [--spec FILE.yaml] [--kind K] [--rate R] ...", o, args, vm))
    return 0;
  TraceSpec t;
  if (!f.spec_file.empty()) t = TraceSpec::from_yaml(YamlView::load_file(f.spec_file));
  const YAML::Node n = flags_as_yaml(vm, f);
  if (n.size()) t = spec_from_flags(f, n);
  const auto trace = generate_trace(t);
  Provenance provenance("sushi trace generate");
  if (!f.spec_file.empty()) provenance.add_input("spec", f.spec_file, file_hash(f.spec_file));
  provenance.set("spec", describe(t));
  provenance.set_seed("trace", t.seed);
  write_trace_csv(f.out_file, trace, provenance.line());
  const TraceStats s = trace_stats(trace);
  std::fprintf(stderr,
               "wrote %zu queries to %s (%s, seed %llu): mean rate %.2f qps, inter-arrival CV^2 %.3f\n",
               trace.size(), f.out_file.c_str(), t.impl.c_str(), (unsigned long long)t.seed, s.mean_rate_qps,
               s.interarrival_cv2);
  return 0;
}

int stats(const std::vector<std::string>& args) {
  po::options_description o("trace stats options");
  std::string file;
  o.add_options()("trace", po::value(&file)->required(), "trace CSV")("json", "print one JSON object");
  po::positional_options_description pos;
  pos.add("trace", 1);
  po::variables_map vm;
  if (!parse("trace stats", "FILE.csv [--json]", o, args, vm, &pos)) return 0;
  Provenance provenance("sushi trace stats");
  provenance.add_input("trace", file, file_hash(file));
  TraceReader reader(file);  // streamed: a trace of any length in constant memory
  TraceStatsAccumulator acc_stats;
  int64_t slo = 0, acc = 0;
  double last_ms = 0;
  for (Query q; reader.next(q);) {
    acc_stats.add(q);
    slo += q.has_slo() ? 1 : 0;
    acc += q.has_acc() ? 1 : 0;
    last_ms = q.arrival_ms;
  }
  const TraceStats s = acc_stats.stats();
  const int64_t queries = reader.count();
  if (vm.count("json")) {
    JsonWriter j;
    j.begin_object().field("trace", file).key("provenance");
    provenance.write_json(j);
    j.field("queries", queries)
        .field("mean_rate_qps", s.mean_rate_qps)
        .field("interarrival_cv2", s.interarrival_cv2)
        .field("with_slo", slo)
        .field("with_accuracy_target", acc)
        .field("duration_ms", last_ms)
        .field("index_of_dispersion_1s", s.idc_1s)
        .field("index_of_dispersion_60s", s.idc_60s)
        .field("peak_rate_qps", s.peak_rate_qps)
        .field("p99_rate_qps", s.p99_rate_qps)
        .field("rate_bin_qps", s.bin_width_qps)
        .key("rate_histogram_seconds")
        .begin_array();
    for (int64_t c : s.rate_histogram) j.value(double(c));
    j.end_array().end_object();
    out() << j.str() << "\n";
  } else {
    out() << file << ": " << queries << " queries over " << last_ms / 1000 << " s, mean rate "
          << s.mean_rate_qps << " qps, inter-arrival CV^2 " << s.interarrival_cv2 << ", " << slo
          << " with an SLO, " << acc << " with an accuracy target\n"
          << "burstiness: index of dispersion of per-second counts " << s.idc_1s << " (1 = Poisson), of "
          << "per-minute counts " << s.idc_60s << "; busiest second " << s.peak_rate_qps << " queries, p99 "
          << s.p99_rate_qps << "\nper-second rate histogram (queries/s: seconds):\n";
    for (size_t b = 0; b < s.rate_histogram.size(); ++b) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "  [%6.0f, %6.0f): %lld\n", double(b) * s.bin_width_qps,
                    double(b + 1) * s.bin_width_qps, (long long)s.rate_histogram[b]);
      out() << buf;
    }
  }
  return 0;
}

int trace(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    out() << "usage: sushi trace generate --out FILE.csv [options]   write a seeded query trace\n"
             "       sushi trace stats FILE.csv [--json]             summarise a trace\n";
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "generate") return generate(rest);
  if (args[0] == "stats") return stats(rest);
  throw InputError("unknown trace action '" + args[0] + "' (expected generate or stats)");
}

const bool registered = register_command({"trace", "generate or summarise query traces", trace});

}  // namespace
}  // namespace sushi::cli
