// The once-for-all MobileNetV3 family: stem conv, a fixed first block, elastic stages of inverted-residual
// blocks (1x1 expand, kxk depthwise, optional squeeze-excite, 1x1 project), final 1x1 expand, global pool,
// 1x1 feature mix and a linear classifier. Structure follows OFA's ofa_mbv3.py (see the space YAMLs).
#include <algorithm>
#include <cmath>

#include "base/registry.h"
#include "models/space/layer_builder.h"
#include "models/space/space_schema.h"
#include "models/space/supernet.h"

namespace sushi {
namespace {

struct StageDef {
  int out = 0, stride = 1;
  Activation act = Activation::ReLU;
  bool se = false;
  std::vector<int> kernel;  // a stage's own kernel choices (empty: elastic.kernel)
};

const std::vector<std::pair<std::string, Activation>>& activations() {
  static const std::vector<std::pair<std::string, Activation>> a = {{"none", Activation::None},
                                                                    {"relu", Activation::ReLU},
                                                                    {"h_swish", Activation::HSwish},
                                                                    {"h_sigmoid", Activation::HSigmoid}};
  return a;
}

struct MbV3Config : SpaceCommon {
  int stem_out = 0, stem_kernel = 0, stem_stride = 0;
  Activation stem_act = Activation::None;
  int first_out = 0, first_kernel = 0, first_stride = 0;
  Activation first_act = Activation::None;
  bool first_se = false;
  int final_expand_out = 0, feature_mix_out = 0, se_reduction = 0;
  Activation final_expand_act = Activation::None, feature_mix_act = Activation::None;
  std::vector<StageDef> stages;
  std::vector<int> depth, kernel;
  std::vector<double> expand;
  std::map<int, double> expand_from_depth;
  double dropout = 0;
};

const ParamSchema<StageDef>& stage_schema() {
  static const ParamSchema<StageDef> s =
      ParamSchema<StageDef>("mobilenetv3.stage", "an elastic stage of inverted-residual blocks")
          .integer("out", &StageDef::out, required, kChannels, "channels", "output channels of every block")
          .integer("stride", &StageDef::stride, required, Range{1, 2}, "",
                   "stride of the stage's first block")
          .choice("act", &StageDef::act, required, activations(), "activation of expand and depthwise convs")
          .boolean("se", &StageDef::se, required, "squeeze-excite after the depthwise conv")
          .int_list("kernel", &StageDef::kernel, std::vector<int>{}, kKernel, 1, "",
                    "this stage's kernel choices (default: elastic.kernel)");
  return s;
}

template <typename T>
bool all_odd(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [](int k) { return k % 2 == 1; });
}

std::string kernel_rule(const MbV3Config& c) {
  if (!all_odd(c.kernel)) return "expected odd kernel sizes";
  for (const StageDef& d : c.stages) {
    if (!all_odd(d.kernel)) return "expected odd kernel sizes in every stage";
    if (d.kernel.empty() && c.kernel.empty())
      return "missing kernel choices (set elastic.kernel or the stage's kernel)";
  }
  return "";
}

// A residual block's output must keep its input's shape, which padding k/2 does only for odd k.
std::string odd_stem_kernel(const MbV3Config& c) {
  return c.stem_kernel % 2 == 1 ? "" : "expected an odd kernel size";
}
std::string odd_first_kernel(const MbV3Config& c) {
  return c.first_kernel % 2 == 1 ? "" : "expected an odd kernel size";
}

std::string expand_from_depth_rule(const MbV3Config& c) {
  if (c.expand_from_depth.empty()) return "";
  for (int d : c.depth) {
    const auto it = c.expand_from_depth.find(d);
    if (it == c.expand_from_depth.end())
      return "missing depth " + std::to_string(d) + " (every elastic.depth)";
    if (std::find(c.expand.begin(), c.expand.end(), it->second) == c.expand.end())
      return "expand must be one of elastic.expand";
  }
  return "";
}

void add_blocks(ParamSchema<MbV3Config>& s) {
  s.integer("stem.out", &MbV3Config::stem_out, required, kChannels, "channels", "stem conv output channels")
      .integer("stem.kernel", &MbV3Config::stem_kernel, required, kKernel, "", "stem conv kernel")
      .integer("stem.stride", &MbV3Config::stem_stride, required, Range{1, 4}, "", "stem conv stride")
      .choice("stem.act", &MbV3Config::stem_act, required, activations(), "stem activation")
      .integer("first_block.out", &MbV3Config::first_out, required, kChannels, "channels",
               "first block (expand 1) output channels")
      .integer("first_block.kernel", &MbV3Config::first_kernel, required, kKernel, "", "first block kernel")
      .integer("first_block.stride", &MbV3Config::first_stride, required, Range{1, 4}, "",
               "first block stride")
      .choice("first_block.act", &MbV3Config::first_act, required, activations(), "first block activation")
      .boolean("first_block.se", &MbV3Config::first_se, required, "first block squeeze-excite")
      .list("stages", &MbV3Config::stages, stage_schema(), 1, "elastic stages, in order")
      .check("stem.kernel", odd_stem_kernel)
      .check("first_block.kernel", odd_first_kernel);
}

void add_elastic(ParamSchema<MbV3Config>& s) {
  s.int_list("elastic.depth", &MbV3Config::depth, required, Range{1, kMaxBlocks}, 1, "blocks",
             "depth choices of every stage")
      .int_list("elastic.kernel", &MbV3Config::kernel, std::vector<int>{}, kKernel, 1, "",
                "depthwise kernel choices (odd; a stage's kernel overrides)")
      .real_list("elastic.expand", &MbV3Config::expand, required, Range{0, 16, true}, 1, "",
                 "expand ratio choices")
      .int_real_map("elastic.expand_from_depth", &MbV3Config::expand_from_depth, Range{1, kMaxBlocks},
                    Range{0, 16, true}, "",
                    "CompOFA coupling depth: expand (every depth; empty: not coupled)")
      .integer("final_expand.out", &MbV3Config::final_expand_out, required, kChannels, "channels",
               "final 1x1 expand output channels")
      .choice("final_expand.act", &MbV3Config::final_expand_act, required, activations(),
              "final expand activation")
      .integer("feature_mix.out", &MbV3Config::feature_mix_out, required, kChannels, "channels",
               "feature mix (after global pool) output channels")
      .choice("feature_mix.act", &MbV3Config::feature_mix_act, required, activations(),
              "feature mix activation")
      .integer("se_reduction", &MbV3Config::se_reduction, 4, Range{1, 1024}, "",
               "squeeze-excite channel reduction")
      .real("dropout", &MbV3Config::dropout, 0.0, Range{0, 1}, "", "classifier dropout (training only)")
      .check("elastic.kernel", kernel_rule)
      .check("elastic.expand_from_depth", expand_from_depth_rule);
}

const ParamSchema<MbV3Config>& mbv3_schema() {
  static const ParamSchema<MbV3Config> s = [] {
    ParamSchema<MbV3Config> p("mobilenetv3", "MobileNetV3-like supernet space");
    p.include(space_common_schema());
    add_blocks(p);
    add_elastic(p);
    return p;
  }();
  return s;
}

template <typename T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class MobileNetV3Family : public SpaceFamily {
 public:
  explicit MobileNetV3Family(const YamlView& root) {
    const MbV3Config c = mbv3_schema().parse(root);
    in_channels_ = c.input_channels;
    classes_ = c.classes;
    se_reduction_ = c.se_reduction;
    spec_.resolutions = resolution_list(c);
    stem_ = {c.stem_out, c.stem_stride, c.stem_act, false, {}};
    stem_kernel_ = c.stem_kernel;
    first_ = {c.first_out, c.first_stride, c.first_act, c.first_se, {}};
    first_kernel_ = c.first_kernel;
    const std::vector<int> depth = sorted(c.depth), kernel = sorted(c.kernel);
    const std::vector<double> expand = sorted(c.expand);
    if (!c.expand_from_depth.empty())
      for (int d : depth) spec_.expand_from_depth[d] = c.expand_from_depth.at(d);
    for (const StageDef& d : c.stages) {
      stages_.push_back(d);
      spec_.kernel_choices.push_back(d.kernel.empty() ? kernel : sorted(d.kernel));
      spec_.expand_choices.push_back(expand);
      spec_.depth_choices.push_back(depth);
      spec_.max_blocks.push_back(depth.back());
      spec_.base_blocks.push_back(0);
    }
    spec_.stages = int(stages_.size());
    final_expand_ = {c.final_expand_out, 1, c.final_expand_act, false, {}};
    feature_mix_ = {c.feature_mix_out, 1, c.feature_mix_act, false, {}};
  }

  const ElasticSpec& elastic() const override { return spec_; }
  int input_channels() const override { return in_channels_; }
  int classes() const override { return classes_; }

  std::vector<Layer> build(const Subnet& s, int resolution) const override {
    LayerBuilder b(in_channels_, resolution);
    b.weighted("stem.conv", LayerKind::Conv, stem_.out, stem_kernel_, stem_.stride, stem_.act, true, false);
    // First block: expand ratio 1, so no expand conv; identity shortcut when shapes allow.
    {
      const int in = b.last();
      const int in_c = b.channels();
      b.weighted("first.dw", LayerKind::Depthwise, in_c, first_kernel_, first_.stride, first_.act, true,
                 false);
      if (first_.se) squeeze_excite(b, "first", in_c);
      b.weighted("first.pw", LayerKind::Pointwise, first_.out, 1, 1, Activation::None, true, false);
      if (first_.stride == 1 && in_c == first_.out) b.add("first.add", b.last(), in, Activation::None);
    }
    for (int st = 0; st < spec_.stages; ++st) {
      const StageDef& d = stages_[st];
      const int blocks = spec_.blocks_for_depth(st, s.depth[st]);
      for (int j = 0; j < blocks; ++j) {
        const int slot = spec_.first_slot(st) + j;
        const std::string name = "stage" + std::to_string(st + 1) + ".block" + std::to_string(j);
        const int in = b.last();
        const int in_c = b.channels();
        const int mid = make_divisible(std::round(in_c * s.expand[slot]));
        const int stride = j == 0 ? d.stride : 1;
        b.weighted(name + ".expand", LayerKind::Pointwise, mid, 1, 1, d.act, true, false);
        b.weighted(name + ".dw", LayerKind::Depthwise, mid, s.kernel[slot], stride, d.act, true, false);
        if (d.se) squeeze_excite(b, name, mid);
        b.weighted(name + ".project", LayerKind::Pointwise, d.out, 1, 1, Activation::None, true, false);
        if (stride == 1 && in_c == d.out) b.add(name + ".add", b.last(), in, Activation::None);
      }
    }
    b.weighted("final_expand", LayerKind::Pointwise, final_expand_.out, 1, 1, final_expand_.act, true, false);
    b.global_pool("pool");
    b.weighted("feature_mix", LayerKind::Pointwise, feature_mix_.out, 1, 1, feature_mix_.act, false, false);
    b.weighted("classifier", LayerKind::FC, classes_, 1, 1, Activation::None, false, true);
    return b.take();
  }

 private:
  void squeeze_excite(LayerBuilder& b, const std::string& name, int channels) const {
    const int features = b.last();
    const int squeezed = channels / se_reduction_;  // OFA: channel // reduction
    const int reduced = make_divisible(squeezed);
    b.global_pool(name + ".se.pool");
    b.weighted(name + ".se.reduce", LayerKind::SEReduce, reduced, 1, 1, Activation::ReLU, false, true);
    b.weighted(name + ".se.expand", LayerKind::SEExpand, channels, 1, 1, Activation::HSigmoid, false, true);
    b.se_scale(name + ".se.scale", features, b.last());
  }

  ElasticSpec spec_;
  int in_channels_ = 3, classes_ = 1000, se_reduction_ = 4;
  StageDef stem_, first_, final_expand_, feature_mix_;
  int stem_kernel_ = 3, first_kernel_ = 3;
  std::vector<StageDef> stages_;
};

}  // namespace

SUSHI_REGISTER(
    SpaceFamily, "mobilenetv3",
    "MobileNetV3-like (OFA MobileNetV3, CompOFA): elastic kernel, expand and depth per stage",
    [](const YamlView& root) { return std::make_unique<MobileNetV3Family>(root); }, &mbv3_schema());

}  // namespace sushi
