#pragma once
// The export pipeline shared by `qat-cli export` and the studio's File ▸ Export: a quantized
// model (or a float one) → freeze → the file (written atomically) → the file read back →
// verification of what was read back against the studio's model (verify.h). Verification
// runs on the file's contents, not on the in-memory graph, so a writer bug shows up as
// disagreement instead of hiding behind the graph that was meant to be written.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"
#include "engine/deploy/verify.h"
#include "engine/graph/model.h"
#include "engine/quant/quantize_model.h"

namespace qat::deploy {

enum class ExportFormat {
  TfliteInt8,   // integer .tflite (QUANT_SPEC.md §4, §5)
  TfliteFloat,  // float32 .tflite of the float model (or of a quantized model's float twin)
  OnnxQdq,      // ONNX with QuantizeLinear/DequantizeLinear pairs (§6)
  CHeader,      // the int8 .tflite bytes as a C array for microcontroller firmware
  Keras,        // the float weights (after QAT: the trained shadow weights) as a Keras .h5
};
inline constexpr ExportFormat kAllExportFormats[] = {ExportFormat::TfliteInt8, ExportFormat::TfliteFloat,
                                                     ExportFormat::OnnxQdq, ExportFormat::CHeader,
                                                     ExportFormat::Keras};

std::string_view exportFormatName(ExportFormat f);  // "tflite", "tflite-float", "onnx", "c-header", "keras"
std::optional<ExportFormat> exportFormatFromName(std::string_view name);
std::string_view exportFormatTitle(ExportFormat f);      // "TFLite int8", ..., for people
std::string_view exportFormatExtension(ExportFormat f);  // ".tflite", ".tflite", ".onnx", ".h", ".h5"
// Formats whose graph is the frozen integer graph: they need a quantized model.
bool isIntegerFormat(ExportFormat f);

struct ExportOptions {
  bool int8Io = false;       // int8 input/output tensors instead of float with QUANTIZE/DEQUANTIZE
  bool int4Weights = false;  // TFLite / C header: weights on a 4-bit grid as INT4 tensors
  size_t verifySamples = 1000;  // 0: write and read back, no verification
  std::string modelName;     // names the model in errors: "Cannot export <modelName>: ..."
};

struct ExportResult {
  std::string path;
  size_t bytes = 0;                // size of the written file
  std::vector<std::string> notes;  // freeze's decisions, one sentence each (sub-8-bit, folds, ...)
  size_t int4Tensors = 0;          // weight tensors the file holds as INT4 (int4Weights)
  std::optional<VerificationReport> verification;  // none: not asked, no data, or Keras
  // The file was written and read back but verification could not run (e.g. the data
  // does not fit the graph); "" otherwise.
  std::string verificationError;
};

// floatModel: the float model (a float export) or the architecture `quantized` was made
// from; quantized: null for a float model, then only TfliteFloat and Keras are possible
// (a quantized model exports its float twin for those two). verifyData: the held-out set
// whose first options.verifySamples samples verify the file (null: no verification).
// rangeSamples: model inputs for freeze to measure tensors the QAT model leaves
// unquantized (FreezeOptions::rangeSamples; null: such layers are refused).
// The quantized model is not changed, but verification runs it (predict needs a mutable
// Model). Errors name the layer that blocks the export (freeze's messages) or the file.
Expected<ExportResult> exportModel(const Model& floatModel, quant::QuantizedModel* quantized, ExportFormat format,
                                   const std::string& path, const ExportOptions& options,
                                   const Dataset* verifyData, const Tensor* rangeSamples);

}  // namespace qat::deploy
