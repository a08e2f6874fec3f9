#pragma once
// TFOpLambda: tf.keras 2.4+ records a raw TensorFlow call on Keras tensors (x + y,
// tf.math.multiply(x, 0.5) ...) as a layer of class TFOpLambda whose config names the
// function ("__operators__.add", "math.multiply" ...). Its inbound node is a single call
// record, one nesting level less than other layers':
//   "inbound_nodes": [["dense", 0, 0, {"y": ["dense_1", 0, 0], "name": null}]]
// the first argument first, every other argument in the kwargs ("y" is the second
// operand: a tensor reference [layer, node, tensor] or a constant); a constant first
// argument is written as ["_CONSTANT_VALUE", -1, value, {kwargs}]. Internal to engine/io.
//
// The elementwise two-operand functions map onto engine layers:
//   __operators__.add, math.add:  tensor + tensor -> Add,       tensor + c -> Rescaling(1, c)
//   math.subtract:                tensor - tensor -> Subtract,  x - c -> Rescaling(1, -c),
//                                                               c - x -> Rescaling(-1, c)
//   math.multiply:                tensor * tensor -> Multiply,  tensor * c -> Rescaling(c, 0)
// with c a scalar number. Anything else is refused with an explanation.
#include <nlohmann/json.hpp>

#include "engine/core/error.h"

namespace qat::keras {

// The TFOpLambda layer entry ({"class_name", "config", "name", "inbound_nodes"}) rewritten
// as the equivalent Keras 2 layer entry (Add / Subtract / Multiply / Rescaling, same name,
// ordinary Keras 2 inbound_nodes), or the error saying why it cannot be.
Expected<nlohmann::json> lowerTfOpLambda(const nlohmann::json& entry);

}  // namespace qat::keras
