#pragma once
// Appends layers to a list while tracking the current feature map, so a family's build() reads like the
// network definition. Shared by every SpaceFamily.
#include <string>
#include <vector>

#include "models/space/supernet.h"

namespace sushi {

// Bounds on a supernet space's YAML, checked where each value is read, so that every layer's shape,
// MACs and bytes fit their integer types (larger values are rejected naming the file and key).
inline constexpr int kMaxChannels = 1 << 16;  // any layer's channels, input channels and classes
inline constexpr int kMaxKernel = 15;         // odd kernel sizes 1..15
inline constexpr int kMaxStride = 8;          // a stem's stride (blocks: 1 or 2)
inline constexpr int kMaxBlocks = 32;         // blocks of one stage (a depth choice, base + extra depth)
inline constexpr double kMaxExpand = 64;      // expand ratio of a block

// `v[key]` as an integer in [lo, hi], else an error naming file, key and the bound (`what`: "a channel
// count").
int read_int_in(const YamlView& v, const std::string& key, int lo, int hi, const std::string& what);
// A positive odd kernel size up to kMaxKernel.
int read_kernel(const YamlView& v, const std::string& key);

class LayerBuilder {
 public:
  LayerBuilder(int channels, int resolution) : c_(channels), h_(resolution), w_(resolution) {}

  // Convolution-like layer with weights: Conv, Depthwise, Pointwise, FC, SEReduce, SEExpand.
  int weighted(const std::string& name, LayerKind kind, int out_c, int kernel, int stride, Activation act,
               bool batch_norm, bool bias);
  int pool(const std::string& name, LayerKind kind, int kernel, int stride, int pad, bool ceil_mode = false);
  int global_pool(const std::string& name);
  // Elementwise layers: out = act(a + b) or a * b (b broadcast per channel).
  int add(const std::string& name, int a, int b, Activation act);
  int se_scale(const std::string& name, int features, int gate);

  int last() const { return int(layers_.size()) - 1; }
  int channels() const { return c_; }
  // Re-point the "current" tensor (used after a side branch such as SE or a downsample path).
  void set_current(int layer_index);
  void set_source(int layer_index) { source_ = layer_index; }
  std::vector<Layer> take() { return std::move(layers_); }

 private:
  int push(Layer l);
  std::vector<Layer> layers_;
  int c_, h_, w_;
  int source_ = -1;  // producer of the current tensor (-1 = network input)
};

}  // namespace sushi
