// Supernet spaces and the SubNet/SubGraph algebra (issue 2).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include "base/paths.h"
#include "base/provenance.h"
#include "base/registry.h"
#include "models/ref/op_table.h"
#include "models/space/accuracy.h"
#include "models/space/supernet.h"
#include "tools/cli.h"

using namespace sushi;

namespace {

const char* kSpaces[] = {"ofa_mbv3", "ofa_resnet50", "compofa_mbv3", "fmnist_tiny"};
std::string space_path(const std::string& name) {
  return "workloads/supernets/" + name + ".yaml";
}

// ---- Independent counts, written from the network definitions rather than through LayerBuilder. ----
int md8(double v) {  // make_divisible(v, 8) as in the MobileNet/OFA code
  int n = std::max(8, int(v + 4) / 8 * 8);
  return n < 0.9 * v ? n + 8 : n;
}
int out_size(int r, int k, int s) {
  return (r + 2 * (k / 2) - k) / s + 1;
}

struct Count {
  int64_t macs = 0, params = 0;
};

struct MbStage {
  int out, stride;
  bool se;
};

// MobileNetV3 (OFA layout): stem conv+BN, first block (dw+BN, pw+BN), per block expand 1x1+BN, dw kxk+BN,
// SE (two 1x1 convs with bias, reduction 4), project 1x1+BN; final 1x1+BN, feature mix 1x1 (no BN, no bias),
// linear classifier with bias.
Count mbv3_count(int in_c, int classes, int res, int stem_out, int stem_stride,
                 const std::vector<MbStage>& stages,
                 const std::vector<std::vector<std::pair<int, double>>>& blocks, int final_out, int mix_out) {
  Count c;
  int r = out_size(res, 3, stem_stride);
  c.macs += int64_t(r) * r * stem_out * in_c * 9;
  c.params += stem_out * in_c * 9 + 2 * stem_out;
  c.macs +=
      int64_t(r) * r * stem_out * 9 + int64_t(r) * r * stem_out * stem_out;  // first block dw + pw (16->16)
  c.params += stem_out * 9 + 2 * stem_out + stem_out * stem_out + 2 * stem_out;
  int ch = stem_out;
  for (size_t s = 0; s < stages.size(); ++s) {
    for (size_t b = 0; b < blocks[s].size(); ++b) {
      const int k = blocks[s][b].first;
      const int mid = md8(std::round(ch * blocks[s][b].second));
      const int stride = b == 0 ? stages[s].stride : 1;
      const int r_out = out_size(r, k, stride);
      c.macs += int64_t(r) * r * ch * mid + int64_t(r_out) * r_out * mid * k * k;
      c.params += ch * mid + 2 * mid + mid * k * k + 2 * mid;
      if (stages[s].se) {
        const int quarter = mid / 4;  // OFA: channel // 4
        const int red = md8(quarter);
        c.macs += 2 * int64_t(mid) * red;
        c.params += 2 * mid * red + red + mid;
      }
      c.macs += int64_t(r_out) * r_out * mid * stages[s].out;
      c.params += mid * stages[s].out + 2 * stages[s].out;
      ch = stages[s].out;
      r = r_out;
    }
  }
  c.macs += int64_t(r) * r * ch * final_out + int64_t(final_out) * mix_out + int64_t(mix_out) * classes;
  c.params += ch * final_out + 2 * final_out + final_out * mix_out + mix_out * classes + classes;
  return c;
}

std::vector<std::vector<std::pair<int, double>>> uniform_blocks(std::vector<int> depth, std::vector<int> k,
                                                                std::vector<double> e) {
  std::vector<std::vector<std::pair<int, double>>> out;
  for (size_t s = 0; s < depth.size(); ++s)
    out.push_back(std::vector<std::pair<int, double>>(depth[s], {k[s], e[s]}));
  return out;
}

const std::vector<MbStage> kOfaStages = {
    {24, 2, false}, {40, 2, true}, {80, 2, false}, {112, 1, true}, {160, 2, true}};
const std::vector<MbStage> kTinyStages = {{24, 2, false}, {40, 2, true}, {48, 1, true}};

// OFA ResNet-50: stem 3x3 s2 (3->m), optional 3x3 (m->m), 3x3 (m->c), max pool; bottlenecks with ResNet-D
// downsample (avg pool + 1x1 conv + BN) on the first block of each stage; classifier with bias.
Count resnet_count(int res, double w_stem0, double w_stem1, bool stem_block,
                   const std::vector<double>& w_stage, const std::vector<int>& depth, double e) {
  Count c;
  const int half = md8(64 * w_stem0) / 2;  // OFA: channel // 2
  const int m = md8(half), sc = md8(64 * w_stem1);
  int r = out_size(res, 3, 2);
  c.macs += int64_t(r) * r * m * 3 * 9;
  c.params += m * 27 + 2 * m;
  if (stem_block) {
    c.macs += int64_t(r) * r * m * m * 9;
    c.params += m * m * 9 + 2 * m;
  }
  c.macs += int64_t(r) * r * sc * m * 9;
  c.params += sc * m * 9 + 2 * sc;
  r = (r + 2 - 3) / 2 + 1;  // max pool 3x3 s2 p1
  int ch = sc;
  const int widths[] = {256, 512, 1024, 2048}, strides[] = {1, 2, 2, 2};
  for (int s = 0; s < 4; ++s) {
    const int out = md8(widths[s] * w_stage[s]);
    const int mid = md8(std::round(out * e));
    for (int b = 0; b < depth[s]; ++b) {
      const int stride = b == 0 ? strides[s] : 1;
      const int r_out = out_size(r, 3, stride);
      c.macs += int64_t(r) * r * ch * mid + int64_t(r_out) * r_out * mid * mid * 9 +
                int64_t(r_out) * r_out * mid * out;
      c.params += ch * mid + mid * mid * 9 + mid * out + 2 * (mid + mid + out);
      if (b == 0) {
        c.macs += int64_t(r_out) * r_out * ch * out;
        c.params += ch * out + 2 * out;
      }
      ch = out;
      r = r_out;
    }
  }
  c.macs += int64_t(ch) * 1000;
  c.params += ch * 1000 + 1000;
  return c;
}

void check_count(const SupernetSpace& space, const Subnet& s, const Count& expect) {
  const LayerTotals t = totals(space.layers(s));
  INFO(space.name() << " " << space.to_json(s));
  CHECK(t.macs == expect.macs);
  CHECK(t.params == expect.params);
}

std::string shared_data(const std::string& file) {
  try {
    return data_file(file);  // $SUSHI_DATA, else ../shared/data beside the repository
  } catch (const InputError& e) {
    FAIL(e.what());
  }
  return "";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("MACs and parameters of min and max subnets match independent counts", "[models]") {
  {
    const auto space = SupernetSpace::load(space_path("ofa_mbv3"));
    check_count(space, space.max_subnet(),
                mbv3_count(3, 1000, 224, 16, 2, kOfaStages,
                           uniform_blocks({4, 4, 4, 4, 4}, {7, 7, 7, 7, 7}, {6, 6, 6, 6, 6}), 960, 1280));
    check_count(space, space.min_subnet(),
                mbv3_count(3, 1000, 128, 16, 2, kOfaStages,
                           uniform_blocks({2, 2, 2, 2, 2}, {3, 3, 3, 3, 3}, {3, 3, 3, 3, 3}), 960, 1280));
    // Resolution changes MACs only.
    Subnet m = space.max_subnet();
    m.resolution = 160;
    check_count(space, m,
                mbv3_count(3, 1000, 160, 16, 2, kOfaStages,
                           uniform_blocks({4, 4, 4, 4, 4}, {7, 7, 7, 7, 7}, {6, 6, 6, 6, 6}), 960, 1280));
  }
  {
    const auto space = SupernetSpace::load(space_path("compofa_mbv3"));
    check_count(space, space.max_subnet(),
                mbv3_count(3, 1000, 224, 16, 2, kOfaStages,
                           uniform_blocks({4, 4, 4, 4, 4}, {3, 5, 3, 3, 5}, {6, 6, 6, 6, 6}), 960, 1280));
    check_count(space, space.min_subnet(),
                mbv3_count(3, 1000, 160, 16, 2, kOfaStages,
                           uniform_blocks({2, 2, 2, 2, 2}, {3, 5, 3, 3, 5}, {3, 3, 3, 3, 3}), 960, 1280));
  }
  {
    const auto space = SupernetSpace::load(space_path("fmnist_tiny"));
    check_count(
        space, space.max_subnet(),
        mbv3_count(1, 10, 28, 16, 1, kTinyStages, uniform_blocks({3, 3, 3}, {5, 5, 5}, {4, 4, 4}), 192, 256));
    check_count(
        space, space.min_subnet(),
        mbv3_count(1, 10, 28, 16, 1, kTinyStages, uniform_blocks({1, 1, 1}, {3, 3, 3}, {2, 2, 2}), 192, 256));
  }
  {
    const auto space = SupernetSpace::load(space_path("ofa_resnet50"));
    check_count(space, space.max_subnet(),
                resnet_count(224, 1.0, 1.0, true, {1, 1, 1, 1}, {4, 4, 6, 4}, 0.35));
    check_count(space, space.min_subnet(),
                resnet_count(128, 0.65, 0.65, false, {0.65, 0.65, 0.65, 0.65}, {2, 2, 4, 2}, 0.2));
    // Published anchor: torchvision's ResNet-50 has 25,557,032 parameters. Our family with standard depths
    // (3,4,6,3) and expand 0.25 differs from it only in the OFA stem (3 convs: 3->32->32->64 instead of one
    // 7x7 3->64) and in ResNet-D downsampling (same 1x1 conv weights), so the difference is exactly the stem.
    Subnet r50 = space.parse_subnet(
        R"({"d": [2, 1, 2, 2, 1], "e": [0.25,0.25,0.25,0,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0.25,0], "w": [1,1,1,1,1,1], "image_size": 224})");
    const int64_t torchvision_stem = 64 * 3 * 49 + 2 * 64;
    const int64_t ofa_stem = (32 * 27 + 64) + (32 * 32 * 9 + 64) + (64 * 32 * 9 + 128);
    CHECK(totals(space.layers(r50)).params == 25557032 - torchvision_stem + ofa_stem);
  }
}

TEST_CASE("the MobileNetV3 family reproduces MobileNetV3-Large's published parameter count", "[models]") {
  // MobileNetV3-Large (Howard et al., ICCV 2019, Table 1) is one subnet of a MobileNetV3 space with expand
  // {2.3, 2.5, 3, 4, 6}: expansions 64/16, 72/24 | 72/24, 120/40 x2 | 240/40, 200/80, 184/80 x2 | 480/80,
  // 672/112 | 672/112, 960/160 x2, kernels 3,3 | 5,5,5 | 3,3,3,3 | 3,3 | 5,5,5, SE on the 40, 112 and 160
  // stages. torchvision's mobilenet_v3_large has 5,483,032 parameters; its 960->1280 layer is a Linear with a
  // bias, where OFA's feature-mix conv (ours) has none: 1,280 fewer. Published MACs: 219 M (the paper), 216.6
  // M here (conv and FC multiply-accumulates only).
  const auto space = SupernetSpace::load("tests/data/mobilenetv3_large_space.yaml");
  const Subnet large = space.parse_subnet(
      R"({"ks":[3,3,0,0, 5,5,5,0, 3,3,3,3, 3,3,0,0, 5,5,5,0],"e":[4,3,0,0, 3,3,3,0, 6,2.5,2.3,2.3, 6,6,0,0, 6,6,6,0],"d":[2,3,4,2,3]})");
  const LayerTotals t = totals(space.layers(large));
  CHECK(t.params == 5483032 - 1280);
  CHECK(t.macs == Approx(219e6).epsilon(0.02));
}

TEST_CASE("weight slices of intersect(a, b) lie inside both a and b", "[models]") {
  for (const char* name : kSpaces) {
    const auto space = SupernetSpace::load(space_path(name));
    Rng rng(42);
    for (int trial = 0; trial < 60; ++trial) {
      const Subnet a = space.random_subnet(rng), b = space.random_subnet(rng);
      const Subnet i = space.intersect(a, b);
      const SubGraph ga = space.subgraph(a), gb = space.subgraph(b);
      for (const Layer& l : space.layers(i)) {
        if (!l.has_weights()) continue;
        INFO(name << " layer " << l.name << " of intersect(" << space.to_json(a) << ", " << space.to_json(b)
                  << ")");
        REQUIRE(l.slice.inside(ga.slices[l.slice.tensor]));
        REQUIRE(l.slice.inside(gb.slices[l.slice.tensor]));
      }
      // The intersection subnet's weights are common to both. Where width is not elastic they are exactly
      // the common part; with elastic width x expand (ResNet) a block's common middle channels can exceed
      // those of (min width, min expand), so the SubGraph intersection is the exact shared set.
      const SubGraph common = intersect(ga, gb);
      CHECK(common.contains(space.subgraph(i)));
      if (space.elastic().width_choices.empty()) CHECK(space.subgraph(i).bytes() == common.bytes());
      CHECK(space.shared_bytes(a, gb) == space.shared_bytes(b, ga));
      CHECK(space.contains(a, i));
      CHECK(space.contains(space.max_subnet(), a));
    }
  }
}

TEST_CASE("shared_bytes(s, s) == bytes(s) and partial SubGraphs respect the budget", "[models]") {
  for (const char* name : kSpaces) {
    const auto space = SupernetSpace::load(space_path(name));
    Rng rng(7);
    for (int trial = 0; trial < 30; ++trial) {
      const Subnet s = space.random_subnet(rng);
      const int64_t bytes = space.bytes(s);
      CHECK(space.shared_bytes(s, space.subgraph(s)) == bytes);
      CHECK(bytes == totals(space.layers(s)).weight_bytes);
      CHECK(space.shared_bytes(s, space.empty_subgraph()) == 0);
      for (double frac : {0.0, 0.1, 0.37, 0.9, 1.0, 2.0}) {
        const int64_t budget = int64_t(frac * bytes);
        const SubGraph g = space.partial_subgraph(s, budget);
        CHECK(g.bytes() <= budget);
        CHECK(space.subgraph(s).contains(g));
        CHECK(space.shared_bytes(s, g) == g.bytes());
        if (frac >= 1.0) CHECK(g.bytes() == bytes);
      }
    }
  }
}

TEST_CASE("the JSON subnet form round-trips for every row of the shared accuracy table", "[models]") {
  const auto space = SupernetSpace::load(space_path("ofa_mbv3"));
  const std::string path = shared_data("ofa_mbv3_224_top1.jsonl");
  std::ifstream in(path);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++rows;
    const Subnet s = space.parse_subnet(line);
    const std::string canonical = space.to_json(s);
    REQUIRE(space.parse_subnet(canonical) == s);
    REQUIRE(space.to_json(space.parse_subnet(canonical)) == canonical);
    // Active entries survive unchanged.
    const YAML::Node row = YAML::Load(line);
    for (int st = 0, slot = 0; st < 5; ++st, slot = st * 4)
      for (int b = 0; b < s.depth[st]; ++b) {
        REQUIRE(s.kernel[slot + b] == row["ks"][slot + b].as<int>());
        REQUIRE(s.expand[slot + b] == row["e"][slot + b].as<double>());
      }
  }
  CHECK(rows == 1000);
  const AccuracyTable table = AccuracyTable::load_jsonl(path, space);
  CHECK(table.size() == 1000);  // 1,000 distinct subnets once unused entries are ignored
  double lo = 100, hi = 0;
  for (const auto& [s, top1] : table.entries()) {
    lo = std::min(lo, top1);
    hi = std::max(hi, top1);
  }
  CHECK(lo == Approx(74.062));  // ../shared/data/README.md: range 74.06 to 76.65
  CHECK(hi == Approx(76.648));
  // An absent subnet is an error that names the subnet, never a default.
  const std::string err = error_of([&] { table.top1(space.min_subnet()); });
  CHECK(err.find("no measured accuracy") != std::string::npos);
  CHECK(err.find("\"d\":[2,2,2,2,2]") != std::string::npos);
}

TEST_CASE("subnet specs: max, min, random:SEED and JSON, with errors that name the key", "[models]") {
  const auto space = SupernetSpace::load(space_path("ofa_mbv3"));
  CHECK(space.parse_subnet("max") == space.max_subnet());
  CHECK(space.parse_subnet("min") == space.min_subnet());
  CHECK(space.parse_subnet("random:5") == space.parse_subnet("random:5"));
  CHECK(space.parse_subnet("random:5") != space.parse_subnet("random:6"));
  CHECK(error_of([&] { space.parse_subnet("random:x"); }).find("random:SEED") != std::string::npos);
  CHECK(error_of([&] { space.parse_subnet("biggest"); }).find("expected max, min") != std::string::npos);
  const std::string bad_kernel = error_of([&] {
    space.parse_subnet(
        R"({"ks": [4,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7], "e": [6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6], "d": [4,4,4,4,4]})");
  });
  CHECK(bad_kernel.find("ks[0] = 4 is not one of: 3, 5, 7") != std::string::npos);
  CHECK(error_of([&] {
          space.parse_subnet(R"({"ks": [7], "e": [6], "d": [4,4,4,4,4]})");
        }).find("expected 20 per-block entries") != std::string::npos);
  CHECK(
      error_of([&] {
        space.parse_subnet(
            R"({"ks": [7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7], "e": [6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6,6], "d": [4,4,4,4,4], "image_size": 100})");
      }).find("resolution 100 is not one of") != std::string::npos);
}

TEST_CASE("space sizes and enumeration", "[models]") {
  const auto compofa = SupernetSpace::load(space_path("compofa_mbv3"));
  REQUIRE(compofa.count() == 243u);  // CompOFA README: 3^5 = 243 subnets
  const auto all = compofa.enumerate();
  CHECK(all.size() == 243);
  CHECK(std::set<Subnet>(all.begin(), all.end()).size() == 243);
  const auto tiny = SupernetSpace::load(space_path("fmnist_tiny"));
  REQUIRE(tiny.count() == uint64_t(6 + 36 + 216) * (6 + 36 + 216) * (6 + 36 + 216));
  CHECK(tiny.count() >= 100u);
  const auto ofa = SupernetSpace::load(space_path("ofa_mbv3"));
  // (9^2 + 9^3 + 9^4)^5 per resolution, about 2e19: does not fit 64 bits.
  CHECK_FALSE(ofa.count().has_value());
  CHECK_THROWS_AS(ofa.enumerate(), InputError);
  const auto r50 = SupernetSpace::load(space_path("ofa_resnet50"));
  // stem block on/off (2) x per stage sum over depths of 3^blocks x 3^6 widths.
  const uint64_t s24 = 9 + 27 + 81, s46 = 81 + 243 + 729;  // 3 expand choices per block
  CHECK(r50.count() == 2 * s24 * s24 * s46 * s24 * 729);
}

TEST_CASE("bad space YAML gives an error naming file, key and expected value", "[models]") {
  const std::string dir = "build/test_tmp";
  std::system(("mkdir -p " + dir).c_str());
  const std::string good = sushi::read_file(space_path("fmnist_tiny"));
  auto error_for = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    const std::string path = dir + "/bad_space.yaml";
    std::ofstream(path) << text;
    return error_of([&] { SupernetSpace::load(path); });
  };
  std::string e = error_for("classes: 10\n", "");
  CHECK(e.find("bad_space.yaml") != std::string::npos);
  CHECK(e.find("missing required key 'classes'") != std::string::npos);
  e = error_for("classes: 10", "classes: ten");
  CHECK(e.find("key 'classes'") != std::string::npos);
  CHECK(e.find("expected an integer, got 'ten'") != std::string::npos);
  e = error_for("kernel: [3, 5]", "kernel: [3, 4]");
  CHECK(e.find("key 'elastic.kernel'") != std::string::npos);
  CHECK(e.find("odd") != std::string::npos);
  e = error_for("{out: 24, stride: 2,", "{out: 24, stride: 3,");
  CHECK(e.find("key 'stages[0].stride'") != std::string::npos);
  CHECK(e.find("expected an integer in [1, 2], got 3") != std::string::npos);
  e = error_for("se_reduction: 4", "se_reducton: 4");
  CHECK(e.find("unknown key") != std::string::npos);
  CHECK(e.find("se_reducton") != std::string::npos);
  e = error_for("family: mobilenetv3", "family: transformer");
  CHECK(e.find("unknown supernet family 'transformer'") != std::string::npos);
  e = error_for("act: h_swish}", "act: gelu}");
  CHECK(e.find("expected one of none | relu | h_swish | h_sigmoid, got 'gelu'") != std::string::npos);
  CHECK(error_of([&] { SupernetSpace::load(dir + "/absent.yaml"); }).find("absent.yaml: cannot open file") !=
        std::string::npos);
}

TEST_CASE("sushi CLI: exit status 2 with one clear line on bad input", "[cli]") {
  const std::string mbv3 = space_path("ofa_mbv3");
  CHECK(cli::run({"frobnicate"}) == 2);
  CHECK(cli::run({"info", "--supernet", mbv3, "--bogus"}) == 2);
  CHECK(cli::run({"info", "--supernet", "workloads/supernets/nope.yaml"}) == 2);
  CHECK(cli::run({"info", "--supernet", mbv3, "--subnet", "random:x"}) == 2);
  CHECK(cli::run({"info", "--supernet", mbv3, "--resolution", "abc"}) == 2);
  CHECK(cli::run({"info"}) == 2);
  CHECK(cli::run({"subnets", "--supernet", mbv3, "--count", "-3"}) == 2);
  CHECK(cli::run({"info", "--help"}) == 0);
  // Convention: every subcommand answers --help with status 0.
  const auto commands = cli::command_names();
  CHECK(commands.size() >= 7);
  for (const std::string& c : commands) {
    INFO("sushi " << c << " --help");
    CHECK(cli::run({c, "--help"}) == 0);
  }
  CHECK(cli::run({"info", "--supernet", mbv3, "--subnet", "min", "--json"}) == 0);
  CHECK(cli::run({"subnets", "--supernet", mbv3, "--count", "3", "--seed", "9"}) == 0);
}

TEST_CASE("op table: one registered entry per layer kind, with consistent properties", "[models][ops]") {
  const LayerKind kinds[] = {LayerKind::Conv,    LayerKind::Depthwise,  LayerKind::Pointwise,
                             LayerKind::FC,      LayerKind::SEReduce,   LayerKind::SEExpand,
                             LayerKind::SEScale, LayerKind::GlobalPool, LayerKind::MaxPool,
                             LayerKind::AvgPool, LayerKind::Add};
  std::set<std::string> names;
  for (const ComponentInfo& c : ComponentIndex::of_kind("layer_op")) names.insert(c.name);
  CHECK(names.size() == std::size(kinds));
  for (LayerKind k : kinds) {
    INFO(to_string(k));
    CHECK(names.count(to_string(k)) == 1);
    const LayerOp& op = layer_op(k);
    CHECK(op.kind() == k);
    const OpProperties p = op.properties();
    CHECK(p.weights == (p.unit == OpUnit::Array));  // weights run on the array, the rest on the vector unit
    CHECK((p.depthwise ? p.weights && !p.pointwise_fold : true));
    CHECK(p.binary == (k == LayerKind::Add || k == LayerKind::SEScale));
    if (p.binary) CHECK(p.second != OpSecond::None);
    if (p.weights) CHECK(p.window == OpWindow::None);
  }
  CHECK(op_properties(LayerKind::Depthwise).depthwise);
  CHECK(op_properties(LayerKind::Conv).spatial);
  CHECK_FALSE(op_properties(LayerKind::FC).spatial);
  CHECK(op_properties(LayerKind::MaxPool).keeps_input_scale);
}
