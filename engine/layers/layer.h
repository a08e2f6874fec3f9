#pragma once
// The Layer interface. One layer kind per file in engine/layers/, forward() and
// backward() side by side.
//
// Conventions (read these before writing a layer):
//  * Shapes given to build() are per sample (no batch dimension). Tensors given to
//    forward()/backward() carry the batch first: (N, ...).
//  * forward() resizes `out` to (N, outputShape()) and overwrites it. When
//    ctx.training is true it may cache what backward() needs inside the layer.
//  * backward() is called right after a training forward() on the same inputs.
//    It OVERWRITES *din[i] (already resized by the executor to in[i]'s shape) and
//    ACCUMULATES (+=) parameter gradients into Param::grad; zeroing is explicit
//    (Model::zeroGrad). din[i] == nullptr means that input's gradient is not needed.
//  * Parameters use Keras names and layouts (Dense kernel (in, units), Conv2D kernel
//    HWIO (kh, kw, in, out), ...), so Keras files map onto them one to one.
//  * Non-trainable state (BatchNorm moving statistics) is a Param with
//    trainable == false and an empty grad.
//  * Bad configuration or input shapes are reported by build() as an Error naming the
//    layer; forward/backward never see shapes build() did not accept.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/core/tensor.h"
#include "engine/graph/op_type.h"

namespace qat {

struct RunContext {
  bool training = false;  // batch statistics in BatchNorm, dropout active, caches kept
  Rng* rng = nullptr;     // dropout masks; must be set when training with Dropout
  // Fake quantization (only quantized models look at these, see engine/quant/):
  //   training                      ranges learn from the batch, values are quantized (QAT)
  //   calibrating (training false)  ranges learn from the batch (post-training calibration)
  //   fakeQuant false               values pass through unrounded: the float model inside
  //                                 a quantized one, for float-vs-quantized comparisons
  bool calibrating = false;
  bool fakeQuant = true;
  bool updatesRanges() const { return training || calibrating; }
};

struct Param {
  std::string name;  // Keras weight name: "kernel", "bias", "gamma", "moving_mean", ...
  Tensor value;
  Tensor grad;       // same shape as value when trainable, empty otherwise
  bool trainable = true;
};

using TensorList = std::span<const Tensor* const>;
using GradList = std::span<Tensor* const>;

class Layer {
 public:
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;

  virtual OpType op() const = 0;
  virtual std::unique_ptr<Layer> clone() const = 0;

  const std::string& name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }

  // Keras `trainable`. A frozen layer's parameters are left out of Model::trainableParams()
  // (the optimizer never changes them) and, as in Keras 2 with TensorFlow 2, a frozen
  // BatchNormalization normalises with its moving statistics even while training.
  bool trainable() const { return trainable_; }
  void setTrainable(bool t) { trainable_ = t; }

  // Validates the input shapes, allocates parameters (zeros) if their shapes changed,
  // stores and returns the per-sample output shape.
  Expected<Shape> build(const std::vector<Shape>& inputs) {
    auto s = doBuild(inputs);
    if (s.ok()) {
      inputShapes_ = inputs;
      outputShape_ = s.value();
    }
    return s;
  }
  // Keras default initializers (glorot_uniform kernels, zero biases, BN gamma 1 ...).
  virtual void initialize(Rng& /*rng*/) {}

  virtual void forward(TensorList in, Tensor& out, const RunContext& ctx) = 0;
  virtual void backward(TensorList in, const Tensor& out, const Tensor& dout, GradList din,
                        const RunContext& ctx) = 0;

  // All parameters, trainable and not, in Keras weight order.
  virtual std::vector<Param*> params() { return {}; }
  std::vector<const Param*> params() const {
    auto ps = const_cast<Layer*>(this)->params();
    return {ps.begin(), ps.end()};
  }

  const Shape& outputShape() const { return outputShape_; }
  const std::vector<Shape>& inputShapes() const { return inputShapes_; }
  // Number of inputs this layer takes; -1 means two or more (Add, Concatenate ...).
  virtual int arity() const { return 1; }

 protected:
  virtual Expected<Shape> doBuild(const std::vector<Shape>& inputs) = 0;
  // "Layer 'conv2d_1' (Conv2D): <what>" : the prefix every layer error starts with.
  // (Built with append(): GCC 12 warns falsely (-Wrestrict) on long operator+ chains.)
  Error layerError(const std::string& what) const {
    std::string m = "Layer '";
    m.append(name_).append("' (").append(opTypeName(op())).append("): ").append(what);
    return makeError(std::move(m));
  }
  // Allocates a parameter slot with the given shape (keeps values if the shape matches).
  static void ensureParam(Param& p, const std::string& name, const Shape& shape, bool trainable = true) {
    p.name = name;
    p.trainable = trainable;
    if (p.value.shape() != shape) p.value = Tensor(shape);
    if (trainable && p.grad.shape() != shape) p.grad = Tensor(shape);
    if (!trainable) p.grad = Tensor();
  }

 private:
  std::string name_;
  bool trainable_ = true;
  std::vector<Shape> inputShapes_;
  Shape outputShape_;
};

// Helper for clone(): `return cloneAs<Dense>(*this);`
template <class L>
std::unique_ptr<Layer> cloneAs(const L& l) {
  return std::make_unique<L>(l);
}

}  // namespace qat
