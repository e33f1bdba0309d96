// Checkpoint format: round trip, truncated and corrupted files, .npy export.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "base/errors.h"
#include "base/provenance.h"
#include "models/ref/checkpoint.h"

using namespace sushi;

namespace {

Checkpoint sample() {
  Checkpoint c;
  c.metadata = "{\"format\": \"test\"}";
  NdArray a({2, 3, 1, 1});
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = float(i) * 0.5f - 1;
  c.add("layer.weight", a);
  c.add("layer.bn.running_var", NdArray({3}, 1.0f));
  c.add("subnet_norm/{\"ks\": [3]}/layer.bn.running_mean", NdArray({3}, -0.25f));
  return c;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sushi_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::string error_of(const std::string& bytes, const std::string& origin) {
  try {
    Checkpoint::deserialize(bytes, origin);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checkpoint round trip through a file", "[numerics][checkpoint]") {
  const Checkpoint c = sample();
  const std::string path = temp_path("round.ckpt");
  c.save(path);
  const Checkpoint back = Checkpoint::load(path);
  CHECK(back == c);
  CHECK(back.names() == c.names());
  CHECK(back.metadata == c.metadata);
  CHECK(back.at("layer.weight").shape == std::vector<int64_t>{2, 3, 1, 1});
  CHECK(back.parameter_count() == 12);
  CHECK(!std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));
  std::filesystem::remove(path);
}

TEST_CASE("truncated and corrupted checkpoints are rejected with the file and the problem",
          "[numerics][checkpoint]") {
  const std::string bytes = sample().serialize();
  for (size_t cut : {size_t(0), size_t(5), size_t(20), size_t(40), bytes.size() / 2, bytes.size() - 1}) {
    const std::string msg = error_of(bytes.substr(0, cut), "weights.ckpt");
    INFO("cut at " << cut << ": " << msg);
    CHECK(msg.find("weights.ckpt") != std::string::npos);
    CHECK((msg.find("truncated") != std::string::npos ||
           msg.find("not a sushi checkpoint") != std::string::npos));
  }
  for (size_t at :
       {size_t(30), bytes.size() / 2, bytes.size() - 20}) {  // one flipped bit anywhere in the body
    std::string bad = bytes;
    bad[at] = char(bad[at] ^ 0x10);
    const std::string msg = error_of(bad, "weights.ckpt");
    INFO("flip at " << at << ": " << msg);
    CHECK(msg.find("weights.ckpt: checkpoint checksum mismatch") != std::string::npos);
  }
  std::string magic = bytes;
  magic[0] = 'X';
  CHECK(error_of(magic, "w.ckpt").find("w.ckpt: not a sushi checkpoint") != std::string::npos);
  std::string version = bytes;
  version[8] = 9;
  CHECK(error_of(version, "w.ckpt").find("unsupported checkpoint version 9") != std::string::npos);
  CHECK(error_of(bytes + "xx", "w.ckpt").find("oversized") != std::string::npos);
  // A record that lies about its size, with a checksum that matches: the bounds checks catch it.
  std::string body = bytes.substr(0, bytes.size() - 16);
  const uint32_t huge = 1u << 30;
  const size_t name_len_at = 8 + 4 + 8 + 4 + sample().metadata.size() + 4;
  std::memcpy(&body[name_len_at], &huge, 4);
  const std::string liar = body + content_hash(body);
  CHECK(error_of(liar, "w.ckpt").find("w.ckpt: corrupted checkpoint: tensor #0 name runs past the end") !=
        std::string::npos);
  CHECK_THROWS_AS(Checkpoint::load("/nonexistent/dir/w.ckpt"), InputError);
}

TEST_CASE("tensors export to NumPy .npy", "[numerics][checkpoint]") {
  NdArray a({2, 3});
  for (size_t i = 0; i < 6; ++i) a.data[i] = float(i);
  const std::string npy = npy_bytes(a);
  REQUIRE(npy.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const size_t header = size_t(uint8_t(npy[8])) | size_t(uint8_t(npy[9])) << 8;
  CHECK((10 + header) % 64 == 0);
  CHECK(npy.find("'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") != std::string::npos);
  CHECK(npy.size() == 10 + header + 24);
  float last = 0;
  std::memcpy(&last, npy.data() + npy.size() - 4, 4);
  CHECK(last == 5.0f);
  CHECK(npy_bytes(NdArray({7})).find("'shape': (7,)") != std::string::npos);
  CHECK(npy_file_name("subnet_norm/{\"ks\": [3]}/x.bn") == "subnet_norm___ks____3___x.bn.npy");
}

// Training holds the gradient tensor of one parameter while it adds the next (SubnetPass::backward_norm);
// with contiguous storage the first reference dangled (a heap-use-after-free under ASan).
TEST_CASE("a checkpoint tensor's reference stays valid while tensors are added", "[numerics][checkpoint]") {
  Checkpoint c;
  NdArray& first = c.add("first", NdArray({2}, 1.0f));
  for (int i = 0; i < 1000; ++i) c.add("t" + std::to_string(i), NdArray({3}, float(i)));
  REQUIRE(c.find_mutable("first") == &first);
  first.data[1] = 7.0f;
  CHECK(c.at("first").data == std::vector<float>{1.0f, 7.0f});
  CHECK(c.at("t999").data == std::vector<float>(3, 999.0f));
}
