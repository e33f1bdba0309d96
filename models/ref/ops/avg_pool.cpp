// Op-table entry: average pooling (count_include_pad=False, ceil mode), on the vector unit.
#include "base/random.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"
#include "models/ref/ops/pool_window.h"

namespace sushi {
namespace {

class AvgPoolOp : public LayerOp {
 public:
  LayerKind kind() const override { return LayerKind::AvgPool; }
  OpProperties properties() const override {
    OpProperties p;
    p.window = OpWindow::Kernel;
    return p;
  }
  void forward_fp32(const Layer& l, const ResolvedLayer&, ConstFImage a, const ConstFImage*,
                    FImage y) const override {
    avg_pool(a, l.kernel, l.stride, l.pad, true, y);
  }
  void run_int8(const QOp& op, ConstQImage a, const ConstQImage*, QImage y) const override {
    detail::int8_pool_window(op, a, y, false);
  }
  void quantize(QOp& op, const Checkpoint&, const std::string&, double res) const override {
    for (int n = 1; n <= op.layer.kernel * op.layer.kernel; ++n)
      op.aux.push_back(make_requant(op.in_scale / (res * n)));
  }
  void randomize(QOp& op, Rng& rng) const override {
    const double r = rng.uniform(0.5, 2.0);
    for (int n = 1; n <= op.layer.kernel * op.layer.kernel; ++n) op.aux.push_back(make_requant(r / n));
  }
};

SUSHI_REGISTER_LAYER_OP(AvgPoolOp,
                        "average pooling over the window's positions inside the input (vector unit)");

}  // namespace
}  // namespace sushi
