// Op-table entry: global average pooling to a 1 x 1 map, on the vector unit.
#include "base/random.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"

namespace sushi {
namespace {

class GlobalPoolOp : public LayerOp {
 public:
  LayerKind kind() const override { return LayerKind::GlobalPool; }
  OpProperties properties() const override {
    OpProperties p;
    p.window = OpWindow::Plane;
    return p;
  }
  void forward_fp32(const Layer&, const ResolvedLayer&, ConstFImage a, const ConstFImage*,
                    FImage y) const override {
    global_avg_pool(a, y);
  }
  // v = apply_requant(sum over the plane of (x - in_zp), aux[0])
  void run_int8(const QOp& op, ConstQImage a, const ConstQImage*, QImage y) const override {
    const int64_t in_plane = int64_t(a.h) * a.w;
    for (int c = 0; c < y.c; ++c) {
      int64_t sum = 0;
      for (int64_t i = 0; i < in_plane; ++i) sum += int32_t(a.data[c * in_plane + i]) - op.in_zp;
      y.data[c] = op.activate(apply_requant(sum, op.aux[0]));
    }
  }
  void quantize(QOp& op, const Checkpoint&, const std::string&, double res) const override {
    op.aux = {make_requant(op.in_scale / (res * op.layer.in_h * op.layer.in_w))};
  }
  void randomize(QOp& op, Rng& rng) const override {
    op.aux = {make_requant(rng.uniform(0.5, 2.0) / (double(op.layer.in_h) * op.layer.in_w))};
  }
};

SUSHI_REGISTER_LAYER_OP(GlobalPoolOp, "global average pooling to a 1 x 1 map (vector unit)");

}  // namespace
}  // namespace sushi
