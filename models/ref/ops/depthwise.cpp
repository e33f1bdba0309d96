// Op-table entry: depthwise k x k convolution (one filter per channel) on the array
#include "models/ref/ops/conv_like.h"

namespace sushi {
namespace {

class DepthwiseOp : public ConvLikeOp {
 public:
  LayerKind kind() const override { return LayerKind::Depthwise; }
  OpProperties properties() const override { return conv_properties(true, true); }
};

SUSHI_REGISTER_LAYER_OP(DepthwiseOp, "depthwise k x k convolution (one filter per channel) on the array");

}  // namespace
}  // namespace sushi
