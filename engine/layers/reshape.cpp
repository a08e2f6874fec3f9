#include "engine/layers/reshape.h"

#include <algorithm>

namespace qat {

Expected<Shape> Reshape::doBuild(const std::vector<Shape>& inputs) {
  if (inputs.size() != 1) return layerError("takes exactly one input");
  const size_t total = inputs[0].numel();
  std::vector<int> dims = opt_.targetShape;
  int unknown = -1;
  size_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      if (unknown >= 0) return layerError("target shape may contain only one -1");
      unknown = static_cast<int>(i);
    } else if (dims[i] <= 0) {
      return layerError("target shape " + Shape(dims).str() + " has a non-positive dimension");
    } else {
      known *= static_cast<size_t>(dims[i]);
    }
  }
  if (unknown >= 0) {
    if (known == 0 || total % known != 0)
      return layerError("cannot reshape input " + inputs[0].str() + " to " + Shape(dims).str());
    dims[static_cast<size_t>(unknown)] = static_cast<int>(total / known);
  } else if (known != total) {
    return layerError("cannot reshape input " + inputs[0].str() + " (" + std::to_string(total) +
                      " values) to " + Shape(dims).str() + " (" + std::to_string(known) +
                      " values)");
  }
  return Shape(std::move(dims));
}

void Reshape::forward(TensorList in, Tensor& out, const RunContext&) {
  out.resize(outputShape().withBatch(in[0]->dim(0)));
  std::copy_n(in[0]->data(), in[0]->size(), out.data());
}

void Reshape::backward(TensorList, const Tensor&, const Tensor& dout, GradList din,
                       const RunContext&) {
  // The gradient is the same values under the input's shape.
  if (din[0]) std::copy_n(dout.data(), dout.size(), din[0]->data());
}

}  // namespace qat
