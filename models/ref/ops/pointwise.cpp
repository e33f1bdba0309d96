// Op-table entry: 1 x 1 convolution on the array (pointwise folding applies)
#include "models/ref/ops/conv_like.h"

namespace sushi {
namespace {

class PointwiseOp : public ConvLikeOp {
 public:
  LayerKind kind() const override { return LayerKind::Pointwise; }
  OpProperties properties() const override { return conv_properties(true, false); }
};

SUSHI_REGISTER_LAYER_OP(PointwiseOp, "1 x 1 convolution on the array (pointwise folding applies)");

}  // namespace
}  // namespace sushi
