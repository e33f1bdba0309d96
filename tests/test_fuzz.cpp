// The fuzz targets (tests/fuzz/) in the default suite: every registered loader has a target with seeds, the
// seeds load or are rejected cleanly, and a few structure-aware mutations of each YAML seed are too. The long
// runs are libFuzzer's (`make fuzz FUZZ_SECONDS=N`, tools/fuzz.sh).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "tests/fuzz/targets.h"
#include "tests/fuzz/yaml_mutator.h"

using namespace sushi;
namespace fs = std::filesystem;

namespace {

const std::string kCorpus = "tests/fuzz/corpus/";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> seeds(const std::string& target) {
  std::vector<fs::path> out;
  if (fs::is_directory(kCorpus + target))
    for (const auto& e : fs::directory_iterator(kCorpus + target))
      if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

struct Loaders {
  std::map<std::string, std::vector<std::string>> by_file;  // source -> targets ("-" for none)
  std::set<std::string> pending;
};

Loaders read_loaders() {
  Loaders l;
  std::ifstream in("tests/fuzz/LOADERS");
  REQUIRE(in);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream ls(line);
    std::string file, t;
    if (!(ls >> file)) continue;
    if (file == "pending") {
      ls >> t;
      l.pending.insert(t);
      continue;
    }
    auto& list = l.by_file[file];
    while (ls >> t) list.push_back(t);
  }
  return l;
}

// Project sources (not tests) that read a file: the calls LOADERS documents.
std::set<std::string> reader_sources() {
  const std::regex reads(R"(std::ifstream|\bfopen\s*\(|\bread_file\s*\(|load_file\s*\(|read_input\s*\()");
  std::set<std::string> out;
  for (const char* folder : {"base", "models", "sim", "rtl", "sched", "traces", "explore", "tools"}) {
    if (!fs::is_directory(folder)) continue;
    for (const auto& e : fs::recursive_directory_iterator(folder)) {
      if (e.path().extension() != ".cpp") continue;
      std::istringstream text(slurp(e.path()));
      std::string line;
      while (std::getline(text, line)) {
        const size_t comment = line.find("//");
        if (std::regex_search(comment == std::string::npos ? line : line.substr(0, comment), reads)) {
          out.insert(e.path().generic_string());
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("fuzz: every registered loader has a fuzz target") {
  const Loaders l = read_loaders();
  for (const std::string& f : reader_sources()) {
    INFO(f << " reads files: list it in tests/fuzz/LOADERS with its fuzz target(s)");
    CHECK(l.by_file.count(f) == 1);
  }
  std::set<std::string> named;
  for (const auto& [file, list] : l.by_file) {
    INFO(file << " (tests/fuzz/LOADERS)");
    CHECK(fs::exists(file));
    CHECK(!list.empty());
    for (const std::string& t : list) {
      if (t == "-") continue;
      named.insert(t);
      INFO("target " << t);
      CHECK(fuzz::find_target(t) != nullptr);
    }
  }
  for (const fuzz::Target& t : fuzz::targets()) {
    INFO("target " << t.name << ": listed in tests/fuzz/LOADERS, seeds in " << kCorpus << t.name);
    CHECK(named.count(t.name) == 1);
    CHECK(!seeds(t.name).empty());
    CHECK(l.pending.count(t.name) == 0);  // a target that exists is no longer pending
  }
}

TEST_CASE("fuzz: every seed loads or is rejected cleanly") {
  size_t n = 0;
  for (const fuzz::Target& t : fuzz::targets())
    for (const fs::path& p : seeds(t.name)) {
      INFO(p.string());
      CHECK_NOTHROW(fuzz::run_one(t, slurp(p)));
      ++n;
    }
  CHECK(n >= fuzz::targets().size());
}

TEST_CASE("fuzz: structure-aware YAML mutations are rejected cleanly") {
  size_t changed = 0;
  for (const fuzz::Target& t : fuzz::targets()) {
    if (!t.yaml) continue;
    for (const fs::path& p : seeds(t.name)) {
      const std::string text = slurp(p);
      for (uint64_t seed = 1; seed <= 6; ++seed) {
        const auto m = fuzz::mutate_yaml(text, seed * 7919 + p.string().size());
        if (!m) continue;
        changed += *m != text;
        INFO(p.string() << " mutated with seed " << seed << ":\n" << *m);
        CHECK_NOTHROW(fuzz::run_one(t, *m));
      }
    }
  }
  CHECK(changed > 50);
}

TEST_CASE("fuzz: the YAML mutator puts an extreme value in and keeps the rest") {
  const std::string text = "a: 1\nb: [2, 3]\nc: {d: x}\n";
  std::set<std::string> seen;
  for (uint64_t s = 0; s < 200; ++s) {
    const auto m = fuzz::mutate_yaml(text, s);
    REQUIRE(m);
    seen.insert(*m);
    CHECK(fuzz::mutate_yaml(text, s) == m);  // deterministic
  }
  CHECK(seen.size() > 50);
  bool nan = false, big = false;
  for (const std::string& m : seen) {
    nan |= m.find(".nan") != std::string::npos;
    big |= m.find("9223372036854775807") != std::string::npos;
  }
  CHECK(nan);
  CHECK(big);
  CHECK(!fuzz::mutate_yaml("just a scalar", 1));
  CHECK(!fuzz::mutate_yaml("a: [1, 2", 1));
}
