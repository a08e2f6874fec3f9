#pragma once
// Built-in example models: the exact architectures measured in shared/anchors.md, used by
// the bundled example, the benchmarks and the tests. Input 28×28×1 (Fashion-MNIST).
//   fashion-mlp: Flatten → Dense 256 relu → Dense 10                    (203,530 params)
//   fashion-cnn: Conv 3×3 32 same → BN → ReLU → MaxPool 2 → Conv 3×3 64 same → BN → ReLU →
//                MaxPool 2 → Flatten → Dense 128 relu → Dense 10         (421,642 + BN stats)
//   bn-after-relu: Conv 5×5 32 relu → MaxPool → Conv 5×5 64 relu → BN → MaxPool → Flatten →
//                Dense 1024 relu → Dropout 0.4 → Dense 10 → Softmax (tfmot rejects it)
// fashion-mlp and fashion-cnn output logits (train with a from_logits cross-entropy);
// bn-after-relu outputs probabilities.
#include <string>
#include <string_view>
#include <vector>

#include "engine/graph/model.h"

namespace qat {

std::vector<std::string> builtinModelNames();
std::string builtinModelDescription(std::string_view name);
// Built and initialised with Keras' default initializers from `seed`.
Expected<Model> makeBuiltinModel(std::string_view name, uint64_t seed = 42);

}  // namespace qat
