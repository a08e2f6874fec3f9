#pragma once
// Per-layer-family converters behind keras_layers.h. Internal to engine/io.
//   *FromKeras: Keras config (any version) -> engine layer; errors via ConfigReader::error.
//   *ToKeras:   engine layer -> tf.keras 2.13 config object (without the class name).
#include <memory>

#include "engine/io/keras_config.h"
#include "engine/layers/layer.h"

// Unwraps an Expected into a new variable `var`, or returns its error from the
// enclosing function (which returns an Expected or a Status).
#define QAT_KERAS_GET(var, expr)             \
  auto var##_r = (expr);                     \
  if (!var##_r.ok()) return var##_r.error(); \
  auto var = std::move(var##_r.value())

namespace qat::keras {

using LayerPtr = std::unique_ptr<Layer>;
using FromFn = Expected<LayerPtr> (*)(const ConfigReader&);
using ToFn = Expected<Json> (*)(const Layer&);

// keras_layers_spatial.cpp: convolutions, pooling, zero padding.
Expected<LayerPtr> conv2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> depthwiseConv2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> separableConv2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> maxPooling2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> averagePooling2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> globalAveragePooling2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> globalMaxPooling2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> zeroPadding2dFromKeras(const ConfigReader& c);

Expected<Json> conv2dToKeras(const Layer& l);
Expected<Json> depthwiseConv2dToKeras(const Layer& l);
Expected<Json> separableConv2dToKeras(const Layer& l);
Expected<Json> maxPooling2dToKeras(const Layer& l);
Expected<Json> averagePooling2dToKeras(const Layer& l);
Expected<Json> globalAveragePooling2dToKeras(const Layer& l);
Expected<Json> globalMaxPooling2dToKeras(const Layer& l);
Expected<Json> zeroPadding2dToKeras(const Layer& l);

// keras_layers_spatial.cpp, continued: transposed convolution, cropping, upsampling.
Expected<LayerPtr> conv2dTransposeFromKeras(const ConfigReader& c);
Expected<LayerPtr> cropping2dFromKeras(const ConfigReader& c);
Expected<LayerPtr> upSampling2dFromKeras(const ConfigReader& c);
Expected<Json> conv2dTransposeToKeras(const Layer& l);
Expected<Json> cropping2dToKeras(const Layer& l);
Expected<Json> upSampling2dToKeras(const Layer& l);

// keras_layers_extra.cpp: the 1-D (sequence) layers, PReLU and Permute.
Expected<LayerPtr> conv1dFromKeras(const ConfigReader& c);
Expected<LayerPtr> maxPooling1dFromKeras(const ConfigReader& c);
Expected<LayerPtr> averagePooling1dFromKeras(const ConfigReader& c);
Expected<LayerPtr> globalAveragePooling1dFromKeras(const ConfigReader& c);
Expected<LayerPtr> globalMaxPooling1dFromKeras(const ConfigReader& c);
Expected<LayerPtr> preluFromKeras(const ConfigReader& c);
Expected<LayerPtr> permuteFromKeras(const ConfigReader& c);
Expected<Json> conv1dToKeras(const Layer& l);
Expected<Json> maxPooling1dToKeras(const Layer& l);
Expected<Json> averagePooling1dToKeras(const Layer& l);
Expected<Json> globalAveragePooling1dToKeras(const Layer& l);
Expected<Json> globalMaxPooling1dToKeras(const Layer& l);
Expected<Json> preluToKeras(const Layer& l);
Expected<Json> permuteToKeras(const Layer& l);

// The concrete layer behind `l` (the dispatcher has already matched l.op()).
template <class L>
const L& as(const Layer& l) {
  const L* p = dynamic_cast<const L*>(&l);
  QAT_ASSERT(p != nullptr);
  return *p;
}

}  // namespace qat::keras
