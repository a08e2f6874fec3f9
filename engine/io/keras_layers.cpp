// Keras <-> engine mapping for the non-spatial layers, the dispatch table over every
// OpType, and the explanations for Keras classes that cannot be imported.
#include "engine/io/keras_layers.h"

#include <algorithm>
#include <array>

#include "engine/io/keras_layers_internal.h"
#include "engine/layers/activation.h"
#include "engine/layers/add.h"
#include "engine/layers/batch_normalization.h"
#include "engine/layers/concatenate.h"
#include "engine/layers/dense.h"
#include "engine/layers/dropout.h"
#include "engine/layers/flatten.h"
#include "engine/layers/input_layer.h"
#include "engine/layers/leaky_relu.h"
#include "engine/layers/multiply.h"
#include "engine/layers/relu.h"
#include "engine/layers/rescaling.h"
#include "engine/layers/reshape.h"
#include "engine/layers/softmax.h"
#include "engine/layers/subtract.h"

namespace qat {
namespace keras {
namespace {


Json initializer(std::string_view cls) {
  return serialized(cls, cls == "GlorotUniform" ? Json{{"seed", nullptr}} : Json::object());
}

// ---------------------------------------------------------------- InputLayer

Expected<LayerPtr> inputFromKeras(const ConfigReader& c) {
  const Json* s = c.find({"batch_input_shape", "batch_shape"});
  if (!s) return c.error("the config has no batch_input_shape / batch_shape, so the input size is unknown");
  QAT_KERAS_GET(dims, perSampleShape(c, *s));
  if (const Json* sp = c.find({"sparse", "ragged"}); sp && sp->is_boolean() && sp->get<bool>())
    return c.error("sparse or ragged inputs are not supported; use a dense input");
  return LayerPtr(std::make_unique<InputLayer>(c.name(), Shape(dims)));
}

Expected<Json> inputToKeras(const Layer& l) {
  const auto& in = as<InputLayer>(l);
  Json shape = Json::array({nullptr});
  for (int d : in.shape().dims()) shape.push_back(d);
  return Json{{"batch_input_shape", shape}, {"dtype", "float32"}, {"sparse", false},
              {"ragged", false}, {"name", l.name()}};
}

// ---------------------------------------------------------------- Dense

Expected<LayerPtr> denseFromKeras(const ConfigReader& c) {
  DenseOptions o;
  QAT_KERAS_GET(units, c.integer({"units", "output_dim"}, std::nullopt, 1, kMaxDim));
  QAT_KERAS_GET(bias, c.boolean({"use_bias", "bias"}, true));
  QAT_KERAS_GET(act, c.activation());
  if (const Json* lora = c.find({"lora_rank"}))
    return c.error("LoRA (lora_rank " + lora->dump() + ") is not supported; merge the LoRA weights first");
  o.units = units;
  o.useBias = bias;
  o.activation = act;
  return LayerPtr(std::make_unique<Dense>(c.name(), o));
}

Expected<Json> denseToKeras(const Layer& l) {
  const auto& o = as<Dense>(l).options();
  Json j = baseConfig(l.name());
  j["units"] = o.units;
  j["activation"] = std::string(activationName(o.activation));
  j["use_bias"] = o.useBias;
  j["kernel_initializer"] = initializer("GlorotUniform");
  j["bias_initializer"] = initializer("Zeros");
  for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                        "bias_constraint"})
    j[k] = nullptr;
  return j;
}

// ---------------------------------------------------------------- BatchNormalization

Expected<LayerPtr> batchNormFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(mode, c.integer({"mode"}, 0, 0, 2));
  if (mode != 0)
    return c.error("Keras 1 BatchNormalization mode " + std::to_string(mode) +
                   " (always batch statistics) is not supported; only mode 0 is");
  QAT_KERAS_GET(renorm, c.boolean({"renorm"}, false));
  if (renorm) return c.error("batch renormalization (renorm=true) is not supported");
  if (c.find({"virtual_batch_size"})) return c.error("virtual_batch_size (ghost batch norm) is not supported");
  if (const Json* ax = c.find({"axis"}); ax && ax->is_array() && ax->size() != 1)
    return c.error("normalizing over several axes " + ax->dump() + " is not supported; only the channel axis");
  BatchNormalizationOptions o;
  QAT_KERAS_GET(axis, c.integer({"axis"}, -1, -8, 8));
  QAT_KERAS_GET(momentum, c.number({"momentum"}, 0.99f));
  QAT_KERAS_GET(eps, c.number({"epsilon"}, 1e-3f));
  QAT_KERAS_GET(center, c.boolean({"center"}, true));
  QAT_KERAS_GET(scale, c.boolean({"scale"}, true));
  o.axis = axis;
  o.momentum = momentum;
  o.epsilon = eps;
  o.center = center;
  o.scale = scale;
  if (c.find({"fused"})) {  // absent or null: Keras decides by input rank
    QAT_KERAS_GET(fused, c.boolean({"fused"}, false));
    o.fused = fused;
  }
  return LayerPtr(std::make_unique<BatchNormalization>(c.name(), o));
}

Expected<Json> batchNormToKeras(const Layer& l) {
  const auto& o = as<BatchNormalization>(l).options();
  Json j = baseConfig(l.name());
  j["axis"] = o.axis;
  j["momentum"] = jsonFloat(o.momentum);
  j["epsilon"] = jsonFloat(o.epsilon);
  j["center"] = o.center;
  j["scale"] = o.scale;
  j["beta_initializer"] = initializer("Zeros");
  j["gamma_initializer"] = initializer("Ones");
  j["moving_mean_initializer"] = initializer("Zeros");
  j["moving_variance_initializer"] = initializer("Ones");
  for (const char* k : {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"})
    j[k] = nullptr;
  if (o.fused) j["fused"] = *o.fused;  // tf.keras takes it as a constructor argument
  return j;
}

// ---------------------------------------------------------------- activations

Expected<LayerPtr> activationFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(act, c.activation());
  return LayerPtr(std::make_unique<Activation>(c.name(), ActivationOptions{act}));
}

Expected<Json> activationToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["activation"] = std::string(activationName(as<Activation>(l).options().activation));
  return j;
}

// Keras' ELU layer with its default alpha = 1 is the elu activation.
Expected<LayerPtr> eluFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(alpha, c.number({"alpha"}, 1.0f));
  if (alpha != 1.0f)
    return c.error("ELU with alpha " + std::to_string(alpha) + " is not supported yet (only alpha = 1, the "
                   "'elu' activation)");
  return LayerPtr(std::make_unique<Activation>(c.name(), ActivationOptions{ActivationFn::Elu}));
}

Expected<LayerPtr> reluFromKeras(const ConfigReader& c) {
  ReLUOptions o;
  if (c.find({"max_value"})) {
    QAT_KERAS_GET(mv, c.number({"max_value"}, std::nullopt));
    o.maxValue = mv;
  }
  QAT_KERAS_GET(slope, c.number({"negative_slope"}, 0.0f));
  QAT_KERAS_GET(th, c.number({"threshold"}, 0.0f));
  o.negativeSlope = slope;
  o.threshold = th;
  return LayerPtr(std::make_unique<ReLU>(c.name(), o));
}

Expected<Json> reluToKeras(const Layer& l) {
  const auto& o = as<ReLU>(l).options();
  Json j = baseConfig(l.name());
  j["max_value"] = o.maxValue ? jsonFloat(*o.maxValue) : Json(nullptr);
  j["negative_slope"] = jsonFloat(o.negativeSlope);
  j["threshold"] = jsonFloat(o.threshold);
  return j;
}

Expected<LayerPtr> leakyReluFromKeras(const ConfigReader& c) {
  // tf.keras 2.x: alpha (default 0.3); Keras 3: negative_slope (always written).
  QAT_KERAS_GET(alpha, c.number({"alpha", "negative_slope"}, 0.3f));
  return LayerPtr(std::make_unique<LeakyReLU>(c.name(), LeakyReLUOptions{alpha}));
}

Expected<Json> leakyReluToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["alpha"] = jsonFloat(as<LeakyReLU>(l).options().alpha);
  return j;
}

Expected<LayerPtr> softmaxFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(axis, c.integer({"axis"}, -1, -8, 8));
  return LayerPtr(std::make_unique<Softmax>(c.name(), SoftmaxOptions{axis}));
}

Expected<Json> softmaxToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["axis"] = as<Softmax>(l).options().axis;
  return j;
}

// ---------------------------------------------------------------- shape layers

Expected<LayerPtr> flattenFromKeras(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  return LayerPtr(std::make_unique<Flatten>(c.name()));
}

Expected<Json> flattenToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["data_format"] = "channels_last";
  return j;
}

Expected<LayerPtr> reshapeFromKeras(const ConfigReader& c) {
  const Json* t = c.find({"target_shape", "dims"});
  if (!t || !t->is_array() || t->empty() || t->size() > 8)
    return c.error("target_shape should be a list of 1 to 8 dimensions");
  ReshapeOptions o;
  for (const Json& d : *t) {
    if (d.is_null()) {  // Keras 3 writes None for an inferred dimension
      o.targetShape.push_back(-1);
      continue;
    }
    if (!d.is_number_integer() || d.get<long long>() < -1 || d.get<long long>() == 0 || d.get<long long>() > kMaxDim)
      return c.error("target_shape " + t->dump() + " has an invalid dimension");
    o.targetShape.push_back(d.get<int>());
  }
  return LayerPtr(std::make_unique<Reshape>(c.name(), o));
}

Expected<Json> reshapeToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["target_shape"] = as<Reshape>(l).options().targetShape;
  return j;
}

Expected<LayerPtr> dropoutFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(rate, c.number({"rate", "p"}, std::nullopt));
  if (!(rate >= 0.0f && rate < 1.0f)) return c.error("rate " + std::to_string(rate) + " must be in [0, 1)");
  if (c.find({"noise_shape"}))
    c.warn("noise_shape is ignored: each value gets its own dropout mask");
  return LayerPtr(std::make_unique<Dropout>(c.name(), DropoutOptions{rate}));
}

Expected<Json> dropoutToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["rate"] = jsonFloat(as<Dropout>(l).options().rate);
  j["noise_shape"] = nullptr;
  j["seed"] = nullptr;
  return j;
}

Expected<LayerPtr> rescalingFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(scale, c.number({"scale"}, std::nullopt));
  QAT_KERAS_GET(offset, c.number({"offset"}, 0.0f));
  return LayerPtr(std::make_unique<Rescaling>(c.name(), RescalingOptions{scale, offset}));
}

Expected<Json> rescalingToKeras(const Layer& l) {
  const auto& o = as<Rescaling>(l).options();
  Json j = baseConfig(l.name());
  j["scale"] = jsonFloat(o.scale);
  j["offset"] = jsonFloat(o.offset);
  return j;
}

// ---------------------------------------------------------------- merges

Expected<LayerPtr> addFromKeras(const ConfigReader& c) { return LayerPtr(std::make_unique<Add>(c.name())); }
Expected<LayerPtr> subtractFromKeras(const ConfigReader& c) {
  return LayerPtr(std::make_unique<Subtract>(c.name()));
}
Expected<LayerPtr> multiplyFromKeras(const ConfigReader& c) {
  return LayerPtr(std::make_unique<Multiply>(c.name()));
}
Expected<Json> plainToKeras(const Layer& l) { return baseConfig(l.name()); }

Expected<LayerPtr> concatenateFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(axis, c.integer({"axis", "concat_axis"}, -1, -8, 8));
  return LayerPtr(std::make_unique<Concatenate>(c.name(), ConcatenateOptions{axis}));
}

Expected<Json> concatenateToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["axis"] = as<Concatenate>(l).options().axis;
  return j;
}

// Keras 1 functional merge(..., mode=...).
Expected<LayerPtr> mergeFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(mode, c.string({"mode"}, std::string("sum")));
  if (mode == "sum") return addFromKeras(c);
  if (mode == "mul") return multiplyFromKeras(c);
  if (mode == "concat") return concatenateFromKeras(c);
  return c.error("Keras 1 merge mode '" + mode + "' is not supported (only sum, mul and concat)");
}

// ---------------------------------------------------------------- tables

struct Mapping {
  OpType op;
  std::array<std::string_view, 3> kerasClasses;  // first: the name written; "" = unused
  FromFn from;
  ToFn to;
};

const std::array<Mapping, static_cast<size_t>(OpType::Count)>& mappings() {
  static const std::array<Mapping, static_cast<size_t>(OpType::Count)> table = {{
      {OpType::Input, {"InputLayer"}, inputFromKeras, inputToKeras},
      {OpType::Dense, {"Dense"}, denseFromKeras, denseToKeras},
      {OpType::Conv2D, {"Conv2D", "Convolution2D", "AtrousConvolution2D"}, conv2dFromKeras, conv2dToKeras},
      {OpType::DepthwiseConv2D, {"DepthwiseConv2D"}, depthwiseConv2dFromKeras, depthwiseConv2dToKeras},
      {OpType::SeparableConv2D, {"SeparableConv2D", "SeparableConvolution2D"}, separableConv2dFromKeras,
       separableConv2dToKeras},
      {OpType::BatchNormalization, {"BatchNormalization"}, batchNormFromKeras, batchNormToKeras},
      {OpType::Activation, {"Activation"}, activationFromKeras, activationToKeras},
      {OpType::ReLU, {"ReLU"}, reluFromKeras, reluToKeras},
      {OpType::LeakyReLU, {"LeakyReLU"}, leakyReluFromKeras, leakyReluToKeras},
      {OpType::Softmax, {"Softmax"}, softmaxFromKeras, softmaxToKeras},
      {OpType::MaxPooling2D, {"MaxPooling2D", "MaxPool2D"}, maxPooling2dFromKeras, maxPooling2dToKeras},
      {OpType::AveragePooling2D, {"AveragePooling2D", "AvgPool2D"}, averagePooling2dFromKeras,
       averagePooling2dToKeras},
      {OpType::GlobalAveragePooling2D, {"GlobalAveragePooling2D", "GlobalAvgPool2D"},
       globalAveragePooling2dFromKeras, globalAveragePooling2dToKeras},
      {OpType::GlobalMaxPooling2D, {"GlobalMaxPooling2D", "GlobalMaxPool2D"}, globalMaxPooling2dFromKeras,
       globalMaxPooling2dToKeras},
      {OpType::Flatten, {"Flatten"}, flattenFromKeras, flattenToKeras},
      {OpType::Reshape, {"Reshape"}, reshapeFromKeras, reshapeToKeras},
      {OpType::Dropout, {"Dropout"}, dropoutFromKeras, dropoutToKeras},
      {OpType::ZeroPadding2D, {"ZeroPadding2D"}, zeroPadding2dFromKeras, zeroPadding2dToKeras},
      {OpType::Add, {"Add"}, addFromKeras, plainToKeras},
      {OpType::Subtract, {"Subtract"}, subtractFromKeras, plainToKeras},
      {OpType::Multiply, {"Multiply"}, multiplyFromKeras, plainToKeras},
      {OpType::Concatenate, {"Concatenate"}, concatenateFromKeras, concatenateToKeras},
      {OpType::Rescaling, {"Rescaling"}, rescalingFromKeras, rescalingToKeras},
      {OpType::Conv1D, {"Conv1D", "Convolution1D"}, conv1dFromKeras, conv1dToKeras},
      {OpType::Conv2DTranspose, {"Conv2DTranspose", "Convolution2DTranspose"}, conv2dTransposeFromKeras,
       conv2dTransposeToKeras},
      {OpType::MaxPooling1D, {"MaxPooling1D", "MaxPool1D"}, maxPooling1dFromKeras, maxPooling1dToKeras},
      {OpType::AveragePooling1D, {"AveragePooling1D", "AvgPool1D"}, averagePooling1dFromKeras,
       averagePooling1dToKeras},
      {OpType::GlobalAveragePooling1D, {"GlobalAveragePooling1D", "GlobalAvgPool1D"},
       globalAveragePooling1dFromKeras, globalAveragePooling1dToKeras},
      {OpType::GlobalMaxPooling1D, {"GlobalMaxPooling1D", "GlobalMaxPool1D"}, globalMaxPooling1dFromKeras,
       globalMaxPooling1dToKeras},
      {OpType::UpSampling2D, {"UpSampling2D"}, upSampling2dFromKeras, upSampling2dToKeras},
      {OpType::Cropping2D, {"Cropping2D"}, cropping2dFromKeras, cropping2dToKeras},
      {OpType::PReLU, {"PReLU"}, preluFromKeras, preluToKeras},
      {OpType::Permute, {"Permute"}, permuteFromKeras, permuteToKeras},
      // Quantized models are saved as checkpoints (engine/quant/checkpoint.h), not as Keras.
      {OpType::FakeQuant, {}, nullptr, nullptr},
      {OpType::QuantizeWrapper, {}, nullptr, nullptr},
      {OpType::FoldedBatchNorm, {}, nullptr, nullptr},
  }};
  return table;
}

// Classes read as another engine layer (not written back under this name).
struct Alias {
  std::string_view kerasClass;
  FromFn from;
};
constexpr std::array<Alias, 2> kAliases = {{{"ELU", eluFromKeras}, {"Merge", mergeFromKeras}}};

bool tableIsInOpTypeOrder() {
  const auto& t = mappings();
  for (size_t i = 0; i < t.size(); ++i)
    if (static_cast<size_t>(t[i].op) != i) return false;
  return true;
}

// Keras' own layers that the engine does not implement yet (as opposed to custom classes).
constexpr std::string_view kKnownUnsupported[] = {
    "Conv3D", "Conv1DTranspose", "Conv3DTranspose", "Convolution3D", "Deconvolution2D", "SeparableConv1D",
    "DepthwiseConv1D", "LocallyConnected1D", "LocallyConnected2D", "MaxPooling3D", "AveragePooling3D",
    "GlobalAveragePooling3D", "GlobalMaxPooling3D", "UpSampling1D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding3D", "Cropping1D", "Cropping3D", "RepeatVector", "Embedding", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Normalization", "ThresholdedReLU", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "ActivityRegularization", "Masking", "Attention", "AdditiveAttention", "MultiHeadAttention", "Average",
    "Maximum", "Minimum", "Dot", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomCrop", "RandomTranslation", "RandomContrast", "TextVectorization", "StringLookup", "IntegerLookup",
    "CategoryEncoding", "Hashing", "Discretization", "Identity", "EinsumDense", "TimeDistributed",
    "Highway", "MaxoutDense", "Wrapper"};
constexpr std::string_view kRecurrent[] = {
    "LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "CuDNNLSTM"};

Error unsupportedClassError(const std::string& name, const std::string& cls) {
  const std::string head = "Layer '" + name + "' (" + cls + ") ";
  if (cls == "Lambda")
    return makeError(head + "contains Python code that cannot be run outside Python. Replace it with "
                            "standard layers (e.g. Rescaling for x / 127.5 - 1), or cut the model before it.");
  if (cls == "TFOpLambda" || cls == "SlicingOpLambda")
    return makeError(head + "is a raw TensorFlow operation recorded in the model; it cannot be run outside "
                            "TensorFlow. Use the equivalent Keras layer (e.g. layers.Add() instead of +) and "
                            "save the model again.");
  if (std::find(std::begin(kRecurrent), std::end(kRecurrent), cls) != std::end(kRecurrent) ||
      cls.find("RNN") != std::string::npos || cls.find("LSTM") != std::string::npos ||
      cls.find("GRU") != std::string::npos)
    return makeError(head + "is not supported yet: recurrent layers (LSTM, GRU, SimpleRNN) cannot be "
                            "trained or quantized here. Cut the model before it, or replace it with "
                            "supported layers (" + supportedKerasClasses() + ").");
  if (std::find(std::begin(kKnownUnsupported), std::end(kKnownUnsupported), cls) != std::end(kKnownUnsupported))
    return makeError(head + "is not supported yet. Supported layers: " + supportedKerasClasses() +
                     ". Replace it with supported layers, or cut the model before it.");
  return makeError(head + "is a custom layer class, not part of Keras; its code is not stored in the file, "
                          "so QAT Studio cannot run it. Remove it from the model (quantizer layers from other "
                          "tools such as HGQ or QKeras: export the float model without them) or replace it "
                          "with standard layers.");
}

}  // namespace
}  // namespace keras

bool isKerasModelClass(std::string_view className) {
  return className == "Sequential" || className == "Functional" || className == "Model";
}

std::string supportedKerasClasses() {
  std::string s;
  for (const auto& m : keras::mappings())
    if (m.op != OpType::Input && m.from) s += (s.empty() ? "" : ", ") + std::string(m.kerasClasses[0]);
  return s;
}

Expected<std::unique_ptr<Layer>> layerFromKeras(const std::string& className, const nlohmann::json& config,
                                                const std::string& name, std::vector<std::string>* warnings) {
  QAT_ASSERT(keras::tableIsInOpTypeOrder());
  keras::FromFn from = nullptr;
  for (const auto& m : keras::mappings())
    for (std::string_view c : m.kerasClasses)
      if (!c.empty() && c == className) from = m.from;
  for (const auto& a : keras::kAliases)
    if (a.kerasClass == className) from = a.from;
  if (!from) return keras::unsupportedClassError(name, className);
  if (!config.is_object())
    return makeError("Layer '" + name + "' (" + className + "): the config should be a JSON object");
  keras::ConfigReader reader(config, name, className, warnings);
  try {
    auto layer = from(reader);
    if (!layer.ok()) return layer;
    reader.warnIgnoredOptions();
    auto trainable = reader.boolean({"trainable"}, true);  // false: frozen in Keras
    if (!trainable.ok()) return trainable.error();
    layer.value()->setTrainable(trainable.value());
    return layer;
  } catch (const nlohmann::json::exception& e) {
    return reader.error(std::string("unexpected config: ") + e.what());
  }
}

Expected<nlohmann::json> layerToKeras(const Layer& layer) {
  QAT_ASSERT(keras::tableIsInOpTypeOrder());
  const auto& m = keras::mappings()[static_cast<size_t>(layer.op())];
  if (!m.to)
    return makeError("Layer '" + layer.name() + "' (" + std::string(opTypeName(layer.op())) +
                     ") is a quantization node; save the float model, or a QAT checkpoint");
  auto cfg = m.to(layer);
  if (!cfg.ok()) return cfg.error();
  // Every config but InputLayer's (which Keras would refuse it in) has the key.
  if (cfg.value().is_object() && cfg.value().contains("trainable")) cfg.value()["trainable"] = layer.trainable();
  return nlohmann::json{{"class_name", std::string(m.kerasClasses[0])}, {"config", std::move(cfg.value())}};
}

}  // namespace qat
