// TEMPORARY: weak stand-ins for the int8 reference (models/int8.h) until branch `numerics` is merged, so the cycle
// model's functional mode links. Weak, so the real definitions win wherever they are linked. Delete on merge.
#include <stdexcept>

#include "models/int8.h"

namespace sushi {

[[gnu::weak]] QTensor run_qop(const QOp&, const QTensor&, const QTensor*) {
  throw std::logic_error("int8 reference not available yet (branch numerics not merged)");
}
[[gnu::weak]] int8_t QOp::finish(int, int32_t) const {
  throw std::logic_error("int8 reference not available yet (branch numerics not merged)");
}
[[gnu::weak]] std::vector<QTensor> run_qnetwork(const QNetwork&, const QTensor&) {
  throw std::logic_error("int8 reference not available yet (branch numerics not merged)");
}
[[gnu::weak]] QTensor make_random_qtensor(int, int, int, uint64_t, float, int32_t) {
  throw std::logic_error("int8 reference not available yet (branch numerics not merged)");
}
[[gnu::weak]] QNetwork make_random_qnetwork(const SupernetSpace&, const Subnet&, uint64_t) {
  throw std::logic_error("int8 reference not available yet (branch numerics not merged)");
}

}  // namespace sushi
