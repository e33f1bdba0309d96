// Golden regression of the main job: the policy comparison of a short sushi_mbv3 run on zcu104_sushi.
// Regenerate after an intended change with SUSHI_UPDATE_GOLDEN=1 (the diff then shows what moved).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/provenance.h"
#include "sched/experiment.h"

using namespace sushi;

namespace {

// summary.csv without its provenance line, which names the commit.
std::string summary_body(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind('#', 0) != 0) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("golden: sushi_mbv3 on zcu104_sushi, 400 queries per stream, 2 seeds", "[golden][sched][sim]") {
  ExperimentSpec spec = ExperimentSpec::load("workloads/experiments/sushi_mbv3.yaml");
  spec.output_dir = "build/test_tmp/golden_run";
  spec.cache_dir = "";
  ExperimentOverrides ov;
  ov.count = 400;
  ov.seeds = 2;
  ov.platform = "zcu104_sushi";
  const ExperimentResult r = run_experiment(spec, ov);
  write_experiment_outputs(spec, r);
  // Same inputs and seed: the same result, bit for bit (every query of every policy, queries.csv).
  ExperimentSpec spec2 = ExperimentSpec::load("workloads/experiments/sushi_mbv3.yaml");
  spec2.output_dir = "build/test_tmp/golden_run_again";
  spec2.cache_dir = "";
  const ExperimentResult again = run_experiment(spec2, ov);
  write_experiment_outputs(spec2, again);
  REQUIRE(again.streams.size() == r.streams.size());
  for (const char* stream : {"latency_constrained", "accuracy_constrained"}) {
    const std::string rows = read_file(spec.output_dir + "/zcu104_sushi/" + stream + "/queries.csv");
    CHECK(std::count(rows.begin(), rows.end(), '\n') == 2 + 400 * 9);  // provenance, header, 9 policies
    CHECK(rows == read_file(spec2.output_dir + "/zcu104_sushi/" + stream + "/queries.csv"));
  }
  for (const char* stream : {"latency_constrained", "accuracy_constrained"}) {
    const std::string got = summary_body(spec.output_dir + "/zcu104_sushi/" + stream + "/summary.csv");
    const std::string golden = std::string("tests/golden/sushi_mbv3_zcu104_") + stream + ".csv";
    if (std::getenv("SUSHI_UPDATE_GOLDEN")) {
      write_file_atomic(golden, got);
      WARN("rewrote " << golden);
      continue;
    }
    if (!std::filesystem::exists(golden))
      FAIL("missing golden file " << golden << " (run with SUSHI_UPDATE_GOLDEN=1)");
    INFO(golden << " differs; if the change is intended, regenerate with SUSHI_UPDATE_GOLDEN=1");
    CHECK(got == read_file(golden));
  }
}
