#pragma once
// The behaviour of SushiAccel in plain C++ (no SystemC): byte layouts of weights and parameters, where each
// DMA chunk lives in the on-chip buffers, the DMA program of a layer, and the arithmetic of the compute array
// and the post-processing (vector) unit on buffer bytes. The SystemC modules of sim/cycle_model.cpp call
// these; a clocked mode or the RTL harness can reuse them unchanged.
#include <cstdint>
#include <vector>

#include "models/ref/int8.h"
#include "sim/mapping.h"
#include "sim/model.h"

namespace sushi::sim {

// Host side: splits op's weights into the streamed records (dram, regs.dram_weight_bytes() bytes) and the
// PB-resident parts (pb, pb_out * pb_record_bytes() bytes); layout in sim/model.h.
void split_weights(const LayerRegs& r, const QOp& op, uint8_t* dram, uint8_t* pb);
// Host side: the parameter block (requantization, biases without a weight record, aux, activation table).
void write_params(const LayerRegs& r, const QOp& op, uint8_t* dst);
// Controller side: decodes a parameter block into the fields QOp::finish() / activate() use.
QOp read_params(const LayerRegs& r, const uint8_t* src);

// Byte offsets of a layer's operands in the on-chip buffers (mapping.h: resident map or two halves).
int64_t act_in_offset(const AccelConfig& accel, const LayerPlan& p, int kt, int ct);
inline int64_t act_out_offset(const AccelConfig& accel, int kt) {
  return (kt % 2) * (accel.act_out_bytes / 2);
}
inline int64_t weight_offset(const AccelConfig& accel, int kt) {
  return (kt % 2) * (accel.weight_buffer_bytes / 2);
}
// DRAM address of K-tile kt's streamed weights (the records of its channels, non-PB bytes).
uint64_t weight_addr(const LayerRegs& r, const LayerPlan& p, int kt);

// One DRAM transfer of the DMA program: up to two address ranges moved as one request (bursts are counted on
// the total, as the schedule of mapping.h does). `local` is the buffer offset of the first byte.
struct Transfer {
  Stream stream = Stream::Weights;
  int64_t bytes = 0;
  int segments = 0;
  uint64_t addr[2] = {0, 0};
  int64_t len[2] = {0, 0};
  int64_t local = 0;  // offset in the target (reads) or source (writes) buffer
};
// Before a step is issued the DMA waits until the named progress count reaches `at_least`.
enum class WaitOn { Nothing, PassesDone, KTilesDone, OutFilled };
struct DmaStep {
  WaitOn wait = WaitOn::Nothing;
  int64_t at_least = 0;
  Transfer t;
};
// The in-order DMA queue of one layer (mapping.h): W(0); per K-tile its chunks, W(kt+1), O(kt-1); O(last).
void dma_program(const AccelConfig& accel, const LayerRegs& r, const LayerPlan& p, std::vector<DmaStep>& out);

// The compute array's datapath: weights of a K-tile unpacked into the DPE registers, then one pass
// (K-tile, C-tile) over every output pixel; int32 accumulation wraps like the hardware adders.
class ArrayDatapath {
 public:
  void load_ktile(const LayerRegs& r, const LayerPlan& p, int kt, const uint8_t* stream, const uint8_t* pb);
  void pass(const LayerRegs& r, const LayerPlan& p, const QOp& params, int kt, int ct, const uint8_t* chunk,
            int32_t* psum, uint8_t* out) const;

 private:
  std::vector<int32_t> w_;     // [k][in per group][K][K] of the loaded K-tile
  std::vector<int32_t> bias_;  // [k]
};

// The post-processing unit: pools, Add, SE scale and their activations on one K-tile's chunk
// (kn planes of the first operand, then kn planes of the second (Add) or kn gate bytes (SEScale)).
void vector_tile(const LayerRegs& r, const LayerPlan& p, const QOp& q, int kt, const uint8_t* chunk,
                 uint8_t* out);

}  // namespace sushi::sim
