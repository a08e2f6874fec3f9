#include "engine/deploy/export.h"

#include <cctype>
#include <filesystem>

#include "engine/data/file_io.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/tflite_file.h"
#include "engine/io/keras_model.h"

namespace qat::deploy {

namespace {

struct FormatInfo {
  ExportFormat format;
  std::string_view name, title, extension;
};
// One row per format, in enum order (static_assert below keeps them in step).
constexpr FormatInfo kFormats[] = {
    {ExportFormat::TfliteInt8, "tflite", "TFLite int8", ".tflite"},
    {ExportFormat::TfliteFloat, "tflite-float", "TFLite float", ".tflite"},
    {ExportFormat::OnnxQdq, "onnx", "ONNX QDQ", ".onnx"},
    {ExportFormat::CHeader, "c-header", "C header", ".h"},
    {ExportFormat::Keras, "keras", "Keras H5", ".h5"},
};
static_assert(std::size(kFormats) == std::size(kAllExportFormats));

const FormatInfo& info(ExportFormat f) {
  const FormatInfo& i = kFormats[static_cast<size_t>(f)];
  QAT_ASSERT(i.format == f);
  return i;
}

size_t fileSize(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<size_t>(n);
}

// The model a float export writes: the float model, or the quantized model's trained float
// weights in the float architecture (what Keras and a float .tflite of a QAT run hold).
Expected<Model> floatTwin(const Model& floatModel, const quant::QuantizedModel* quantized) {
  Model m = floatModel.clone();
  if (quantized) QAT_TRY(quant::copyFloatWeights(*quantized, m));
  return m;
}

// Writes the graph in `format`. For TFLite and the C header, `tflite` receives the bytes
// written (the header holds them, so they are what is read back).
Status writeGraph(const IntegerGraph& graph, ExportFormat format, const std::string& path,
                  const ExportOptions& options, std::vector<uint8_t>& tflite) {
  if (format == ExportFormat::OnnxQdq) return writeOnnxQdq(graph, path);
  TfliteWriteOptions to;
  to.int4Weights = options.int4Weights;
  auto bytes = tfliteBytes(graph, to);
  if (!bytes.ok()) return bytes.error();
  tflite = std::move(bytes.value());
  if (format != ExportFormat::CHeader) return writeFileAtomic(path, tflite);
  // The array's name comes from the file name, as a C identifier.
  std::string symbol = std::filesystem::path(path).stem().string();
  for (char& c : symbol)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (symbol.empty() || std::isdigit(static_cast<unsigned char>(symbol[0]))) symbol = "m_" + symbol;
  return writeCHeader(tflite, path, symbol + "_tflite");
}

}  // namespace

std::string_view exportFormatName(ExportFormat f) { return info(f).name; }
std::string_view exportFormatTitle(ExportFormat f) { return info(f).title; }
std::string_view exportFormatExtension(ExportFormat f) { return info(f).extension; }

std::optional<ExportFormat> exportFormatFromName(std::string_view name) {
  for (const FormatInfo& i : kFormats)
    if (i.name == name) return i.format;
  return std::nullopt;
}

bool isIntegerFormat(ExportFormat f) {
  return f == ExportFormat::TfliteInt8 || f == ExportFormat::OnnxQdq || f == ExportFormat::CHeader;
}

Expected<ExportResult> exportModel(const Model& floatModel, quant::QuantizedModel* quantized, ExportFormat format,
                                   const std::string& path, const ExportOptions& options,
                                   const Dataset* verifyData, const Tensor* rangeSamples) {
  const std::string what = options.modelName.empty() ? "the model" : options.modelName;
  if (isIntegerFormat(format) && !quantized)
    return makeError("Cannot export " + what + " as " + std::string(exportFormatTitle(format)) +
                     ": it is a float model. An integer export needs a quantized model: calibrate it "
                     "(post-training quantization) or train it with QAT first.");
  ExportResult result;
  result.path = path;

  if (format == ExportFormat::Keras) {  // the trained float weights, for Keras or another QAT run
    auto m = floatTwin(floatModel, quantized);
    if (!m.ok()) return m.error();
    QAT_TRY(saveKerasModel(*m, path));
    result.bytes = fileSize(path);
    return result;
  }

  // Float exports verify against the model they write; integer ones against the
  // fake-quant model, whose arithmetic the integer graph reproduces.
  std::optional<Model> floatReference;
  Expected<IntegerGraph> graph = makeError("not frozen");
  if (format == ExportFormat::TfliteFloat) {
    auto m = floatTwin(floatModel, quantized);
    if (!m.ok()) return m.error();
    floatReference.emplace(std::move(m.value()));
    graph = freezeFloat(*floatReference);
  } else {
    FreezeOptions fo;
    fo.int8Io = options.int8Io;
    fo.rangeSamples = rangeSamples;
    graph = freezeQuantized(*quantized, fo);
  }
  if (!graph.ok()) return makeError("Cannot export " + what + ": " + graph.error().message);

  // Write, then read back what was written: verification runs on the file's contents
  // (ONNX from disk: the Q/DQ pattern mapped back to the integer graph).
  std::vector<uint8_t> tflite;
  QAT_TRY(writeGraph(*graph, format, path, options, tflite));
  auto reread = format == ExportFormat::OnnxQdq ? readOnnxQdq(path) : parseTflite(tflite, path);
  if (!reread.ok()) return makeError("The written file does not read back: " + reread.error().message);
  result.notes = graph->notes;
  result.bytes = fileSize(path);
  for (const GraphTensor& t : reread->tensors) result.int4Tensors += t.type == ElementType::Int4;

  if (verifyData && options.verifySamples > 0) {
    Model& reference = floatReference ? *floatReference : quantized->model;
    auto report = verifyGraph(reference, *reread, *verifyData, options.verifySamples);
    if (report.ok())
      result.verification = *report;
    else
      result.verificationError = "Verification failed: " + report.error().message;
  }
  return result;
}

}  // namespace qat::deploy
