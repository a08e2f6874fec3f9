// Executes one prepared operator of the interpreter on a chunk of samples, with the kernels
// of the op's rounding mode (fast or scalar reference, bit-identical).
#include <cstring>

#include "engine/deploy/float_kernels.h"
#include "engine/deploy/interpreter_ops.h"

namespace qat::deploy::detail {

void executeOp(const PreparedOp& op, const std::vector<size_t>& perSample, Workspace& ws, int n, bool reference) {
  namespace k = kernels;
  namespace fk = fkernels;
  auto i8 = [&](int t) { return ws.i8[static_cast<size_t>(t)].data(); };
  auto f32 = [&](int t) { return ws.f[static_cast<size_t>(t)].data(); };
  const size_t inCount = size_t(n) * perSample[static_cast<size_t>(op.in[0])];
  const int32_t* bias = op.bias32.empty() ? nullptr : op.bias32.data();
  const float* fbias = op.bf.empty() ? nullptr : op.bf.data();
  const bool dequantized = isDequantizedMode(op.mode) && !op.isFloat;
  const bool onnx = op.mode == RoundingMode::FloatMultiplierHalfEven && !op.isFloat;
  const bool halfEven = op.mode == RoundingMode::FloatMultiplierHalfEven || op.mode == RoundingMode::FloatDequantizedHalfEven;
  switch (op.kind) {
    case OpKind::Conv2D:
    case OpKind::DepthwiseConv2D: {
      k::ConvShape s = op.conv;
      s.N = n;
      const bool dw = op.kind == OpKind::DepthwiseConv2D;
      if (op.isFloat) {
        (dw ? fk::depthwise : fk::conv)(s, f32(op.in[0]), op.wf.data(), fbias, f32(op.out), op.act);
      } else if (dequantized) {
        if (reference) (dw ? k::depthwiseDequantRef : k::convDequantRef)(s, op.dq, i8(op.in[0]), i8(op.out));
        else (dw ? k::depthwiseDequantFast : k::convDequantFast)(s, op.dq, i8(op.in[0]), i8(op.out), ws.floatScratch);
      } else if (reference) {
        (dw ? k::depthwiseRef : k::convRef)(s, op.rq, i8(op.in[0]), op.w8.data(), bias, i8(op.out));
      } else if (dw) {
        k::depthwiseFast(s, op.rq, i8(op.in[0]), op.w8.data(), bias, i8(op.out));
      } else {
        k::convFast(s, op.rq, i8(op.in[0]), op.packed, bias, i8(op.out), ws.scratch);
      }
      return;
    }
    case OpKind::FullyConnected: {
      const int rows = static_cast<int>(inCount / size_t(op.fcDepth));
      if (op.isFloat) fk::fullyConnected(rows, op.fcDepth, op.fcUnits, f32(op.in[0]), op.wf.data(), fbias, f32(op.out), op.act);
      else if (dequantized && reference) k::fullyConnectedDequantRef(rows, op.fcDepth, op.fcUnits, op.dq, i8(op.in[0]), i8(op.out));
      else if (dequantized)
        k::fullyConnectedDequantFast(rows, op.fcDepth, op.fcUnits, op.dq, i8(op.in[0]), i8(op.out), ws.floatScratch);
      else if (reference) k::fullyConnectedRef(rows, op.fcDepth, op.fcUnits, op.rq, i8(op.in[0]), op.w8.data(), bias, i8(op.out));
      else k::fullyConnectedFast(rows, op.fcDepth, op.fcUnits, op.rq, i8(op.in[0]), op.packed, bias, i8(op.out), ws.scratch);
      return;
    }
    case OpKind::AveragePool2D:
    case OpKind::MaxPool2D: {
      k::PoolShape s = op.pool;
      s.N = n;
      const bool avg = op.kind == OpKind::AveragePool2D;
      if (op.isFloat) (avg ? fk::avgPool : fk::maxPool)(s, f32(op.in[0]), f32(op.out), op.act);
      else if (avg && (dequantized || onnx))
        k::avgPoolDequant(s, {op.inScale, op.outScale, op.inZeroPoint, op.outZeroPoint}, op.rq.act, op.mode, i8(op.in[0]),
                          i8(op.out));
      else if (avg) k::avgPoolRef(s, op.rq.act, i8(op.in[0]), i8(op.out));
      else (reference ? k::maxPoolRef : k::maxPoolFast)(s, op.rq.act, i8(op.in[0]), i8(op.out));
      return;
    }
    case OpKind::Mean:
      if (op.isFloat) fk::mean(n, op.meanPixels, op.meanChannels, f32(op.in[0]), f32(op.out));
      else if (dequantized || onnx) k::meanDequant(n, op.meanPixels, op.meanChannels, op.mean, halfEven, i8(op.in[0]), i8(op.out));
      else k::meanRef(n, op.meanPixels, op.meanChannels, op.mean, i8(op.in[0]), i8(op.out));
      return;
    case OpKind::Reshape:
      if (op.isFloat) std::memcpy(f32(op.out), f32(op.in[0]), inCount * sizeof(float));
      else std::memcpy(i8(op.out), i8(op.in[0]), inCount);
      return;
    case OpKind::Softmax: {
      const int rows = static_cast<int>(inCount / size_t(op.rowDepth));
      if (op.isFloat) fk::softmax(rows, op.rowDepth, op.beta, f32(op.in[0]), f32(op.out));
      else if (dequantized)
        k::softmaxDequant(rows, op.rowDepth, op.inScale, op.inZeroPoint, op.beta, op.outScale, op.outZeroPoint, halfEven,
                          i8(op.in[0]), i8(op.out));
      else if (onnx) k::softmaxOnnx(rows, op.rowDepth, op.softmaxTable, op.outScale, op.outZeroPoint, i8(op.in[0]), i8(op.out));
      else k::softmaxRef(rows, op.rowDepth, op.softmaxTable, op.outScale, op.outZeroPoint, i8(op.in[0]), i8(op.out));
      return;
    }
    case OpKind::Logistic:
    case OpKind::Tanh:
      if (op.isFloat)
        fk::unary(op.kind == OpKind::Logistic ? fk::Unary::Logistic : fk::Unary::Tanh, inCount, 0, f32(op.in[0]), f32(op.out));
      else k::lutRef(inCount, op.lut, i8(op.in[0]), i8(op.out));
      return;
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
      if (op.isFloat) {
        const fk::Binary b = op.kind == OpKind::Add ? fk::Binary::Add : op.kind == OpKind::Sub ? fk::Binary::Sub : fk::Binary::Mul;
        fk::binary(b, inCount, f32(op.in[0]), f32(op.in[1]), f32(op.out), op.act);
      } else if (dequantized || onnx) {
        k::binaryFloat(inCount, op.bin, i8(op.in[0]), i8(op.in[1]), i8(op.out));
      } else if (op.kind == OpKind::Mul) {
        k::mulRef(inCount, op.mul, i8(op.in[0]), i8(op.in[1]), i8(op.out));
      } else {
        k::addRef(inCount, op.add, i8(op.in[0]), i8(op.in[1]), i8(op.out), op.kind == OpKind::Sub);
      }
      return;
    case OpKind::Concatenation: {
      const size_t outer = size_t(n) * op.concatOuter;
      if (op.isFloat) {
        std::vector<std::pair<const float*, size_t>> ins;
        for (size_t j = 0; j < op.in.size(); ++j) ins.emplace_back(f32(op.in[j]), op.concatChunk[j]);
        fk::concat(outer, ins, f32(op.out));
      } else {
        std::vector<k::ConcatInput> ins;
        for (size_t j = 0; j < op.in.size(); ++j)
          ins.push_back({i8(op.in[j]), op.concatChunk[j], op.concatScale[j], op.concatZeroPoint[j]});
        if (op.concatTables.empty()) {
          k::concatRef(outer, ins, op.outScale, op.outZeroPoint, i8(op.out));
          return;
        }
        int8_t* dst = i8(op.out);  // float modes: each input through its table (or copied)
        for (size_t o = 0; o < outer; ++o)
          for (size_t j = 0; j < ins.size(); ++j) {
            const int8_t* src = ins[j].data + o * ins[j].chunk;
            if (op.concatTables[j].empty()) std::memcpy(dst, src, ins[j].chunk);
            else k::lutRef(ins[j].chunk, op.concatTables[j], src, dst);
            dst += ins[j].chunk;
          }
      }
      return;
    }
    case OpKind::Pad: {
      std::vector<int> shape = op.padInShape;
      shape[0] = n;
      if (op.isFloat) fk::pad(shape, op.pads, f32(op.in[0]), f32(op.out));
      else k::padRef(shape, op.pads, static_cast<int8_t>(op.outZeroPoint), i8(op.in[0]), i8(op.out));
      return;
    }
    case OpKind::Quantize:
      if (op.useLut) {
        k::lutRef(inCount, op.lut, i8(op.in[0]), i8(op.out));
      } else if (op.requantize) {
        k::rescaleRef(inCount, op.rescale, i8(op.in[0]), i8(op.out));
      } else if (halfEven) {  // QuantizeLinear: x / s, ties to even
        const float* x = f32(op.in[0]);
        int8_t* y = i8(op.out);
        for (size_t i = 0; i < inCount; ++i) y[i] = static_cast<int8_t>(k::quantizeHalfEven(x[i], op.outScale, op.outZeroPoint));
      } else {
        k::quantizeRef(inCount, op.outScale, op.outZeroPoint, f32(op.in[0]), i8(op.out));
      }
      return;
    case OpKind::Dequantize:
      k::dequantizeRef(inCount, op.inScale, op.inZeroPoint, i8(op.in[0]), f32(op.out));
      return;
    case OpKind::LeakyRelu:
      if (op.isFloat) fk::unary(fk::Unary::LeakyRelu, inCount, op.alpha, f32(op.in[0]), f32(op.out));
      else if (op.useLut) k::lutRef(inCount, op.lut, i8(op.in[0]), i8(op.out));
      else k::leakyReluRef(inCount, op.leaky, i8(op.in[0]), i8(op.out));
      return;
    case OpKind::HardSwish:
      if (op.isFloat) fk::unary(fk::Unary::HardSwish, inCount, 0, f32(op.in[0]), f32(op.out));
      else if (op.useLut) k::lutRef(inCount, op.lut, i8(op.in[0]), i8(op.out));
      else k::hardSwishRef(inCount, op.hardSwish, i8(op.in[0]), i8(op.out));
      return;
    case OpKind::Relu:
    case OpKind::Relu6:
      if (op.isFloat) fk::unary(op.kind == OpKind::Relu ? fk::Unary::Relu : fk::Unary::Relu6, inCount, 0, f32(op.in[0]), f32(op.out));
      else if (op.useLut) k::lutRef(inCount, op.lut, i8(op.in[0]), i8(op.out));
      else k::rescaleRef(inCount, op.rescale, i8(op.in[0]), i8(op.out));
      return;
  }
}

}  // namespace qat::deploy::detail
