// The front door: YAML duplicate keys, accuracy-target ranges, duplicate trace ids, output manifests, paths.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "base/errors.h"
#include "base/manifest.h"
#include "base/paths.h"
#include "base/provenance.h"
#include "base/yaml.h"
#include "sched/experiment.h"
#include "traces/trace.h"

using namespace sushi;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A fresh folder under build/test_tmp (tests run from the source root).
fs::path scratch(const std::string& name) {
  fs::path dir = fs::absolute("build/test_tmp/frontdoor") / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void put(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
}

}  // namespace

TEST_CASE("a duplicate YAML key is rejected with file and line", "[frontdoor][yaml]") {
  CHECK(error_of([] { YamlView::parse("a: 1\nb: 2\na: 3\n", "x.yaml"); }) == "x.yaml:3: duplicate key 'a'");
  // Nested in a mapping inside a list, as in an experiment's policies.
  CHECK(error_of([] {
          YamlView::parse("policies:\n  - {impl: sushi, window: 8}\n  - impl: no_sgs\n    impl: infaas\n",
                          "e.yaml");
        }) == "e.yaml:4: duplicate key 'impl'");
  const fs::path dir = scratch("yaml");
  put(dir / "dup.yaml", "name: a\nclock_mhz: 100\n\nclock_mhz: 200\n");
  CHECK(error_of([&] { YamlView::load_file((dir / "dup.yaml").string()); }) ==
        (dir / "dup.yaml").string() + ":4: duplicate key 'clock_mhz'");
  // The same key in different mappings is fine.
  CHECK(YamlView::parse("a: {k: 1}\nb: {k: 2}\n", "ok.yaml").at("b").get<int>("k") == 2);
}

TEST_CASE("an accuracy target above 100 percent is rejected with file and line", "[frontdoor][traces]") {
  const std::string yaml =
      "kind: poisson\nrate_qps: 10\ncount: 10\nconstraints:\n  latency_fraction: 0\n  accuracy_fraction: 1\n"
      "  acc_target: [70, 150]\n";
  const std::string e = error_of([&] { TraceSpec::from_yaml(YamlView::parse(yaml, "t.yaml")); });
  CHECK_THAT(e, Catch::Contains("t.yaml") && Catch::Contains("acc_target") && Catch::Contains("line 7") &&
                    Catch::Contains("100"));
  const fs::path dir = scratch("trace_acc");
  put(dir / "t.csv", "id,arrival_ms,slo_ms,acc_target\n0,1,0,75\n1,2,0,150\n");
  CHECK(error_of([&] { read_trace_csv((dir / "t.csv").string()); }) ==
        (dir / "t.csv").string() + ": line 3: column acc_target: expected a percentage <= 100, got 150");
}

TEST_CASE("duplicate trace ids are rejected with file and line", "[frontdoor][traces]") {
  const fs::path dir = scratch("trace_ids");
  put(dir / "t.csv", "# provenance\nid,arrival_ms,slo_ms,acc_target\n0,1,5,0\n1,2,5,0\n0,3,5,0\n");
  CHECK(error_of([&] { read_trace_csv((dir / "t.csv").string()); }) ==
        (dir / "t.csv").string() + ": line 5: duplicate id 0");
}

TEST_CASE("an output manifest removes the previous run's files that this run did not write", "[frontdoor]") {
  const fs::path dir = scratch("manifest");
  {
    OutputManifest m(dir.string());
    m.write_file((dir / "a/x/results.json").string(), "{}\n");
    m.write_file((dir / "b/x/results.json").string(), "{}\n");
    m.write_file((dir / "results.json").string(), "{\"run\":1}\n");
    CHECK(m.finish().empty());
  }
  put(dir / "notes.txt", "the user's own file");
  CHECK(OutputManifest::read(dir.string()) ==
        std::vector<std::string>{"a/x/results.json", "b/x/results.json", "results.json"});
  {
    OutputManifest m(dir.string());
    m.write_file((dir / "a/x/results.json").string(), "{\"run\":2}\n");
    m.write_file((dir / "results.json").string(), "{\"run\":2}\n");
    CHECK(m.finish() == std::vector<std::string>{"b/x/results.json"});
  }
  CHECK(fs::exists(dir / "a/x/results.json"));
  CHECK_FALSE(fs::exists(dir / "b"));    // the stale file and the folders it left empty
  CHECK(fs::exists(dir / "notes.txt"));  // never listed, never removed
  CHECK(OutputManifest::read(dir.string()) == std::vector<std::string>{"a/x/results.json", "results.json"});
  const std::string manifest = read_file((dir / "MANIFEST.json").string());
  CHECK_THAT(manifest, Catch::Contains("\"path\":\"results.json\",\"bytes\":10,\"hash\":\"" +
                                       content_hash("{\"run\":2}\n") + "\""));
  // A file outside the folder is a programming error, not something to record.
  OutputManifest m(dir.string());
  CHECK_THROWS_AS(m.write_file((dir.parent_path() / "elsewhere.txt").string(), ""), std::logic_error);
}

TEST_CASE("an unwritable output path is an input error naming the file", "[frontdoor]") {
  CHECK_THAT(error_of([] { write_file_atomic("/proc/sushi_nope/x.json", "{}"); }),
             Catch::StartsWith("/proc/sushi_nope/x.json: cannot write: "));
  CHECK_THAT(error_of([] { make_directories("/proc/sushi_nope/out"); }),
             Catch::StartsWith("/proc/sushi_nope/out: cannot create folder: "));
}

TEST_CASE("paths in an experiment resolve from any working directory and the data folder follows SUSHI_DATA",
          "[frontdoor][paths]") {
  const std::string exp = fs::absolute("workloads/experiments/sushi_mbv3.yaml").string();
  const fs::path root = fs::current_path();
  const fs::path elsewhere = scratch("cwd");
  fs::current_path(elsewhere);
  ExperimentSpec e;
  const std::string err = error_of([&] { e = ExperimentSpec::load(exp); });
  fs::current_path(root);
  REQUIRE(err.empty());
  CHECK(fs::equivalent(e.supernet, root / "workloads/supernets/ofa_mbv3.yaml"));
  CHECK(fs::equivalent(e.accelerators.at(1), root / "workloads/accel/edge_small.yaml"));
  CHECK(fs::equivalent(e.accuracy_table, fs::path(data_dir()) / "ofa_mbv3_224_top1.jsonl"));
  // From the project root the paths stay as written (records and outputs unchanged).
  CHECK(ExperimentSpec::load("workloads/experiments/sushi_mbv3.yaml").supernet ==
        "workloads/supernets/ofa_mbv3.yaml");

  const char* old = std::getenv("SUSHI_DATA");
  const std::string saved = old ? old : "";
  setenv("SUSHI_DATA", elsewhere.c_str(), 1);
  const std::string missing = error_of([] { data_file("ofa_mbv3_224_top1.jsonl"); });
  const std::string in_yaml = error_of([&] { ExperimentSpec::load(exp); });
  if (old)
    setenv("SUSHI_DATA", saved.c_str(), 1);
  else
    unsetenv("SUSHI_DATA");
  CHECK(missing == "missing shared data file ofa_mbv3_224_top1.jsonl: looked for " +
                       (elsewhere / "ofa_mbv3_224_top1.jsonl").string() + " (from SUSHI_DATA)");
  CHECK_THAT(in_yaml, Catch::Contains("accuracy_table") &&
                          Catch::Contains((elsewhere / "ofa_mbv3_224_top1.jsonl").string()));
}
