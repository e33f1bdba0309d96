#include "models/ref/forward.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "base/errors.h"
#include "base/json.h"
#include "base/random.h"
#include "models/ref/op_table.h"

namespace sushi {

namespace {

bool has_conv_weights(LayerKind k) {
  return op_properties(k).weights;
}

// Portable normal deviates (base/random.h), so a seed means the same weights everywhere.
class Normal {
 public:
  explicit Normal(uint64_t seed) : rng_(seed) {}
  double operator()() { return rng_.normal(); }

 private:
  Rng rng_;
};

// Batch-norm gain of a residual branch's last layer in random supernets (see make_random_supernet).
constexpr double kResidualGamma = 0.1;

std::string transform_name(const std::string& layer, int from, int to) {
  return layer + ".kernel_transform." + std::to_string(from) + "to" + std::to_string(to);
}

const NdArray& vector_of(const Checkpoint& w, const std::string& name, int64_t at_least) {
  const NdArray& a = w.at(name);
  if (a.shape.size() != 1 || a.shape[0] < at_least)
    throw InputError("checkpoint tensor '" + name + "' has " + std::to_string(a.data.size()) +
                     " entries, the subnet needs " + std::to_string(at_least));
  return a;
}

// The elastic-kernel chain of one (out, in) kernel: stored K -> ... -> k.
void transform_kernel(const Checkpoint& w, const std::string& layer, const float* full, int K, int k,
                      float* out) {
  std::vector<float> cur(full, full + K * K), next;
  int size = K;
  while (size > k) {
    int to = k;
    for (int cand = size - 2; cand >= k; cand -= 2)
      if (w.has(transform_name(layer, size, cand))) {
        to = cand;
        break;
      }
    const int off = (size - to) / 2;
    next.assign(size_t(to) * to, 0.0f);
    for (int y = 0; y < to; ++y)
      for (int x = 0; x < to; ++x) next[y * to + x] = cur[(y + off) * size + x + off];
    if (const NdArray* m = w.find(transform_name(layer, size, to))) {
      const int n = to * to;
      if (m->data.size() != size_t(n) * n)
        throw InputError("checkpoint tensor '" + transform_name(layer, size, to) + "' is not " +
                         std::to_string(n) + "x" + std::to_string(n));
      std::vector<float> mixed(size_t(n), 0.0f);
      for (int r = 0; r < n; ++r) {
        float s = 0;
        for (int c = 0; c < n; ++c) s += m->data[size_t(r) * n + c] * next[c];
        mixed[r] = s;
      }
      next.swap(mixed);
    }
    cur.swap(next);
    size = to;
  }
  std::copy(cur.begin(), cur.end(), out);
}

// The value `share` of the way from the lowest to the highest of `values` (which are reordered).
float quantile(std::vector<float>& values, double share) {
  const size_t at = std::min(values.size() - 1, size_t(std::floor(share * double(values.size() - 1) + 0.5)));
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(at), values.end());
  return values[at];
}

void clipped_range(const Tensor& ys, double clip, float& lo, float& hi) {
  std::vector<float> all(ys.data);
  if (all.empty()) return;
  lo = quantile(all, clip);
  hi = quantile(all, 1.0 - clip);
}

struct Range {
  float lo = std::numeric_limits<float>::infinity(), hi = -std::numeric_limits<float>::infinity();
  void add(const Tensor& t) {
    for (float v : t.data) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
};

// One layer on every image of a batch: the op's fp32 forward per image, on views (no copies).
Tensor run_layer(const LayerOp& op, const Layer& l, const ResolvedLayer& r, const Tensor& a,
                 const Tensor* b) {
  if (a.c != l.in_c || a.h != l.in_h || a.w != l.in_w)
    throw std::logic_error("layer '" + l.name + "': input shape differs from the layer list");
  if (b && b->n != a.n) throw std::logic_error("layer '" + l.name + "': operands differ in batch size");
  Tensor y = Tensor::batch(a.n, l.out_c, l.out_h, l.out_w);
  for (int i = 0; i < a.n; ++i) {
    const ConstFImage second = b ? b->image(i) : ConstFImage{};
    try {
      op.forward_fp32(l, r, a.image(i), b ? &second : nullptr, y.image(i));
    } catch (const std::logic_error& e) {
      throw std::logic_error("layer '" + l.name + "': output shape differs from the layer list (" + e.what() +
                             ")");
    }
  }
  return y;
}

// Batch norm of a layer's outputs, with the checkpoint's statistics or (recalibrating) the batch's own:
// biased statistics over (N, H, W), as OFA's recalibration, returned in res.bn_stats.
void normalize(Tensor& ys, const Layer& l, const ResolvedLayer& r, const ForwardOptions& opt,
               ForwardResult& res) {
  const float* mean = r.mean;
  const float* var = r.var;
  NdArray batch_mean({int64_t(l.out_c)}), batch_var({int64_t(l.out_c)});
  if (opt.recalibrate_bn) {
    const int64_t plane = ys.plane();
    for (int c = 0; c < l.out_c; ++c) {
      double sum = 0, sq = 0;
      for (int i = 0; i < ys.n; ++i)
        for (int64_t j = 0; j < plane; ++j) sum += ys.image(i).channel(c)[j];
      const double count = double(ys.n) * double(l.out_h) * l.out_w;
      const double mu = sum / count;
      for (int i = 0; i < ys.n; ++i) {
        const float* d = ys.image(i).channel(c);
        for (int64_t j = 0; j < plane; ++j) sq += (d[j] - mu) * (d[j] - mu);
      }
      batch_mean.data[c] = float(mu);
      batch_var.data[c] = float(sq / count);
    }
    mean = batch_mean.data.data();
    var = batch_var.data.data();
  }
  for (int i = 0; i < ys.n; ++i) batch_norm(ys.image(i), r.gamma, r.beta, mean, var, kBatchNormEps);
  if (opt.recalibrate_bn) {
    res.bn_stats.add(l.name + ".bn.running_mean", std::move(batch_mean));
    res.bn_stats.add(l.name + ".bn.running_var", std::move(batch_var));
  }
}

// Applies the activation and returns the value ranges before and after it.
LayerRange activate_with_ranges(Tensor& ys, Activation act, double clip) {
  Range pre, post;
  pre.add(ys);
  if (clip > 0) clipped_range(ys, clip, pre.lo, pre.hi);
  apply_activation(ys, act);
  post.add(ys);
  if (clip > 0) clipped_range(ys, clip, post.lo, post.hi);
  return {pre.lo, pre.hi, post.lo, post.hi};
}

Tensor stack_images(const std::vector<Tensor>& images) {
  if (images.empty()) return Tensor::batch(0, 0, 0, 0);
  const Tensor& first = images.front();
  Tensor batch = Tensor::batch(int(images.size()), first.c, first.h, first.w);
  for (size_t i = 0; i < images.size(); ++i) {
    const Tensor& t = images[i];
    if (t.c != first.c || t.h != first.h || t.w != first.w || t.n != 1)
      throw std::logic_error("forward_fp32: the images of a batch differ in shape");
    std::copy(t.data.begin(), t.data.end(), batch.image(int(i)).data);
  }
  return batch;
}

}  // namespace

std::string subnet_key(const SupernetSpace& space, const Subnet& s) {
  return space.to_json(space.canonical(s));
}

std::vector<Tensor> random_images(int count, int channels, int height, int width, uint64_t seed) {
  Normal normal(seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<Tensor> out;
  for (int n = 0; n < count; ++n) {
    Tensor t(channels, height, width);
    for (float& v : t.data) v = float(normal());
    out.push_back(std::move(t));
  }
  return out;
}

ResolvedLayer resolve_layer(const Checkpoint& w, const Layer& l, const std::string& key) {
  ResolvedLayer r;
  const WeightSlice& s = l.slice;
  const std::string wname = l.name + ".weight";
  const NdArray& full = w.at(wname);
  if (full.shape.size() != 4) throw InputError("checkpoint tensor '" + wname + "' is not 4-dimensional");
  const int O = int(full.shape[0]), I = int(full.shape[1]), K = int(full.shape[2]);
  if (O < s.out || I < s.in || K < s.k || full.shape[3] != K || (K - s.k) % 2 != 0)
    throw InputError("checkpoint tensor '" + wname + "' (" + std::to_string(O) + "x" + std::to_string(I) +
                     "x" + std::to_string(K) + "x" + std::to_string(K) + ") does not hold the slice (" +
                     std::to_string(s.out) + ", " + std::to_string(s.in) + ", " + std::to_string(s.k) + ")");
  const int64_t out_stride = int64_t(I) * K * K, in_stride = int64_t(K) * K;
  const bool elastic = s.k < K && w.has(transform_name(l.name, K, K - 2));
  if (elastic) {
    r.transformed.resize(size_t(s.out) * s.in * s.k * s.k);
    for (int o = 0; o < s.out; ++o)
      for (int i = 0; i < s.in; ++i)
        transform_kernel(w, l.name, full.data.data() + o * out_stride + i * in_stride, K, s.k,
                         r.transformed.data() + (size_t(o) * s.in + i) * s.k * s.k);
    r.weights = ConvWeightView::dense(r.transformed.data(), s.out, s.in, s.k);
  } else {
    const int off = (K - s.k) / 2;
    r.weights = {full.data.data() + off * K + off, s.out, s.in, s.k, out_stride, in_stride, K};
  }
  if (w.has(l.name + ".bias")) r.bias = vector_of(w, l.name + ".bias", s.out).data.data();
  if (l.batch_norm) {
    const std::string bn = l.name + ".bn.";
    r.gamma = vector_of(w, bn + "weight", s.out).data.data();
    r.beta = vector_of(w, bn + "bias", s.out).data.data();
    const std::string own = "subnet_norm/" + key + "/" + bn;
    const bool per_subnet = !key.empty() && w.has(own + "running_mean");
    r.mean = vector_of(w, (per_subnet ? own : bn) + "running_mean", s.out).data.data();
    r.var = vector_of(w, (per_subnet ? own : bn) + "running_var", s.out).data.data();
  }
  return r;
}

void folded_weights(const ResolvedLayer& r, const Layer& l, std::vector<float>& weights,
                    std::vector<float>& bias) {
  const ConvWeightView& v = r.weights;
  weights.resize(size_t(v.out) * v.in * v.k * v.k);
  for (int o = 0; o < v.out; ++o)
    for (int i = 0; i < v.in; ++i)
      for (int y = 0; y < v.k; ++y)
        for (int x = 0; x < v.k; ++x)
          weights[((size_t(o) * v.in + i) * v.k + y) * v.k + x] = v.at(o, i, y, x);
  bias.assign(size_t(v.out), 0.0f);
  if (r.bias) std::copy(r.bias, r.bias + v.out, bias.begin());
  if (l.batch_norm) fold_batch_norm(weights, bias, v.out, r.gamma, r.beta, r.mean, r.var, kBatchNormEps);
}

ForwardResult forward_fp32(const Checkpoint& w, const std::vector<Layer>& layers, const Tensor& batch,
                           const ForwardOptions& opt) {
  std::vector<int> last_use(layers.size(), -1);
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].input >= 0) last_use[layers[i].input] = int(i);
    if (layers[i].input2 >= 0) last_use[layers[i].input2] = int(i);
  }
  ForwardResult res;
  res.outputs.resize(layers.size());
  res.ranges.resize(layers.size());
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& l = layers[li];
    const LayerOp& op = layer_op(l.kind);
    auto operand = [&](int index) -> const Tensor& { return index < 0 ? batch : res.outputs[size_t(index)]; };
    ResolvedLayer r;
    if (has_conv_weights(l.kind)) r = resolve_layer(w, l, opt.subnet_key);
    const bool binary = l.input2 >= 0 || op.properties().binary;
    Tensor& ys = res.outputs[li] =
        run_layer(op, l, r, operand(l.input), binary ? &operand(l.input2) : nullptr);
    if (l.batch_norm) normalize(ys, l, r, opt, res);
    res.ranges[li] = activate_with_ranges(ys, l.act, opt.range_clip);
    if (!opt.keep_all) {  // free every operand whose last reader was this layer
      for (int j : {l.input, l.input2})
        if (j >= 0 && last_use[j] == int(li) && size_t(j) + 1 != layers.size()) res.outputs[j] = Tensor();
    }
  }
  return res;
}

ForwardResult forward_fp32(const Checkpoint& w, const std::vector<Layer>& layers,
                           const std::vector<Tensor>& images, const ForwardOptions& opt) {
  return forward_fp32(w, layers, stack_images(images), opt);
}

Tensor forward_fp32(const Checkpoint& w, const std::vector<Layer>& layers, const Tensor& image,
                    const std::string& key) {
  ForwardOptions opt;
  opt.subnet_key = key;
  return std::move(forward_fp32(w, layers, image, opt).outputs.back());
}

Checkpoint make_random_supernet(const SupernetSpace& space, uint64_t seed) {
  Checkpoint ckpt;
  JsonWriter meta;
  meta.begin_object()
      .field("format", "sushi supernet")
      .field("space", space.name())
      .field("seed", seed)
      .field("init", "random he-normal")
      .end_object();
  ckpt.metadata = meta.str();
  std::set<int> kernel_sizes;
  for (const auto& choices : space.elastic().kernel_choices)
    kernel_sizes.insert(choices.begin(), choices.end());
  const Subnet max = space.max_subnet();
  std::map<std::string, Layer> by_name;
  std::set<std::string> residual_branch_ends;  // layers whose output feeds a residual Add
  const std::vector<Layer> max_layers = space.layers(max);
  for (const Layer& l : max_layers) {
    by_name[l.name] = l;
    if (l.kind == LayerKind::Add) residual_branch_ends.insert(max_layers[size_t(l.input)].name);
  }
  Normal normal(seed);
  for (const TensorInfo& t : space.tensors()) {
    const Layer& l = by_name.at(t.name);
    const WeightSlice& f = t.full;
    NdArray weight({f.out, f.in, f.k, f.k});
    const double std_dev = std::sqrt(2.0 / (double(f.in) * f.k * f.k));
    for (float& v : weight.data) v = float(normal() * std_dev);
    ckpt.add(t.name + ".weight", std::move(weight));
    if (f.has_bias && !l.batch_norm) {
      NdArray bias({f.out});
      for (float& v : bias.data) v = float(0.1 * normal());
      ckpt.add(t.name + ".bias", std::move(bias));
    }
    if (l.batch_norm) {
      NdArray gamma({f.out}), beta({f.out}), mean({f.out}, 0.0f), var({f.out}, 1.0f);
      // Residual branches start small (as with zero-gamma init): a random BN network is otherwise chaotic
      // and amplifies any perturbation, quantization noise included, layer after layer.
      const double gain = residual_branch_ends.count(t.name) ? kResidualGamma : 1.0;
      for (float& v : gamma.data) v = float(gain * (1.0 + 0.1 * normal()));
      for (float& v : beta.data) v = float(0.1 * normal());
      ckpt.add(t.name + ".bn.weight", std::move(gamma));
      ckpt.add(t.name + ".bn.bias", std::move(beta));
      ckpt.add(t.name + ".bn.running_mean", std::move(mean));
      ckpt.add(t.name + ".bn.running_var", std::move(var));
    }
    if (op_properties(t.kind).depthwise) {  // elastic kernels: transform matrices per smaller size
      std::vector<int> smaller;
      for (int k : kernel_sizes)
        if (k < f.k) smaller.push_back(k);
      int from = f.k;
      for (auto it = smaller.rbegin(); it != smaller.rend(); ++it) {
        const int n = *it * *it;
        NdArray m({n, n});
        for (int r = 0; r < n; ++r)
          for (int c = 0; c < n; ++c)
            m.data[size_t(r) * n + c] = float((r == c ? 1.0 : 0.0) + 0.05 * normal());
        ckpt.add(transform_name(t.name, from, *it), std::move(m));
        from = *it;
      }
    }
  }
  // Shared statistics: the max subnet at the smallest resolution, on a few seeded images.
  Subnet calib = max;
  calib.resolution = space.elastic().resolutions.front();
  ForwardOptions opt;
  opt.recalibrate_bn = true;
  const auto images = random_images(4, space.input_channels(), calib.resolution, calib.resolution, seed + 1);
  ForwardResult r = forward_fp32(ckpt, space.layers(calib), images, opt);
  for (const std::string& name : r.bn_stats.names()) ckpt.add(name, r.bn_stats.at(name));
  return ckpt;
}

void add_subnet_norm(Checkpoint& supernet, const SupernetSpace& space, const Subnet& s,
                     const std::vector<Tensor>& images) {
  ForwardOptions opt;
  opt.recalibrate_bn = true;
  ForwardResult r = forward_fp32(supernet, space.layers(s), images, opt);
  const std::string prefix = "subnet_norm/" + subnet_key(space, s) + "/";
  for (const std::string& name : r.bn_stats.names()) supernet.add(prefix + name, r.bn_stats.at(name));
}

std::set<std::string> subnet_norm_keys(const Checkpoint& supernet) {
  const std::string prefix = "subnet_norm/";
  std::set<std::string> keys;
  for (const std::string& n : supernet.names()) {
    const size_t end = n.find("}/", prefix.size());  // a key is the subnet's JSON object
    if (n.rfind(prefix, 0) == 0 && end != std::string::npos)
      keys.insert(n.substr(prefix.size(), end + 1 - prefix.size()));
  }
  return keys;
}

Checkpoint extract_subnet(const Checkpoint& supernet, const SupernetSpace& space, const Subnet& s) {
  const std::string key = subnet_key(space, s);
  Checkpoint out;
  JsonWriter meta;
  meta.begin_object()
      .field("format", "sushi subnet")
      .field("space", space.name())
      .key("subnet")
      .raw(key)
      .end_object();
  out.metadata = meta.str();
  for (const Layer& l : space.layers(s)) {
    if (!has_conv_weights(l.kind)) continue;
    const ResolvedLayer r = resolve_layer(supernet, l, key);
    const ConvWeightView& v = r.weights;
    NdArray weight({v.out, v.in, v.k, v.k});
    for (int o = 0; o < v.out; ++o)
      for (int i = 0; i < v.in; ++i)
        for (int y = 0; y < v.k; ++y)
          for (int x = 0; x < v.k; ++x)
            weight.data[((size_t(o) * v.in + i) * v.k + y) * v.k + x] = v.at(o, i, y, x);
    out.add(l.name + ".weight", std::move(weight));
    auto vec = [&](const std::string& name, const float* p) {
      NdArray a({v.out});
      std::copy(p, p + v.out, a.data.begin());
      out.add(name, std::move(a));
    };
    if (r.bias) vec(l.name + ".bias", r.bias);
    if (l.batch_norm) {
      vec(l.name + ".bn.weight", r.gamma);
      vec(l.name + ".bn.bias", r.beta);
      vec(l.name + ".bn.running_mean", r.mean);
      vec(l.name + ".bn.running_var", r.var);
    }
  }
  return out;
}

}  // namespace sushi
