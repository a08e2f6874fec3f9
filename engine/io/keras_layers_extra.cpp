// Keras <-> engine mapping for the 1-D (sequence) layers: Conv1D (Keras 1 Convolution1D),
// Max/AveragePooling1D, the two global 1-D poolings; and PReLU and Permute.
// Keras 1 spells the 1-D window as filter_length / pool_length, the stride as
// subsample_length / stride and the padding as border_mode. Keras 2 and 3 write 1-D
// sizes as one-element lists ([3]); a bare integer is read too.
#include "engine/io/keras_layers_internal.h"
#include "engine/layers/average_pooling1d.h"
#include "engine/layers/conv1d.h"
#include "engine/layers/global_average_pooling1d.h"
#include "engine/layers/global_max_pooling1d.h"
#include "engine/layers/max_pooling1d.h"
#include "engine/layers/permute.h"
#include "engine/layers/prelu.h"

namespace qat::keras {
namespace {

std::string_view conv1dPaddingName(Conv1DPadding p) {
  switch (p) {
    case Conv1DPadding::Same: return "same";
    case Conv1DPadding::Causal: return "causal";
    case Conv1DPadding::Valid: break;
  }
  return "valid";
}

Expected<Pooling1DOptions> readPool1d(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  Pooling1DOptions o;
  QAT_KERAS_GET(pool, c.integer({"pool_size", "pool_length"}, 2, 1, kMaxKernel));
  o.poolSize = pool;
  if (c.find({"strides", "stride"})) {  // null / absent: the pool size
    QAT_KERAS_GET(s, c.integer({"strides", "stride"}, std::nullopt, 1, kMaxKernel));
    o.stride = s;
  }
  QAT_KERAS_GET(padding, c.padding());
  o.padding = padding;
  return o;
}

Json pool1dJson(const Layer& l, const Pooling1DOptions& o) {
  Json j = baseConfig(l.name());
  j["strides"] = o.stride == 0 ? Json(nullptr) : Json{o.stride};
  j["pool_size"] = {o.poolSize};
  j["padding"] = std::string(paddingName(o.padding));
  j["data_format"] = "channels_last";
  return j;
}

Expected<GlobalPooling1DOptions> readGlobal1d(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  QAT_KERAS_GET(keep, c.boolean({"keepdims"}, false));
  return GlobalPooling1DOptions{keep};
}

Json global1dJson(const Layer& l, const GlobalPooling1DOptions& o) {
  Json j = baseConfig(l.name());
  j["data_format"] = "channels_last";
  j["keepdims"] = o.keepDims;
  return j;
}

// A list of small positive integers (shared_axes, dims); a bare integer is a list of one.
Expected<std::vector<int>> intList(const ConfigReader& c, const char* key, int lo, int hi) {
  std::vector<int> out;
  const Json* j = c.find({key});
  if (!j) return out;
  const auto ok = [&](const Json& v) {
    return v.is_number_integer() && v.get<long long>() >= lo && v.get<long long>() <= hi;
  };
  if (ok(*j)) return std::vector<int>{j->get<int>()};
  if (!j->is_array() || j->size() > 8)
    return c.error(std::string(key) + " " + j->dump() + " should be a list of at most 8 axes");
  for (const Json& v : *j) {
    if (!ok(v))
      return c.error(std::string(key) + " " + j->dump() + " should hold axis numbers in [" + std::to_string(lo) +
                     ", " + std::to_string(hi) + "]");
    out.push_back(v.get<int>());
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- Conv1D

Expected<LayerPtr> conv1dFromKeras(const ConfigReader& c) {
  QAT_TRY(c.channelsLast());
  Conv1DOptions o;
  QAT_KERAS_GET(filters, c.integer({"filters", "nb_filter"}, std::nullopt, 1, kMaxDim));
  QAT_KERAS_GET(kernel, c.integer({"kernel_size", "filter_length"}, std::nullopt, 1, kMaxKernel));
  QAT_KERAS_GET(stride, c.integer({"strides", "subsample_length"}, 1, 1, kMaxKernel));
  QAT_KERAS_GET(dilation, c.integer({"dilation_rate", "atrous_rate"}, 1, 1, kMaxKernel));
  QAT_KERAS_GET(padding, c.string({"padding", "border_mode"}, std::string("valid")));
  QAT_KERAS_GET(bias, c.boolean({"use_bias", "bias"}, true));
  QAT_KERAS_GET(act, c.activation());
  QAT_KERAS_GET(groups, c.integer({"groups"}, 1, 1, kMaxDim));
  if (groups != 1)
    return c.error("grouped convolution (groups = " + std::to_string(groups) + ") is not supported; use groups=1");
  if (dilation > 1 && stride > 1)
    return c.error("dilation_rate > 1 together with strides > 1 is not supported (Keras does not allow it "
                   "either); use strides of 1 with a dilated kernel");
  if (padding == "valid") o.padding = Conv1DPadding::Valid;
  else if (padding == "same") o.padding = Conv1DPadding::Same;
  else if (padding == "causal") o.padding = Conv1DPadding::Causal;
  else return c.error("padding '" + padding + "' is not supported (only 'valid', 'same' and 'causal')");
  o.filters = filters;
  o.kernelSize = kernel;
  o.stride = stride;
  o.dilation = dilation;
  o.useBias = bias;
  o.activation = act;
  return LayerPtr(std::make_unique<Conv1D>(c.name(), o));
}

Expected<Json> conv1dToKeras(const Layer& l) {
  const auto& o = as<Conv1D>(l).options();
  Json j = baseConfig(l.name());
  j["filters"] = o.filters;
  j["kernel_size"] = {o.kernelSize};
  j["strides"] = {o.stride};
  j["padding"] = std::string(conv1dPaddingName(o.padding));
  j["data_format"] = "channels_last";
  j["dilation_rate"] = {o.dilation};
  j["groups"] = 1;
  j["activation"] = std::string(activationName(o.activation));
  j["use_bias"] = o.useBias;
  j["kernel_initializer"] = serialized("GlorotUniform", Json{{"seed", nullptr}});
  j["bias_initializer"] = serialized("Zeros");
  for (const char* k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
                        "bias_constraint"})
    j[k] = nullptr;
  return j;
}

// ---------------------------------------------------------------- 1-D pooling

Expected<LayerPtr> maxPooling1dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readPool1d(c));
  return LayerPtr(std::make_unique<MaxPooling1D>(c.name(), o));
}

Expected<Json> maxPooling1dToKeras(const Layer& l) { return pool1dJson(l, as<MaxPooling1D>(l).options()); }

Expected<LayerPtr> averagePooling1dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readPool1d(c));
  return LayerPtr(std::make_unique<AveragePooling1D>(c.name(), o));
}

Expected<Json> averagePooling1dToKeras(const Layer& l) { return pool1dJson(l, as<AveragePooling1D>(l).options()); }

Expected<LayerPtr> globalAveragePooling1dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readGlobal1d(c));
  return LayerPtr(std::make_unique<GlobalAveragePooling1D>(c.name(), o));
}

Expected<Json> globalAveragePooling1dToKeras(const Layer& l) {
  return global1dJson(l, as<GlobalAveragePooling1D>(l).options());
}

Expected<LayerPtr> globalMaxPooling1dFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(o, readGlobal1d(c));
  return LayerPtr(std::make_unique<GlobalMaxPooling1D>(c.name(), o));
}

Expected<Json> globalMaxPooling1dToKeras(const Layer& l) {
  return global1dJson(l, as<GlobalMaxPooling1D>(l).options());
}

// ---------------------------------------------------------------- PReLU

Expected<LayerPtr> preluFromKeras(const ConfigReader& c) {
  QAT_KERAS_GET(axes, intList(c, "shared_axes", 1, 8));
  // The initializer only matters for a fresh layer; the file's weights replace it.
  for (const char* k : {"alpha_regularizer", "alpha_constraint"})
    if (c.find({k})) c.warn(std::string(k) + " is ignored: not implemented");
  return LayerPtr(std::make_unique<PReLU>(c.name(), PReLUOptions{axes}));
}

Expected<Json> preluToKeras(const Layer& l) {
  const auto& o = as<PReLU>(l).options();
  Json j = baseConfig(l.name());
  j["alpha_initializer"] = serialized("Zeros");
  j["alpha_regularizer"] = nullptr;
  j["alpha_constraint"] = nullptr;
  j["shared_axes"] = o.sharedAxes.empty() ? Json(nullptr) : Json(o.sharedAxes);
  return j;
}

// ---------------------------------------------------------------- Permute

Expected<LayerPtr> permuteFromKeras(const ConfigReader& c) {
  if (!c.find({"dims"})) return c.error("the config has no 'dims'");
  QAT_KERAS_GET(dims, intList(c, "dims", 1, 8));
  return LayerPtr(std::make_unique<Permute>(c.name(), PermuteOptions{dims}));
}

Expected<Json> permuteToKeras(const Layer& l) {
  Json j = baseConfig(l.name());
  j["dims"] = as<Permute>(l).options().dims;
  return j;
}

}  // namespace qat::keras
