#pragma once
// QAT checkpoints: the quantized model in one HDF5 file that is also a valid Keras file.
//
// Layout: a Keras 2 style .h5 of the float model holding the trained float weights
// (engine/io/keras_model.h, so tf.keras and `qat-cli --model` open it as that float
// model), plus
//   root attribute  qat_checkpoint_version   "1"
//   root attribute  qat_quantize_config      the QuantizeConfig as JSON
//   group           qat_state/<node>/        for each node of the quantized model that
//                                            has state besides float weights: one float
//                                            dataset "<index>_<param name>" per such
//                                            parameter (quantizer ranges, "initialized"
//                                            flags, EMA values, fold step counters)
// Loading rebuilds the quantized model from the float model and the config, then restores
// the state, so evaluation after a reload is bit-identical. Written to a temporary file
// and renamed over the target: a failed save never damages an existing checkpoint.
#include <string>

#include "engine/graph/model.h"
#include "engine/io/keras_model.h"
#include "engine/quant/quantize_model.h"

namespace qat::quant {

// floatModel: the architecture quantizeModel was given; its weights are replaced by the
// quantized model's trained ones in the file (the argument is not changed).
Status saveCheckpoint(const QuantizedModel& quantized, const Model& floatModel, const std::string& path);

struct Checkpoint {
  Model floatModel;           // with the trained float weights
  QuantizedModel quantized;   // state restored
  std::optional<TrainingConfigInfo> training;
  std::vector<std::string> warnings;
};

// Errors: not a checkpoint (a plain Keras file: load it as a model and quantize it),
// damaged state, a config that no longer applies.
Expected<Checkpoint> loadCheckpoint(const std::string& path);

// The same on an open HDF5 file, on disk or in memory (h5::File::createInMemory /
// openImage: a checkpoint kept inside a project file); messages name file.path().
// writeCheckpoint writes into an empty file; readCheckpoint does not run the isolation
// probe loadCheckpoint does (callers reading untrusted bytes probe first).
Status writeCheckpoint(const QuantizedModel& quantized, const Model& floatModel, const h5::File& file);
Expected<Checkpoint> readCheckpoint(const h5::File& file);

// True when `path` is an HDF5 file with a qat_quantize_config attribute.
bool isCheckpoint(const std::string& path);

}  // namespace qat::quant
