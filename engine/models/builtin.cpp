#include "engine/models/builtin.h"

#include "engine/layers/batch_normalization.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/dense.h"
#include "engine/layers/dropout.h"
#include "engine/layers/flatten.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/relu.h"
#include "engine/layers/softmax.h"

namespace qat {
namespace {

Model fashionMlp() {
  Model m;
  m.name = "fashion-mlp";
  int x = m.addInput("input", Shape{28, 28, 1});
  x = m.add<Flatten>({x}, "flatten");
  x = m.add<Dense>({x}, "dense", DenseOptions{256, true, ActivationFn::Relu});
  x = m.add<Dense>({x}, "logits", DenseOptions{10, true, ActivationFn::Linear});
  m.setOutputs({x});
  return m;
}

// Conv 3×3 same without bias (the BatchNorm that follows has its own shift), as the
// PyTorch anchor model in shared/anchors.md.
int convBnRelu(Model& m, int x, const std::string& tag, int filters) {
  Conv2DOptions c;
  c.filters = filters;
  c.kernelH = c.kernelW = 3;
  c.padding = Padding::Same;
  c.useBias = false;
  x = m.add<Conv2D>({x}, "conv" + tag, c);
  x = m.add<BatchNormalization>({x}, "bn" + tag, BatchNormalizationOptions{});
  x = m.add<ReLU>({x}, "relu" + tag, ReLUOptions{});
  return m.add<MaxPooling2D>({x}, "pool" + tag, Pooling2DOptions{});
}

Model fashionCnn() {
  Model m;
  m.name = "fashion-cnn";
  int x = m.addInput("input", Shape{28, 28, 1});
  x = convBnRelu(m, x, "1", 32);
  x = convBnRelu(m, x, "2", 64);
  x = m.add<Flatten>({x}, "flatten");
  x = m.add<Dense>({x}, "dense", DenseOptions{128, true, ActivationFn::Relu});
  x = m.add<Dense>({x}, "logits", DenseOptions{10, true, ActivationFn::Linear});
  m.setOutputs({x});
  return m;
}

// The model of the question that tfmot cannot quantize ("Layer batch_normalization:
// BatchNormalization is not supported"): BatchNorm after a Conv with an in-layer relu,
// so there is no Conv → BN pattern to fold. Ends in a Softmax layer (probabilities).
Model bnAfterRelu() {
  Model m;
  m.name = "bn-after-relu";
  int x = m.addInput("input", Shape{28, 28, 1});
  Conv2DOptions c;
  c.kernelH = c.kernelW = 5;
  c.padding = Padding::Same;
  c.activation = ActivationFn::Relu;
  c.filters = 32;
  x = m.add<Conv2D>({x}, "conv2d", c);
  x = m.add<MaxPooling2D>({x}, "max_pooling2d", Pooling2DOptions{});
  c.filters = 64;
  x = m.add<Conv2D>({x}, "conv2d_1", c);
  x = m.add<BatchNormalization>({x}, "batch_normalization", BatchNormalizationOptions{});
  x = m.add<MaxPooling2D>({x}, "max_pooling2d_1", Pooling2DOptions{});
  x = m.add<Flatten>({x}, "flatten");
  x = m.add<Dense>({x}, "dense", DenseOptions{1024, true, ActivationFn::Relu});
  x = m.add<Dropout>({x}, "dropout", DropoutOptions{0.4f});
  x = m.add<Dense>({x}, "dense_1", DenseOptions{10, true, ActivationFn::Linear});
  x = m.add<Softmax>({x}, "softmax", SoftmaxOptions{});
  m.setOutputs({x});
  return m;
}

struct Builtin {
  const char* name;
  const char* description;
  Model (*make)();
};
const Builtin kBuiltins[] = {
    {"fashion-mlp", "Flatten → Dense 256 relu → Dense 10 (Fashion-MNIST 28×28×1)", fashionMlp},
    {"fashion-cnn",
     "Conv 3×3 32 → BN → ReLU → MaxPool → Conv 3×3 64 → BN → ReLU → MaxPool → Dense 128 relu → "
     "Dense 10 (Fashion-MNIST 28×28×1)",
     fashionCnn},
    {"bn-after-relu",
     "Conv 5×5 32 relu → MaxPool → Conv 5×5 64 relu → BN → MaxPool → Dense 1024 relu → Dropout 0.4 → "
     "Dense 10 → Softmax (28×28×1; the model tfmot refuses to quantize)",
     bnAfterRelu},
};

}  // namespace

std::vector<std::string> builtinModelNames() {
  std::vector<std::string> names;
  for (const auto& b : kBuiltins) names.emplace_back(b.name);
  return names;
}

std::string builtinModelDescription(std::string_view name) {
  for (const auto& b : kBuiltins)
    if (name == b.name) return b.description;
  return {};
}

Expected<Model> makeBuiltinModel(std::string_view name, uint64_t seed) {
  for (const auto& b : kBuiltins) {
    if (name != b.name) continue;
    Model m = b.make();
    QAT_TRY(m.build());
    Rng rng(seed);
    m.initialize(rng);
    return m;
  }
  std::string known;
  for (const auto& b : kBuiltins) known += (known.empty() ? "" : ", ") + std::string(b.name);
  return makeError("Unknown built-in model '" + std::string(name) + "'. Available: " + known + ".");
}

}  // namespace qat
