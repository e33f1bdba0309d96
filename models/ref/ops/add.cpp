// Op-table entry: residual addition of two maps of one shape, on the vector unit.
#include <stdexcept>

#include "base/random.h"
#include "models/ref/int8_detail.h"
#include "models/ref/kernels.h"
#include "models/ref/op_table.h"

namespace sushi {
namespace {

class AddOp : public LayerOp {
 public:
  LayerKind kind() const override { return LayerKind::Add; }
  OpProperties properties() const override {
    OpProperties p;
    p.binary = true;
    p.second = OpSecond::Plane;
    return p;
  }
  void forward_fp32(const Layer&, const ResolvedLayer&, ConstFImage a, const ConstFImage* b,
                    FImage y) const override {
    add(a, *b, Activation::None, y);
  }
  // v = round(((a - in_zp) * aux[0].multiplier + (b - in2_zp) * aux[1].multiplier) / 2^(31 + aux[0].shift))
  void run_int8(const QOp& op, ConstQImage a, const ConstQImage* b, QImage y) const override {
    if (b->size() != a.size())
      throw std::logic_error("run_qop '" + op.layer.name + "': operand sizes differ");
    for (size_t i = 0; i < a.size(); ++i) {
      const int64_t sum = (int64_t(a.data[i]) - op.in_zp) * op.aux[0].multiplier +
                          (int64_t(b->data[i]) - op.in2_zp) * op.aux[1].multiplier;
      y.data[i] = op.activate(detail::saturate32(detail::shift_round(sum, 31 + op.aux[0].shift)));
    }
  }
  void quantize(QOp& op, const Checkpoint&, const std::string&, double res) const override {
    auto [ra, rb] = make_requant_pair(op.in_scale / res, op.in2_scale / res);
    op.aux = {ra, rb};
  }
  void randomize(QOp& op, Rng& rng) const override {
    const double a = rng.uniform(0.3, 1.5), b = rng.uniform(0.3, 1.5);
    auto [ra, rb] = make_requant_pair(a, b);
    op.aux = {ra, rb};
  }
};

SUSHI_REGISTER_LAYER_OP(AddOp, "residual addition of two maps (vector unit)");

}  // namespace
}  // namespace sushi
