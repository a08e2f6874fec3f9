// armnn_runner: runs a float .tflite file through Arm NN (TfLite parser + CpuRef backend),
// an inference runtime written independently of TensorFlow and of this project.
//
//   armnn_runner model.tflite input.npy output.npy
//
// input.npy holds (N, ...per-sample input) float32; output.npy receives (N, ...per-sample
// output) float32. When the model's batch dimension equals N the batch runs in one
// inference; when it is fixed at 1 (what the TFLite converter writes for Keras models)
// the samples run one at a time.
//
// Test-only helper (tests/engine/test_float_vs_tflite.cpp launches it with QProcess):
// Arm NN 20.08 can abort the whole process on graphs it does not handle, so it never runs
// inside the test executable. Exit codes: 0 success, 1 Arm NN or file error (message on
// stderr), 2 usage.
#include <armnn/ArmNN.hpp>
#include <armnn/Utils.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "engine/data/npy.h"

namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "armnn_runner: %s\n", msg.c_str());
  return 1;
}

std::string shapeStr(const armnn::TensorShape& s) {
  std::string r = "(";
  for (unsigned i = 0; i < s.GetNumDimensions(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + ")";
}

// Where the CpuRef dynamic backend lives: $QAT_ARMNN_BACKEND_DIR, else the directory CMake
// found at configure time. (Debian's libarmnn 20.08 looks in .../armnn20 by default while
// libarmnn-cpuref-backend22 installs into .../armnn22, so the path is always given.)
std::string backendDir() {
  if (const char* env = std::getenv("QAT_ARMNN_BACKEND_DIR"); env && *env) return env;
  return QAT_ARMNN_BACKEND_DIR;
}

int run(const char* modelPath, const char* inPath, const char* outPath) {
  auto x = qat::readNpy(inPath);
  if (!x) return fail(std::string(inPath) + ": " + x.error().message);
  const qat::Tensor& input = *x;
  if (input.rank() < 2) return fail(std::string(inPath) + ": need (N, ...) with N samples");
  const unsigned n = static_cast<unsigned>(input.dim(0));
  const size_t perSampleIn = input.size() / n;

  armnnTfLiteParser::ITfLiteParserPtr parser = armnnTfLiteParser::ITfLiteParser::Create();
  armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(modelPath);
  if (parser->GetSubgraphCount() != 1) return fail("expected one subgraph");
  const auto inNames = parser->GetSubgraphInputTensorNames(0);
  const auto outNames = parser->GetSubgraphOutputTensorNames(0);
  if (inNames.size() != 1 || outNames.size() != 1) return fail("expected one input and one output tensor");
  const armnn::BindingPointInfo inBind = parser->GetNetworkInputBindingInfo(0, inNames[0]);
  const armnn::BindingPointInfo outBind = parser->GetNetworkOutputBindingInfo(0, outNames[0]);

  const armnn::TensorShape& inShape = inBind.second.GetShape();
  const unsigned modelBatch = inShape[0];
  if (inBind.second.GetNumElements() / modelBatch != perSampleIn)
    return fail("input has " + std::to_string(perSampleIn) + " values per sample, the model wants " +
                shapeStr(inShape));
  if (modelBatch != n && modelBatch != 1)
    return fail("model batch " + std::to_string(modelBatch) + " fits neither 1 nor N = " + std::to_string(n));
  if (inBind.second.GetDataType() != armnn::DataType::Float32 ||
      outBind.second.GetDataType() != armnn::DataType::Float32)
    return fail("not a float32 model (input or output tensor is quantized)");

  armnn::IRuntime::CreationOptions opts;
  opts.m_DynamicBackendsPath = backendDir();
  armnn::IRuntimePtr runtime = armnn::IRuntime::Create(opts);
  std::vector<std::string> messages;
  armnn::IOptimizedNetworkPtr optimized =
      armnn::Optimize(*network, {armnn::BackendId("CpuRef")}, runtime->GetDeviceSpec(), armnn::OptimizerOptions(),
                      armnn::Optional<std::vector<std::string>&>(messages));
  if (!optimized) {
    std::string all;
    for (const auto& m : messages) all += "\n  " + m;
    return fail("Optimize for CpuRef failed (backend dir " + backendDir() + ")" + all);
  }
  armnn::NetworkId netId = 0;
  std::string loadError;
  if (runtime->LoadNetwork(netId, std::move(optimized), loadError) != armnn::Status::Success)
    return fail("LoadNetwork failed: " + loadError);

  const armnn::TensorInfo inInfo = runtime->GetInputTensorInfo(netId, inBind.first);
  const armnn::TensorInfo outInfo = runtime->GetOutputTensorInfo(netId, outBind.first);
  const unsigned outBatch = outInfo.GetShape()[0];
  if (outBatch != modelBatch) return fail("output batch differs from input batch: " + shapeStr(outInfo.GetShape()));
  const size_t perSampleOut = outInfo.GetNumElements() / outBatch;

  // (N, ...per-sample output): the output's own dimensions after its batch.
  std::vector<int> outDims{static_cast<int>(n)};
  for (unsigned i = 1; i < outInfo.GetShape().GetNumDimensions(); ++i)
    outDims.push_back(static_cast<int>(outInfo.GetShape()[i]));
  qat::Tensor output{qat::Shape(outDims)};

  for (unsigned s = 0; s < n; s += modelBatch) {
    const float* src = input.data() + s * perSampleIn;
    float* dst = output.data() + s * perSampleOut;
    armnn::InputTensors ins{{inBind.first, armnn::ConstTensor(inInfo, src)}};
    armnn::OutputTensors outs{{outBind.first, armnn::Tensor(outInfo, dst)}};
    if (runtime->EnqueueWorkload(netId, ins, outs) != armnn::Status::Success)
      return fail("EnqueueWorkload failed at sample " + std::to_string(s));
  }
  if (auto st = qat::writeNpy(outPath, output); !st) return fail(std::string(outPath) + ": " + st.error().message);
  std::printf("armnn_runner: %u samples, input %s, output %s, %s\n", n, shapeStr(inInfo.GetShape()).c_str(),
              shapeStr(outInfo.GetShape()).c_str(), modelBatch == n ? "one batch" : "one sample at a time");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: armnn_runner model.tflite input.npy output.npy\n");
    return 2;
  }
  armnn::ConfigureLogging(false, false, armnn::LogSeverity::Warning);
  try {
    return run(argv[1], argv[2], argv[3]);
  } catch (const armnn::Exception& e) {
    return fail(std::string("Arm NN: ") + e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
