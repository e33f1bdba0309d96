#include "models/space/layer_builder.h"

#include <stdexcept>

namespace sushi {

namespace {
int conv_out(int in, int k, int s, int pad) {
  return (in + 2 * pad - k) / s + 1;
}
}  // namespace

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
  const int in_per_group = l.in_c / l.groups;
  l.macs = int64_t(l.out_h) * l.out_w * out_c * in_per_group * l.kernel * l.kernel;
  l.slice = WeightSlice{-1, out_c, in_per_group, l.kernel, batch_norm || bias};
  l.params = l.slice.weight_elems() + (bias ? out_c : 0) + (batch_norm ? 2 * out_c : 0);
  l.weight_bytes = l.slice.bytes();
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
