// Op-table entry: squeeze-and-excitation reduce: FC on the pooled 1 x 1 map
#include "models/ref/ops/conv_like.h"

namespace sushi {
namespace {

class SeReduceOp : public ConvLikeOp {
 public:
  LayerKind kind() const override { return LayerKind::SEReduce; }
  OpProperties properties() const override { return conv_properties(false, false); }
};

SUSHI_REGISTER_LAYER_OP(SeReduceOp, "squeeze-and-excitation reduce: FC on the pooled 1 x 1 map");

}  // namespace
}  // namespace sushi
