// The once-for-all MobileNetV3 family: stem conv, a fixed first block, elastic stages of inverted-residual
// blocks (1x1 expand, kxk depthwise, optional squeeze-excite, 1x1 project), final 1x1 expand, global pool,
// 1x1 feature mix and a linear classifier. Structure follows OFA's ofa_mbv3.py (see the space YAMLs).
#include <algorithm>
#include <cmath>

#include "base/registry.h"
#include "models/space/layer_builder.h"
#include "models/space/supernet.h"

namespace sushi {
namespace {

struct StageDef {
  int out = 0, stride = 1;
  Activation act = Activation::ReLU;
  bool se = false;
};

std::vector<int> resolution_list(const YamlView& v) {
  std::vector<int> out;
  if (v.has("choices")) {
    v.expect_keys({"choices"});
    out = v.get_list<int>("choices");
  } else {
    v.expect_keys({"min", "max", "step"});
    // Bounded before the loop, so `r += step` cannot overflow.
    const int lo = read_int_in(v, "min", 8, 4096, "a resolution");
    const int hi = read_int_in(v, "max", 8, 4096, "a resolution");
    const int step = v.has("step") ? read_int_in(v, "step", 1, 4096, "a resolution step") : 4;
    if (hi < lo) v.fail("expected 0 < min <= max and step > 0");
    for (int r = lo; r <= hi; r += step) out.push_back(r);
  }
  if (out.empty()) v.fail("expected at least one resolution");
  for (int r : out)
    if (r < 8 || r > 4096) v.fail("resolution " + std::to_string(r) + " is outside 8..4096");
  std::sort(out.begin(), out.end());
  return out;
}

template <typename T>
std::vector<T> positive_choices(const YamlView& v, const std::string& key, T max) {
  std::vector<T> c = v.get_list<T>(key);
  if (c.empty()) v.at(key).fail("expected a non-empty list");
  for (T x : c)
    if (!(x > T(0))) v.at(key).fail("expected positive values");
  for (T x : c)
    if (!(double(x) <= max)) v.at(key).fail("expected values up to " + std::to_string(max));
  std::sort(c.begin(), c.end());
  return c;
}

class MobileNetV3Family : public SpaceFamily {
 public:
  explicit MobileNetV3Family(const YamlView& root) {
    root.expect_keys({"name", "family", "description", "source", "input_channels", "classes", "resolution",
                      "stem", "first_block", "stages", "elastic", "final_expand", "feature_mix",
                      "se_reduction", "dropout"});
    in_channels_ = read_int_in(root, "input_channels", 1, kMaxChannels, "a channel count");
    classes_ = read_int_in(root, "classes", 2, kMaxChannels, "a class count");
    se_reduction_ =
        root.has("se_reduction") ? read_int_in(root, "se_reduction", 1, kMaxChannels, "a reduction") : 4;
    spec_.resolutions = resolution_list(root.at("resolution"));

    const YamlView stem = root.at("stem");
    stem.expect_keys({"out", "kernel", "stride", "act"});
    stem_ = {read_int_in(stem, "out", 1, kMaxChannels, "a channel count"),
             read_int_in(stem, "stride", 1, kMaxStride, "a stride"), parse_activation(stem.at("act")), false};
    stem_kernel_ = read_kernel(stem, "kernel");

    const YamlView fb = root.at("first_block");
    fb.expect_keys({"out", "kernel", "stride", "act", "se"});
    first_ = {read_int_in(fb, "out", 1, kMaxChannels, "a channel count"),
              read_int_in(fb, "stride", 1, 2, "a stride"), parse_activation(fb.at("act")),
              fb.get<bool>("se")};
    first_kernel_ = read_kernel(fb, "kernel");

    const YamlView el = root.at("elastic");
    el.expect_keys({"depth", "kernel", "expand", "expand_from_depth"});
    const std::vector<int> depth = positive_choices<int>(el, "depth", kMaxBlocks);
    const std::vector<int> kernel =
        el.has("kernel") ? positive_choices<int>(el, "kernel", kMaxKernel) : std::vector<int>{};
    const std::vector<double> expand = positive_choices<double>(el, "expand", kMaxExpand);
    for (int k : kernel)
      if (k % 2 == 0) el.at("kernel").fail("expected odd kernel sizes");
    if (el.has("expand_from_depth")) {
      const YamlView map = el.at("expand_from_depth");
      if (!map.is_map()) map.fail("expected a mapping depth: expand");
      for (int d : depth) {
        const std::string key = std::to_string(d);
        spec_.expand_from_depth[d] = map.get<double>(key);
        if (std::find(expand.begin(), expand.end(), spec_.expand_from_depth[d]) == expand.end())
          map.at(key).fail("expand must be one of elastic.expand");
      }
    }

    const YamlView stages = root.at("stages");
    if (!stages.is_sequence() || stages.size() == 0) stages.fail("expected a non-empty list of stages");
    for (const YamlView& st : stages.items()) {
      st.expect_keys({"out", "stride", "act", "se", "kernel"});
      StageDef d{read_int_in(st, "out", 1, kMaxChannels, "a channel count"), st.get<int>("stride"),
                 parse_activation(st.at("act")), st.get<bool>("se")};
      if (d.stride != 1 && d.stride != 2) st.at("stride").fail("expected 1 or 2");
      stages_.push_back(d);
      std::vector<int> ks = st.has("kernel") ? positive_choices<int>(st, "kernel", kMaxKernel) : kernel;
      for (int k : ks)
        if (k % 2 == 0) st.at("kernel").fail("expected odd kernel sizes");
      if (ks.empty()) st.fail("missing kernel choices (set elastic.kernel or the stage's kernel)");
      spec_.kernel_choices.push_back(ks);
      spec_.expand_choices.push_back(expand);
      spec_.depth_choices.push_back(depth);
      spec_.max_blocks.push_back(depth.back());
      spec_.base_blocks.push_back(0);
    }
    spec_.stages = int(stages_.size());

    const YamlView fe = root.at("final_expand");
    fe.expect_keys({"out", "act"});
    final_expand_ = {read_int_in(fe, "out", 1, kMaxChannels, "a channel count"), 1,
                     parse_activation(fe.at("act")), false};
    const YamlView fm = root.at("feature_mix");
    fm.expect_keys({"out", "act"});
    feature_mix_ = {read_int_in(fm, "out", 1, kMaxChannels, "a channel count"), 1,
                    parse_activation(fm.at("act")), false};
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
    const int reduced = make_divisible(channels / se_reduction_);
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

std::vector<int> parse_resolution_list(const YamlView& v) {
  return resolution_list(v);
}

SUSHI_REGISTER(SpaceFamily, "mobilenetv3",
               "MobileNetV3-like (OFA MobileNetV3, CompOFA): elastic kernel, expand and depth per stage",
               [](const YamlView& root) { return std::make_unique<MobileNetV3Family>(root); });

}  // namespace sushi
