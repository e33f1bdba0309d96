// Weight sharing in the forward pass, subnet extraction, and fp32 vs int8 agreement.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <set>

#include "models/ref/forward.h"
#include "models/ref/int8.h"
#include "tools/cli.h"

using namespace sushi;

namespace {

SupernetSpace space_of(const std::string& name) {
  return SupernetSpace::load("workloads/supernets/" + name + ".yaml");
}

double cosine(const Tensor& a, const Tensor& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    ab += double(a.data[i]) * b.data[i];
    aa += double(a.data[i]) * a.data[i];
    bb += double(b.data[i]) * b.data[i];
  }
  return ab / std::sqrt(aa * bb);
}

double spread(const Tensor& t) {
  double mean = std::accumulate(t.data.begin(), t.data.end(), 0.0) / double(t.data.size()), var = 0;
  for (float v : t.data) var += (v - mean) * (v - mean);
  return std::sqrt(var / double(t.data.size()));
}

Subnet with_kernel(const SupernetSpace& space, Subnet s, int k) {
  for (int& v : s.kernel)
    if (v > 0) v = k;
  return space.canonical(s);
}

}  // namespace

TEST_CASE("a subnet's forward on the supernet equals the forward of its extracted tensors",
          "[numerics][forward]") {
  for (const char* name : {"fmnist_tiny", "ofa_mbv3", "ofa_resnet50"}) {
    const SupernetSpace space = space_of(name);
    Checkpoint supernet = make_random_supernet(space, 42);
    Rng rng(9);
    Subnet s = space.random_subnet(rng);
    if (space.name() == "ofa_resnet50") s.resolution = 128;  // keep the test fast
    const int r = s.resolution == 224 ? 128 : s.resolution;
    const auto layers = space.layers(s, r);
    add_subnet_norm(supernet, space, s, random_images(2, space.input_channels(), r, r, 5));
    const Checkpoint standalone = extract_subnet(supernet, space, s);
    const Checkpoint reloaded = Checkpoint::deserialize(standalone.serialize(), "memory");
    const Tensor image = random_images(1, space.input_channels(), r, r, 77)[0];
    const Tensor shared = forward_fp32(supernet, layers, image, subnet_key(space, s));
    const Tensor alone = forward_fp32(reloaded, layers, image);
    INFO(name << " " << space.to_json(s));
    REQUIRE(shared.data.size() == size_t(space.classes()));
    CHECK(spread(shared) > 0.1);  // meaningful logits, neither vanished nor exploded
    CHECK(spread(shared) < 100);
    CHECK(shared.data == alone.data);  // bit for bit: same values, same operation order
    CHECK(standalone.parameter_count() < supernet.parameter_count());
  }
}

TEST_CASE("elastic kernels read the transformed centre and SubnetNorm overrides shared statistics",
          "[numerics][forward]") {
  const SupernetSpace space = space_of("fmnist_tiny");
  Checkpoint supernet = make_random_supernet(space, 1);
  const Subnet k3 = with_kernel(space, space.max_subnet(), 3);
  const auto layers = space.layers(k3);
  const Tensor image = random_images(1, 1, 28, 28, 3)[0];
  const Tensor with_transform = forward_fp32(supernet, layers, image);

  // The transformed 3x3 of one depthwise layer, by hand: centre 3x3 of the 5x5, through the 9x9 matrix.
  const std::string dw = "stage1.block0.dw";
  const Layer& l = *std::find_if(layers.begin(), layers.end(), [&](const Layer& x) { return x.name == dw; });
  const ResolvedLayer resolved = resolve_layer(supernet, l, "");
  const NdArray& full = supernet.at(dw + ".weight");
  const NdArray& m = supernet.at(dw + ".kernel_transform.5to3");
  REQUIRE(full.shape[2] == 5);
  for (int c : {0, l.out_c - 1})
    for (int j = 0; j < 9; ++j) {
      double want = 0;
      for (int i = 0; i < 9; ++i)
        want += m.data[j * 9 + i] * full.data[c * 25 + (i / 3 + 1) * 5 + (i % 3 + 1)];
      CHECK(resolved.weights.at(c, 0, j / 3, j % 3) == Approx(want).margin(1e-6));
    }
  Checkpoint cropped;
  for (const std::string& n : supernet.names())
    if (n.find("kernel_transform") == std::string::npos) cropped.add(n, supernet.at(n));
  CHECK(forward_fp32(cropped, layers, image).data != with_transform.data);

  // SubnetNorm: a subnet with its own statistics uses them; others fall back to the shared ones.
  const std::string key = subnet_key(space, k3);
  add_subnet_norm(supernet, space, k3, random_images(4, 1, 28, 28, 8));
  CHECK(supernet.has("subnet_norm/" + key + "/stem.conv.bn.running_mean"));
  CHECK(forward_fp32(supernet, layers, image, key).data != with_transform.data);
  CHECK(forward_fp32(supernet, layers, image, "{\"other\": 1}").data == with_transform.data);
}

namespace {

// fp32 vs int8 logits of random-weight subnets (max, min, random ones) of one space on seeded images.
void check_int8_tracks_fp32(const std::string& name, int subnets, int resolution) {
  const SupernetSpace space = space_of(name);
  const Checkpoint supernet = make_random_supernet(space, 100);
  std::vector<double> cosines, between_images;
  Rng rng(2024);
  for (int i = 0; i < subnets; ++i) {
    Subnet s = i == 0 ? space.max_subnet() : i == 1 ? space.min_subnet() : space.random_subnet(rng);
    s.resolution = resolution;
    Checkpoint weights = supernet;
    const auto calibration = random_images(calibration_image_count(resolution), space.input_channels(),
                                           resolution, resolution, 7 + uint64_t(i));
    add_subnet_norm(weights, space, s, calibration);
    const std::string key = subnet_key(space, s);
    const auto layers = space.layers(s);
    const QNetwork net = quantize_subnet(weights, layers, calibration, key);
    std::vector<Tensor> logits;
    for (const Tensor& image : random_images(3, space.input_channels(), resolution, resolution, 99)) {
      const Tensor fp32 = forward_fp32(weights, layers, image, key);
      const Tensor int8 = dequantize(run_qnetwork(net, quantize(image, {net.in_scale, net.in_zp})).back());
      REQUIRE(spread(fp32) > 0.1);
      cosines.push_back(cosine(fp32, int8));
      logits.push_back(fp32);
    }
    // The logits depend on the image: agreement is not a network that answers everything alike.
    for (size_t a = 0; a < logits.size(); ++a)
      for (size_t b = a + 1; b < logits.size(); ++b) between_images.push_back(cosine(logits[a], logits[b]));
  }
  std::sort(cosines.begin(), cosines.end());
  std::sort(between_images.begin(), between_images.end());
  std::cout << name << " @" << resolution << ": cosine(fp32, int8 logits) over " << cosines.size()
            << " (subnet, image) pairs: min " << cosines.front() << " median " << cosines[cosines.size() / 2]
            << " max " << cosines.back() << "; cosine between two images' fp32 logits: median "
            << between_images[between_images.size() / 2] << " max " << between_images.back() << "\n";
  CHECK(cosines.front() >= 0.99);
  CHECK(between_images[between_images.size() / 2] < 0.9);
}

}  // namespace

TEST_CASE("int8 forward of fmnist_tiny random-weight subnets tracks fp32 (cosine >= 0.99)",
          "[numerics][int8]") {
  check_int8_tracks_fp32("fmnist_tiny", 10, 28);
}

TEST_CASE("int8 forward of ofa_mbv3 random-weight subnets at 128 tracks fp32 (cosine >= 0.99)",
          "[numerics][int8]") {
  check_int8_tracks_fp32("ofa_mbv3", 3, 128);
}

TEST_CASE("make_random_qnetwork is deterministic and int8 results do not depend on threads",
          "[numerics][int8]") {
  const SupernetSpace space = space_of("fmnist_tiny");
  Rng rng(4);
  const Subnet s = space.random_subnet(rng);
  const QNetwork a = make_random_qnetwork(space, s, 17), b = make_random_qnetwork(space, s, 17);
  REQUIRE(a.ops.size() == space.layers(s).size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    CHECK(a.ops[i].weights == b.ops[i].weights);
    CHECK(a.ops[i].bias == b.ops[i].bias);
    CHECK(a.ops[i].out_zp == b.ops[i].out_zp);
    CHECK(a.ops[i].lut == b.ops[i].lut);
  }
  const QTensor input = make_random_qtensor(1, 28, 28, 5, a.in_scale, a.in_zp);
  set_kernel_threads(1);
  const auto one = run_qnetwork(a, input);
  set_kernel_threads(2);
  const auto two = run_qnetwork(a, input);
  set_kernel_threads(1);
  CHECK(one.back() == two.back());
  CHECK(one.back() == run_qnetwork(b, input).back());
  std::set<int> distinct(one.back().data.begin(), one.back().data.end());
  CHECK(distinct.size() > 3);  // logits are not collapsed onto one code
}

TEST_CASE("fp32 forward is bit-identical at 1 and 2 threads", "[numerics][fp32]") {
  const SupernetSpace space = space_of("ofa_mbv3");
  const Checkpoint weights = make_random_supernet(space, 3);
  Subnet s = space.max_subnet();
  s.resolution = 160;  // maps up to 80x80: several column blocks per GEMM
  const auto layers = space.layers(s);
  const Tensor image = random_images(1, 3, 160, 160, 9).front();
  set_kernel_threads(1);
  const Tensor one = forward_fp32(weights, layers, image);
  set_kernel_threads(2);
  const Tensor two = forward_fp32(weights, layers, image);
  set_kernel_threads(1);
  REQUIRE(one.data.size() == two.data.size());
  CHECK(std::memcmp(one.data.data(), two.data.data(), one.data.size() * sizeof(float)) == 0);
}

TEST_CASE("sushi export writes a supernet and a standalone subnet checkpoint", "[numerics][cli]") {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("sushi_export_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string space_file = "workloads/supernets/fmnist_tiny.yaml";
  REQUIRE(cli::run(
              {"export", "--supernet", space_file, "--random-seed", "5", "--out", dir + "/super.ckpt"}) == 0);
  REQUIRE(cli::run({"export", "--supernet", space_file, "--checkpoint", dir + "/super.ckpt", "--subnet",
                    "min", "--out", dir + "/min.ckpt", "--npy", dir + "/npy"}) == 0);
  const SupernetSpace space = space_of("fmnist_tiny");
  const Checkpoint supernet = Checkpoint::load(dir + "/super.ckpt");
  CHECK(supernet == make_random_supernet(space, 5));
  const Checkpoint min = Checkpoint::load(dir + "/min.ckpt");
  const auto layers = space.layers(space.min_subnet());
  const Tensor image = random_images(1, 1, 28, 28, 1)[0];
  CHECK(forward_fp32(min, layers, image).data == forward_fp32(supernet, layers, image).data);
  CHECK(std::filesystem::exists(dir + "/npy/stem.conv.weight.npy"));
  // Bad input exits with status 2.
  CHECK(cli::run({"export", "--supernet", space_file, "--out", dir + "/x.ckpt"}) == 2);
  std::filesystem::resize_file(dir + "/min.ckpt", 100);
  CHECK(cli::run({"export", "--supernet", space_file, "--checkpoint", dir + "/min.ckpt", "--subnet", "min",
                  "--out", dir + "/x.ckpt"}) == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NCHW tensors: an image is a view into its batch, the per-image API is image 0's",
          "[numerics][batch]") {
  Tensor t = Tensor::batch(3, 2, 4, 5);
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = float(i);
  CHECK(t.n == 3);
  CHECK(t.image_size() == 40);
  CHECK(t.image(0).data == t.data.data());  // no copy
  CHECK(t.image(2).data == t.data.data() + 80);
  CHECK(t.at(1, 1, 2) == t.image(0).at(1, 1, 2));
  CHECK(t.at(2, 1, 3, 4) == t.image(2).at(1, 3, 4));
  CHECK(t.at(2, 1, 3, 4) == float(2 * 40 + 1 * 20 + 3 * 5 + 4));
  const Tensor single(2, 4, 5);
  CHECK(single.n == 1);
  CHECK(ConstFImage(single).data == single.data.data());
  QTensor q = make_random_qtensor(2, 3, 3, 1);
  CHECK(q.n == 1);
  CHECK(q.image(0).at(1, 2, 2) == q.at(1, 2, 2));
  CHECK(q.at(0, 1, 2, 2) == q.at(1, 2, 2));
}

TEST_CASE("a batch's fp32 and int8 forward equal its images run one by one, at 1 and 2 threads",
          "[numerics][batch]") {
  const SupernetSpace space = space_of("fmnist_tiny");
  const Subnet s = space.parse_subnet("random:5");
  Checkpoint weights = make_random_supernet(space, 6);
  const auto layers = space.layers(s);
  const auto images = random_images(3, space.input_channels(), s.resolution, s.resolution, 12);
  ForwardOptions opt;
  opt.keep_all = true;
  for (int threads : {1, 2}) {
    set_kernel_threads(threads);
    const ForwardResult batch = forward_fp32(weights, layers, images, opt);
    REQUIRE(batch.logits().n == 3);
    for (int i = 0; i < 3; ++i) {
      const ForwardResult alone = forward_fp32(weights, layers, images[size_t(i)], opt);
      for (size_t li = 0; li < layers.size(); ++li) {
        const ConstFImage a = batch.outputs[li].image(i), b = alone.outputs[li].image(0);
        REQUIRE(a.size() == b.size());
        CHECK(std::memcmp(a.data, b.data, a.size() * sizeof(float)) == 0);
      }
    }
  }
  set_kernel_threads(1);
  const QNetwork net = make_random_qnetwork(space, s, 7);
  QTensor qbatch;
  std::vector<QTensor> singles;
  for (int i = 0; i < 3; ++i) {
    singles.push_back(make_random_qtensor(space.input_channels(), s.resolution, s.resolution,
                                          20 + uint64_t(i), net.in_scale, net.in_zp));
    qbatch.data.insert(qbatch.data.end(), singles.back().data.begin(), singles.back().data.end());
  }
  qbatch.n = 3;
  qbatch.c = singles[0].c;
  qbatch.h = singles[0].h;
  qbatch.w = singles[0].w;
  qbatch.scale = net.in_scale;
  qbatch.zero_point = net.in_zp;
  const auto out = run_qnetwork(net, qbatch);
  for (int i = 0; i < 3; ++i) {
    const auto alone = run_qnetwork(net, singles[size_t(i)]);
    for (size_t li = 0; li < out.size(); ++li) {
      const ConstQImage a = out[li].image(i), b = alone[li].image(0);
      REQUIRE(a.size() == b.size());
      CHECK(std::memcmp(a.data, b.data, a.size()) == 0);
    }
  }
}
