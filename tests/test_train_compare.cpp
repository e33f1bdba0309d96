// `sushi train compare` (models/train/compare.h): grouping by config, means over seeds, paired differences.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/errors.h"
#include "base/json.h"
#include "models/train/compare.h"

using namespace sushi;
using namespace sushi::train;

namespace {

struct FakeSubnet {
  std::string label;
  int first_kernel;  // makes the architecture distinct
  double fp32, robust;
};

// A summary.json shaped like `sushi train`'s, with only what the comparison reads (and an output folder
// that differs per seed, as `--set train.output=...` makes it).
std::string write_summary(const std::string& name, int epochs, uint64_t seed,
                          const std::vector<FakeSubnet>& subnets, bool drop_cpu = false) {
  JsonWriter w;
  w.begin_object().field("name", name).field("algorithm", "deps").field("epochs", epochs);
  if (!drop_cpu) w.field("train_cpu_seconds", 100.0 * double(seed));
  w.field("wall_seconds", 50.0).field("eval_cpu_seconds", 5.0).field("worst_int8_drop", 0.1);
  w.key("subnets").begin_array();
  for (const FakeSubnet& s : subnets) {
    w.begin_object().field("label", s.label).key("subnet").begin_object().key("ks").begin_array();
    w.value(s.first_kernel).value(3).end_array().key("e").begin_array().value(4).value(2).end_array();
    w.key("d").begin_array().value(2).end_array().field("image_size", 28).end_object();
    w.field("top1_fp32", s.fp32).field("top1_int8", s.fp32 - 0.1).field("robust", s.robust).end_object();
  }
  w.end_array().key("provenance").begin_object().field("git_commit", "abc").field("config_hash", "h");
  w.key("config").begin_object().field("name", name).field("epochs", epochs).field("seed", seed);
  w.field("output", "out/" + name + "_s" + std::to_string(seed)).end_object();
  w.key("seeds").begin_object().field("train", seed).end_object().end_object().end_object();
  std::string path = (std::filesystem::temp_directory_path() /
                      ("sushi_compare_" + std::to_string(::getpid()) + "_" + name + "_e" +
                       std::to_string(epochs) + "_s" + std::to_string(seed) + ".json"))
                         .string();
  std::ofstream(path) << w.str();
  return path;
}

std::vector<FakeSubnet> scores(double offset, double robust = -1) {
  return {{"max", 7, 92 + offset, robust},
          {"min", 3, 89 + offset, -1},
          {"random", 5, 90 + offset, -1},
          {"random", 1, 91 + offset, -1}};
}

std::string error_of(const std::vector<std::string>& files) {
  try {
    std::vector<RunScores> runs;
    for (const std::string& f : files) runs.push_back(load_run_scores(f));
    compare_runs(runs);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("train compare: runs of one config pool over seeds, and a second config is paired seed by seed") {
  std::vector<RunScores> runs;
  runs.push_back(load_run_scores(write_summary("base", 4, 1, scores(0.0, 60))));
  runs.push_back(load_run_scores(write_summary("base", 4, 2, scores(1.0, 62))));
  std::vector<FakeSubnet> other1 = scores(0.5, 61), other2 = scores(2.0, 66);
  other1.push_back({"random", 6, 10.0, -1});  // evaluated by this run only: not paired
  runs.push_back(load_run_scores(write_summary("other", 4, 1, other1)));
  runs.push_back(load_run_scores(write_summary("other", 4, 2, other2)));
  const RunComparison c = compare_runs(runs);
  REQUIRE(c.groups.size() == 2);
  CHECK(c.groups[0].name == "base@4ep");
  CHECK(c.groups[0].seeds == std::vector<uint64_t>{1, 2});
  CHECK(c.groups[0].top.mean == Approx(92.5));
  CHECK(c.groups[0].top.half_width == Approx(12.706 * std::sqrt(0.5) / std::sqrt(2.0)));
  CHECK(c.groups[0].min.mean == Approx(89.5));
  CHECK(c.groups[0].random.mean == Approx(91.0));  // seed means 90.5 and 91.5
  CHECK(c.groups[0].robust.mean == Approx(61));
  CHECK(c.groups[0].train_cpu_s.mean == Approx(150));
  REQUIRE(c.differences.size() == 1);
  const PairedDifference& d = c.differences[0];
  CHECK(d.name == "other@4ep");
  CHECK(d.baseline == "base@4ep");
  CHECK(d.seeds == 2);
  CHECK(d.subnets == 8);
  CHECK(d.basis == "seeds");
  CHECK(d.fp32.mean == Approx(0.75));  // +0.5 at seed 1, +1.0 at seed 2
  CHECK(d.fp32.half_width == Approx(12.706 * std::sqrt(0.125) / std::sqrt(2.0)));
  CHECK(d.robust.mean == Approx(2.5));  // +1 and +4 on the max subnet
  const std::string text = comparison_text(c);
  CHECK(text.find("other@4ep - base@4ep: fp32 0.75 ±") != std::string::npos);
  CHECK(comparison_json(c).find("\"ci_over\":\"seeds\"") != std::string::npos);
}

TEST_CASE("train compare: with one common seed the interval is over the common subnets") {
  std::vector<RunScores> runs;
  runs.push_back(load_run_scores(write_summary("a", 4, 1, scores(0.0))));
  std::vector<FakeSubnet> b = scores(0.0);
  b[0].fp32 += 1.0;  // max +1, min +0, random +2 and +3
  b[2].fp32 += 2.0;
  b[3].fp32 += 3.0;
  runs.push_back(load_run_scores(write_summary("b", 4, 1, b)));
  runs.push_back(load_run_scores(write_summary("a", 8, 1, scores(0.0))));  // another budget: its own group
  const RunComparison c = compare_runs(runs);
  REQUIRE(c.groups.size() == 3);
  CHECK(c.groups[2].name == "a@8ep");
  const PairedDifference& d = c.differences[0];
  CHECK(d.seeds == 1);
  CHECK(d.basis == "subnets");
  CHECK(d.fp32.n == 4);
  CHECK(d.fp32.mean == Approx(1.5));
  CHECK(d.robust.n == 0);
  CHECK(c.differences[1].fp32.mean == Approx(0.0));
}

TEST_CASE("train compare: a missing key names the file, and a seed given twice is refused") {
  const std::string broken = write_summary("x", 4, 1, scores(0.0), true);
  const std::string e = error_of({broken});
  CHECK(e.find(broken) != std::string::npos);
  CHECK(e.find("train_cpu_seconds") != std::string::npos);
  const std::string one = write_summary("y", 4, 3, scores(0.0));
  const std::string twice = error_of({one, one});
  CHECK(twice.find("a second run of y@4ep at seed 3") != std::string::npos);
}
