#pragma once
// fp32 reference kernels on Eigen. Layout: CHW per image (models/ref/tensor.h, NCHW batches); weights
// [out][in/groups][k][k]. Regular and pointwise convolutions run as one GEMM per group through Eigen (im2col,
// skipped for 1x1 stride-1 convolutions, whose input already is the GEMM operand); depthwise convolutions run
// as direct per-channel loops. set_kernel_threads() runs fixed-width column blocks of each GEMM in parallel
// (OpenMP); Eigen itself stays single-threaded, so fp32 results are bit-identical at any thread count
// (contract 8).
#include <cstdint>
#include <vector>

#include "models/ref/tensor.h"
#include "models/space/supernet.h"

namespace sushi {

// A [out][in][k][k] block of weights inside a possibly larger tensor (a supernet slice): element
// (o, i, y, x) is data[o * out_stride + i * in_stride + y * row_stride + x]. No copy is made.
struct ConvWeightView {
  const float* data = nullptr;
  int out = 0, in = 0, k = 1;
  int64_t out_stride = 0, in_stride = 0;
  int row_stride = 1;

  static ConvWeightView dense(const float* data, int out, int in, int k) {
    return {data, out, in, k, int64_t(in) * k * k, int64_t(k) * k, k};
  }
  float at(int o, int i, int y, int x) const {
    return data[o * out_stride + i * in_stride + y * row_stride + x];
  }
  // (in, k, k) of one output channel is contiguous, so the view is a strided GEMM operand.
  bool rows_contiguous() const { return row_stride == k && in_stride == int64_t(k) * k; }
};

struct ConvParams {
  int stride = 1, pad = 0, groups = 1;
};

int conv_out_size(int in, int k, int stride, int pad);
int pool_out_size(int in, int k, int stride, int pad, bool ceil_mode);

// Every kernel reads and writes single images (ImageView, no copy): a Tensor passes its first image, a
// batch passes tensor.image(i). The forms returning a Tensor allocate the output; the forms taking an output
// view write into it (its shape must be the kernel's output shape, else std::logic_error).

// GEMM operand of one group's convolution: row (i, ky, kx), column (oy, ox), channels
// [first_channel, first_channel + channels) of x; padded positions are 0.
void im2col(ConstFImage x, int first_channel, int channels, int k, const ConvParams& p, int oh, int ow,
            std::vector<float>& col);
// Convolution (regular, grouped, depthwise, pointwise; FC is a 1x1 conv on a 1x1 map). bias may be null.
Tensor conv2d(ConstFImage x, const ConvWeightView& w, const float* bias, const ConvParams& p);
void conv2d(ConstFImage x, const ConvWeightView& w, const float* bias, const ConvParams& p, FImage y);
// y = gamma * (x - mean) / sqrt(var + eps) + beta per channel (inference form), on one image.
void batch_norm(FImage x, const float* gamma, const float* beta, const float* mean, const float* var,
                float eps);
// Folds batch norm into the preceding conv: dense weights [out][fan_in] and bias [out] (bias in/out).
void fold_batch_norm(std::vector<float>& weights, std::vector<float>& bias, int out, const float* gamma,
                     const float* beta, const float* mean, const float* var, float eps);
float activate(float v, Activation act);           // ReLU, h-swish x*relu6(x+3)/6, h-sigmoid relu6(x+3)/6
void apply_activation(Tensor& x, Activation act);  // every image of a batch
Tensor global_avg_pool(ConstFImage x);
void global_avg_pool(ConstFImage x, FImage y);
Tensor max_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode = false);  // padding never wins
void max_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode, FImage y);
// Average over the window's positions inside the input (PyTorch count_include_pad=False).
Tensor avg_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode = false);
void avg_pool(ConstFImage x, int k, int stride, int pad, bool ceil_mode, FImage y);
Tensor add(ConstFImage a, ConstFImage b, Activation act = Activation::None);
void add(ConstFImage a, ConstFImage b, Activation act, FImage y);
Tensor se_scale(ConstFImage x, ConstFImage gate);  // x[c] * gate[c] (gate is c x 1 x 1)
void se_scale(ConstFImage x, ConstFImage gate, FImage y);

void set_kernel_threads(int threads);  // OpenMP threads over GEMM column blocks; 1 by default
int kernel_threads();

}  // namespace sushi
