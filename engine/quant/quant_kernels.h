#pragma once
// Internal to engine/quant: per-channel statistics the quantizers take from a batch.
// Element i of a flat array belongs to channel i % channels (quantizer.h). Implemented in
// fake_quant.cpp next to the other element loops; threads over rows for large arrays.
#include <cstddef>

namespace qat::quant {

// mins[c] / maxs[c] = smallest / largest element of channel c (+inf / −inf when empty).
void channelMinMax(const float* x, size_t n, size_t channels, float* mins, float* maxs);
// means[c] = mean |x| over channel c (0 when empty).
void channelMeanAbs(const float* x, size_t n, size_t channels, double* means);

}  // namespace qat::quant
