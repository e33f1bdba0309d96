// Sweeps (explore/): spec parsing and axis validation, enumeration, skipped points by reason, the results
// store, deterministic output at any thread count, resuming after SIGKILL, Pareto fronts.
#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX kill(), which <csignal> need not declare
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/content_cache.h"
#include "base/errors.h"
#include "base/provenance.h"
#include "base/random.h"
#include "explore/pareto.h"
#include "explore/store.h"
#include "explore/sweep.h"
#include "sim/accel.h"
#include "tools/cli.h"

using namespace sushi;
namespace fs = std::filesystem;

namespace {

std::string test_dir(const std::string& name) {
  std::string d = "build/test_tmp/explore/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

const char* const kBase =
    "sweep: t\nbase: {accel: workloads/accel/edge_small.yaml, supernet: "
    "workloads/supernets/fmnist_tiny.yaml}\n";

std::string load_error(const std::string& dir, const std::string& axes) {
  try {
    explore::SweepSpec::load(write(dir + "/s.yaml", std::string(kBase) + axes));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Runs `sushi ARGS` in a child process; kills it with SIGKILL after `kill_after_ms` (when >= 0). Returns the
// exit status, or minus the signal that ended it.
int run_child(const std::vector<std::string>& args, int kill_after_ms = -1) {
  const pid_t pid = fork();
  if (pid < 0) return -1000;
  if (pid == 0) _exit(cli::run(args));
  if (kill_after_ms >= 0) {
    usleep(useconds_t(kill_after_ms) * 1000);
    kill(pid, SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("sweep: the spec gives axes, zipped lists and ranges in grid order", "[explore]") {
  explore::SweepSpec s = explore::SweepSpec::load("workloads/sweeps/tiny.yaml");
  const std::vector<std::string> paths{"accel.buffers.persistent_bytes", "accel.dram.peak_gbps", "subnet",
                                       "cache"};
  CHECK(s.axis_paths() == paths);
  REQUIRE(s.grid_size() == 48);
  const auto points = explore::enumerate(s);
  REQUIRE(points.size() == 48);
  CHECK(points[0] == std::vector<std::string>{"0", "3.2", "max", "none"});
  CHECK(points[1] == std::vector<std::string>{"0", "3.2", "min", "min"});
  CHECK(points[3] == std::vector<std::string>{"0", "6.4", "max", "none"});
  const std::string dir = test_dir("ranges");
  explore::SweepSpec r = explore::SweepSpec::load(
      write(dir + "/r.yaml", std::string(kBase) +
                                 "axes:\n  - accel.buffers.persistent_bytes: {log: [1KiB, 16KiB], "
                                 "steps: 3}\n  - accel.dram.peak_gbps: {linear: [1, 2], steps: 3}\n"));
  CHECK(r.axes[0].values == std::vector<std::vector<std::string>>{{"1024"}, {"4096"}, {"16384"}});
  CHECK(r.axes[1].values == std::vector<std::vector<std::string>>{{"1"}, {"1.5"}, {"2"}});
}

TEST_CASE("sweep: axis errors name the axis, the path and what was expected", "[explore]") {
  const std::string dir = test_dir("errors");
  std::string e = load_error(dir, "axes:\n  - accel.buffers.persistnt_bytes: [0, 1MiB]\n");
  CHECK_THAT(e, Catch::Contains("axis 'accel.buffers.persistnt_bytes'"));
  CHECK_THAT(e, Catch::Contains("s.yaml"));
  e = load_error(dir, "axes:\n  - accel.buffers.persistent_bytes: [0, lots]\n");
  CHECK_THAT(e, Catch::Contains("axis 'accel.buffers.persistent_bytes'"));
  CHECK_THAT(e, Catch::Contains("expected an integer size in bytes"));
  e = load_error(dir, "axes:\n  - accel.dram.efficiency: [0.5, 2]\n");
  CHECK_THAT(e, Catch::Contains("expected a value in (0, 1]"));
  e = load_error(dir, "axes:\n  - batch: [1, 2]\n");
  CHECK_THAT(e, Catch::Contains("axis 'batch': expected accel.PATH"));
  e = load_error(dir, "axes:\n  - model: [analytic, bogus]\n");
  CHECK_THAT(e, Catch::Contains("bogus"));
  e = load_error(dir, "axes:\n  - zip:\n      - subnet: [max, min]\n      - cache: [none]\n");
  CHECK_THAT(e, Catch::Contains("equal lengths"));
}

TEST_CASE("sweep: dry run counts points skipped by the config's checks and by constraints", "[explore]") {
  explore::SweepSpec s = explore::SweepSpec::load("workloads/sweeps/tiny.yaml");
  const explore::DryRun d = explore::dry_run(s, 3);
  CHECK(d.points == 48);
  // 64 MiB PB: 12 points over the chip; DRAM 3.2 GB/s: 12 points by the constraint (3 of them both).
  CHECK(d.skipped == 21);
  REQUIRE(d.skipped_by_reason.size() == 2);
  CHECK(d.skipped_by_reason.at("DRAM under 4 GB/s") == 12);
  CHECK_THAT(d.skipped_by_reason.rbegin()->first, Catch::Contains("Persistent Buffer of N bytes is larger"));
  CHECK(d.sample.size() == 3);
  CHECK(d.sample[0].hash.size() == 16);
}

TEST_CASE("sweep: output is byte-identical at 1 and 2 threads and a rerun evaluates nothing", "[explore]") {
  std::string files[2][2];
  for (int threads : {1, 2}) {
    const std::string dir = test_dir("threads" + std::to_string(threads));
    explore::SweepSpec s = explore::SweepSpec::load("workloads/sweeps/tiny.yaml", {{"output", dir}});
    explore::SweepRunOptions o;
    o.threads = threads;
    const explore::SweepSummary r = explore::run_sweep(s, o);
    CHECK(r.points == 48);
    CHECK(r.evaluated == 36);  // 27 ok, 9 skipped by the config's checks when evaluated
    CHECK(r.skipped == 21);
    files[threads - 1][0] = read_file(r.csv_path);
    files[threads - 1][1] = read_file(r.json_path);
    explore::SweepSpec again = explore::SweepSpec::load("workloads/sweeps/tiny.yaml", {{"output", dir}});
    const explore::SweepSummary r2 = explore::run_sweep(again, o);
    CHECK(r2.evaluated == 0);
    CHECK(r2.reused == 36);
    CHECK(read_file(r2.csv_path) == files[threads - 1][0]);
  }
  CHECK(files[0][0] == files[1][0]);
  CHECK(files[0][1] == files[1][1]);
  CHECK_THAT(files[0][0], Catch::Contains("point,hash,accel.buffers.persistent_bytes,accel.dram.peak_gbps"));
  CHECK_THAT(files[0][1], Catch::Contains("\"units\":{\"latency_ms\":\"ms\""));
}

TEST_CASE("sweep: the store drops a torn last line and keeps the good ones", "[explore]") {
  const std::string dir = test_dir("store");
  const std::string path = dir + "/r.store";
  {
    explore::ResultStore s(path);
    s.append("aaaa", "ok 1,2");
    s.append("bbbb", "skipped why");
  }
  std::ofstream(path, std::ios::app) << "cccc\tok 3";  // a kill in the middle of a write
  {
    explore::ResultStore s(path);
    CHECK(s.dropped_lines() == 1);
    CHECK(s.loaded() == 2);
    REQUIRE(s.find("bbbb"));
    CHECK(*s.find("bbbb") == "skipped why");
    s.append("dddd", "ok 4");
  }
  size_t dropped = 9;
  const auto m = explore::read_store(path, &dropped);
  CHECK(dropped == 0);
  CHECK(m.size() == 3);
}

TEST_CASE("sweep: random search samples the grid reproducibly", "[explore]") {
  const std::string dir = test_dir("random");
  const std::string spec =
      write(dir + "/r.yaml", std::string(kBase) +
                                 "axes:\n  - accel.dram.peak_gbps: {linear: [1, 100], steps: "
                                 "100}\n  - subnet: [max, min]\nsearch: {kind: random, "
                                 "samples: 10, seed: 7}\n");
  const auto a = explore::enumerate(explore::SweepSpec::load(spec));
  const auto b = explore::enumerate(explore::SweepSpec::load(spec));
  CHECK(a.size() == 10);
  CHECK(a == b);
  CHECK(a != explore::enumerate(explore::SweepSpec::load(spec, {{"search.seed", "8"}})));
}

TEST_CASE("pareto: non-dominated rows, minimised or maximised", "[explore]") {
  const std::vector<std::vector<double>> v{{1, 5}, {2, 2}, {3, 3}, {5, 1}, {2, 2}, {NAN, 0}, {4, 1}};
  CHECK(explore::pareto_front(v, {false, false}) == std::vector<size_t>{0, 1, 4, 6});
  CHECK(explore::pareto_front(v, {false, true}) == std::vector<size_t>{0});
  CHECK(explore::pareto_front(v, {true, true}) == std::vector<size_t>{3, 2, 0});
}

TEST_CASE("pareto: --where keeps the rows whose cells match, and names a bad filter", "[explore]") {
  explore::CsvData d;
  d.file = "r.csv";
  d.columns = {"subnet", "cache", "latency_ms"};
  d.rows = {{"max", "none", "3"}, {"max", "min", "2"}, {"min", "min", "1"}, {"max", "min", "4"}};
  const explore::CsvData s = explore::select_rows(d, {"subnet=max", "cache=min"});
  CHECK(s.rows == std::vector<std::vector<std::string>>{{"max", "min", "2"}, {"max", "min", "4"}});
  CHECK(explore::select_rows(d, {}).rows == d.rows);
  CHECK(explore::select_rows(d, {"subnet=none"}).rows.empty());
  CHECK_THROWS_WITH(explore::select_rows(d, {"subnet"}), Catch::Contains("expected COLUMN=VALUE"));
  CHECK_THROWS_WITH(explore::select_rows(d, {"accel=x"}), Catch::Contains("r.csv: no column 'accel'"));
}

// Runs `sushi ARGS` in a child process and kills it with SIGKILL as soon as `file` holds `bytes` bytes (the
// store growing point by point). Returns the exit status, or minus the signal that ended it.
int run_child_until(const std::vector<std::string>& args, const std::string& file, uintmax_t bytes) {
  const pid_t pid = fork();
  if (pid < 0) return -1000;
  if (pid == 0) _exit(cli::run(args));
  int status = 0;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    std::error_code ec;
    if (fs::file_size(file, ec) >= bytes && !ec) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    usleep(100);
  }
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

TEST_CASE("sweep: SIGKILL at random points, then a restart gives the uninterrupted run's files",
          "[explore]") {
  const std::string full = test_dir("kill_full"), killed = test_dir("kill_resumed");
  // ofa_mbv3 at 224 (about 10 us a point on the fast path), so a run lasts long enough to be killed in.
  const std::string spec = write(full + "/big.yaml",
                                 "sweep: t\nbase: {accel: workloads/accel/zcu104_sushi.yaml, supernet: "
                                 "workloads/supernets/ofa_mbv3.yaml, resolution: 224}\n"
                                 "axes:\n  - accel.dram.peak_gbps: {linear: [1, 50], steps: 1500}\n"
                                 "  - subnet: [max, min, \"random:1\", \"random:2\"]\n"
                                 "  - cache: [none, min]\n");
  const std::vector<std::string> run_full{"sweep", spec, "-j", "2", "--out", full + "/out"};
  const std::vector<std::string> run_killed{"sweep", spec, "-j", "2", "--out", killed + "/out"};
  REQUIRE(run_child(run_full) == 0);
  const std::string store = killed + "/out/results.v1.store";
  const uintmax_t full_bytes = fs::file_size(full + "/out/results.v1.store");
  // Kill points: seeded random fractions of the store, increasing (each restart resumes the last).
  Rng rng(20261201);
  std::vector<double> at;
  for (int k = 0; k < 4; ++k) at.push_back(0.05 + 0.9 * rng.uniform());
  std::sort(at.begin(), at.end());
  std::vector<size_t> stored_after_kill;
  for (double f : at) {
    const int rc = run_child_until(run_killed, store, uintmax_t(f * double(full_bytes)));
    CHECK((rc == -SIGKILL || rc == 0));  // 0: it finished between two looks at the store
    stored_after_kill.push_back(explore::read_store(store).size());
  }
  REQUIRE(run_child(run_killed) == 0);
  const size_t total = explore::read_store(full + "/out/results.v1.store").size();
  CHECK(total == 12000);
  INFO("points stored after each kill: " << stored_after_kill[0] << " " << stored_after_kill[1] << " "
                                         << stored_after_kill[2] << " " << stored_after_kill[3]);
  CHECK(stored_after_kill.front() < total);                                   // the kills did land mid-run
  CHECK(std::is_sorted(stored_after_kill.begin(), stored_after_kill.end()));  // nothing written was lost
  CHECK(explore::read_store(store).size() == total);
  CHECK(read_file(killed + "/out/results.csv") == read_file(full + "/out/results.csv"));
  CHECK(read_file(killed + "/out/results.json") == read_file(full + "/out/results.json"));
}

// Every point of `spec` on the fast path and on the Point path: the same config, the same results, and
// hashes that tell points apart exactly as the full canonical config's hash does.
// Returns the number of distinct configs.
size_t check_fast_path(explore::SweepSpec& spec) {
  const explore::PointBuilder builder(spec);
  REQUIRE(builder.fast());
  std::map<std::string, std::string> fast_to_slow, slow_to_fast;
  explore::PointScratch s;
  size_t ok = 0, mismatched = 0, split = 0;
  for (size_t i = 0; i < spec.grid_size(); ++i) {
    builder.load(i, s);
    explore::SweepPoint id, slow_id;
    builder.identify(s, id);
    const Point p = builder.build(s.values, slow_id, nullptr, false);
    CHECK(id.hash == slow_id.hash);
    const std::string slow_hash = p.hash();
    if (!fast_to_slow.emplace(id.hash, slow_hash).second && fast_to_slow[id.hash] != slow_hash) ++split;
    if (!slow_to_fast.emplace(slow_hash, id.hash).second && slow_to_fast[slow_hash] != id.hash) ++split;
    const sim::AccelConfig* config = builder.fast_config(s);
    std::string slow_config;
    try {
      slow_config = sim::canonical_json(sim::accel_schema().parse(p.view().at("accel")));
    } catch (const InputError&) {
    }
    CHECK((config ? sim::canonical_json(*config) : std::string()) == slow_config);
    const std::optional<sim::SimTotals> fast = builder.evaluate_fast(s);
    const explore::PointResult slow = explore::evaluate_point(p);
    CHECK(fast.has_value() == (slow.status == "ok"));
    if (!fast || slow.status != "ok") continue;
    ++ok;
    // Every column of the fast path's store payload ("ok V1,V2,...", read back exactly) against the Point
    // path's statistics.
    const std::vector<std::string> columns = explore::result_columns();
    const std::string payload = explore::evaluate_payload(builder, s, i, nullptr);
    REQUIRE(payload.rfind("ok ", 0) == 0);
    const char* at = payload.c_str() + 3;
    for (const std::string& c : columns) {
      char* end = nullptr;
      if (std::strtod(at, &end) != slow.stats.find(c)->value) ++mismatched;
      at = end + 1;
    }
    if (fast->run.cycles != int64_t(slow.stats.find("cycles")->value)) ++mismatched;
  }
  CHECK(ok > 0);
  CHECK(mismatched == 0);
  CHECK(split == 0);
  return slow_to_fast.size();
}

TEST_CASE("sweep: the fast path gives the Point path's configs, hash classes and results on whole sweeps",
          "[explore]") {
  explore::SweepSpec tiny = explore::SweepSpec::load("workloads/sweeps/tiny.yaml");
  check_fast_path(tiny);
  const std::string dir = test_dir("fast_path");
  // Two accelerators, a behaviour, a duplicated PB size (64KiB and 65536: one config), resolution, subnet
  // and cache, some points over the chip's memory.
  explore::SweepSpec mixed = explore::SweepSpec::load(
      write(dir + "/m.yaml",
            "sweep: m\nbase: {accel: workloads/accel/edge_small.yaml, supernet: "
            "workloads/supernets/fmnist_tiny.yaml}\naxes:\n"
            "  - accel: [workloads/accel/edge_small.yaml, workloads/accel/zcu104_sushi.yaml]\n"
            "  - accel.buffers.persistent_bytes: [0, 64KiB, 65536, 64MiB]\n"
            "  - zip:\n      - accel.behaviour.weight_load: [overlapped, serial]\n"
            "      - accel.dram.peak_gbps: [3.2, 19.2]\n"
            "  - resolution: [0, 28]\n  - subnet: [max, min, \"random:5\"]\n  - cache: [none, min]\n"));
  check_fast_path(mixed);
  // Two accel files of one content, and a third that differs only where an axis overrides it: their points
  // share keys exactly as their canonical configs do.
  std::string edge = read_file("workloads/accel/edge_small.yaml");
  write(dir + "/copy.yaml", edge);
  const size_t at = edge.find("persistent_bytes:");
  REQUIRE(at != std::string::npos);
  write(dir + "/pb.yaml", edge.substr(0, at) + "persistent_bytes: 0" + edge.substr(edge.find('\n', at)));
  explore::SweepSpec same = explore::SweepSpec::load(
      write(dir + "/same.yaml",
            "sweep: s\nbase: {accel: workloads/accel/edge_small.yaml, supernet: "
            "workloads/supernets/fmnist_tiny.yaml}\naxes:\n"
            "  - accel: [workloads/accel/edge_small.yaml, " +
                dir + "/copy.yaml, " + dir + "/pb.yaml]\n" +
                "  - accel.buffers.persistent_bytes: [0, 64KiB]\n  - subnet: [max, min]\n"));
  CHECK(check_fast_path(same) == 4);  // 12 points, 4 configs
}

TEST_CASE("content cache: bounded, the oldest value dropped first", "[explore]") {
  ContentCache<int> cache(3);
  for (int i = 0; i < 5; ++i) cache.get("k" + std::to_string(i), [i] { return i; });
  CHECK(cache.size() == 3);
  int computed = 0;
  CHECK(*cache.get("k4", [&] { return ++computed; }) == 4);  // kept
  CHECK(*cache.get("k0", [&] { return ++computed; }) == 1);  // dropped: computed again
  CHECK(computed == 1);
}

TEST_CASE("sweep: evolutionary search is seeded, adds new points per generation, same at any -j",
          "[explore]") {
  const std::string dir = test_dir("evolutionary");
  const std::string spec =
      write(dir + "/e.yaml", std::string(kBase) +
                                 "axes:\n  - accel.dram.peak_gbps: {log: [1, 64], steps: 13}\n"
                                 "  - accel.buffers.persistent_bytes: [0, 64KiB, 256KiB, 512KiB]\n"
                                 "  - subnet: [max, min, \"random:1\", \"random:2\"]\n"
                                 "search: {kind: evolutionary, population: 6, generations: 4, seed: 3, "
                                 "objectives: [latency_ms, energy_uj]}\n");
  std::string csv[2];
  for (int threads : {1, 2}) {
    explore::SweepSpec s =
        explore::SweepSpec::load(spec, {{"output", dir + "/out" + std::to_string(threads)}});
    explore::SweepRunOptions o;
    o.threads = threads;
    const explore::SweepSummary r = explore::run_sweep(s, o);
    CHECK(r.points > 12);
    CHECK(r.points <= 24);
    csv[threads - 1] = read_file(r.csv_path);
  }
  CHECK(csv[0] == csv[1]);
  CHECK_THAT(load_error(dir,
                        "axes:\n  - subnet: [max, min]\nsearch: {kind: evolutionary, population: 4, "
                        "generations: 2, objectives: [speed]}\n"),
             Catch::Contains("'speed' is not a result column"));
}
