#include "models/ref/op_table.h"

#include <map>
#include <stdexcept>

namespace sushi {

const LayerOp& layer_op(LayerKind kind) {
  // Built once, on first use (after every entry registered itself at static-initialization time).
  static const std::map<LayerKind, std::unique_ptr<LayerOp>> table = [] {
    std::map<LayerKind, std::unique_ptr<LayerOp>> t;
    for (const std::string& name : Registry<LayerOp>::names()) {
      std::unique_ptr<LayerOp> op = Registry<LayerOp>::get(name, "op table")();
      const LayerKind k = op->kind();
      t[k] = std::move(op);
    }
    return t;
  }();
  auto it = table.find(kind);
  if (it == table.end())
    throw std::logic_error(std::string("op table: no entry for layer kind '") + to_string(kind) + "'");
  return *it->second;
}

}  // namespace sushi
