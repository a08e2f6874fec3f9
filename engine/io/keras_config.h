#pragma once
// Reading one Keras layer's `config` object across Keras versions, and the small JSON
// pieces the writer shares. Internal to engine/io.
//
// The same option has had several spellings: Keras 1 (nb_filter, border_mode, subsample,
// output_dim, bias, dim_ordering, p), Keras 2 / tf.keras (filters, padding, strides,
// units, use_bias, data_format, rate) and Keras 3 (negative_slope, dtype-policy objects).
// Every accessor takes the alternatives in order and range-checks what it finds, so a
// damaged or hostile config can neither allocate absurd tensors nor crash the reader.
#include <array>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/layers/activation_fn.h"
#include "engine/layers/padding.h"

namespace qat::keras {

using Json = nlohmann::json;
using Keys = std::initializer_list<std::string_view>;

// Upper bounds for sizes read from a config (far above any model this tool can train).
inline constexpr int kMaxDim = 1 << 20;       // one dimension, units, filters
inline constexpr int kMaxKernel = 1024;       // kernel / pool / stride / dilation extent
inline constexpr size_t kMaxElements = size_t(1) << 28;  // elements of one per-sample shape

class ConfigReader {
 public:
  ConfigReader(const Json& config, std::string layerName, std::string className,
               std::vector<std::string>* warnings)
      : cfg_(config), name_(std::move(layerName)), cls_(std::move(className)), warnings_(warnings) {}

  const std::string& name() const { return name_; }
  const std::string& className() const { return cls_; }
  const Json& json() const { return cfg_; }

  // "Layer 'conv2d_1' (Conv2D): <what>"
  Error error(const std::string& what) const;
  void warn(const std::string& what) const;

  // The first of `keys` present with a non-null value, or nullptr.
  const Json* find(Keys keys) const;

  // Missing keys take `def`; without a default a missing key is an error.
  Expected<int> integer(Keys keys, std::optional<int> def, int lo, int hi) const;
  // An int or a list of two ints ("kernel_size": 3 or [3, 3]); Keras 1 spreads it over
  // two keys (nb_row / nb_col), see pairFromKeys.
  Expected<std::array<int, 2>> pair(Keys keys, std::optional<std::array<int, 2>> def, int lo, int hi) const;
  Expected<std::array<int, 2>> pairFromKeys(std::string_view first, std::string_view second, int lo, int hi) const;
  Expected<float> number(Keys keys, std::optional<float> def) const;
  Expected<bool> boolean(Keys keys, bool def) const;
  Expected<std::string> string(Keys keys, std::optional<std::string> def) const;

  // "activation": a built-in Keras activation name; absent or null is linear.
  Expected<ActivationFn> activation(Keys keys = {"activation"}) const;
  // "padding" / Keras 1 "border_mode": valid or same.
  Expected<Padding> padding() const;
  // "data_format" / Keras 1 "dim_ordering" must mean channels-last.
  Status channelsLast() const;
  // Warns about options that change training but that the engine does not implement
  // (regularizers, constraints, non-float32 dtypes). Frozen layers are implemented.
  void warnIgnoredOptions() const;

 private:
  const Json& cfg_;
  std::string name_, cls_;
  std::vector<std::string>* warnings_;
};

// Unwraps Keras 3 serialisation: {"module", "class_name", "config", ...} and dtype-policy
// objects. Returns the class name of a serialised object, or "" when `j` is not one.
std::string serializedClassName(const Json& j);

// A float as the shortest decimal that reads back as the same float (0.001f -> 0.001),
// so written configs are readable and a reload gives bit-identical options.
Json jsonFloat(float f);
// {"class_name": name, "config": config} (tf.keras 2.x initializer / regularizer style).
Json serialized(std::string_view className, Json config = Json::object());
// The keys every tf.keras 2.13 layer config starts with.
Json baseConfig(const std::string& layerName);

// A Keras shape list with a leading batch entry ([null, 28, 28, 1]) -> per-sample dims.
// Unknown (null) dimensions are an error naming the layer.
Expected<std::vector<int>> perSampleShape(const ConfigReader& c, const Json& batchShape);
// The input shape a layer declares for itself (batch_input_shape, Keras 3 batch_shape,
// Keras 1 input_dim), if any.
Expected<std::optional<std::vector<int>>> declaredInputShape(const ConfigReader& c);

}  // namespace qat::keras
