// Op-table entry: squeeze-and-excitation expand: FC producing the channel gate
#include "models/ref/ops/conv_like.h"

namespace sushi {
namespace {

class SeExpandOp : public ConvLikeOp {
 public:
  LayerKind kind() const override { return LayerKind::SEExpand; }
  OpProperties properties() const override { return conv_properties(false, false); }
};

SUSHI_REGISTER_LAYER_OP(SeExpandOp, "squeeze-and-excitation expand: FC producing the channel gate");

}  // namespace
}  // namespace sushi
