#pragma once
// Keras layer JSON <-> engine layers, both ways, for every OpType.
//
// Reading accepts the spellings of Keras 1 (Convolution2D, border_mode, subsample,
// nb_filter, nb_row/nb_col, output_dim, Merge ...), Keras 2 / tf.keras and Keras 3
// (batch_shape, dtype-policy objects, negative_slope). Writing produces what tf.keras
// 2.13 writes, so tf.keras.models.load_model accepts it.
//
// Errors start with "Layer '<name>' (<Keras class>): " and say what to do; layers that
// cannot be lowered (Lambda, recurrent layers, custom classes) are explained, not just
// refused. Options that only affect training and are not implemented (regularizers,
// constraints) are reported through `warnings` rather than refused. Keras `trainable`
// becomes Layer::trainable() (frozen layers) and is written back.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/layers/layer.h"

namespace qat {

// Builds the engine layer for one Keras layer: its class name and `config` object as
// found in the file, and the engine name to give it (normally config["name"]).
// InputLayer is handled too (shape from batch_input_shape / Keras 3 batch_shape).
Expected<std::unique_ptr<Layer>> layerFromKeras(const std::string& className, const nlohmann::json& config,
                                                const std::string& name,
                                                std::vector<std::string>* warnings = nullptr);

// {"class_name": ..., "config": {...}} in tf.keras 2.13 spelling.
Expected<nlohmann::json> layerToKeras(const Layer& layer);

// Sequential, Functional, Model: containers that the loader flattens into the graph.
bool isKerasModelClass(std::string_view className);

// "Conv2D, Dense, ..." : the Keras classes the reader understands, for messages.
std::string supportedKerasClasses();

}  // namespace qat
