#pragma once
// Weight sharing in the forward pass. A supernet checkpoint holds one full tensor per
// SupernetSpace::tensors() entry; running subnet s reads, through views and without copying, only the slice
// each layer of layers(s) names (leading output and input channels, the kernel centre). Tensor names:
//
//   <layer>.weight                     [out][in/groups][k][k] (FC and SE layers: k = 1)
//   <layer>.bias                       [out], layers with a real bias (FC, SE)
//   <layer>.bn.{weight,bias,running_mean,running_var}   [out], layers followed by batch norm
//   <layer>.kernel_transform.<K>to<k>  [k*k][k*k], OFA's elastic-kernel matrices (depthwise layers whose
//                                      kernel choices are smaller than the stored K)
//   subnet_norm/<subnet json>/<layer>.bn.{running_mean,running_var}   SuperServe's SubnetNorm: statistics
//                                      of one canonical subnet (SupernetSpace::to_json), which replace the
//                                      shared ones when that subnet runs
//
// Elastic kernel (OFA): a kernel of size k < K is the centre of the next larger size passed through that
// size pair's matrix (out = M * flatten(centre)), starting from the stored K; sizes with no matrix are a
// plain centre crop. A subnet extracted into standalone tensors (extract_subnet) has exactly the
// layer shapes and its own statistics in the shared names, so the same forward pass runs it.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/ref/checkpoint.h"
#include "models/ref/kernels.h"
#include "models/space/supernet.h"

namespace sushi {

constexpr float kBatchNormEps = 1e-5f;

// Canonical key of a subnet in subnet_norm/ names.
std::string subnet_key(const SupernetSpace& space, const Subnet& s);

// Random supernet weights from a seed: He-normal conv/FC weights (std sqrt(2 / fan_in)), small random BN
// affine parameters and biases, identity-plus-noise kernel transforms; the shared batch-norm statistics are
// then recalibrated (OFA's set_running_statistics) on seeded random images through the max subnet at the
// space's smallest resolution, so activations neither vanish nor explode. The last batch norm of every
// residual branch gets gain 0.1 (zero-gamma-style init): a random network with full-strength branches is
// chaotic and amplifies any perturbation (quantization noise included) block after block.
Checkpoint make_random_supernet(const SupernetSpace& space, uint64_t seed);
// `count` images of N(0, 1) pixels.
std::vector<Tensor> random_images(int count, int channels, int height, int width, uint64_t seed);

// One conv-like layer's weights resolved from a checkpoint for a subnet.
struct ResolvedLayer {
  ConvWeightView weights;          // a view into the checkpoint, or into `transformed`
  std::vector<float> transformed;  // elastic-kernel output (computed, as OFA does, when k < stored K)
  const float* bias = nullptr;     // real bias, or null
  const float *gamma = nullptr, *beta = nullptr, *mean = nullptr, *var = nullptr;  // batch norm, or null
};
// Throws InputError when the checkpoint lacks a tensor or it is too small for the layer's slice.
ResolvedLayer resolve_layer(const Checkpoint& weights, const Layer& layer, const std::string& subnet_key);
// The layer's weights with batch norm folded in: dense [out][in/groups][k][k] and a bias per output channel.
void folded_weights(const ResolvedLayer& r, const Layer& layer, std::vector<float>& weights,
                    std::vector<float>& bias);

// Value range of one layer's output over a batch, before (pre) and after the activation.
struct LayerRange {
  float pre_min = 0, pre_max = 0, out_min = 0, out_max = 0;
};

struct ForwardOptions {
  std::string subnet_key;       // selects subnet_norm statistics; "" = the shared ones
  bool recalibrate_bn = false;  // normalise with batch statistics over all images and return them
  bool keep_all = false;        // keep every layer's output (else only the last)
  // Ranges clip this share of the values at each end (0 = exact min/max): int8 calibration ignores rare
  // outliers that would otherwise coarsen the quantization step for every other value.
  double range_clip = 0;
};

struct ForwardResult {
  std::vector<Tensor> outputs;     // [layer], NCHW batches; only the last layer unless keep_all
  std::vector<LayerRange> ranges;  // [layer], over the whole batch
  Checkpoint bn_stats;             // <layer>.bn.running_{mean,var} when recalibrating
  const Tensor& logits() const { return outputs.back(); }
};

// The forward pass of a batch (NCHW, Tensor::batch): every image's result is bit-identical to running
// it alone, at any kernel thread count (recalibrated batch norm, by definition, uses the whole batch).
ForwardResult forward_fp32(const Checkpoint& weights, const std::vector<Layer>& layers, const Tensor& batch,
                           const ForwardOptions& options);
// The same on a list of single images (stacked into one batch).
ForwardResult forward_fp32(const Checkpoint& weights, const std::vector<Layer>& layers,
                           const std::vector<Tensor>& images, const ForwardOptions& options = {});
// One image's (or a batch's) logits.
Tensor forward_fp32(const Checkpoint& weights, const std::vector<Layer>& layers, const Tensor& image,
                    const std::string& subnet_key = "");

// Recalibrates batch norm for subnet s on `images` and stores the result as s's SubnetNorm entries.
void add_subnet_norm(Checkpoint& supernet, const SupernetSpace& space, const Subnet& s,
                     const std::vector<Tensor>& images);
// The keys (subnet_key) of the subnets whose SubnetNorm statistics `supernet` holds.
std::set<std::string> subnet_norm_keys(const Checkpoint& supernet);
// Subnet s as standalone tensors: each layer's slice (kernel transforms applied) under the supernet's
// names, with s's SubnetNorm statistics (or the shared ones) as its batch-norm statistics.
Checkpoint extract_subnet(const Checkpoint& supernet, const SupernetSpace& space, const Subnet& s);

}  // namespace sushi
