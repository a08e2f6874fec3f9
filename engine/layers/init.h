#pragma once
// Keras default initializers.
#include <cmath>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"

namespace qat {

// glorot_uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).
inline void glorotUniform(Tensor& t, int fanIn, int fanOut, Rng& rng) {
  const float limit = std::sqrt(6.0f / static_cast<float>(fanIn + fanOut));
  for (size_t i = 0; i < t.size(); ++i) t[i] = rng.uniform(-limit, limit);
}

}  // namespace qat
