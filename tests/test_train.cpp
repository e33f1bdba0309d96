// The training core: finite-difference gradient checks of every op a MobileNetV3 subnet uses, thread-count
// independence, exact resume, the schedules, and a tiny end-to-end run whose int8 export runs bit-exact on
// the SystemC cycle model and the Verilated RTL.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/provenance.h"
#include "base/random.h"
#include "base/yaml.h"
#include "models/ref/forward.h"
#include "models/ref/int8.h"
#include "models/train/network.h"
#include "models/train/trainer.h"
#include "sim/accel.h"

using namespace sushi;
using namespace sushi::train;

namespace {

SupernetSpace tiny_space() {
  return SupernetSpace::load("workloads/supernets/fmnist_tiny.yaml");
}

// A subnet with every kind the space has: stride-2 and stride-1 depthwise at k = 3 (through the learned
// 5 -> 3 matrix) and k = 5, squeeze-excite, residual adds, ReLU, h-swish and h-sigmoid.
Subnet mixed_subnet(const SupernetSpace& space) {
  return space.parse_subnet(
      R"({"ks":[3,5,3,5,3,3,3,5,3],"e":[2,4,3,3,2,4,4,2,3],"d":[2,2,3],"image_size":28})");
}

Checkpoint perturbed_params(const SupernetSpace& space) {
  Checkpoint p = initial_supernet(space, 5);
  Rng rng(9);
  for (const std::string& n : p.names())  // kernel transforms away from the identity, BN affine away from 1/0
    if (n.find("kernel_transform") != std::string::npos || n.find(".bn.bias") != std::string::npos)
      for (float& v : p.find_mutable(n)->data) v += float(0.1 * rng.normal());
  return p;
}

Act random_input(int n, int res, uint64_t seed) {
  Rng rng(seed);
  Act a(1, n, res, res);
  for (float& v : a.d) v = float(rng.uniform());
  return a;
}

// L = sum of logits weighted by r (a linear read-out, so dL/dlogits = r).
double readout(const Act& logits, const std::vector<double>& r) {
  double s = 0;
  for (size_t i = 0; i < logits.d.size(); ++i) s += r[i] * logits.d[i];
  return s;
}

}  // namespace

TEST_CASE("training core gradients match finite differences for every op of a MobileNetV3 subnet",
          "[train]") {
  const SupernetSpace space = tiny_space();
  Checkpoint params = perturbed_params(space);
  const std::vector<Layer> layers = space.layers(mixed_subnet(space));
  const Act x = random_input(2, 28, 3);
  std::vector<double> r;
  Rng rr(4);
  SubnetPass pass(params, layers, PassOptions{});
  const Act& logits = pass.forward(x);
  for (size_t i = 0; i < logits.d.size(); ++i) r.push_back(rr.normal());
  Act dlog(logits.c, logits.n, 1, 1);
  for (size_t i = 0; i < dlog.d.size(); ++i) dlog.d[i] = float(r[i]);
  Checkpoint grads;
  const Act dx = pass.backward(dlog, grads, true);
  auto loss = [&](const Act& in) {
    SubnetPass p(params, layers, PassOptions{});
    return readout(p.forward(in), r);
  };
  int checked = 0, good = 0;
  std::set<std::string> kinds;
  Rng pick(11);
  for (const std::string& name : grads.names()) {
    const NdArray& g = grads.at(name);
    std::vector<size_t> nonzero;
    for (size_t i = 0; i < g.data.size(); ++i)
      if (g.data[i] != 0) nonzero.push_back(i);
    REQUIRE(!nonzero.empty());
    for (int k = 0; k < 2; ++k) {
      const size_t i = nonzero[size_t(pick.uniform_int(uint64_t(nonzero.size())))];
      float& p = params.find_mutable(name)->data[i];
      const float old = p, h = 1e-2f * std::max(1.0f, std::abs(old));
      p = old + h;
      const double up = loss(x);
      p = old - h;
      const double down = loss(x);
      p = old;
      const double fd = (up - down) / (2.0 * double(h)), an = g.data[i];
      ++checked;
      if (std::abs(fd - an) <= 0.03 * (std::abs(fd) + std::abs(an)) + 2e-3)
        ++good;
      else
        WARN(name << "[" << i << "]: finite difference " << fd << ", backward " << an);
    }
    kinds.insert(name.substr(name.rfind('.') + 1));
  }
  for (int k = 0; k < 8; ++k) {  // the input gradient (PGD uses it)
    const size_t i = size_t(pick.uniform_int(uint64_t(x.d.size())));
    Act xp = x, xm = x;
    xp.d[i] += 1e-2f;
    xm.d[i] -= 1e-2f;
    const double fd = (loss(xp) - loss(xm)) / 2e-2;
    ++checked;
    if (std::abs(fd - dx.d[i]) <= 0.03 * (std::abs(fd) + std::abs(dx.d[i])) + 2e-3) ++good;
  }
  INFO(good << " of " << checked << " gradient entries agree");
  CHECK(checked > 100);
  CHECK(good >= checked * 95 / 100);  // the rest: an activation kink inside +-h
  CHECK(kinds.count("5to3"));         // the elastic-kernel matrix is trained
  CHECK(kinds.count("bias"));
}

TEST_CASE("training core results are bit-identical at 1 and 2 threads", "[train]") {
  const SupernetSpace space = tiny_space();
  const Checkpoint params = perturbed_params(space);
  const std::vector<Layer> layers = space.layers(space.max_subnet());
  const Act x = random_input(5, 28, 6);
  Checkpoint g1, g2;
  PassOptions o1, o2;
  o2.threads = 2;
  SubnetPass p1(params, layers, o1), p2(params, layers, o2);
  const Act l1 = p1.forward(x), l2 = p2.forward(x);
  CHECK(l1.d == l2.d);
  Act d(l1.c, l1.n, 1, 1, 0.1f);
  p1.backward(d, g1);
  p2.backward(d, g2);
  CHECK(g1 == g2);
}

TEST_CASE("schedules: cosine with warm-up and the automatic controller", "[train]") {
  CHECK(cosine_lr(0.1, 0, 10, 100) == Approx(0.01));
  CHECK(cosine_lr(0.1, 9, 10, 100) == Approx(0.1));
  CHECK(cosine_lr(0.1, 55, 10, 100) == Approx(0.05));
  CHECK(cosine_lr(0.1, 100, 10, 100) == Approx(0.0).margin(1e-12));
  AutoLrState s;
  bool improved = false;
  CHECK(auto_lr_epoch_end(s, 2.0, improved) == AutoLrAction::Doubled);
  CHECK(auto_lr_epoch_end(s, 1.5, improved) == AutoLrAction::Doubled);
  CHECK(auto_lr(0.01, s) == Approx(0.04));
  CHECK(auto_lr_epoch_end(s, 1.7, improved) == AutoLrAction::HalvedRestored);  // exploration ends
  CHECK(auto_lr(0.01, s) == Approx(0.02));
  CHECK(auto_lr_epoch_end(s, 1.4, improved) == AutoLrAction::Keep);
  CHECK(auto_lr_epoch_end(s, 1.6, improved) == AutoLrAction::Keep);
  CHECK(auto_lr_epoch_end(s, 1.6, improved) == AutoLrAction::HalvedRestored);  // patience 2 exhausted
  CHECK(auto_lr(0.01, s) == Approx(0.01));
  CHECK(s.patience == 3);
}

namespace {

TrainConfig tiny_config(const std::string& out) {
  TrainConfig c = load_train_config("tests/data/train/tiny.yaml");
  c.output = out;
  return c;
}

FashionMnist tiny_data(const TrainConfig& c) {
  return load_fashion_mnist(c.validation, c.seed, c.limit_train, c.limit_test);
}

}  // namespace

TEST_CASE("a training run interrupted after an epoch and resumed ends with the same weights", "[train]") {
  const SupernetSpace space = tiny_space();
  const TrainConfig a = tiny_config("out/test_train_resume_a"), b = tiny_config("out/test_train_resume_b");
  std::filesystem::remove_all(a.output);
  std::filesystem::remove_all(b.output);
  Trainer full(a, space, tiny_data(a), 1);
  full.run(false);
  struct Stop {};
  {
    Trainer first(b, space, tiny_data(b), 2);
    CHECK_THROWS_AS(first.run(false,
                              [](const Progress& p) {
                                if (p.epoch == 2 && p.step == 1) throw Stop{};
                              }),
                    Stop);
  }
  Trainer resumed(b, space, tiny_data(b), 1);
  resumed.run(true);
  CHECK(resumed.history().size() == 3);
  CHECK(full.weights() == resumed.weights());
  CHECK(full.weights().serialize() == resumed.weights().serialize());
}

TEST_CASE("an evaluation interrupted part-way resumes from its saved progress with the same results",
          "[train]") {
  const SupernetSpace space = tiny_space();
  TrainConfig c = tiny_config("out/test_train_eval_resume");
  c.eval_extremes = false;  // max, min and 3 random
  c.eval_subnets = 3;
  c.int8_images = 10;
  std::filesystem::remove_all(c.output);
  Trainer whole(c, space, tiny_data(c), 1);
  whole.run(false);
  const std::vector<SubnetResult> expected = whole.evaluate();
  REQUIRE(expected.size() > 3);
  std::filesystem::remove(whole.eval_progress_path());
  struct Stop {};
  int notes = 0;
  {
    Trainer first(c, space, tiny_data(c), 1);
    first.run(true);  // nothing left to train
    CHECK_THROWS_AS(first.evaluate([&](const std::string&) {
      if (++notes == 2) throw Stop{};
    }),
                    Stop);
  }
  std::vector<std::string> said;
  auto collect = [&](const std::string& s) { said.push_back(s); };
  Trainer resumed(c, space, tiny_data(c), 1);
  resumed.run(true);
  const std::vector<SubnetResult> rs = resumed.evaluate(collect);
  REQUIRE(rs.size() == expected.size());
  CHECK(said.size() == expected.size() - 2 + 1);  // the rest, then "reused 2 ..."
  CHECK(said.back().rfind("reused 2 ", 0) == 0);
  for (size_t i = 0; i < rs.size(); ++i) {
    CHECK(rs[i].subnet == expected[i].subnet);
    CHECK(rs[i].label == expected[i].label);
    CHECK(rs[i].top1_fp32 == expected[i].top1_fp32);
    CHECK(rs[i].top1_fp32_subset == expected[i].top1_fp32_subset);
    CHECK(rs[i].top1_int8 == expected[i].top1_int8);
  }
  CHECK(resumed.weights().serialize() == whole.weights().serialize());
  // Progress under other evaluation keys, or a damaged file, is not reused.
  c.int8_images = 5;
  said.clear();
  Trainer other(c, space, tiny_data(c), 1);
  other.run(true);
  other.evaluate(collect);
  CHECK(said.size() == expected.size());
  write_file_atomic(other.eval_progress_path(), "{\"fingerprint\": [1, 2");
  said.clear();
  Trainer damaged(c, space, tiny_data(c), 1);
  damaged.run(true);
  damaged.evaluate(collect);
  CHECK(said.size() == expected.size());
}

namespace {

// Runs `images` test images of each of `subnets`, exported to int8 as `sushi train` evaluates them, through
// the SystemC cycle model in functional mode, the first `rtl_images` of them also through the Verilated RTL
// of edge_small: the logits (and every layer's output) must equal the int8 reference's, on every one of
// those runs.
void compare_on_accelerator(const SupernetSpace& space, const Checkpoint& weights, const FashionMnist& data,
                            const Int8Calibration& calibration, const std::vector<Subnet>& subnets,
                            int images, int rtl_images) {
  const sim::AccelConfig accel = sim::AccelConfig::load("workloads/accel/edge_small.yaml");
  int compared = 0;
  for (size_t si = 0; si < subnets.size(); ++si) {
    const Subnet& s = subnets[si];
    const QNetwork net = export_int8(weights, space, s, data.train, calibration);
    for (int i = 0; i < images; ++i) {
      const Tensor img = image_tensor(data.test, (int(si) * images + i) % data.test.size(), s.resolution);
      const QTensor q = quantize(img, QuantParams{net.in_scale, net.in_zp});
      const std::vector<QTensor> ref = run_qnetwork(net, q);
      for (const char* model : {"cycle", "rtl"}) {
        if (model == std::string("rtl") && i >= rtl_images) continue;
        std::vector<QTensor> outs;
        sim::simulate_functional(accel, space, s, space.empty_subgraph(), model, net, q, outs);
        REQUIRE(outs.size() == ref.size());
        for (size_t l = 0; l < ref.size(); ++l) CHECK(outs[l].data == ref[l].data);
        ++compared;
      }
    }
  }
  CHECK(compared == int(subnets.size()) * (images + std::min(images, rtl_images)));
}

// Trains the tiny config and compares its evaluated subnets; with SUSHI_TRAINED_CKPT set, uses that
// supernet.ckpt of fmnist_tiny instead (e.g. out/train/fmnist_deps_full/supernet.ckpt) and the subnets whose
// recalibrated batch norm it holds.
void trained_bitexact(int subnets, int images, int rtl_images) {
  const SupernetSpace space = tiny_space();
  std::vector<Subnet> picked;
  if (const char* ckpt = std::getenv("SUSHI_TRAINED_CKPT")) {
    const Checkpoint weights = Checkpoint::load(ckpt);
    const std::set<std::string> keys = subnet_norm_keys(weights);
    for (const std::string& k : keys)
      if (int(picked.size()) < subnets) picked.push_back(space.parse_subnet(k));
    REQUIRE(int(picked.size()) == subnets);
    WARN("trained supernet " << ckpt << ": " << picked.size() << " of its " << keys.size() << " subnets");
    const Int8Calibration calibration = int8_calibration_of(weights, ckpt);
    compare_on_accelerator(
        space, weights, load_fashion_mnist(calibration.validation, calibration.seed, calibration.limit_train),
        calibration, picked, images, rtl_images);
    return;
  }
  TrainConfig c = tiny_config("out/test_train_e2e");
  c.eval_subnets = subnets;
  c.int8_images = 20;
  std::filesystem::remove_all(c.output);
  Trainer t(c, space, tiny_data(c), 2);
  t.run(false);
  CHECK(t.history().back().loss < t.history().front().loss + 0.5);
  const std::vector<SubnetResult> rs = t.evaluate();
  REQUIRE(int(rs.size()) >= subnets);
  for (const SubnetResult& r : rs) {
    CHECK(r.top1_fp32 >= 0);
    CHECK(r.top1_int8 >= 0);
  }
  for (int si = 0; si < subnets; ++si) picked.push_back(rs[size_t(si)].subnet);
  compare_on_accelerator(space, t.weights(), tiny_data(c), int8_calibration(c), picked, images, rtl_images);
}

}  // namespace

TEST_CASE("tiny end-to-end run: trained int8 subnets run bit-exact on the cycle model and the RTL",
          "[train]") {
  trained_bitexact(10, 2, 1);
}

// >= 10 trained subnets x >= 100 test images on both (long: cmake -DSUSHI_LONG_TESTS=ON, ctest -L long).
TEST_CASE("trained subnets are bit-exact on the cycle model and the RTL for 10 subnets x 100 images",
          "[.][train_long]") {
  trained_bitexact(10, 100, 100);
}

namespace {

// Finite-difference check of every parameter tensor (two entries each) and of the input gradient.
int fd_agreement(const Checkpoint& start, const std::vector<Layer>& layers, const Act& x, int& checked) {
  Checkpoint params = start;
  SubnetPass pass(params, layers, PassOptions{});
  const Act& logits = pass.forward(x);
  std::vector<double> r;
  Rng rr(4);
  for (size_t i = 0; i < logits.d.size(); ++i) r.push_back(rr.normal());
  Act dlog(logits.c, logits.n, 1, 1);
  for (size_t i = 0; i < dlog.d.size(); ++i) dlog.d[i] = float(r[i]);
  Checkpoint grads;
  const Act dx = pass.backward(dlog, grads, true);
  auto loss = [&](const Act& in) {
    SubnetPass p(params, layers, PassOptions{});
    return readout(p.forward(in), r);
  };
  auto agree = [](double fd, double an) {
    return std::abs(fd - an) <= 0.03 * (std::abs(fd) + std::abs(an)) + 2e-3;
  };
  int good = 0;
  checked = 0;
  Rng pick(11);
  for (const std::string& name : grads.names()) {
    const NdArray& g = grads.at(name);
    for (int k = 0; k < 2; ++k) {
      const size_t i = size_t(pick.uniform_int(uint64_t(g.data.size())));
      float& p = params.find_mutable(name)->data[i];
      const float old = p, h = 1e-2f * std::max(1.0f, std::abs(old));
      p = old + h;
      const double up = loss(x);
      p = old - h;
      const double down = loss(x);
      p = old;
      ++checked;
      const double fd = (up - down) / (2.0 * double(h));
      if (agree(fd, g.data[i]))
        ++good;
      else
        WARN(name << "[" << i << "]: finite difference " << fd << ", backward " << g.data[i]);
    }
  }
  for (int k = 0; k < 16; ++k) {
    const size_t i = size_t(pick.uniform_int(uint64_t(x.d.size())));
    Act xp = x, xm = x;
    xp.d[i] += 1e-2f;
    xm.d[i] -= 1e-2f;
    ++checked;
    const double fd = (loss(xp) - loss(xm)) / 2e-2;
    if (agree(fd, dx.d[i]))
      ++good;
    else
      WARN("input[" << i << "]: finite difference " << fd << ", backward " << dx.d[i]);
  }
  return good;
}

}  // namespace

TEST_CASE("max and average pooling backward match finite differences in a small ResNet space", "[train]") {
  const SupernetSpace space = SupernetSpace::from_yaml(YamlView::parse(R"(
name: resnet_tiny_test
family: resnet
input_channels: 1
classes: 10
resolution: {choices: [16]}
kernel: 3
stem: {channels: 16}
stages:
  - {out: 32, stride: 1, base_depth: 1}
  - {out: 64, stride: 2, base_depth: 1}
elastic:
  extra_depth: [0, 1]
  expand: [0.25, 0.5]
  width_mult: [0.5, 1.0]
)",
                                                                       "resnet_tiny_test"));
  const std::vector<Layer> layers = space.layers(space.max_subnet());
  std::set<LayerKind> kinds;
  for (const Layer& l : layers) kinds.insert(l.kind);
  REQUIRE(kinds.count(LayerKind::MaxPool));
  REQUIRE(kinds.count(LayerKind::AvgPool));
  // Each pool layer alone (its geometry from the space: max 3x3 s2 pad 1, average 2x2 s2 in ceil mode),
  // input gradient against central differences; random inputs have no ties.
  for (const Layer& pool : layers) {
    if (pool.kind != LayerKind::MaxPool && pool.kind != LayerKind::AvgPool) continue;
    Layer l = pool;
    l.input = -1;
    l.input2 = -1;
    l.batch_norm = false;
    l.act = Activation::None;
    const Checkpoint none;
    Rng rx(21);
    Act x(l.in_c, 2, l.in_h, l.in_w);
    for (float& v : x.d) v = float(rx.normal());
    SubnetPass pass(none, {l}, PassOptions{});
    const Act& y = pass.forward(x);
    std::vector<double> r;
    for (size_t i = 0; i < y.d.size(); ++i) r.push_back(rx.normal());
    Act dy(y.c, y.n, y.h, y.w);
    for (size_t i = 0; i < dy.d.size(); ++i) dy.d[i] = float(r[i]);
    Checkpoint grads;
    const Act dx = pass.backward(dy, grads, true);
    int bad = 0;
    for (size_t i = 0; i < x.d.size(); i += 7) {
      Act xp = x, xm = x;
      xp.d[i] += 1e-3f;
      xm.d[i] -= 1e-3f;
      SubnetPass pp(none, {l}, PassOptions{}), pm(none, {l}, PassOptions{});
      const double fd = (readout(pp.forward(xp), r) - readout(pm.forward(xm), r)) / 2e-3;
      bad += std::abs(fd - dx.d[i]) > 1e-2 * (1 + std::abs(fd));
    }
    INFO(l.name << ": " << bad << " input-gradient entries disagree");
    CHECK(bad == 0);
  }
  Checkpoint params = initial_supernet(space, 3);
  // The whole ResNet subnet (ReLU everywhere, batch norm over two images: kinkier than MobileNetV3's
  // h-swish, so a looser share) trains through the pools.
  int checked = 0;
  const int good = fd_agreement(params, layers, random_input(2, 16, 5), checked);
  INFO(good << " of " << checked << " gradient entries agree");
  CHECK(checked > 40);
  CHECK(good >= checked * 60 / 100);
  // bit-identical at 1 and 2 threads through the pools too
  PassOptions o2;
  o2.threads = 2;
  SubnetPass p1(params, layers, PassOptions{}), p2(params, layers, o2);
  const Act x = random_input(3, 16, 6);
  CHECK(p1.forward(x).d == p2.forward(x).d);
}

TEST_CASE("resolution elasticity: a space with resolutions 20, 24, 28 trains and evaluates at each",
          "[train]") {
  std::string text = read_file("workloads/supernets/fmnist_tiny.yaml");
  const size_t at = text.find("resolution: {choices: [28]}");
  REQUIRE(at != std::string::npos);
  text.replace(at, std::string("resolution: {choices: [28]}").size(), "resolution: {choices: [20, 24, 28]}");
  const SupernetSpace space = SupernetSpace::from_yaml(YamlView::parse(text, "fmnist_tiny_res"));
  int checked = 0;
  const Subnet s24 =
      space.parse_subnet(R"({"ks":[3,5,3,5,3,3,3,5,3],"e":[2,4,3,3,2,4,4,2,3],"d":[2,2,3],"image_size":24})");
  const int good = fd_agreement(perturbed_params(space), space.layers(s24), random_input(2, 24, 3), checked);
  CHECK(good >= checked * 95 / 100);
  TrainConfig c = tiny_config("out/test_train_resolution");
  c.epochs = 1;
  c.eval_subnets = 0;  // max, min and the extremes: max_r20 and max_r24 among them
  c.int8_images = 10;
  std::filesystem::remove_all(c.output);
  Trainer t(c, space, tiny_data(c), 2);
  t.run(false);
  std::set<int> resolutions;
  for (const SubnetResult& r : t.evaluate()) {
    resolutions.insert(r.subnet.resolution);
    CHECK(r.top1_int8 >= 0);
  }
  CHECK(resolutions == std::set<int>{20, 24, 28});  // min at 20, max_r24, max at 28
}

TEST_CASE("every shipped training config loads, names its own output folder and a supernet that exists",
          "[train]") {
  int n = 0;
  std::set<std::string> outputs;
  for (const auto& e : std::filesystem::directory_iterator("workloads/train")) {
    if (e.path().extension() != ".yaml") continue;
    INFO(e.path().string());
    const TrainConfig c = load_train_config(e.path().string());
    CHECK(c.name == e.path().stem().string());
    CHECK(std::filesystem::exists(c.supernet));
    CHECK(outputs.insert(c.output).second);
    CHECK(c.epochs >= 1);
    ++n;
  }
  CHECK(n >= 12);
}
