#include "models/space/layer_builder.h"

#include <stdexcept>

#include "base/checked.h"

namespace sushi {

namespace {
int conv_out(int in, int k, int s, int pad) {
  const int span = checked::add(in, checked::sub(checked::mul(2, pad, "padding"), k, "padding"), "conv span");
  return checked::add(checked::div(span, s, "stride"), 1, "conv output size");
}
}  // namespace

int read_int_in(const YamlView& v, const std::string& key, int lo, int hi, const std::string& what) {
  const YamlView x = v.at(key);
  const int64_t n = x.as<int64_t>();  // "expected an integer, got '...'"
  if (n < lo || n > hi)
    x.fail("expected " + what + " in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
           x.node().Scalar());
  return int(n);
}

int read_kernel(const YamlView& v, const std::string& key) {
  const int k = read_int_in(v, key, 1, kMaxKernel, "a kernel size");
  if (k % 2 == 0) v.at(key).fail("expected an odd kernel size, got " + std::to_string(k));
  return k;
}

int LayerBuilder::push(Layer l) {
  layers_.push_back(std::move(l));
  source_ = last();
  c_ = layers_.back().out_c;
  h_ = layers_.back().out_h;
  w_ = layers_.back().out_w;
  return last();
}

void LayerBuilder::set_current(int index) {
  const Layer& l = layers_.at(index);
  source_ = index;
  c_ = l.out_c;
  h_ = l.out_h;
  w_ = l.out_w;
}

int LayerBuilder::weighted(const std::string& name, LayerKind kind, int out_c, int kernel, int stride,
                           Activation act, bool batch_norm, bool bias) {
  Layer l;
  l.name = name;
  l.kind = kind;
  l.input = source_;
  l.in_c = c_;
  l.in_h = h_;
  l.in_w = w_;
  l.kernel = kernel;
  l.stride = stride;
  l.pad = kernel / 2;
  l.act = act;
  l.batch_norm = batch_norm;
  const bool spatial =
      kind == LayerKind::Conv || kind == LayerKind::Depthwise || kind == LayerKind::Pointwise;
  if (kind == LayerKind::Depthwise) {
    if (out_c != c_) throw std::logic_error(name + ": depthwise layer must keep its channel count");
    l.groups = c_;
  }
  if (spatial) {
    l.out_h = conv_out(h_, kernel, stride, l.pad);
    l.out_w = conv_out(w_, kernel, stride, l.pad);
  } else {  // FC and SE layers act on a 1x1 map
    if (h_ != 1 || w_ != 1) throw std::logic_error(name + ": FC/SE layer needs a 1x1 input");
    l.out_h = l.out_w = 1;
    l.kernel = 1;
    l.pad = 0;
  }
  l.out_c = out_c;
  if (out_c <= 0 || c_ <= 0) throw OverflowError(name + ": expected positive channel counts");
  const int in_per_group = checked::div(l.in_c, l.groups, "channel groups");
  const std::string what = "MACs of layer " + name;
  int64_t macs = checked::mul<int64_t>(l.out_h, l.out_w, what);
  for (int64_t f : {int64_t(out_c), int64_t(in_per_group), int64_t(l.kernel), int64_t(l.kernel)})
    macs = checked::mul(macs, f, what);
  l.macs = macs;
  l.slice = WeightSlice{-1, out_c, in_per_group, l.kernel, batch_norm || bias};
  const int64_t elems =
      checked::mul(checked::mul<int64_t>(out_c, in_per_group, name), int64_t(l.kernel) * l.kernel, name);
  l.params = checked::add(elems, int64_t(out_c) * ((bias ? 1 : 0) + (batch_norm ? 2 : 0)), name);
  l.weight_bytes = checked::add(elems, l.slice.has_bias ? 4 * int64_t(out_c) : 0, name);
  return push(std::move(l));
}

int LayerBuilder::pool(const std::string& name, LayerKind kind, int kernel, int stride, int pad,
                       bool ceil_mode) {
  Layer l;
  l.name = name;
  l.kind = kind;
  l.input = source_;
  l.in_c = l.out_c = c_;
  l.in_h = h_;
  l.in_w = w_;
  l.kernel = kernel;
  l.stride = stride;
  l.pad = pad;
  auto out = [&](int in) {
    int span = in + 2 * pad - kernel;
    return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  };
  l.out_h = out(h_);
  l.out_w = out(w_);
  return push(std::move(l));
}

int LayerBuilder::global_pool(const std::string& name) {
  Layer l;
  l.name = name;
  l.kind = LayerKind::GlobalPool;
  l.input = source_;
  l.in_c = l.out_c = c_;
  l.in_h = h_;
  l.in_w = w_;
  l.kernel = h_;
  l.out_h = l.out_w = 1;
  return push(std::move(l));
}

int LayerBuilder::add(const std::string& name, int a, int b, Activation act) {
  const Layer& la = layers_.at(a);
  Layer l;
  l.name = name;
  l.kind = LayerKind::Add;
  l.input = a;
  l.input2 = b;
  l.in_c = l.out_c = la.out_c;
  l.in_h = l.out_h = la.out_h;
  l.in_w = l.out_w = la.out_w;
  l.act = act;
  if (b >= 0) {
    const Layer& lb = layers_.at(b);
    if (lb.out_c != la.out_c || lb.out_h != la.out_h || lb.out_w != la.out_w)
      throw std::logic_error(name + ": residual operands differ in shape");
  }
  return push(std::move(l));
}

int LayerBuilder::se_scale(const std::string& name, int features, int gate) {
  const Layer& lf = layers_.at(features);
  Layer l;
  l.name = name;
  l.kind = LayerKind::SEScale;
  l.input = features;
  l.input2 = gate;
  l.in_c = l.out_c = lf.out_c;
  l.in_h = l.out_h = lf.out_h;
  l.in_w = l.out_w = lf.out_w;
  return push(std::move(l));
}

}  // namespace sushi
