#pragma once
// Supernet spaces, SubNets, layer enumeration and the SubGraph algebra (ARCHITECTURE.md contract 1).
//
// Weight sharing is nested: a smaller choice reads the leading output channels, the leading input
// channels, the leading blocks of a stage and the centre of the kernel. So every weight slice a layer reads
// is described by (tensor, out, in, k) and two slices of one tensor intersect in (min out, min in, min k).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/yaml.h"

namespace sushi {

enum class LayerKind {
  Conv,
  Depthwise,
  Pointwise,
  FC,
  SEReduce,
  SEExpand,
  SEScale,
  GlobalPool,
  MaxPool,
  AvgPool,
  Add
};
enum class Activation { None, ReLU, HSwish, HSigmoid };

const char* to_string(LayerKind kind);
const char* to_string(Activation act);
Activation parse_activation(const YamlView& v);

// The leading part of one supernet tensor that a layer reads. `in` counts input channels per group
// (1 for depthwise). A null slice (out == 0) reads nothing.
struct WeightSlice {
  int tensor = -1;
  int out = 0;
  int in = 0;
  int k = 0;
  bool has_bias = false;  // int32 bias per output channel (folded batch norm or a real bias)

  int64_t weight_elems() const { return int64_t(out) * in * k * k; }
  // int8 weights plus int32 biases: what the accelerator stores for this slice.
  int64_t bytes() const { return weight_elems() + (has_bias ? 4 * int64_t(out) : 0); }
  bool empty() const { return out == 0; }
  bool inside(const WeightSlice& other) const {
    return empty() || (tensor == other.tensor && out <= other.out && in <= other.in && k <= other.k);
  }
};
WeightSlice intersect(const WeightSlice& a, const WeightSlice& b);

struct Layer {
  std::string name;
  LayerKind kind = LayerKind::Conv;
  int input = -1;   // index of the producing layer, -1 = network input
  int input2 = -1;  // second operand of Add / SEScale
  int in_c = 0, in_h = 0, in_w = 0;
  int out_c = 0, out_h = 0, out_w = 0;
  int kernel = 1, stride = 1, pad = 0, groups = 1;
  bool batch_norm = false;  // followed by batch norm (folded into the int8 weights and bias)
  Activation act = Activation::None;
  int64_t macs = 0;
  int64_t params = 0;  // fp32 trainable parameters as PyTorch counts them (weights, bias, BN gamma/beta)
  int64_t weight_bytes = 0;  // int8 weights + int32 bias; 0 for layers without weights
  WeightSlice slice;         // slice.tensor == -1 for layers without weights
  bool has_weights() const { return slice.tensor >= 0; }
};

// A full tensor of the supernet (the slice every layer of the max subnet reads).
struct TensorInfo {
  std::string name;
  WeightSlice full;
  LayerKind kind = LayerKind::Conv;
};

// One value per elastic dimension. Entries of blocks past a stage's depth are 0 in canonical form.
struct Subnet {
  int resolution = 0;
  std::vector<int> depth;      // per elastic stage (ResNet: entry 0 is the input stem's skippable block)
  std::vector<int> kernel;     // per block slot
  std::vector<double> expand;  // per block slot
  std::vector<double> width;   // per width slot (empty when width is not elastic)
  bool operator==(const Subnet& o) const {
    return resolution == o.resolution && depth == o.depth && kernel == o.kernel && expand == o.expand &&
           width == o.width;
  }
  bool operator!=(const Subnet& o) const { return !(*this == o); }
  bool operator<(const Subnet& o) const;
};

// A set of weight slices of the supernet: what the Persistent Buffer holds. One extent per tensor
// (empty where the SubGraph holds nothing of that tensor).
struct SubGraph {
  std::vector<WeightSlice> slices;
  int64_t bytes() const;
  bool contains(const SubGraph& other) const;
};
SubGraph intersect(const SubGraph& a, const SubGraph& b);

// The elastic dimensions of a space, shared by every family.
struct ElasticSpec {
  std::vector<int> resolutions;
  int stages = 0;
  std::vector<int> base_blocks;                     // blocks always present per stage (before depth choice)
  std::vector<int> max_blocks;                      // block slots per stage
  std::vector<std::vector<int>> depth_choices;      // per stage: the depth value chosen by a subnet
  std::vector<std::vector<int>> kernel_choices;     // per stage
  std::vector<std::vector<double>> expand_choices;  // per stage
  std::map<int, double> expand_from_depth;          // CompOFA compound coupling (empty when not coupled)
  std::vector<std::vector<double>> width_choices;   // per width slot
  int block_slots() const;
  int stage_of_slot(int slot) const;
  int first_slot(int stage) const;
  // Blocks a stage runs for a given depth value.
  std::function<int(int stage, int depth)> blocks_for_depth = [](int, int d) { return d; };
};

class SupernetSpace;

// A supernet family (MobileNetV3-like, ResNet-like) turns a subnet into its layer list. Families register
// themselves by name (SUSHI_REGISTER(SpaceFamily, ...), base/registry.h) and are picked with `family:` in the
// space YAML.
class SpaceFamily {
 public:
  static constexpr const char* kRegistryKind = "supernet_family";
  using Factory = std::function<std::unique_ptr<SpaceFamily>(const YamlView&)>;
  virtual ~SpaceFamily() = default;
  virtual std::vector<Layer> build(const Subnet& s, int resolution) const = 0;
  virtual const ElasticSpec& elastic() const = 0;
  virtual int input_channels() const = 0;
  virtual int classes() const = 0;
};

class SupernetSpace {
 public:
  static SupernetSpace load(const std::string& path);
  static SupernetSpace from_yaml(const YamlView& root);

  const std::string& name() const { return name_; }
  const std::string& family_name() const { return family_name_; }
  const std::string& source() const { return source_; }
  const ElasticSpec& elastic() const { return family_->elastic(); }
  int input_channels() const { return family_->input_channels(); }
  int classes() const { return family_->classes(); }
  int default_resolution() const { return elastic().resolutions.back(); }

  Subnet max_subnet() const;
  Subnet min_subnet() const;
  Subnet random_subnet(Rng& rng) const;
  // `max`, `min`, `random:SEED` or the JSON form {"ks":[...],"e":[...],"d":[...],"w":[...],"image_size":R}.
  Subnet parse_subnet(const std::string& spec) const;
  Subnet from_json(const YamlView& v) const;
  std::string to_json(const Subnet& s) const;  // canonical, one line
  Subnet canonical(const Subnet& in,
                   const std::string& origin = "subnet") const;  // zeroes unused slots; validates
  void validate(const Subnet& s, const std::string& origin = "subnet") const;

  // Number of subnets at one resolution; nullopt when it does not fit in 64 bits.
  std::optional<uint64_t> count() const;
  // Every subnet at the default resolution, in a fixed order; throws when there are more than `limit`.
  std::vector<Subnet> enumerate(uint64_t limit = 1000000) const;

  std::vector<Layer> layers(const Subnet& s, int resolution = 0) const;  // 0 = the subnet's own resolution
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  int tensor_index(const std::string& name) const;

  Subnet intersect(const Subnet& a, const Subnet& b) const;  // the weights two subnets share, as a subnet
  SubGraph subgraph(const Subnet& s) const;                  // the weights of subnet s
  SubGraph empty_subgraph() const { return SubGraph{std::vector<WeightSlice>(tensors_.size())}; }
  // Subnet s's SubGraph cut to a byte budget: whole layers in execution order, then the leading output
  // channels of the next layer that still fit.
  SubGraph partial_subgraph(const Subnet& s, int64_t budget_bytes) const;
  int64_t bytes(const Subnet& s) const;
  int64_t shared_bytes(const Subnet& s, const SubGraph& g) const;
  // Subnet a's weights are all inside subnet b's.
  bool contains(const Subnet& b, const Subnet& a) const { return subgraph(b).contains(subgraph(a)); }

 private:
  std::string name_, family_name_, source_;
  std::unique_ptr<SpaceFamily> family_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, int> tensor_ids_;
};

struct LayerTotals {
  int64_t macs = 0, params = 0, weight_bytes = 0;
};
LayerTotals totals(const std::vector<Layer>& layers);

int make_divisible(double v, int divisor = 8);

}  // namespace sushi
