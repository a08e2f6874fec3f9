#pragma once
// Float kernels of the interpreter for graphs from freezeFloat (and float TFLite files):
// plain loops with TFLite's float semantics (same layouts and padding rules as the
// integer kernels in int_kernels.h), the fused activation applied at the end.
#include <cstddef>
#include <vector>

#include "engine/deploy/int_kernels.h"

namespace qat::deploy::fkernels {

void applyActivation(FusedActivation a, float* x, size_t n);

void conv(const kernels::ConvShape& s, const float* in, const float* filter, const float* bias, float* out,
          FusedActivation a);
void depthwise(const kernels::ConvShape& s, const float* in, const float* filter, const float* bias, float* out,
               FusedActivation a);
void fullyConnected(int rows, int depth, int units, const float* in, const float* filter, const float* bias,
                    float* out, FusedActivation a);
void avgPool(const kernels::PoolShape& s, const float* in, float* out, FusedActivation a);
void maxPool(const kernels::PoolShape& s, const float* in, float* out, FusedActivation a);
void mean(int N, int pixels, int C, const float* in, float* out);
void softmax(int rows, int depth, float beta, const float* in, float* out);
enum class Binary { Add, Sub, Mul };
void binary(Binary op, size_t n, const float* a, const float* b, float* out, FusedActivation act);
enum class Unary { Logistic, Tanh, Relu, Relu6, LeakyRelu, HardSwish };
void unary(Unary op, size_t n, float alpha, const float* in, float* out);
void pad(const std::vector<int>& inShape, const int pads[4][2], const float* in, float* out);
void concat(size_t outer, const std::vector<std::pair<const float*, size_t>>& inputs, float* out);

}  // namespace qat::deploy::fkernels
