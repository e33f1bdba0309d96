#pragma once
// The training core's forward and backward pass of one subnet, reading and writing slices of the supernet's
// shared tensors (weight sharing without copies: a layer's gradient lands in the leading part of the full
// tensor it read, named as in models/ref/forward.h). Activations are channel-major batches (CNHW: channel c
// of every image is one contiguous run of n*h*w values), so a 1x1 convolution of the whole batch is one GEMM
// and batch norm statistics are reductions over contiguous memory.
//
// Determinism (contract 8): work is split into units whose size does not depend on the thread count
// (GEMM column blocks of kColumnBlock, rows of weight gradients, channels of depthwise and batch norm); every
// reduction runs in a fixed order inside one unit, so results are bit-identical at any thread count.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/ref/checkpoint.h"
#include "models/space/supernet.h"

namespace sushi::train {

// An allocator whose resize leaves new floats uninitialised (vector(n, value) still fills): outputs that
// are written in full skip a pass of zero-filling.
template <typename T>
struct NoInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  NoInitAllocator() = default;
  template <typename U>
  NoInitAllocator(const NoInitAllocator<U>&) {}
  template <typename U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
};

// A CNHW batch: element (c, i, y, x) is d[((c * n + i) * h + y) * w + x].
struct Act {
  int c = 0, n = 0, h = 0, w = 0;
  std::vector<float, NoInitAllocator<float>> d;
  Act() = default;
  Act(int channels, int images, int height, int width, float fill = 0.0f)
      : c(channels), n(images), h(height), w(width), d(size_t(channels) * images * height * width, fill) {}
  // Values left unset: for outputs written in full.
  static Act uninitialized(int channels, int images, int height, int width) {
    Act a;
    a.c = channels;
    a.n = images;
    a.h = height;
    a.w = width;
    a.d.resize(size_t(channels) * images * height * width);
    return a;
  }
  size_t run() const { return size_t(n) * h * w; }  // values per channel
  float* ch(int ci) { return d.data() + size_t(ci) * run(); }
  const float* ch(int ci) const { return d.data() + size_t(ci) * run(); }
};

enum class BnMode { Batch, Stats };  // normalise with the batch's statistics, or with stored ones

struct PassOptions {
  BnMode bn = BnMode::Batch;
  std::string subnet_key;  // BnMode::Stats: subnet_norm/<key>/ statistics when present, else the shared ones
  double dropout = 0;      // on the classifier's input (training the largest subnet only)
  uint64_t dropout_seed = 0;
  int threads = 1;
};

// Per batch-norm layer: the batch's biased mean and variance over (N, H, W), from the last forward.
struct BnBatchStats {
  std::string layer;
  std::vector<double> mean, var;
};

// One subnet's pass over one batch. The params checkpoint must outlive the pass.
class SubnetPass {
 public:
  SubnetPass(const Checkpoint& params, std::vector<Layer> layers, PassOptions options);
  // input: [in_c][n][h][w] at the layers' input shape. Returns the logits [classes][n][1][1].
  const Act& forward(const Act& input);
  // Backward from dL/dlogits: adds every parameter's gradient into grads (tensors named as params, created
  // zero-filled at the full shape when absent). Returns dL/dinput when want_input is set (else empty).
  Act backward(const Act& dlogits, Checkpoint& grads, bool want_input = false);
  const std::vector<BnBatchStats>& batch_stats() const { return stats_; }
  const std::vector<Layer>& layers() const { return layers_; }

 private:
  struct Tape;
  const Checkpoint& params_;
  std::vector<Layer> layers_;
  PassOptions opt_;
  std::vector<Tape> tape_;
  std::vector<BnBatchStats> stats_;
  const Act* input_ = nullptr;
  int dropout_layer_ = -1;
  std::vector<float> dropout_mask_;
  std::vector<Act> dy_;  // backward: dL/d(output) per layer
  Act din_;

  void forward_op(size_t li);
  void forward_norm(size_t li);
  const Act& operand(int index) const;
  Act& grad_slot(int index);
  void backward_norm(size_t li, Act& g, Checkpoint& grads);
  void backward_weighted(size_t li, const Act& g, Checkpoint& grads, bool need_in);
  void backward_plain(size_t li, const Act& g, bool need_in);

 public:
  ~SubnetPass();
  SubnetPass(SubnetPass&&) noexcept;
};

// Images (NCHW, one channel plane after another per image) to a CNHW batch.
Act to_cnhw(const std::vector<float>& nchw, int n, int c, int h, int w);

// Softmax cross-entropy. targets: [n][classes] probability rows (labels with smoothing, or soft labels).
// Returns the mean loss; dlogits = scale * (softmax - target) / n.
double soft_cross_entropy(const Act& logits, const std::vector<float>& targets, double scale, Act& dlogits);
std::vector<float> smoothed_targets(const std::vector<int>& labels, int classes, double smoothing);
std::vector<float> softmax_rows(const Act& logits);  // [n][classes]
std::vector<int> argmax_rows(const Act& logits);

// Every step allocates and frees activation buffers of tens of MB; glibc would map each one afresh and
// return it on free (page faults and page clearing of about 10% of a step). Call once per process before
// training: keeps freed memory in the heap for reuse. Idempotent.
void retain_freed_memory();

// Elastic-kernel helpers, shared by the pass and the channel re-sort: the transform matrix names a
// depthwise tensor uses (checkpoint naming of models/ref/forward.h).
std::string kernel_transform_name(const std::string& layer, int from, int to);

}  // namespace sushi::train
