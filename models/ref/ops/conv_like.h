#pragma once
// The shared part of the op-table entries with weights (Conv, Depthwise, Pointwise, FC, SEReduce,
// SEExpand): fp32 convolution, int32 accumulation + QOp::finish, per-output-channel weight quantization.
// Each kind's file derives from ConvLikeOp and states its properties.
#include "models/ref/op_table.h"

namespace sushi {

class ConvLikeOp : public LayerOp {
 public:
  void forward_fp32(const Layer& l, const ResolvedLayer& r, ConstFImage a, const ConstFImage* b,
                    FImage y) const override;
  void run_int8(const QOp& op, ConstQImage a, const ConstQImage* b, QImage y) const override;
  void quantize(QOp& op, const Checkpoint& weights, const std::string& subnet_key, double res) const override;
  void randomize(QOp& op, Rng& rng) const override;

 protected:
  // Properties every conv-like kind shares; `spatial` and `depthwise` set by the kind.
  static OpProperties conv_properties(bool spatial, bool depthwise);
};

}  // namespace sushi
