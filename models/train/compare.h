#pragma once
// Comparing training runs from their summary.json files (`sushi train compare`): each run's headline
// figures with the spread over its random subnets, the mean over seeds of every group of runs of one
// config (the same config but for seed and output folder), and each group against the first
// (the baseline) paired by seed and by subnet, so that two algorithms or schedules are compared on the same
// subnets and seeds rather than through two independent means.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "base/stats.h"

namespace sushi::train {

struct ScoredSubnet {
  std::string label;  // max, min, random, trained, ...
  std::string key;    // the subnet's architecture in canonical text: pairs the same subnet across runs
  double fp32 = 0, int8 = -1, robust = -1;
};

struct RunScores {
  std::string file, name, algorithm, config_hash, git_commit;
  std::string config_key;  // the config without seed and output: runs that differ only in those are a group
  std::string group;       // set by compare_runs: "NAME@Eep" (then "#2", "#3" for other configs of that name)
  uint64_t seed = 0;
  int epochs = 0;
  double train_cpu_s = 0, wall_s = 0, eval_cpu_s = 0, worst_int8_drop = 0;
  std::vector<ScoredSubnet> subnets;
};

// Reads a `sushi train` summary.json; an InputError names the file and the key that is missing or wrong.
RunScores load_run_scores(const std::string& summary_path);

// A run's headline figures. top is the largest subnet ("max") or the one subnet trained alone ("trained").
struct RunFigures {
  double top = NAN, min = NAN, robust = NAN;
  MeanCi random;  // fp32 over the run's random subnets (the CI is between subnets of one trained run)
};
RunFigures run_figures(const RunScores& r);

struct GroupFigures {
  std::string name, algorithm;
  std::vector<uint64_t> seeds;
  MeanCi top, min, random, robust, train_cpu_s;  // over the group's runs (seeds)
};

// Group minus baseline on the subnets both evaluated, run against run of the same seed. With two or more
// common seeds the CI is over seeds (each seed's mean difference over its common subnets); with one it is
// over that seed's common subnets.
struct PairedDifference {
  std::string name, baseline;
  int seeds = 0, subnets = 0;  // common seeds; common subnets summed over them
  MeanCi fp32, robust;
  std::string basis;  // "seeds" or "subnets"
};

struct RunComparison {
  std::vector<RunScores> runs;
  std::vector<GroupFigures> groups;           // in order of first appearance; the first is the baseline
  std::vector<PairedDifference> differences;  // every group but the baseline against it
};
RunComparison compare_runs(std::vector<RunScores> runs);

std::string comparison_text(const RunComparison& c);
std::string comparison_json(const RunComparison& c);

}  // namespace sushi::train
