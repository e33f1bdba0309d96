// Op-table entry: regular (or grouped) k x k convolution on the array
#include "models/ref/ops/conv_like.h"

namespace sushi {
namespace {

class ConvOp : public ConvLikeOp {
 public:
  LayerKind kind() const override { return LayerKind::Conv; }
  OpProperties properties() const override { return conv_properties(true, false); }
};

SUSHI_REGISTER_LAYER_OP(ConvOp, "regular (or grouped) k x k convolution on the array");

}  // namespace
}  // namespace sushi
