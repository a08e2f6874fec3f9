#include "engine/io/keras_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace qat::keras {

namespace {

std::string keyList(Keys keys) {
  std::string s;
  for (std::string_view k : keys) s += (s.empty() ? "'" : " / '") + std::string(k) + "'";
  return s;
}

std::string shortJson(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// A JSON number that is an integer value (Keras 1 sometimes writes 3.0 for 3).
std::optional<long long> asInteger(const Json& j) {
  if (j.is_number_integer()) return j.get<long long>();
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<long long>(d);
  }
  return std::nullopt;
}

}  // namespace

Error ConfigReader::error(const std::string& what) const {
  return makeError("Layer '" + name_ + "' (" + cls_ + "): " + what);
}

void ConfigReader::warn(const std::string& what) const {
  if (warnings_) warnings_->push_back("Layer '" + name_ + "' (" + cls_ + "): " + what);
}

const Json* ConfigReader::find(Keys keys) const {
  if (!cfg_.is_object()) return nullptr;
  for (std::string_view k : keys) {
    auto it = cfg_.find(std::string(k));
    if (it != cfg_.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

Expected<int> ConfigReader::integer(Keys keys, std::optional<int> def, int lo, int hi) const {
  const Json* j = find(keys);
  if (!j) {
    if (def) return *def;
    return error("the config has no " + keyList(keys));
  }
  // Keras sometimes stores a single-element list for a scalar (axis: [3]).
  const Json& v = (j->is_array() && j->size() == 1) ? (*j)[0] : *j;
  auto i = asInteger(v);
  if (!i) return error(keyList(keys) + " should be an integer, got " + shortJson(*j));
  if (*i < lo || *i > hi)
    return error(keyList(keys) + " = " + std::to_string(*i) + " is outside the supported range [" +
                 std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<int>(*i);
}

Expected<std::array<int, 2>> ConfigReader::pair(Keys keys, std::optional<std::array<int, 2>> def, int lo,
                                                int hi) const {
  const Json* j = find(keys);
  if (!j) {
    if (def) return *def;
    return error("the config has no " + keyList(keys));
  }
  std::array<int, 2> out{};
  if (auto i = asInteger(*j)) {
    out = {static_cast<int>(std::clamp<long long>(*i, -1, hi + 1LL)),
           static_cast<int>(std::clamp<long long>(*i, -1, hi + 1LL))};
  } else if (j->is_array() && j->size() == 2 && asInteger((*j)[0]) && asInteger((*j)[1])) {
    for (int k = 0; k < 2; ++k)
      out[size_t(k)] = static_cast<int>(std::clamp<long long>(*asInteger((*j)[size_t(k)]), -1, hi + 1LL));
  } else {
    return error(keyList(keys) + " should be an integer or a pair of integers, got " + shortJson(*j));
  }
  for (int v : out)
    if (v < lo || v > hi)
      return error(keyList(keys) + " = " + shortJson(*j) + " is outside the supported range [" +
                   std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return out;
}

Expected<std::array<int, 2>> ConfigReader::pairFromKeys(std::string_view first, std::string_view second, int lo,
                                                        int hi) const {
  auto a = integer({first}, std::nullopt, lo, hi);
  if (!a.ok()) return a.error();
  auto b = integer({second}, std::nullopt, lo, hi);
  if (!b.ok()) return b.error();
  return std::array<int, 2>{*a, *b};
}

Expected<float> ConfigReader::number(Keys keys, std::optional<float> def) const {
  const Json* j = find(keys);
  if (!j) {
    if (def) return *def;
    return error("the config has no " + keyList(keys));
  }
  if (!j->is_number()) return error(keyList(keys) + " should be a number, got " + shortJson(*j));
  const double d = j->get<double>();
  if (!std::isfinite(d) || std::fabs(d) > 3.4e38) return error(keyList(keys) + " = " + shortJson(*j) + " is not a finite float");
  return static_cast<float>(d);
}

Expected<bool> ConfigReader::boolean(Keys keys, bool def) const {
  const Json* j = find(keys);
  if (!j) return def;
  if (j->is_boolean()) return j->get<bool>();
  if (auto i = asInteger(*j); i && (*i == 0 || *i == 1)) return *i == 1;
  return error(keyList(keys) + " should be true or false, got " + shortJson(*j));
}

Expected<std::string> ConfigReader::string(Keys keys, std::optional<std::string> def) const {
  const Json* j = find(keys);
  if (!j) {
    if (def) return *def;
    return error("the config has no " + keyList(keys));
  }
  if (!j->is_string()) return error(keyList(keys) + " should be a string, got " + shortJson(*j));
  return j->get<std::string>();
}

Expected<ActivationFn> ConfigReader::activation(Keys keys) const {
  const Json* j = find(keys);
  if (!j) return ActivationFn::Linear;
  std::string name;
  if (j->is_string()) {
    name = j->get<std::string>();
  } else if (std::string cls = serializedClassName(*j); !cls.empty()) {
    // Keras 3 may serialise a built-in activation as {"module": "keras.activations",
    // "class_name": "function", "config": "relu"}.
    const Json& inner = (*j)["config"];
    if (inner.is_string()) name = inner.get<std::string>();
    else return error("activation " + shortJson(*j) + " is not a built-in Keras activation; use a named one "
                      "(relu, sigmoid, tanh, softmax, ...) or a separate activation layer");
  } else {
    return error("activation should be a name, got " + shortJson(*j));
  }
  if (auto f = activationFromName(name)) return *f;
  return error("activation '" + name + "' is not supported; supported are linear, relu, relu6, sigmoid, "
               "hard_sigmoid, tanh, softmax, swish/silu, elu, selu, gelu, softplus. Replace it in Keras "
               "and save the model again");
}

Expected<Padding> ConfigReader::padding() const {
  auto s = string({"padding", "border_mode"}, std::string("valid"));
  if (!s.ok()) return s.error();
  if (auto p = paddingFromName(*s)) return *p;
  return error("padding '" + *s + "' is not supported (only 'valid' and 'same'); for explicit borders use a "
               "ZeroPadding2D layer before it");
}

Status ConfigReader::channelsLast() const {
  auto df = string({"data_format"}, std::string("channels_last"));
  if (!df.ok()) return df.error();
  if (*df != "channels_last")
    return error("data_format '" + *df + "' is not supported: QAT Studio works on channels_last (NHWC) "
                 "tensors. Rebuild the model with data_format='channels_last' (the TensorFlow default)");
  auto dim = string({"dim_ordering"}, std::string("tf"));
  if (!dim.ok()) return dim.error();
  if (*dim == "th")
    return error("dim_ordering 'th' (Theano, channels first) is not supported: QAT Studio works on "
                 "channels_last (NHWC) tensors. Convert the model to dim_ordering 'tf' first");
  if (*dim != "tf" && *dim != "default")
    return error("dim_ordering '" + *dim + "' is not understood (expected 'tf')");
  return {};
}

void ConfigReader::warnIgnoredOptions() const {
  for (std::string_view k : {"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                             "depthwise_regularizer", "pointwise_regularizer", "beta_regularizer",
                             "gamma_regularizer", "W_regularizer", "b_regularizer"})
    if (find({k})) warn(std::string(k) + " is ignored: regularization losses are not implemented");
  for (std::string_view k : {"kernel_constraint", "bias_constraint", "depthwise_constraint",
                             "pointwise_constraint", "beta_constraint", "gamma_constraint", "W_constraint",
                             "b_constraint"})
    if (find({k})) warn(std::string(k) + " is ignored: weight constraints are not implemented");
  if (const Json* d = find({"dtype"})) {
    std::string dtype;
    if (d->is_string()) dtype = d->get<std::string>();
    else if (d->is_object() && d->contains("config") && (*d)["config"].is_object() &&
             (*d)["config"].contains("name") && (*d)["config"]["name"].is_string())
      dtype = (*d)["config"]["name"].get<std::string>();
    if (!dtype.empty() && dtype != "float32")
      warn("dtype '" + dtype + "' is computed in float32 here");
  }
}

std::string serializedClassName(const Json& j) {
  if (j.is_object() && j.contains("class_name") && j["class_name"].is_string() && j.contains("config"))
    return j["class_name"].get<std::string>();
  return {};
}

Json jsonFloat(float f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  if (r.ec != std::errc()) return static_cast<double>(f);
  return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
}

Json serialized(std::string_view className, Json config) {
  return Json{{"class_name", std::string(className)}, {"config", std::move(config)}};
}

Json baseConfig(const std::string& layerName) {
  return Json{{"name", layerName}, {"trainable", true}, {"dtype", "float32"}};
}

Expected<std::vector<int>> perSampleShape(const ConfigReader& c, const Json& batchShape) {
  if (!batchShape.is_array() || batchShape.empty())
    return c.error("input shape " + shortJson(batchShape) + " should be a list starting with the batch size");
  std::vector<int> dims;
  size_t total = 1;
  for (size_t i = 1; i < batchShape.size(); ++i) {
    const Json& d = batchShape[i];
    auto v = asInteger(d);
    if (d.is_null() || !v)
      return c.error("input shape " + shortJson(batchShape) + " has an unknown dimension; QAT Studio needs a "
                     "fixed input size. Re-create the model with a fully known input, e.g. "
                     "keras.Input(shape=(96, 96, 3))");
    if (*v <= 0 || *v > kMaxDim) return c.error("input shape " + shortJson(batchShape) + " has an invalid dimension");
    total *= static_cast<size_t>(*v);
    if (total > kMaxElements) return c.error("input shape " + shortJson(batchShape) + " is too large");
    dims.push_back(static_cast<int>(*v));
  }
  if (dims.empty()) return c.error("input shape " + shortJson(batchShape) + " has no per-sample dimensions");
  return dims;
}

Expected<std::optional<std::vector<int>>> declaredInputShape(const ConfigReader& c) {
  if (const Json* s = c.find({"batch_input_shape", "batch_shape"})) {
    auto d = perSampleShape(c, *s);
    if (!d.ok()) return d.error();
    return std::optional<std::vector<int>>(std::move(*d));
  }
  if (c.find({"input_dim"})) {  // Keras 1 Dense(…, input_dim=n)
    auto n = c.integer({"input_dim"}, std::nullopt, 1, kMaxDim);
    if (!n.ok()) return n.error();
    return std::optional<std::vector<int>>(std::vector<int>{*n});
  }
  return std::optional<std::vector<int>>();
}

}  // namespace qat::keras
