// qat-cli export: a QAT checkpoint (or a float model) → .tflite (int8 or float), ONNX QDQ
// or a C header, then verification of the written file against the studio's model.
#include <filesystem>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/core/threading.h"
#include "engine/data/file_io.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/onnx_file.h"
#include "engine/deploy/tflite_file.h"
#include "engine/deploy/verify.h"
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
  if (format != "tflite" && format != "tflite-float" && format != "onnx" && format != "c-header" &&
      format != "keras") {
    std::cerr << "qat-cli export: --format must be tflite, tflite-float, onnx, c-header or keras\n";
    return kExitUsage;
  }
  setThreadCount(threads);
  Reporter rep(a.has("json"));
  const std::string spec = a.get("model"), out = a.get("out");
  const bool isFloat = format == "tflite-float";

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
    if (!isFloat && format != "keras")
      return rep.fail(spec + " is a float model; an integer export needs a QAT checkpoint. Create one with "
                             "'qat-cli quantize --model " + spec + " --out qat.h5' (--epochs 0 for post-training "
                             "quantization), or export it with --format tflite-float.");
  }
  // Verification data, loaded first: its training split also gives the ranges freeze
  // measures for tensors the QAT model leaves unquantized (before an in-layer softmax).
  std::optional<LoadedData> data;
  if (format != "keras" && (verifySamples > 0 || !isFloat)) {
    auto d = loadDataArgs(a, floatModel);
    if (!d.ok()) return rep.fail("Data: " + d.error().message);
    data.emplace(std::move(d.value()));
  }
  Tensor rangeSamples;
  if (format == "keras") {  // the trained float weights, for Keras or another QAT run
    if (quantized)
      if (Status s = quant::copyFloatWeights(*quantized, floatModel); !s.ok()) return rep.fail(s.error().message);
    if (Status s = saveKerasModel(floatModel, out); !s.ok()) return rep.fail(s.error().message);
    if (!rep.json()) std::cout << "wrote " << out << " (Keras .h5, float weights)" << std::endl;
    rep.summary({{"format", format}, {"outputs", {{"model", out}}}});
    return kExitOk;
  }
  deploy::FreezeOptions fo;
  fo.int8Io = a.has("int8-io");
  if (data) {
    rangeSamples = subset(data->train, 256).x;
    fo.rangeSamples = &rangeSamples;
  }
  auto graph = isFloat ? deploy::freezeFloat(floatModel) : deploy::freezeQuantized(*quantized, fo);
  if (!graph.ok()) return rep.fail("Cannot export " + spec + ": " + graph.error().message);

  // Write, then read back what was written: verification runs on the file's contents.
  Expected<deploy::IntegerGraph> reread = makeError("not read");
  if (format == "onnx") {
    if (Status s = deploy::writeOnnxQdq(*graph, out); !s.ok()) return rep.fail(s.error().message);
    reread = deploy::readOnnxQdq(out);  // from disk: the Q/DQ pattern mapped back to the integer graph
  } else {
    deploy::TfliteWriteOptions to;
    to.int4Weights = a.has("int4-weights");
    auto bytes = deploy::tfliteBytes(*graph, to);
    if (!bytes.ok()) return rep.fail(bytes.error().message);
    if (format == "c-header") {
      std::string symbol = std::filesystem::path(out).stem().string();
      for (char& c : symbol)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      if (Status s = deploy::writeCHeader(*bytes, out, symbol + "_tflite"); !s.ok()) return rep.fail(s.error().message);
    } else if (Status s = writeFileAtomic(out, *bytes); !s.ok()) {
      return rep.fail(s.error().message);
    }
    reread = deploy::parseTflite(*bytes, out);
  }
  if (!reread.ok()) return rep.fail("The written file does not read back: " + reread.error().message);
  nlohmann::json summary{{"format", format}, {"outputs", {{"model", out}}}, {"notes", graph->notes}};
  for (const auto& n : graph->notes) rep.event("note", {{"message", n}}, "note: " + n);
  if (!rep.json()) std::cout << "wrote " << out << " (" << std::filesystem::file_size(out) << " bytes)" << std::endl;

  if (verifySamples > 0) {
    const Dataset& d = data->test ? *data->test : data->train;
    Model& reference = isFloat ? floatModel : quantized->model;
    auto report = deploy::verifyGraph(reference, *reread, d, static_cast<size_t>(verifySamples));
    if (!report.ok()) return rep.fail("Verification failed: " + report.error().message);
    summary["verification"] = toJson(*report);
    if (!rep.json())
      std::cout << "verification of the graph read back from " << (format == "c-header" ? "the bytes in " : "") << out
                << ": " << report->summary() << std::endl;
  }
  rep.summary(summary);
  return kExitOk;
}

}  // namespace qat::cli
