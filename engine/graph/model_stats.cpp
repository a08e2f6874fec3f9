#include "engine/graph/model_stats.h"

namespace qat {

uint64_t forwardMacsPerSample(const Model& model) {
  uint64_t macs = 0;
  for (int i = 0; i < model.size(); ++i) {
    const Node& n = model.node(i);
    if (n.shape.rank() == 0) continue;
    // A transposed convolution applies its kernel once per *input* position.
    const Shape& where = n.layer->op() == OpType::Conv2DTranspose ? n.layer->inputShapes()[0] : n.shape;
    const uint64_t positions = where.numel() / static_cast<uint64_t>(where.back());
    for (const Param* p : std::as_const(*n.layer).params())
      if (p->name.find("kernel") != std::string::npos) macs += p->value.size() * positions;
  }
  return macs;
}

}  // namespace qat
