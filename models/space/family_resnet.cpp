// The once-for-all ResNet family (OFA's resnets.py): a three-conv input stem whose middle conv is a
// skippable residual block, max pool, four stages of bottleneck blocks (1x1, kxk with the stride, 1x1) with
// ResNet-D "avgpool + 1x1 conv" downsampling, global pool and a linear classifier. Elastic: extra blocks per
// stage, bottleneck expand ratio per block, and width multiplier per stem conv and per stage.
#include <algorithm>
#include <cmath>

#include "base/registry.h"
#include "models/space/layer_builder.h"
#include "models/space/supernet.h"

namespace sushi {

std::vector<int> parse_resolution_list(const YamlView& v);

namespace {

struct ResStage {
  int out = 0, stride = 1, base_depth = 1;
};

class ResNetFamily : public SpaceFamily {
 public:
  explicit ResNetFamily(const YamlView& root) {
    root.expect_keys({"name", "family", "description", "source", "input_channels", "classes", "resolution",
                      "stem", "stages", "elastic", "kernel", "dropout"});
    in_channels_ = read_int_in(root, "input_channels", 1, kMaxChannels, "a channel count");
    classes_ = read_int_in(root, "classes", 2, kMaxChannels, "a class count");
    kernel_ = root.has("kernel") ? read_kernel(root, "kernel") : 3;
    spec_.resolutions = parse_resolution_list(root.at("resolution"));
    const YamlView stem = root.at("stem");
    stem.expect_keys({"channels"});
    stem_channels_ = read_int_in(stem, "channels", 1, kMaxChannels, "a channel count");

    const YamlView el = root.at("elastic");
    el.expect_keys({"extra_depth", "expand", "width_mult"});
    std::vector<int> extra = el.get_list<int>("extra_depth");
    std::vector<double> expand = el.get_list<double>("expand");
    std::vector<double> width = el.get_list<double>("width_mult");
    if (extra.empty() || expand.empty() || width.empty())
      el.fail("expected non-empty extra_depth, expand, width_mult");
    for (int d : extra)
      if (d < 0 || d > kMaxBlocks / 2)
        el.at("extra_depth")
            .fail("expected extra block counts in [0, " + std::to_string(kMaxBlocks / 2) + "]");
    for (double e : expand)
      if (e <= 0 || e > 4) el.at("expand").fail("expected expand ratios in (0, 4]");
    for (double w : width)
      if (w <= 0 || w > 4) el.at("width_mult").fail("expected width multipliers in (0, 4]");
    std::sort(extra.begin(), extra.end());
    std::sort(expand.begin(), expand.end());
    std::sort(width.begin(), width.end());
    max_extra_ = extra.back();

    const YamlView stages = root.at("stages");
    if (!stages.is_sequence() || stages.size() == 0) stages.fail("expected a non-empty list of stages");
    // Elastic stage 0 is the input stem's skippable block: present only at the largest depth value.
    spec_.depth_choices.push_back(extra);
    spec_.base_blocks.push_back(0);
    spec_.max_blocks.push_back(0);
    spec_.kernel_choices.push_back({kernel_});
    spec_.expand_choices.push_back(expand);
    for (const YamlView& st : stages.items()) {
      st.expect_keys({"out", "stride", "base_depth"});
      ResStage r{read_int_in(st, "out", 1, kMaxChannels, "a channel count"), st.get<int>("stride"),
                 read_int_in(st, "base_depth", 1, kMaxBlocks / 2, "a block count")};
      if (r.stride != 1 && r.stride != 2) st.at("stride").fail("expected 1 or 2");
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
    const int stem_mid = make_divisible(make_divisible(stem_channels_ * s.width[0]) / 2);
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

SUSHI_REGISTER(SpaceFamily, "resnet", "ResNet-50-like (OFA ResNet): elastic extra depth, expand and width",
               [](const YamlView& root) { return std::make_unique<ResNetFamily>(root); });

}  // namespace sushi
