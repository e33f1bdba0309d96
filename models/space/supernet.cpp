#include "models/space/supernet.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "base/checked.h"
#include "base/json.h"
#include "base/registry.h"
#include "models/space/space_schema.h"

namespace sushi {

const char* to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::Conv:
      return "conv";
    case LayerKind::Depthwise:
      return "depthwise";
    case LayerKind::Pointwise:
      return "pointwise";
    case LayerKind::FC:
      return "fc";
    case LayerKind::SEReduce:
      return "se_reduce";
    case LayerKind::SEExpand:
      return "se_expand";
    case LayerKind::SEScale:
      return "se_scale";
    case LayerKind::GlobalPool:
      return "global_pool";
    case LayerKind::MaxPool:
      return "max_pool";
    case LayerKind::AvgPool:
      return "avg_pool";
    case LayerKind::Add:
      return "add";
  }
  return "?";
}

const char* to_string(Activation act) {
  switch (act) {
    case Activation::None:
      return "none";
    case Activation::ReLU:
      return "relu";
    case Activation::HSwish:
      return "h_swish";
    case Activation::HSigmoid:
      return "h_sigmoid";
  }
  return "?";
}

Activation parse_activation(const YamlView& v) {
  const std::string s = v.as<std::string>();
  if (s == "none") return Activation::None;
  if (s == "relu") return Activation::ReLU;
  if (s == "h_swish") return Activation::HSwish;
  if (s == "h_sigmoid") return Activation::HSigmoid;
  v.fail("expected one of none, relu, h_swish, h_sigmoid, got '" + s + "'");
}

int make_divisible(double v, int divisor) {
  // The rounding rule of the once-for-all / MobileNet code: nearest multiple, never below 90% of v.
  int new_v = std::max(divisor, checked::narrow<int>(v + divisor / 2.0, "channel count") / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;
  return new_v;
}

WeightSlice intersect(const WeightSlice& a, const WeightSlice& b) {
  if (a.empty() || b.empty() || a.tensor != b.tensor) return WeightSlice{a.tensor, 0, 0, 0, a.has_bias};
  return WeightSlice{a.tensor, std::min(a.out, b.out), std::min(a.in, b.in), std::min(a.k, b.k),
                     a.has_bias && b.has_bias};
}

bool Subnet::operator<(const Subnet& o) const {
  return std::tie(resolution, depth, kernel, expand, width) <
         std::tie(o.resolution, o.depth, o.kernel, o.expand, o.width);
}

int64_t SubGraph::bytes() const {
  int64_t total = 0;
  for (const auto& s : slices) total += s.empty() ? 0 : s.bytes();
  return total;
}

bool SubGraph::contains(const SubGraph& other) const {
  if (other.slices.size() != slices.size()) return false;
  for (size_t i = 0; i < slices.size(); ++i)
    if (!other.slices[i].inside(slices[i])) return false;
  return true;
}

SubGraph intersect(const SubGraph& a, const SubGraph& b) {
  SubGraph g;
  g.slices.resize(std::min(a.slices.size(), b.slices.size()));
  for (size_t i = 0; i < g.slices.size(); ++i) g.slices[i] = intersect(a.slices[i], b.slices[i]);
  return g;
}

int ElasticSpec::block_slots() const {
  int n = 0;
  for (int m : max_blocks) n += m;
  return n;
}
int ElasticSpec::first_slot(int stage) const {
  int n = 0;
  for (int i = 0; i < stage; ++i) n += max_blocks[i];
  return n;
}
int ElasticSpec::stage_of_slot(int slot) const {
  for (int s = 0; s < stages; ++s) {
    if (slot < max_blocks[s]) return s;
    slot -= max_blocks[s];
  }
  return -1;
}

LayerTotals totals(const std::vector<Layer>& layers) {
  LayerTotals t;
  for (const auto& l : layers) {
    t.macs = checked::add(t.macs, l.macs, "total MACs");
    t.params = checked::add(t.params, l.params, "total parameters");
    t.weight_bytes = checked::add(t.weight_bytes, l.weight_bytes, "total weight bytes");
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// Family registry

namespace {
std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

std::string fmt_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e9) return std::to_string(int64_t(v));
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}

std::string join_doubles(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : ", ") + fmt_number(x);
  return s;
}

template <typename T>
bool in_choices(const std::vector<T>& choices, T v) {
  for (const T& c : choices)
    if (std::fabs(double(c) - double(v)) < 1e-9) return true;
  return false;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------------
// SupernetSpace

SupernetSpace SupernetSpace::load(const std::string& path) {
  return from_yaml(YamlView::load_file(path));
}

SupernetSpace SupernetSpace::from_yaml(const YamlView& root) {
  if (!root.is_map()) root.fail("expected a supernet space mapping");
  // The header picks the family; the family's schema (which includes the header) checks every key.
  const SpaceHeader header = space_header_schema().parse_declared(root);
  SupernetSpace space;
  space.source_ = root.file();
  space.name_ = header.name;
  space.family_name_ = header.family;
  if (!Registry<SpaceFamily>::has(space.family_name_))
    root.at("family").fail("unknown supernet family '" + space.family_name_ +
                           "' (expected one of: " + Registry<SpaceFamily>::joined_names() + ")");
  space.family_ = Registry<SpaceFamily>::get(space.family_name_, root.where())(root);
  // The max subnet reads every tensor whole, so its layers define the supernet's tensors. It is also the
  // largest subnet at the largest resolution: when its sizes fit, every subnet's do.
  std::vector<Layer> full;
  try {
    full = space.family_->build(space.max_subnet(), space.default_resolution());
    (void)totals(full);
  } catch (const OverflowError& e) {
    root.fail(std::string("the space is too large: ") + e.what());
  }
  for (const Layer& l : full) {
    if (!l.has_weights() && l.slice.out == 0) continue;  // layers without weights read no slice
    TensorInfo t{l.name, l.slice, l.kind};
    t.full.tensor = int(space.tensors_.size());
    space.tensor_ids_[l.name] = t.full.tensor;
    space.tensors_.push_back(t);
  }
  return space;
}

int SupernetSpace::tensor_index(const std::string& name) const {
  auto it = tensor_ids_.find(name);
  return it == tensor_ids_.end() ? -1 : it->second;
}

Subnet SupernetSpace::max_subnet() const {
  const ElasticSpec& e = elastic();
  Subnet s;
  s.resolution = e.resolutions.back();
  for (int st = 0; st < e.stages; ++st)
    s.depth.push_back(*std::max_element(e.depth_choices[st].begin(), e.depth_choices[st].end()));
  for (int slot = 0; slot < e.block_slots(); ++slot) {
    int st = e.stage_of_slot(slot);
    s.kernel.push_back(*std::max_element(e.kernel_choices[st].begin(), e.kernel_choices[st].end()));
    s.expand.push_back(*std::max_element(e.expand_choices[st].begin(), e.expand_choices[st].end()));
  }
  for (const auto& w : e.width_choices) s.width.push_back(*std::max_element(w.begin(), w.end()));
  return canonical(s);
}

Subnet SupernetSpace::min_subnet() const {
  const ElasticSpec& e = elastic();
  Subnet s;
  s.resolution = e.resolutions.front();
  for (int st = 0; st < e.stages; ++st)
    s.depth.push_back(*std::min_element(e.depth_choices[st].begin(), e.depth_choices[st].end()));
  for (int slot = 0; slot < e.block_slots(); ++slot) {
    int st = e.stage_of_slot(slot);
    s.kernel.push_back(*std::min_element(e.kernel_choices[st].begin(), e.kernel_choices[st].end()));
    s.expand.push_back(*std::min_element(e.expand_choices[st].begin(), e.expand_choices[st].end()));
  }
  for (const auto& w : e.width_choices) s.width.push_back(*std::min_element(w.begin(), w.end()));
  return canonical(s);
}

Subnet SupernetSpace::random_subnet(Rng& rng) const {
  const ElasticSpec& e = elastic();
  auto pick = [&rng](const auto& choices) {
    return choices[size_t(rng.uniform_int(uint64_t(choices.size())))];
  };
  Subnet s;
  s.resolution = pick(e.resolutions);
  for (int st = 0; st < e.stages; ++st) s.depth.push_back(pick(e.depth_choices[st]));
  for (int slot = 0; slot < e.block_slots(); ++slot) {
    int st = e.stage_of_slot(slot);
    s.kernel.push_back(pick(e.kernel_choices[st]));
    s.expand.push_back(pick(e.expand_choices[st]));
  }
  for (const auto& w : e.width_choices) s.width.push_back(pick(w));
  return canonical(s);
}

void SupernetSpace::validate(const Subnet& s, const std::string& origin) const {
  const ElasticSpec& e = elastic();
  auto bad = [&](const std::string& what) {
    throw InputError(origin + ": " + what + " (space '" + name_ + "')");
  };
  if (!in_choices(e.resolutions, s.resolution))
    bad("resolution " + std::to_string(s.resolution) + " is not one of: " + join_ints(e.resolutions));
  if (int(s.depth.size()) != e.stages)
    bad("'d' must have " + std::to_string(e.stages) + " entries, got " + std::to_string(s.depth.size()));
  if (int(s.kernel.size()) != e.block_slots() || int(s.expand.size()) != e.block_slots())
    bad("'ks' and 'e' must have " + std::to_string(e.block_slots()) + " entries, got " +
        std::to_string(s.kernel.size()) + " and " + std::to_string(s.expand.size()));
  if (s.width.size() != e.width_choices.size())
    bad("'w' must have " + std::to_string(e.width_choices.size()) + " entries, got " +
        std::to_string(s.width.size()));
  for (int st = 0; st < e.stages; ++st) {
    if (!in_choices(e.depth_choices[st], s.depth[st]))
      bad("d[" + std::to_string(st) + "] = " + std::to_string(s.depth[st]) +
          " is not one of: " + join_ints(e.depth_choices[st]));
    const int active = e.blocks_for_depth(st, s.depth[st]) - e.base_blocks[st];
    for (int b = 0; b < std::min(active, e.max_blocks[st]); ++b) {
      const int slot = e.first_slot(st) + b;
      if (!in_choices(e.kernel_choices[st], s.kernel[slot]))
        bad("ks[" + std::to_string(slot) + "] = " + std::to_string(s.kernel[slot]) +
            " is not one of: " + join_ints(e.kernel_choices[st]));
      if (!in_choices(e.expand_choices[st], s.expand[slot]))
        bad("e[" + std::to_string(slot) + "] = " + fmt_number(s.expand[slot]) +
            " is not one of: " + join_doubles(e.expand_choices[st]));
      if (!e.expand_from_depth.empty()) {
        auto it = e.expand_from_depth.find(s.depth[st]);
        if (it != e.expand_from_depth.end() && std::fabs(it->second - s.expand[slot]) > 1e-9)
          bad("e[" + std::to_string(slot) + "] = " + fmt_number(s.expand[slot]) +
              " but the compound space ties depth " + std::to_string(s.depth[st]) + " to expand " +
              fmt_number(it->second));
      }
    }
  }
  for (size_t w = 0; w < s.width.size(); ++w)
    if (!in_choices(e.width_choices[w], s.width[w]))
      bad("w[" + std::to_string(w) + "] = " + fmt_number(s.width[w]) +
          " is not one of: " + join_doubles(e.width_choices[w]));
}

Subnet SupernetSpace::canonical(const Subnet& in, const std::string& origin) const {
  const ElasticSpec& e = elastic();
  Subnet s = in;
  if (int(s.depth.size()) == e.stages) {
    for (int st = 0; st < e.stages; ++st) {
      // Depth values that run the same blocks are one subnet: keep the smallest such value.
      const int blocks = e.blocks_for_depth(st, s.depth[st]);
      int best = s.depth[st];
      for (int d : e.depth_choices[st])
        if (e.blocks_for_depth(st, d) == blocks) best = std::min(best, d);
      s.depth[st] = best;
      if (!e.expand_from_depth.empty() && int(s.expand.size()) == e.block_slots()) {
        auto it = e.expand_from_depth.find(s.depth[st]);
        if (it != e.expand_from_depth.end())
          for (int b = 0; b < e.max_blocks[st]; ++b) s.expand[e.first_slot(st) + b] = it->second;
      }
    }
  }
  validate(s, origin);
  for (int st = 0; st < e.stages; ++st) {
    const int active = e.blocks_for_depth(st, s.depth[st]) - e.base_blocks[st];
    for (int b = std::max(active, 0); b < e.max_blocks[st]; ++b) {
      s.kernel[e.first_slot(st) + b] = 0;
      s.expand[e.first_slot(st) + b] = 0;
    }
  }
  return s;
}

Subnet SupernetSpace::from_json(const YamlView& v) const {
  const ElasticSpec& e = elastic();
  if (!v.is_map()) v.fail("expected a subnet object such as {\"ks\": [...], \"e\": [...], \"d\": [...]}");
  v.expect_keys({"ks", "e", "d", "w", "image_size", "r", "top1"});
  Subnet s;
  s.resolution = v.has("image_size") ? v.get<int>("image_size") : v.get<int>("r", default_resolution());
  s.depth = v.get_list<int>("d");
  if (int(s.depth.size()) != e.stages)
    v.at("d").fail("expected " + std::to_string(e.stages) + " stage depths, got " +
                   std::to_string(s.depth.size()));
  auto fill_slots = [&](const char* key, auto& out, auto pick_single) {
    using T = typename std::decay_t<decltype(out)>::value_type;
    if (v.has(key)) {
      out = v.get_list<T>(key);
      if (int(out.size()) != e.block_slots())
        v.at(key).fail("expected " + std::to_string(e.block_slots()) + " per-block entries, got " +
                       std::to_string(out.size()));
    } else {
      out.clear();
      for (int slot = 0; slot < e.block_slots(); ++slot) {
        auto single = pick_single(e.stage_of_slot(slot), s.depth[e.stage_of_slot(slot)]);
        if (!single) v.fail(std::string("missing required key '") + key + "'");
        out.push_back(T(*single));
      }
    }
  };
  fill_slots("ks", s.kernel, [&](int st, int) -> std::optional<int> {
    if (e.kernel_choices[st].size() == 1) return e.kernel_choices[st][0];
    return std::nullopt;
  });
  fill_slots("e", s.expand, [&](int st, int d) -> std::optional<double> {
    auto it = e.expand_from_depth.find(d);
    if (it != e.expand_from_depth.end()) return it->second;
    if (e.expand_choices[st].size() == 1) return e.expand_choices[st][0];
    return std::nullopt;
  });
  if (!e.width_choices.empty()) {
    s.width = v.get_list<double>("w");
    if (s.width.size() != e.width_choices.size())
      v.at("w").fail("expected " + std::to_string(e.width_choices.size()) + " width multipliers, got " +
                     std::to_string(s.width.size()));
  } else if (v.has("w")) {
    v.at("w").fail("space '" + name_ + "' has no elastic width");
  }
  return canonical(s, v.where());
}

Subnet SupernetSpace::parse_subnet(const std::string& spec) const {
  if (spec == "max") return max_subnet();
  if (spec == "min") return min_subnet();
  if (spec.rfind("random:", 0) == 0) {
    const std::string seed_text = spec.substr(7);
    size_t used = 0;
    uint64_t seed = 0;
    try {
      seed = std::stoull(seed_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != seed_text.size())
      throw InputError("subnet '" + spec + "': expected random:SEED with a non-negative integer seed");
    Rng rng(seed);
    return random_subnet(rng);
  }
  if (!spec.empty() && spec.front() == '{') return from_json(YamlView::parse(spec, "subnet JSON"));
  throw InputError(
      "subnet '" + spec +
      "': expected max, min, random:SEED or a JSON object {\"ks\":[...],\"e\":[...],\"d\":[...]}");
}

std::string SupernetSpace::to_json(const Subnet& s) const {
  JsonWriter w;
  auto list = [&w](const char* key, const auto& values) {
    w.key(key).begin_array();
    for (const auto& v : values) w.value(v);
    w.end_array();
  };
  w.begin_object();
  list("ks", s.kernel);
  list("e", s.expand);
  list("d", s.depth);
  if (!s.width.empty()) list("w", s.width);
  w.field("image_size", s.resolution).end_object();
  return w.str();
}

std::optional<uint64_t> SupernetSpace::count() const {
  const ElasticSpec& e = elastic();
  uint64_t total = 1;
  for (int st = 0; st < e.stages; ++st) {
    std::set<int> seen_blocks;
    uint64_t stage_total = 0;
    for (int d : e.depth_choices[st]) {
      const int blocks = e.blocks_for_depth(st, d);
      if (!seen_blocks.insert(blocks).second) continue;
      const int active = std::max(0, std::min(blocks - e.base_blocks[st], e.max_blocks[st]));
      const uint64_t per_block =
          e.kernel_choices[st].size() * (e.expand_from_depth.empty() ? e.expand_choices[st].size() : 1);
      uint64_t combos = 1;
      for (int b = 0; b < active; ++b)
        if (__builtin_mul_overflow(combos, per_block, &combos)) return std::nullopt;
      if (__builtin_add_overflow(stage_total, combos, &stage_total)) return std::nullopt;
    }
    if (__builtin_mul_overflow(total, stage_total, &total)) return std::nullopt;
  }
  for (const auto& w : e.width_choices)
    if (__builtin_mul_overflow(total, uint64_t(w.size()), &total)) return std::nullopt;
  return total;
}

std::vector<Subnet> SupernetSpace::enumerate(uint64_t limit) const {
  const auto n = count();
  if (!n || *n > limit)
    throw InputError("space '" + name_ + "' has " + (n ? std::to_string(*n) : std::string("more than 2^64")) +
                     " subnets, more than the enumeration limit of " + std::to_string(limit));
  const ElasticSpec& e = elastic();
  // Each elastic decision is one "digit"; odometer order over (depths, then active blocks, then widths).
  std::vector<Subnet> out;
  Subnet base = max_subnet();
  base.resolution = default_resolution();
  std::function<void(int, Subnet&)> per_stage;
  std::function<void(int, int, Subnet&)> per_block;
  std::function<void(size_t, Subnet&)> per_width = [&](size_t w, Subnet& s) {
    if (w == e.width_choices.size()) {
      out.push_back(canonical(s));
      return;
    }
    for (double c : e.width_choices[w]) {
      s.width[w] = c;
      per_width(w + 1, s);
    }
  };
  per_block = [&](int st, int b, Subnet& s) {
    const int active =
        std::max(0, std::min(e.blocks_for_depth(st, s.depth[st]) - e.base_blocks[st], e.max_blocks[st]));
    if (b == active) {
      if (st + 1 == e.stages)
        per_width(0, s);
      else
        per_stage(st + 1, s);
      return;
    }
    const int slot = e.first_slot(st) + b;
    for (int k : e.kernel_choices[st]) {
      s.kernel[slot] = k;
      if (!e.expand_from_depth.empty()) {
        s.expand[slot] = e.expand_from_depth.at(s.depth[st]);
        per_block(st, b + 1, s);
      } else {
        for (double x : e.expand_choices[st]) {
          s.expand[slot] = x;
          per_block(st, b + 1, s);
        }
      }
    }
  };
  per_stage = [&](int st, Subnet& s) {
    std::set<int> seen;
    for (int d : e.depth_choices[st]) {
      if (!seen.insert(e.blocks_for_depth(st, d)).second) continue;
      s.depth[st] = d;
      for (int b = 0; b < e.max_blocks[st]; ++b) {  // unused slots hold any valid value until canonical()
        s.kernel[e.first_slot(st) + b] = e.kernel_choices[st][0];
        s.expand[e.first_slot(st) + b] =
            e.expand_from_depth.empty() ? e.expand_choices[st][0] : e.expand_from_depth.at(d);
      }
      per_block(st, 0, s);
    }
  };
  per_stage(0, base);
  return out;
}

std::vector<Layer> SupernetSpace::layers(const Subnet& s, int resolution) const {
  std::vector<Layer> out = family_->build(s, resolution > 0 ? resolution : s.resolution);
  for (Layer& l : out) {
    if (l.slice.out == 0 && l.slice.tensor < 0 && l.weight_bytes == 0) continue;
    const int id = tensor_index(l.name);
    if (id < 0) throw std::logic_error("layer '" + l.name + "' reads no supernet tensor");
    l.slice.tensor = id;
    if (!l.slice.inside(tensors_[id].full))
      throw std::logic_error("layer '" + l.name + "' reads outside its supernet tensor");
  }
  return out;
}

Subnet SupernetSpace::intersect(const Subnet& a, const Subnet& b) const {
  Subnet s = a;
  s.resolution = std::min(a.resolution, b.resolution);
  const ElasticSpec& e = elastic();
  for (int st = 0; st < e.stages; ++st) {
    s.depth[st] = e.blocks_for_depth(st, a.depth[st]) <= e.blocks_for_depth(st, b.depth[st]) ? a.depth[st]
                                                                                             : b.depth[st];
  }
  for (size_t i = 0; i < s.kernel.size(); ++i) {
    // A slot unused by either side is unused in the intersection (canonical() zeroes it below).
    const bool both = a.kernel[i] > 0 && b.kernel[i] > 0;
    s.kernel[i] = both ? std::min(a.kernel[i], b.kernel[i]) : std::max(a.kernel[i], b.kernel[i]);
    s.expand[i] = both ? std::min(a.expand[i], b.expand[i]) : std::max(a.expand[i], b.expand[i]);
  }
  for (size_t i = 0; i < s.width.size(); ++i) s.width[i] = std::min(a.width[i], b.width[i]);
  if (!e.expand_from_depth.empty()) {
    // In a compound space the shared weights of two subnets need not be a subnet of the space (a depth
    // with a foreign expand); keep the element-wise minimum, which still names a valid weight slice.
    Subnet out = s;
    for (int st = 0; st < e.stages; ++st) {
      const int active = e.blocks_for_depth(st, s.depth[st]) - e.base_blocks[st];
      for (int b = std::max(active, 0); b < e.max_blocks[st]; ++b) {
        out.kernel[e.first_slot(st) + b] = 0;
        out.expand[e.first_slot(st) + b] = 0;
      }
    }
    return out;
  }
  return canonical(s);
}

SubGraph SupernetSpace::subgraph(const Subnet& s) const {
  SubGraph g = empty_subgraph();
  for (const Layer& l : family_->build(s, s.resolution)) {
    const int id = tensor_index(l.name);
    if (id < 0) continue;
    WeightSlice slice = l.slice;
    slice.tensor = id;
    g.slices[id] = slice;
  }
  return g;
}

SubGraph SupernetSpace::partial_subgraph(const Subnet& s, int64_t budget) const {
  SubGraph g = empty_subgraph();
  int64_t used = 0;
  for (const Layer& l : layers(s)) {
    if (!l.has_weights()) continue;
    const int64_t b = l.slice.bytes();
    if (used + b <= budget) {
      g.slices[l.slice.tensor] = l.slice;
      used += b;
      continue;
    }
    // Leading output channels of this layer that still fit; then stop, so the SubGraph stays a prefix.
    const int64_t per_channel = int64_t(l.slice.in) * l.slice.k * l.slice.k + (l.slice.has_bias ? 4 : 0);
    const int64_t channels = (budget - used) / per_channel;
    if (channels > 0) {
      WeightSlice cut = l.slice;
      cut.out = int(channels);
      g.slices[l.slice.tensor] = cut;
    }
    break;
  }
  return g;
}

int64_t SupernetSpace::bytes(const Subnet& s) const {
  return subgraph(s).bytes();
}

int64_t SupernetSpace::shared_bytes(const Subnet& s, const SubGraph& g) const {
  return sushi::intersect(subgraph(s), g).bytes();
}

}  // namespace sushi
