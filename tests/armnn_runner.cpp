// armnn_runner: runs a .tflite file through Arm NN (TfLite parser + CpuRef backend), an
// inference runtime written independently of TensorFlow and of this project.
//
//   armnn_runner model.tflite input.npy [input2.npy ...] output.npy
//
// Each input .npy holds (N, ...per-sample input) float32, one per model input in the
// subgraph's order; output.npy receives (N, ...per-sample output) float32. When the model's batch dimension equals N the batch runs in one
// inference; when it is fixed at 1 (what the TFLite converter writes for Keras models)
// the samples run one at a time.
// Quantized I/O (int8 or uint8 input / output tensors, as in full-integer models without
// QUANTIZE/DEQUANTIZE at the edges): the .npy files hold the raw integer values as floats
// (the studio's integer interpreter uses the same convention); inputs must be integers
// in the tensor type's range.
//
// Test-only helper (tests/engine/test_float_vs_tflite.cpp launches it with QProcess):
// Arm NN 20.08 can abort the whole process on graphs it does not handle, so it never runs
// inside the test executable. Exit codes: 0 success, 1 Arm NN or file error (message on
// stderr), 2 usage.
#include <armnn/ArmNN.hpp>
#include <armnn/Utils.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cmath>
#include <cstdint>
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
// Bytes per value of the I/O types handled: float32, or one byte for int8 / uint8.
bool ioTypeSupported(armnn::DataType t) {
  return t == armnn::DataType::Float32 || t == armnn::DataType::QAsymmS8 || t == armnn::DataType::QSymmS8 ||
         t == armnn::DataType::QAsymmU8;
}
const char* typeName(armnn::DataType t) { return armnn::GetDataTypeName(t); }

// Float .npy values → the tensor's storage (raw int8 / uint8 values for quantized tensors).
bool packInput(const float* src, size_t n, armnn::DataType t, std::vector<uint8_t>& dst, std::string& err) {
  if (t == armnn::DataType::Float32) {
    dst.resize(n * sizeof(float));
    std::memcpy(dst.data(), src, n * sizeof(float));
    return true;
  }
  const bool u8 = t == armnn::DataType::QAsymmU8;
  const float lo = u8 ? 0.0f : -128.0f, hi = u8 ? 255.0f : 127.0f;
  dst.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!(src[i] >= lo && src[i] <= hi) || src[i] != std::nearbyint(src[i])) {
      err = "input value " + std::to_string(src[i]) + " is not a raw " + (u8 ? "uint8" : "int8") + " value";
      return false;
    }
    dst[i] = u8 ? static_cast<uint8_t>(src[i]) : static_cast<uint8_t>(static_cast<int8_t>(src[i]));
  }
  return true;
}

void unpackOutput(const std::vector<uint8_t>& src, size_t n, armnn::DataType t, float* dst) {
  if (t == armnn::DataType::Float32) {
    std::memcpy(dst, src.data(), n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; ++i)
    dst[i] = t == armnn::DataType::QAsymmU8 ? float(src[i]) : float(static_cast<int8_t>(src[i]));
}

std::string backendDir() {
  if (const char* env = std::getenv("QAT_ARMNN_BACKEND_DIR"); env && *env) return env;
  return QAT_ARMNN_BACKEND_DIR;
}

int run(const char* modelPath, const std::vector<const char*>& inPaths, const char* outPath) {
  // One (N, ...) array per model input, in the subgraph's input order.
  std::vector<qat::Tensor> inputs;
  for (const char* path : inPaths) {
    auto x = qat::readNpy(path);
    if (!x) return fail(std::string(path) + ": " + x.error().message);
    if (x->rank() < 2) return fail(std::string(path) + ": need (N, ...) with N samples");
    if (!inputs.empty() && x->dim(0) != inputs[0].dim(0)) return fail(std::string(path) + ": a different N than the first input");
    inputs.push_back(std::move(*x));
  }
  const unsigned n = static_cast<unsigned>(inputs[0].dim(0));

  armnnTfLiteParser::ITfLiteParserPtr parser = armnnTfLiteParser::ITfLiteParser::Create();
  armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(modelPath);
  if (parser->GetSubgraphCount() != 1) return fail("expected one subgraph");
  const auto inNames = parser->GetSubgraphInputTensorNames(0);
  const auto outNames = parser->GetSubgraphOutputTensorNames(0);
  if (inNames.size() != inputs.size())
    return fail("the model has " + std::to_string(inNames.size()) + " inputs, " + std::to_string(inputs.size()) + " .npy files given");
  if (outNames.size() != 1) return fail("expected one output tensor");
  std::vector<armnn::BindingPointInfo> inBinds;
  for (const auto& name : inNames) inBinds.push_back(parser->GetNetworkInputBindingInfo(0, name));
  const armnn::BindingPointInfo outBind = parser->GetNetworkOutputBindingInfo(0, outNames[0]);

  const unsigned modelBatch = inBinds[0].second.GetShape()[0];
  if (modelBatch != n && modelBatch != 1)
    return fail("model batch " + std::to_string(modelBatch) + " fits neither 1 nor N = " + std::to_string(n));
  for (size_t k = 0; k < inBinds.size(); ++k) {
    const armnn::TensorInfo& info = inBinds[k].second;
    const size_t perSample = inputs[k].size() / n;
    if (info.GetShape()[0] != modelBatch || info.GetNumElements() / modelBatch != perSample)
      return fail("input has " + std::to_string(perSample) + " values per sample, the model wants " + shapeStr(info.GetShape()));
    if (!ioTypeSupported(info.GetDataType()))
      return fail(std::string("input type ") + typeName(info.GetDataType()) + " is not float32, int8 or uint8");
  }
  if (!ioTypeSupported(outBind.second.GetDataType()))
    return fail(std::string("output type ") + typeName(outBind.second.GetDataType()) + " is not float32, int8 or uint8");

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

  std::vector<armnn::TensorInfo> inInfos;
  for (const auto& b : inBinds) inInfos.push_back(runtime->GetInputTensorInfo(netId, b.first));
  const armnn::TensorInfo outInfo = runtime->GetOutputTensorInfo(netId, outBind.first);
  const unsigned outBatch = outInfo.GetShape()[0];
  if (outBatch != modelBatch) return fail("output batch differs from input batch: " + shapeStr(outInfo.GetShape()));
  const size_t perSampleOut = outInfo.GetNumElements() / outBatch;

  // (N, ...per-sample output): the output's own dimensions after its batch.
  std::vector<int> outDims{static_cast<int>(n)};
  for (unsigned i = 1; i < outInfo.GetShape().GetNumDimensions(); ++i)
    outDims.push_back(static_cast<int>(outInfo.GetShape()[i]));
  qat::Tensor output{qat::Shape(outDims)};

  std::vector<std::vector<uint8_t>> inBufs(inputs.size());
  std::vector<uint8_t> outBuf(outInfo.GetNumBytes());
  std::string err;
  for (unsigned s = 0; s < n; s += modelBatch) {
    armnn::InputTensors ins;
    for (size_t k = 0; k < inputs.size(); ++k) {
      const size_t perSample = inputs[k].size() / n;
      if (!packInput(inputs[k].data() + s * perSample, inInfos[k].GetNumElements(), inInfos[k].GetDataType(), inBufs[k], err))
        return fail(std::string(inPaths[k]) + ": " + err);
      ins.emplace_back(inBinds[k].first, armnn::ConstTensor(inInfos[k], inBufs[k].data()));
    }
    armnn::OutputTensors outs{{outBind.first, armnn::Tensor(outInfo, outBuf.data())}};
    if (runtime->EnqueueWorkload(netId, ins, outs) != armnn::Status::Success)
      return fail("EnqueueWorkload failed at sample " + std::to_string(s));
    unpackOutput(outBuf, outInfo.GetNumElements(), outInfo.GetDataType(), output.data() + s * perSampleOut);
  }
  if (auto st = qat::writeNpy(outPath, output); !st) return fail(std::string(outPath) + ": " + st.error().message);
  std::printf("armnn_runner: %u samples, %zu input(s), first %s %s, output %s %s, %s\n", n, inputs.size(),
              shapeStr(inInfos[0].GetShape()).c_str(), typeName(inInfos[0].GetDataType()),
              shapeStr(outInfo.GetShape()).c_str(), typeName(outInfo.GetDataType()),
              modelBatch == n ? "one batch" : "one sample at a time");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: armnn_runner model.tflite input.npy [input2.npy ...] output.npy\n");
    return 2;
  }
  armnn::ConfigureLogging(false, false, armnn::LogSeverity::Warning);
  try {
    return run(argv[1], std::vector<const char*>(argv + 2, argv + argc - 1), argv[argc - 1]);
  } catch (const armnn::Exception& e) {
    return fail(std::string("Arm NN: ") + e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
