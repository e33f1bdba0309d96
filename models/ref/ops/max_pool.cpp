// Op-table entry: max pooling (padding never wins), on the vector unit.
#include "base/random.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"
#include "models/ref/ops/pool_window.h"

namespace sushi {
namespace {

class MaxPoolOp : public LayerOp {
 public:
  LayerKind kind() const override { return LayerKind::MaxPool; }
  OpProperties properties() const override {
    OpProperties p;
    p.keeps_input_scale = true;
    p.window = OpWindow::Kernel;
    return p;
  }
  void forward_fp32(const Layer& l, const ResolvedLayer&, ConstFImage a, const ConstFImage*,
                    FImage y) const override {
    max_pool(a, l.kernel, l.stride, l.pad, false, y);
  }
  void run_int8(const QOp& op, ConstQImage a, const ConstQImage*, QImage y) const override {
    detail::int8_pool_window(op, a, y, true);
  }
  void quantize(QOp& op, const Checkpoint&, const std::string&, double res) const override {
    op.aux = {make_requant(op.in_scale / res)};
  }
  void randomize(QOp& op, Rng& rng) const override { op.aux = {make_requant(rng.uniform(0.5, 2.0))}; }
};

SUSHI_REGISTER_LAYER_OP(MaxPoolOp, "max pooling over a k x k window (vector unit)");

}  // namespace
}  // namespace sushi
