// Keras <-> engine mapping for the 2-D spatial layers: Conv2D (Keras 1 Convolution2D /
// AtrousConvolution2D), DepthwiseConv2D, SeparableConv2D (Keras 1
// SeparableConvolution2D), Conv2DTranspose, Max/AveragePooling2D, the global poolings,
// ZeroPadding2D, Cropping2D and UpSampling2D.
// Keras 1 spells the window as nb_row/nb_col, the stride as subsample, the padding as
// border_mode and dilation as atrous_rate.
#include "engine/io/keras_layers_internal.h"
#include "engine/layers/average_pooling2d.h"
#include "engine/layers/conv2d.h"
#include "engine/layers/conv2d_transpose.h"
#include "engine/layers/cropping2d.h"
#include "engine/layers/depthwise_conv2d.h"
#include "engine/layers/global_average_pooling2d.h"
#include "engine/layers/global_max_pooling2d.h"
#include "engine/layers/max_pooling2d.h"
#include "engine/layers/separable_conv2d.h"
#include "engine/layers/up_sampling2d.h"
#include "engine/layers/zero_padding2d.h"

namespace qat::keras {
namespace {

// The sliding-window settings every convolution shares.
struct Window {
  std::array<int, 2> kernel{}, strides{}, dilation{};
  Padding padding = Padding::Valid;
  bool useBias = true;
  ActivationFn activation = ActivationFn::Linear;
};

// Copies a Window into any of the conv option structs (Conv2D, DepthwiseConv2D,
// SeparableConv2D, Conv2DTranspose): they share these field names.
template <class Options>
void applyWindow(const Window& w, Options& o) {
  o.kernelH = w.kernel[0];
  o.kernelW = w.kernel[1];
  o.strideH = w.strides[0];
  o.strideW = w.strides[1];
  o.dilationH = w.dilation[0];
  o.dilationW = w.dilation[1];
  o.padding = w.padding;
  o.useBias = w.useBias;
  o.activation = w.activation;
}

Expected<Window> readWindow(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  Window w;
  QAT_KERAS_GET(kernel, c.find({"kernel_size"}) ? c.pair({"kernel_size"}, std::nullopt, 1, kMaxKernel)
                                                 : c.pairFromKeys("nb_row", "nb_col", 1, kMaxKernel));
  QAT_KERAS_GET(strides, c.pair({"strides", "subsample"}, std::array<int, 2>{1, 1}, 1, kMaxKernel));
  QAT_KERAS_GET(dilation, c.pair({"dilation_rate", "atrous_rate"}, std::array<int, 2>{1, 1}, 1, kMaxKernel));
  QAT_KERAS_GET(padding, c.padding());
  QAT_KERAS_GET(bias, c.boolean({"use_bias", "bias"}, true));
  QAT_KERAS_GET(act, c.activation());
  QAT_KERAS_GET(groups, c.integer({"groups"}, 1, 1, kMaxDim));
  if (groups != 1)
    return c.error("grouped convolution (groups = " + std::to_string(groups) + ") is not supported; use groups=1 "
                   "or a DepthwiseConv2D");
  if ((dilation[0] > 1 || dilation[1] > 1) && (strides[0] > 1 || strides[1] > 1))
    return c.error("dilation_rate > 1 together with strides > 1 is not supported (Keras does not allow it "
                   "either); use strides of 1 with a dilated kernel");
  w.kernel = kernel;
  w.strides = strides;
  w.dilation = dilation;
  w.padding = padding;
  w.useBias = bias;
  w.activation = act;
  return w;
}

// The keys tf.keras 2.13 writes for every convolution.
Json windowJson(const std::string& name, int kh, int kw, int sh, int sw, int dh, int dw, Padding p, bool bias,
                ActivationFn act) {
  Json j = baseConfig(name);
  j["kernel_size"] = {kh, kw};
  j["strides"] = {sh, sw};
  j["padding"] = std::string(paddingName(p));
  j["data_format"] = "channels_last";
  j["dilation_rate"] = {dh, dw};
  j["groups"] = 1;
  j["activation"] = std::string(activationName(act));
  j["use_bias"] = bias;
  return j;
}

Json glorot() { return serialized("GlorotUniform", Json{{"seed", nullptr}}); }

void nullKeys(Json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) j[k] = nullptr;
}

Expected<Pooling2DOptions> readPool(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  Pooling2DOptions o;
  QAT_KERAS_GET(pool, c.pair({"pool_size"}, std::array<int, 2>{2, 2}, 1, kMaxKernel));
  o.poolH = pool[0];
  o.poolW = pool[1];
  if (c.find({"strides"})) {  // null / absent: the pool size
    QAT_KERAS_GET(s, c.pair({"strides"}, std::nullopt, 1, kMaxKernel));
    o.strideH = s[0];
    o.strideW = s[1];
  }
  QAT_KERAS_GET(padding, c.padding());
  o.padding = padding;
  return o;
}

Json poolJson(const Layer& l, const Pooling2DOptions& o) {
  Json j = baseConfig(l.name());
  j["pool_size"] = {o.poolH, o.poolW};
  j["padding"] = std::string(paddingName(o.padding));
  j["strides"] = o.strideH == 0 && o.strideW == 0 ? Json(nullptr) : Json{o.strideH, o.strideW};
  j["data_format"] = "channels_last";
  return j;
}

Expected<GlobalPooling2DOptions> readGlobal(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  QAT_KERAS_GET(keep, c.boolean({"keepdims"}, false));
  return GlobalPooling2DOptions{keep};
}

Json globalJson(const Layer& l, const GlobalPooling2DOptions& o) {
  Json j = baseConfig(l.name());
  j["data_format"] = "channels_last";
  j["keepdims"] = o.keepDims;
  return j;
}

// ZeroPadding2D padding / Cropping2D cropping: n (all sides), [rows, cols] (symmetric),
// or [[top, bottom], [left, right]]. Absent: `def` on every side.
Expected<std::array<int, 4>> readSides(const ConfigReader& c, const char* key, int def) {
  const Json* p = c.find({key});
  if (!p) return std::array<int, 4>{def, def, def, def};
  auto ok = [](const Json& v) {
    return v.is_number_integer() && v.get<long long>() >= 0 && v.get<long long>() <= kMaxKernel;
  };
  if (ok(*p)) {
    const int n = p->get<int>();
    return std::array<int, 4>{n, n, n, n};
  }
  if (p->is_array() && p->size() == 2 && ok((*p)[0]) && ok((*p)[1])) {
    const int r = (*p)[0].get<int>(), q = (*p)[1].get<int>();
    return std::array<int, 4>{r, r, q, q};
  }
  if (p->is_array() && p->size() == 2 && (*p)[0].is_array() && (*p)[1].is_array() && (*p)[0].size() == 2 &&
      (*p)[1].size() == 2 && ok((*p)[0][0]) && ok((*p)[0][1]) && ok((*p)[1][0]) && ok((*p)[1][1]))
    return std::array<int, 4>{(*p)[0][0].get<int>(), (*p)[0][1].get<int>(), (*p)[1][0].get<int>(),
                              (*p)[1][1].get<int>()};
  return c.error(std::string(key) + " " + p->dump() +
                 " should be n, [rows, cols] or [[top, bottom], [left, right]] with sizes in [0, " +
                 std::to_string(kMaxKernel) + "]");
}

}  // namespace

// ---------------------------------------------------------------- convolutions

Expected<LayerPtr> conv2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(w, readWindow(c));
  QAT_KERAS_GET(filters, c.integer({"filters", "nb_filter"}, std::nullopt, 1, kMaxDim));
  Conv2DOptions o;
  o.filters = filters;
  applyWindow(w, o);
  return LayerPtr(std::make_unique<Conv2D>(c.name(), o));
}

Expected<Json> conv2dToKeras(const Layer& l) {
  const auto& o = as<Conv2D>(l).options();
  Json j = windowJson(l.name(), o.kernelH, o.kernelW, o.strideH, o.strideW, o.dilationH, o.dilationW, o.padding,
                      o.useBias, o.activation);
  j["filters"] = o.filters;
  j["kernel_initializer"] = glorot();
  j["bias_initializer"] = serialized("Zeros");
  nullKeys(j, {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
               "bias_constraint"});
  return j;
}

Expected<LayerPtr> depthwiseConv2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(w, readWindow(c));
  QAT_KERAS_GET(mult, c.integer({"depth_multiplier"}, 1, 1, kMaxKernel));
  DepthwiseConv2DOptions o;
  applyWindow(w, o);
  o.depthMultiplier = mult;
  return LayerPtr(std::make_unique<DepthwiseConv2D>(c.name(), o));
}

Expected<Json> depthwiseConv2dToKeras(const Layer& l) {
  const auto& o = as<DepthwiseConv2D>(l).options();
  Json j = windowJson(l.name(), o.kernelH, o.kernelW, o.strideH, o.strideW, o.dilationH, o.dilationW, o.padding,
                      o.useBias, o.activation);
  j["depth_multiplier"] = o.depthMultiplier;
  j["depthwise_initializer"] = glorot();
  j["bias_initializer"] = serialized("Zeros");
  nullKeys(j, {"depthwise_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_constraint",
               "bias_constraint"});
  return j;
}

Expected<LayerPtr> separableConv2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(w, readWindow(c));
  QAT_KERAS_GET(filters, c.integer({"filters", "nb_filter"}, std::nullopt, 1, kMaxDim));
  QAT_KERAS_GET(mult, c.integer({"depth_multiplier"}, 1, 1, kMaxKernel));
  SeparableConv2DOptions o;
  o.filters = filters;
  applyWindow(w, o);
  o.depthMultiplier = mult;
  return LayerPtr(std::make_unique<SeparableConv2D>(c.name(), o));
}

Expected<Json> separableConv2dToKeras(const Layer& l) {
  const auto& o = as<SeparableConv2D>(l).options();
  Json j = windowJson(l.name(), o.kernelH, o.kernelW, o.strideH, o.strideW, o.dilationH, o.dilationW, o.padding,
                      o.useBias, o.activation);
  j["filters"] = o.filters;
  j["depth_multiplier"] = o.depthMultiplier;
  j["depthwise_initializer"] = glorot();
  j["pointwise_initializer"] = glorot();
  j["bias_initializer"] = serialized("Zeros");
  nullKeys(j, {"depthwise_regularizer", "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
               "depthwise_constraint", "pointwise_constraint", "bias_constraint"});
  return j;
}

// ---------------------------------------------------------------- pooling

Expected<LayerPtr> maxPooling2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readPool(c));
  return LayerPtr(std::make_unique<MaxPooling2D>(c.name(), o));
}

Expected<Json> maxPooling2dToKeras(const Layer& l) { return poolJson(l, as<MaxPooling2D>(l).options()); }

Expected<LayerPtr> averagePooling2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readPool(c));
  return LayerPtr(std::make_unique<AveragePooling2D>(c.name(), o));
}

Expected<Json> averagePooling2dToKeras(const Layer& l) { return poolJson(l, as<AveragePooling2D>(l).options()); }

Expected<LayerPtr> globalAveragePooling2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readGlobal(c));
  return LayerPtr(std::make_unique<GlobalAveragePooling2D>(c.name(), o));
}

Expected<Json> globalAveragePooling2dToKeras(const Layer& l) {
  return globalJson(l, as<GlobalAveragePooling2D>(l).options());
}

Expected<LayerPtr> globalMaxPooling2dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readGlobal(c));
  return LayerPtr(std::make_unique<GlobalMaxPooling2D>(c.name(), o));
}

Expected<Json> globalMaxPooling2dToKeras(const Layer& l) {
  return globalJson(l, as<GlobalMaxPooling2D>(l).options());
}

// ---------------------------------------------------------------- ZeroPadding2D

Expected<LayerPtr> zeroPadding2dFromKeras(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  QAT_KERAS_GET(p, readSides(c, "padding", 1));  // Keras default (1, 1)
  return LayerPtr(std::make_unique<ZeroPadding2D>(c.name(), ZeroPadding2DOptions{p[0], p[1], p[2], p[3]}));
}

Expected<Json> zeroPadding2dToKeras(const Layer& l) {
  const auto& o = as<ZeroPadding2D>(l).options();
  Json j = baseConfig(l.name());
  j["padding"] = {{o.top, o.bottom}, {o.left, o.right}};
  j["data_format"] = "channels_last";
  return j;
}

// ---------------------------------------------------------------- Cropping2D

Expected<LayerPtr> cropping2dFromKeras(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  QAT_KERAS_GET(p, readSides(c, "cropping", 0));  // Keras default ((0, 0), (0, 0))
  return LayerPtr(std::make_unique<Cropping2D>(c.name(), Cropping2DOptions{p[0], p[1], p[2], p[3]}));
}

Expected<Json> cropping2dToKeras(const Layer& l) {
  const auto& o = as<Cropping2D>(l).options();
  Json j = baseConfig(l.name());
  j["cropping"] = {{o.top, o.bottom}, {o.left, o.right}};
  j["data_format"] = "channels_last";
  return j;
}

// ---------------------------------------------------------------- UpSampling2D

Expected<LayerPtr> upSampling2dFromKeras(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  QAT_KERAS_GET(size, c.pair({"size"}, std::array<int, 2>{2, 2}, 1, kMaxKernel));
  QAT_KERAS_GET(interp, c.string({"interpolation"}, std::string("nearest")));
  UpSampling2DOptions o;
  o.sizeH = size[0];
  o.sizeW = size[1];
  if (interp == "nearest") o.interpolation = Interpolation::Nearest;
  else if (interp == "bilinear") o.interpolation = Interpolation::Bilinear;
  else return c.error("interpolation '" + interp + "' is not supported (only 'nearest' and 'bilinear')");
  return LayerPtr(std::make_unique<UpSampling2D>(c.name(), o));
}

Expected<Json> upSampling2dToKeras(const Layer& l) {
  const auto& o = as<UpSampling2D>(l).options();
  Json j = baseConfig(l.name());
  j["size"] = {o.sizeH, o.sizeW};
  j["data_format"] = "channels_last";
  j["interpolation"] = o.interpolation == Interpolation::Bilinear ? "bilinear" : "nearest";
  return j;
}

// ---------------------------------------------------------------- Conv2DTranspose

Expected<LayerPtr> conv2dTransposeFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(w, readWindow(c));
  QAT_KERAS_GET(filters, c.integer({"filters"}, std::nullopt, 1, kMaxDim));
  Conv2DTransposeOptions o;
  if (c.find({"output_padding"})) {  // null / absent: inferred from the padding
    QAT_KERAS_GET(op, c.pair({"output_padding"}, std::nullopt, 0, kMaxKernel));
    if (op[0] >= w.strides[0] || op[1] >= w.strides[1])
      return c.error("output_padding " + c.find({"output_padding"})->dump() +
                     " must be smaller than the strides (Keras refuses it too)");
    o.outputPadding = op;
  }
  o.filters = filters;
  applyWindow(w, o);
  return LayerPtr(std::make_unique<Conv2DTranspose>(c.name(), o));
}

Expected<Json> conv2dTransposeToKeras(const Layer& l) {
  const auto& o = as<Conv2DTranspose>(l).options();
  Json j = windowJson(l.name(), o.kernelH, o.kernelW, o.strideH, o.strideW, o.dilationH, o.dilationW, o.padding,
                      o.useBias, o.activation);
  j["filters"] = o.filters;
  j["output_padding"] = o.outputPadding ? Json{(*o.outputPadding)[0], (*o.outputPadding)[1]} : Json(nullptr);
  j["kernel_initializer"] = glorot();
  j["bias_initializer"] = serialized("Zeros");
  nullKeys(j, {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
               "bias_constraint"});
  return j;
}

}  // namespace qat::keras
