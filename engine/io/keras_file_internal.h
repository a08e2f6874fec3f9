#pragma once
// Pieces of the Keras HDF5 reader shared by the loader (keras_model.cpp) and the outline
// (model_outline.cpp). Internal to engine/io.
#include <string>

#include "engine/io/hdf5_util.h"
#include "engine/io/keras_config.h"

namespace qat::keras {

// Error when `path` is a Keras 3 '.keras' archive (zip) rather than an HDF5 file.
Status checkNotZipArchive(const std::string& path);

// The architecture (model.to_json() object): the contents of `jsonPath` when given, else
// the root attribute model_config. A file without one is explained: weights only
// (save_weights), Keras 3 weights, or not a Keras file at all.
Expected<Json> readArchitecture(const h5::Group& root, const std::string& h5Path, const std::string& jsonPath);

}  // namespace qat::keras
