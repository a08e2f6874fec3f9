#pragma once
// Activation functions shared by the Activation layer and the in-layer `activation`
// of Dense / Conv2D / DepthwiseConv2D / SeparableConv2D. Definitions follow tf.keras 2.x
// (hard_sigmoid = clip(0.2x + 0.5, 0, 1); gelu exact, erf-based; selu with Keras'
// alpha/scale constants). Softmax works over the last axis (`lastDim` values per row).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace qat {

enum class ActivationFn {
  Linear, Relu, Relu6, Sigmoid, Tanh, Softmax, Swish, HardSigmoid, Elu, Selu, Gelu, Softplus
};

std::string_view activationName(ActivationFn f);           // Keras name: "relu", "swish" ...
std::optional<ActivationFn> activationFromName(std::string_view name);  // "silu" -> Swish

// y = f(x), n values; rows of `lastDim` values for softmax.
void activationForward(ActivationFn f, const float* x, float* y, size_t n, int lastDim);
// dx = dy * f'(x); may use x (pre-activation) and y (post-activation). dx may alias dy.
void activationBackward(ActivationFn f, const float* x, const float* y, const float* dy,
                        float* dx, size_t n, int lastDim);

}  // namespace qat
