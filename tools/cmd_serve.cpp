// `sushi serve EXPERIMENT.yaml`: run a serving experiment and print the policy comparison.
#include <iostream>

#include "sched/experiment.h"
#include "tools/cli.h"

namespace sushi::cli {
namespace {

int serve_cmd(const std::vector<std::string>& args) {
  po::options_description o("serve options");
  std::string experiment;
  ExperimentOverrides ov;
  std::vector<std::string> sets;
  o.add_options()("experiment", po::value(&experiment)->required(),
                  "experiment YAML (workloads/experiments/*.yaml)")(
      "count", po::value(&ov.count)->default_value(0), "queries per stream (0 = as in the experiment)")(
      "platform", po::value(&ov.platform), "run only the platform (accelerator or profile) with this name")(
      "out", po::value(&ov.output_dir), "output folder (default: the experiment's `output:`)")(
      "trace", po::value(&ov.trace_file),
      "replay this trace CSV (sushi trace generate) in every stream, read as a stream (bounded memory)")(
      "seeds", po::value(&ov.seeds)->default_value(0),
      "runs per stream with trace seeds seed, seed+1, ... (0 = as in the experiment's seeds:)")(
      "cosim",
      "co-simulate every query on the SystemC cycle model (default: cost it from the latency table)")(
      "fidelity", po::value(&ov.cosim_model),
      "co-simulate every query on this accelerator model (cycle, or rtl for a config with a Verilated "
      "build)")(
      "set", po::value(&sets)->composing(),
      "PATH=VALUE: override a value of the experiment by dotted path (accel.PATH: of every accelerator)")(
      "json", "print the results as one JSON object");
  po::positional_options_description pos;
  pos.add("experiment", 1);
  po::variables_map vm;
  if (!parse("serve",
             "EXPERIMENT.yaml [--count N] [--platform NAME] [--seeds N] [--trace FILE] [--out DIR] [--cosim] "
             "[--fidelity M] [--set PATH=V]... [--json]",
             o, args, vm, &pos))
    return 0;
  if (ov.seeds < 0 || ov.seeds > 1000)
    throw InputError("--seeds " + std::to_string(ov.seeds) + ": expected 0..1000");
  if (ov.count < 0)
    throw InputError("--count " + std::to_string(ov.count) + ": expected a non-negative number");
  ov.cosim = vm.count("cosim") > 0;
  ExperimentSpec spec = ExperimentSpec::load(experiment, set_overrides(sets));
  const ExperimentResult result = run_experiment(spec, ov);
  const std::string json = write_experiment_outputs(spec, result);
  if (vm.count("json")) {
    out() << json << "\n";
  } else {
    out() << format_comparison(result);
    out() << "\nwrote " << spec.output_dir
          << "/results.json and per-stream results.json, summary.csv, queries.csv, pb_events.csv, "
             "latency_cdf.svg, accuracy_vs_slo.svg, pb_hit_ratio.svg, pb_contents.svg "
             "(attainment_vs_load.csv/.svg "
             "with loads:, sushi_summary.svg)\n";
  }
  return 0;
}

const bool registered =
    register_command({"serve", "run a serving experiment and compare policies", serve_cmd});

}  // namespace
}  // namespace sushi::cli
