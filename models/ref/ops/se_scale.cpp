// Op-table entry: squeeze-and-excitation scaling, x[c] * gate[c], on the vector unit.
#include <stdexcept>

#include "base/random.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"

namespace sushi {
namespace {

class SeScaleOp : public LayerOp {
 public:
  LayerKind kind() const override { return LayerKind::SEScale; }
  OpProperties properties() const override {
    OpProperties p;
    p.binary = true;
    p.second = OpSecond::Channel;
    return p;
  }
  void forward_fp32(const Layer&, const ResolvedLayer&, ConstFImage a, const ConstFImage* b,
                    FImage y) const override {
    se_scale(a, *b, y);
  }
  // v = apply_requant((x - in_zp) * (gate - in2_zp), aux[0])
  void run_int8(const QOp& op, ConstQImage a, const ConstQImage* g, QImage y) const override {
    if (g->c != a.c)
      throw std::logic_error("run_qop '" + op.layer.name + "': gate has the wrong channel count");
    const int64_t plane = int64_t(y.h) * y.w;
    for (int c = 0; c < y.c; ++c) {
      const int32_t gate = int32_t(g->data[c]) - op.in2_zp;
      for (int64_t i = 0; i < plane; ++i)
        y.data[c * plane + i] =
            op.activate(apply_requant((int32_t(a.data[c * plane + i]) - op.in_zp) * gate, op.aux[0]));
    }
  }
  void quantize(QOp& op, const Checkpoint&, const std::string&, double res) const override {
    op.aux = {make_requant(double(op.in_scale) * op.in2_scale / res)};
  }
  void randomize(QOp& op, Rng& rng) const override { op.aux = {make_requant(rng.uniform(0.5, 2.0) / 128.0)}; }
};

SUSHI_REGISTER_LAYER_OP(SeScaleOp,
                        "squeeze-and-excitation scaling of each channel by its gate (vector unit)");

}  // namespace
}  // namespace sushi
