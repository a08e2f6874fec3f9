// qat-cli export: a QAT checkpoint (or a float model) → .tflite (int8 or float), ONNX QDQ
// or a C header, then verification of the written file against the studio's model. The
// pipeline is deploy::exportModel (shared with the studio); this file parses the arguments,
// loads the model and data, and prints the result.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/core/threading.h"
#include "engine/deploy/export.h"
#include "engine/quant/checkpoint.h"

namespace qat::cli {
namespace {

nlohmann::json toJson(const deploy::VerificationReport& r) {
  nlohmann::json j{{"samples", r.samples},
                   {"top1_agreement", r.top1Agreement},
                   {"max_step_difference", r.maxStepDifference},
                   {"within_one_step", r.withinOneStep},
                   {"quantized", r.quantized}};
  if (r.referenceAccuracy >= 0) {
    j["reference_accuracy"] = r.referenceAccuracy;
    j["export_accuracy"] = r.exportAccuracy;
  }
  return j;
}

}  // namespace

int runExport(int argc, char** argv, int first) {
  Args a("export",
         "Exports a QAT checkpoint (qat-cli quantize --out) as a deployable integer model, or a float\n"
         "model as a float .tflite, then reads the written file back, runs --verify-samples samples\n"
         "of the test data through it with the integer interpreter and through the studio's model,\n"
         "and reports their agreement.\n"
         "usage: qat-cli export --model qat.h5 --format tflite --out model.tflite",
         {{"model", "MODEL", "a QAT checkpoint (int8 formats) or a float model (tflite-float)", ""},
          architectureOption(),
          {"format", "FMT",
           "tflite (int8) | tflite-float | onnx (QDQ) | c-header (int8 .tflite bytes) | keras (the float weights "
           "after QAT as a Keras .h5)",
           "tflite"},
          {"out", "FILE", "the file to write", ""},
          {"int8-io", "", "int8 input/output tensors instead of float with QUANTIZE/DEQUANTIZE", ""},
          {"int4-weights", "", "store 4-bit weights as INT4 tensors (newer TFLite runtimes only)", ""},
          {"data", "DATA", "data for verification: " + dataSpecHelp(), "fashion-mnist"},
          {"test-data", "DATA", "held-out set for verification (default: the data set's test split)", ""},
          {"x-name", "NAME", "array holding the inputs (npz, h5)", ""},
          {"y-name", "NAME", "array holding the labels (npz, h5)", ""},
          {"label-column", "COL", "label column of a CSV file", ""},
          {"normalize", "MODE", "input normalisation: scale01 | none | meanstd", "scale01"},
          {"verify-samples", "N", "samples used for verification (0: skip verification)", "1000"},
          {"threads", "N", "worker threads (0 = all cores)", "0"},
          {"json", "", "print a JSON summary", ""}});
  if (auto e = a.parse(argc, argv, first)) {
    std::cerr << "qat-cli export: " << *e << "\n";
    return kExitUsage;
  }
  if (a.has("help")) {
    std::cout << a.help();
    return kExitOk;
  }
  std::string err;
  const int threads = static_cast<int>(a.getInt("threads", err));
  const long verifySamples = a.getInt("verify-samples", err);
  const std::string format = a.get("format");
  if (!err.empty() || !a.has("model") || !a.has("out") || verifySamples < 0) {
    std::cerr << "qat-cli export: " << (err.empty() ? "--model and --out are required" : err) << "\n";
    return kExitUsage;
  }
  const auto fmt = deploy::exportFormatFromName(format);
  if (!fmt) {
    std::cerr << "qat-cli export: --format must be tflite, tflite-float, onnx, c-header or keras\n";
    return kExitUsage;
  }
  setThreadCount(threads);
  Reporter rep(a.has("json"));
  const std::string spec = a.get("model"), out = a.get("out");
  const bool isFloat = *fmt == deploy::ExportFormat::TfliteFloat, isKeras = *fmt == deploy::ExportFormat::Keras;

  // The model to export and the one to verify against.
  Model floatModel;
  std::optional<quant::QuantizedModel> quantized;
  if (spec.rfind("builtin:", 0) != 0 && quant::isCheckpoint(spec)) {
    auto ck = quant::loadCheckpoint(spec);
    if (!ck.ok()) return rep.fail(ck.error().message);
    floatModel = std::move(ck->floatModel);
    quantized.emplace(std::move(ck->quantized));
  } else {
    auto m = loadModelArg(spec, "42", a.get("architecture"));
    if (!m.ok()) return rep.fail(m.error().message);
    floatModel = std::move(m.value());
    if (deploy::isIntegerFormat(*fmt))
      return rep.fail(spec + " is a float model; an integer export needs a QAT checkpoint. Create one with "
                             "'qat-cli quantize --model " + spec + " --out qat.h5' (--epochs 0 for post-training "
                             "quantization), or export it with --format tflite-float.");
  }
  // Verification data, loaded first: its training split also gives the ranges freeze
  // measures for tensors the QAT model leaves unquantized (before an in-layer softmax).
  std::optional<LoadedData> data;
  if (!isKeras && (verifySamples > 0 || !isFloat)) {
    auto d = loadDataArgs(a, floatModel);
    if (!d.ok()) return rep.fail("Data: " + d.error().message);
    data.emplace(std::move(d.value()));
  }
  Tensor rangeSamples;
  if (data) rangeSamples = subset(data->train, 256).x;
  deploy::ExportOptions eo;
  eo.int8Io = a.has("int8-io");
  eo.int4Weights = a.has("int4-weights");
  eo.verifySamples = static_cast<size_t>(verifySamples);
  eo.modelName = spec;
  const Dataset* verifyData = data ? (data->test ? &*data->test : &data->train) : nullptr;
  auto result = deploy::exportModel(floatModel, quantized ? &*quantized : nullptr, *fmt, out, eo, verifyData,
                                    data ? &rangeSamples : nullptr);
  if (!result.ok()) return rep.fail(result.error().message);

  if (isKeras) {
    if (!rep.json()) std::cout << "wrote " << out << " (Keras .h5, float weights)" << std::endl;
    rep.summary({{"format", format}, {"outputs", {{"model", out}}}});
    return kExitOk;
  }
  nlohmann::json summary{{"format", format}, {"outputs", {{"model", out}}}, {"notes", result->notes}};
  for (const auto& n : result->notes) rep.event("note", {{"message", n}}, "note: " + n);
  if (!rep.json()) std::cout << "wrote " << out << " (" << result->bytes << " bytes)" << std::endl;
  if (!result->verificationError.empty()) return rep.fail(result->verificationError);
  if (const auto& report = result->verification) {
    summary["verification"] = toJson(*report);
    if (!rep.json())
      std::cout << "verification of the graph read back from " << (*fmt == deploy::ExportFormat::CHeader ? "the bytes in " : "")
                << out << ": " << report->summary() << std::endl;
  }
  rep.summary(summary);
  return kExitOk;
}

}  // namespace qat::cli
