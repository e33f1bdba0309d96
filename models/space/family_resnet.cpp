// The once-for-all ResNet family (OFA's resnets.py): a three-conv input stem whose middle conv is a
// skippable residual block, max pool, four stages of bottleneck blocks (1x1, kxk with the stride, 1x1) with
// ResNet-D "avgpool + 1x1 conv" downsampling, global pool and a linear classifier. Elastic: extra blocks per
// stage, bottleneck expand ratio per block, and width multiplier per stem conv and per stage.
#include <algorithm>
#include <cmath>

#include "base/registry.h"
#include "models/space/layer_builder.h"
#include "models/space/space_schema.h"
#include "models/space/supernet.h"

namespace sushi {

namespace {

// A stage's base depth and its extra depth each take at most half of a stage's blocks.
constexpr int kMaxHalfBlocks = kMaxBlocks / 2;

struct ResStage {
  int out = 0, stride = 1, base_depth = 1;
};

struct ResNetConfig : SpaceCommon {
  int kernel = 0, stem_channels = 0;
  std::vector<ResStage> stages;
  std::vector<int> extra;
  std::vector<double> expand, width;
  double dropout = 0;
};

const ParamSchema<ResStage>& res_stage_schema() {
  static const ParamSchema<ResStage> s =
      ParamSchema<ResStage>("resnet.stage", "a stage of bottleneck blocks")
          .integer("out", &ResStage::out, required, kChannels, "channels", "output channels (width 1.0)")
          .integer("stride", &ResStage::stride, required, Range{1, 2}, "",
                   "stride of the stage's first block")
          .integer("base_depth", &ResStage::base_depth, required, Range{1, kMaxHalfBlocks}, "blocks",
                   "blocks always present (elastic.extra_depth adds to it)");
  return s;
}

std::string odd_kernel(const ResNetConfig& c) {
  return c.kernel % 2 == 1 ? "" : "expected a positive odd kernel size";
}

const ParamSchema<ResNetConfig>& resnet_schema() {
  static const ParamSchema<ResNetConfig> s =
      ParamSchema<ResNetConfig>("resnet", "ResNet-like supernet space")
          .include(space_common_schema())
          .integer("kernel", &ResNetConfig::kernel, 3, kKernel, "", "bottleneck middle conv kernel (odd)")
          .integer("stem.channels", &ResNetConfig::stem_channels, required, kChannels, "channels",
                   "input stem output channels (width 1.0)")
          .list("stages", &ResNetConfig::stages, res_stage_schema(), 1, "bottleneck stages, in order")
          .int_list("elastic.extra_depth", &ResNetConfig::extra, required, Range{0, kMaxHalfBlocks}, 1,
                    "blocks",
                    "extra block choices per stage (the largest also keeps the stem's skippable block)")
          .real_list("elastic.expand", &ResNetConfig::expand, required, Range{0, 4, true}, 1, "",
                     "bottleneck expand ratio choices per block")
          .real_list("elastic.width_mult", &ResNetConfig::width, required, Range{0, 4, true}, 1, "",
                     "width multiplier choices per stem conv and per stage")
          .real("dropout", &ResNetConfig::dropout, 0.0, Range{0, 1}, "", "classifier dropout (training only)")
          .check("kernel", odd_kernel);
  return s;
}

template <typename T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class ResNetFamily : public SpaceFamily {
 public:
  explicit ResNetFamily(const YamlView& root) {
    const ResNetConfig c = resnet_schema().parse(root);
    in_channels_ = c.input_channels;
    classes_ = c.classes;
    kernel_ = c.kernel;
    spec_.resolutions = resolution_list(c);
    stem_channels_ = c.stem_channels;
    const std::vector<int> extra = sorted(c.extra);
    const std::vector<double> expand = sorted(c.expand), width = sorted(c.width);
    max_extra_ = extra.back();
    // Elastic stage 0 is the input stem's skippable block: present only at the largest depth value.
    spec_.depth_choices.push_back(extra);
    spec_.base_blocks.push_back(0);
    spec_.max_blocks.push_back(0);
    spec_.kernel_choices.push_back({kernel_});
    spec_.expand_choices.push_back(expand);
    for (const ResStage& r : c.stages) {
      stages_.push_back(r);
      spec_.depth_choices.push_back(extra);
      spec_.base_blocks.push_back(0);
      spec_.max_blocks.push_back(r.base_depth + max_extra_);
      spec_.kernel_choices.push_back({kernel_});
      spec_.expand_choices.push_back(expand);
    }
    spec_.stages = int(stages_.size()) + 1;
    for (size_t i = 0; i < stages_.size() + 2; ++i) spec_.width_choices.push_back(width);
    const int max_extra = max_extra_;
    std::vector<int> base;
    for (const auto& r : stages_) base.push_back(r.base_depth);
    spec_.blocks_for_depth = [max_extra, base](int stage, int d) {
      if (stage == 0) return d == max_extra ? 1 : 0;
      return base[stage - 1] + d;
    };
  }

  const ElasticSpec& elastic() const override { return spec_; }
  int input_channels() const override { return in_channels_; }
  int classes() const override { return classes_; }

  std::vector<Layer> build(const Subnet& s, int resolution) const override {
    LayerBuilder b(in_channels_, resolution);
    const int stem_out = make_divisible(stem_channels_ * s.width[1]);
    const int stem_half = make_divisible(stem_channels_ * s.width[0]) / 2;  // OFA: channel // 2
    const int stem_mid = make_divisible(stem_half);
    b.weighted("stem.conv0", LayerKind::Conv, stem_mid, 3, 2, Activation::ReLU, true, false);
    if (spec_.blocks_for_depth(0, s.depth[0]) > 0) {
      const int in = b.last();
      b.weighted("stem.conv1", LayerKind::Conv, stem_mid, 3, 1, Activation::ReLU, true, false);
      b.add("stem.add", b.last(), in, Activation::None);
    }
    b.weighted("stem.conv2", LayerKind::Conv, stem_out, 3, 1, Activation::ReLU, true, false);
    b.pool("stem.maxpool", LayerKind::MaxPool, 3, 2, 1);
    for (size_t st = 0; st < stages_.size(); ++st) {
      const ResStage& r = stages_[st];
      const int out = make_divisible(r.out * s.width[st + 2]);
      const int blocks = spec_.blocks_for_depth(int(st) + 1, s.depth[st + 1]);
      for (int j = 0; j < blocks; ++j) {
        const int slot = spec_.first_slot(int(st) + 1) + j;
        const std::string name = "stage" + std::to_string(st + 1) + ".block" + std::to_string(j);
        const int in = b.last();
        const int in_c = b.channels();
        const int stride = j == 0 ? r.stride : 1;
        const int mid = make_divisible(std::round(out * s.expand[slot]));
        b.weighted(name + ".conv1", LayerKind::Pointwise, mid, 1, 1, Activation::ReLU, true, false);
        b.weighted(name + ".conv2", LayerKind::Conv, mid, kernel_, stride, Activation::ReLU, true, false);
        const int main =
            b.weighted(name + ".conv3", LayerKind::Pointwise, out, 1, 1, Activation::None, true, false);
        int shortcut = in;
        if (stride != 1 || in_c != out) {
          b.set_current(in);
          if (stride != 1) b.pool(name + ".down.pool", LayerKind::AvgPool, stride, stride, 0, true);
          shortcut =
              b.weighted(name + ".down.conv", LayerKind::Pointwise, out, 1, 1, Activation::None, true, false);
        }
        b.add(name + ".add", main, shortcut, Activation::ReLU);
      }
    }
    b.global_pool("pool");
    b.weighted("classifier", LayerKind::FC, classes_, 1, 1, Activation::None, false, true);
    return b.take();
  }

 private:
  ElasticSpec spec_;
  int in_channels_ = 3, classes_ = 1000, kernel_ = 3, stem_channels_ = 64, max_extra_ = 2;
  std::vector<ResStage> stages_;
};

}  // namespace

SUSHI_REGISTER(
    SpaceFamily, "resnet", "ResNet-50-like (OFA ResNet): elastic extra depth, expand and width",
    [](const YamlView& root) { return std::make_unique<ResNetFamily>(root); }, &resnet_schema());

}  // namespace sushi
