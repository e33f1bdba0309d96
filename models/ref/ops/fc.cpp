// Op-table entry: fully connected layer: a 1 x 1 convolution of a 1 x 1 map
#include "models/ref/ops/conv_like.h"

namespace sushi {
namespace {

class FcOp : public ConvLikeOp {
 public:
  LayerKind kind() const override { return LayerKind::FC; }
  OpProperties properties() const override { return conv_properties(false, false); }
};

SUSHI_REGISTER_LAYER_OP(FcOp, "fully connected layer: a 1 x 1 convolution of a 1 x 1 map");

}  // namespace
}  // namespace sushi
