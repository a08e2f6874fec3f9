// qat-cli predict: float inference of a model over a batch stored as NPY.
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_source.h"
#include "reporter.h"
#include "engine/core/threading.h"
#include "engine/data/npy.h"
#include "engine/deploy/freeze.h"
#include "engine/deploy/tflite_file.h"
#include "engine/deploy/verify.h"
#include "engine/quant/checkpoint.h"
#include "engine/train/trainer.h"

namespace qat::cli {

int runPredict(int argc, char** argv, int first) {
  Args a("predict",
         "Runs a model in float over the samples in an .npy file (NHWC float32, or uint8 pixels\n"
         "which are normalised like the training data) and writes the outputs as float32 .npy.\n"
         "A QAT checkpoint runs in float (its trained float weights) or fake-quant mode.",
         {{"model", "MODEL", "builtin:NAME, a Keras .h5 file, a QAT checkpoint or a .tflite file", ""},
          {"mode", "MODE",
           "float | fake-quant | integer (the last two need a QAT checkpoint from qat-cli quantize; integer runs "
           "the int8 graph the export writes). A .tflite model always runs in the integer interpreter.",
           "float"},
          architectureOption(),
          {"input", "FILE", "input batch (.npy), shaped (N, ...model input) or one sample", ""},
          {"output", "FILE", "where to write the outputs (.npy, float32)", ""},
          {"normalize", "MODE", "for uint8 input: scale01 (x/255) or none", "scale01"},
          {"batch-size", "N", "samples per forward pass", "256"},
          {"threads", "N", "worker threads (0 = all cores)", "0"},
          {"json", "", "print a JSON summary", ""}});
  if (auto e = a.parse(argc, argv, first)) {
    std::cerr << "qat-cli predict: " << *e << "\n";
    return kExitUsage;
  }
  if (a.has("help")) {
    std::cout << a.help();
    return kExitOk;
  }
  std::string err;
  const int threads = static_cast<int>(a.getInt("threads", err));
  const int batch = static_cast<int>(a.getInt("batch-size", err));
  if (!err.empty() || !a.has("model") || !a.has("input") || !a.has("output") || batch <= 0) {
    std::cerr << "qat-cli predict: " << (err.empty() ? "--model, --input and --output are required" : err) << "\n";
    return kExitUsage;
  }
  const std::string norm = a.get("normalize");
  if (norm != "scale01" && norm != "none") {
    std::cerr << "qat-cli predict: --normalize must be scale01 or none\n";
    return kExitUsage;
  }
  const std::string mode = a.get("mode");
  if (mode != "float" && mode != "fake-quant" && mode != "integer") {
    std::cerr << "qat-cli predict: --mode must be float, fake-quant or integer\n";
    return kExitUsage;
  }
  setThreadCount(threads);
  Reporter rep(a.has("json"));
  // A checkpoint runs as its quantized model; float mode turns the rounding off, which is
  // exactly the float model with the trained weights.
  Expected<Model> model = makeError("no model");
  std::optional<quant::QuantizedModel> quantized;
  const std::string spec = a.get("model");
  // A .tflite file (ours or TF-written) runs in the integer interpreter, float I/O as the
  // file has it.
  std::optional<deploy::IntegerGraph> tflite;
  if (spec.size() > 7 && spec.compare(spec.size() - 7, 7, ".tflite") == 0) {
    auto g = deploy::readTflite(spec);
    if (!g.ok()) return rep.fail(g.error().message);
    if (g->inputs.size() != 1 || g->outputs.size() != 1)
      return rep.fail(spec + ": predict needs a model with one input and one output");
    std::vector<int> dims = g->tensors[size_t(g->inputs[0])].shape;
    if (!dims.empty()) dims.erase(dims.begin());  // the batch
    // A stand-in model holding the file's input shape, for the input checks below.
    Model shapeOnly;
    shapeOnly.name = spec;
    const int in = shapeOnly.addInput(g->tensors[size_t(g->inputs[0])].name, Shape(dims));
    shapeOnly.setOutputs({in});
    if (Status s = shapeOnly.build(); !s.ok()) return rep.fail(spec + ": " + s.error().message);
    tflite.emplace(std::move(g.value()));
    model = std::move(shapeOnly);
  } else if (spec.rfind("builtin:", 0) != 0 && quant::isCheckpoint(spec)) {
    auto ck = quant::loadCheckpoint(spec);
    if (!ck.ok()) return rep.fail(ck.error().message);
    quantized.emplace(std::move(ck->quantized));
    model = quantized->model.clone();
  } else if (mode != "float") {
    return rep.fail(spec + " is not a QAT checkpoint, so it has no quantizers to run: create one with "
                           "'qat-cli quantize --model " + spec + " --out qat.h5', or use --mode float");
  } else {
    model = loadModelArg(spec, "42", a.get("architecture"));
  }
  if (!model.ok()) return rep.fail(model.error().message);
  if (model->inputs().size() != 1 || model->outputs().size() != 1)
    return rep.fail("predict needs a model with one input and one output; '" + model->name + "' has " +
                    std::to_string(model->inputs().size()) + " and " + std::to_string(model->outputs().size()));

  auto arr = readNpyArray(a.get("input"));
  if (!arr.ok()) return rep.fail(arr.error().message);
  Tensor x = std::move(arr->values);
  const Shape want = model->node(model->inputs()[0]).shape;
  if (x.shape() == want) x.reshapeInPlace(want.withBatch(1));  // a single sample
  if (x.rank() == 0 || x.shape().withoutBatch() != want)
    return rep.fail(a.get("input") + " holds an array of shape " + x.shape().str() + " but the model input '" +
                    model->node(model->inputs()[0]).layer->name() + "' expects (N, " +
                    want.str().substr(1) + " or one sample " + want.str() + ".");
  if (arr->dtype == "|u1" && norm == "scale01")
    for (size_t i = 0; i < x.size(); ++i) x[i] /= 255.0f;

  Tensor y;
  if (tflite) {
    auto out = deploy::runGraph(*tflite, x);
    if (!out.ok()) return rep.fail(out.error().message);
    y = std::move(out.value());
  } else if (mode == "integer") {
    deploy::FreezeOptions fo;
    fo.rangeSamples = &x;  // only used for tensors the QAT model left without a range
    auto graph = deploy::freezeQuantized(*quantized, fo);
    if (!graph.ok()) return rep.fail(spec + ": no integer graph: " + graph.error().message);
    auto out = deploy::runGraph(*graph, x);
    if (!out.ok()) return rep.fail(out.error().message);
    y = std::move(out.value());
  } else {
    y = predict(*model, x, batch, mode == "fake-quant");
  }
  if (auto s = writeNpy(a.get("output"), y); !s.ok()) return rep.fail(s.error().message);
  if (rep.json())
    rep.summary({{"model", model->name},
                 {"mode", mode},
                 {"samples", x.dim(0)},
                 {"output_shape", y.shape().dims()},
                 {"outputs", {{"predictions", a.get("output")}}}});
  else
    std::cout << "wrote " << a.get("output") << " " << y.shape().str() << std::endl;
  return kExitOk;
}

}  // namespace qat::cli
