#pragma once
// The op table: one registered entry per LayerKind, each in its own file under models/ref/ops/, holding
// everything that depends on the kind: its properties (weights or not, shape rule, how the accelerator maps
// it), the fp32 forward of one image, the int8 reference of one image, the quantization hook and the
// random parameters of property tests. A new layer kind, or one more function for every kind (a backward
// pass), is one file or one virtual here: nothing else switches on LayerKind.
//
// Entries register through base/registry.h under the kind's name (to_string(LayerKind)), so `sushi
// describe layer_op` lists them; layer_op(kind) is the lookup (a LayerKind without an entry is a logic
// error, reported on first use).
#include <functional>
#include <memory>
#include <string>

#include "base/registry.h"
#include "models/ref/int8.h"

namespace sushi {

class Rng;

enum class OpUnit { Array, Vector };  // the accelerator unit a kind runs on
// Vector-unit layers: how many passes an output pixel takes (a k x k window, or the whole input plane).
enum class OpWindow { None, Kernel, Plane };
// Bytes per channel of the second operand a vector layer streams with its input (Add: a plane, SEScale: 1).
enum class OpSecond { None, Plane, Channel };

struct OpProperties {
  bool weights = false;  // conv-like: a [out][in/groups][k][k] tensor and a bias, int32 accumulation
  bool spatial = false;  // conv-like on a map (Conv, Depthwise, Pointwise); else FC/SE on a 1x1 map
  bool binary = false;   // takes a second operand (Layer::input2)
  bool keeps_input_scale = false;  // the output keeps the input's quantization (max commutes with it)
  // Mapping onto the accelerator (sim/mapping.cpp).
  OpUnit unit = OpUnit::Vector;
  bool depthwise = false;       // per-channel kernel: channels tile with the output (K) parallelism
  bool pointwise_fold = false;  // a 1x1 kernel may fold the window parallelism into input channels
  OpWindow window = OpWindow::None;
  OpSecond second = OpSecond::None;
};

class LayerOp {
 public:
  static constexpr const char* kRegistryKind = "layer_op";
  using Factory = std::function<std::unique_ptr<LayerOp>()>;
  virtual ~LayerOp() = default;

  virtual LayerKind kind() const = 0;
  virtual OpProperties properties() const = 0;
  // fp32 forward of one image into y (shaped as the layer's output): a is the input, b the second operand
  // of binary kinds (else null); r holds the resolved weights of kinds with weights. Batch norm and the
  // activation are applied by the caller. Batches call it once per image, on views into the batch.
  virtual void forward_fp32(const Layer& l, const ResolvedLayer& r, ConstFImage a, const ConstFImage* b,
                            FImage y) const = 0;
  // int8 reference of one image into y (shaped as the op's output, quantized with out_scale / out_zp).
  virtual void run_int8(const QOp& op, ConstQImage a, const ConstQImage* b, QImage y) const = 0;
  // Quantization: fills the op's weights / bias / requant (kinds with weights) or aux from the op's
  // operand and output scales; `res` is the result scale (pre_scale with a LUT, else out_scale).
  virtual void quantize(QOp& op, const Checkpoint& weights, const std::string& subnet_key,
                        double res) const = 0;
  // Random parameters for property tests (make_random_qop), the same role as quantize().
  virtual void randomize(QOp& op, Rng& rng) const = 0;
};

// The entry of a kind; throws std::logic_error when none is registered.
const LayerOp& layer_op(LayerKind kind);
inline OpProperties op_properties(LayerKind kind) {
  return layer_op(kind).properties();
}

// Registers an entry class (default-constructible, derived from LayerOp) from its own file.
#define SUSHI_REGISTER_LAYER_OP(Class, doc) \
  SUSHI_REGISTER(::sushi::LayerOp, to_string(Class().kind()), doc, [] { return std::make_unique<Class>(); })

}  // namespace sushi
