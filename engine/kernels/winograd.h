#pragma once
// Winograd F(2x2, 3x3) convolution (Lavin & Gray 2015) for 3x3, stride 1, dilation 1
// kernels: 16 multiplies per 2x2 output tile and channel pair instead of 36.
//
// For an input tile d (4x4, zero outside the image), a 3x3 filter g and the output tile
// y (2x2) of one (input channel, output channel) pair:
//   y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   Aᵀ = [1 1 1 0; 0 1 −1 −1]
// Summed over input channels, each of the 16 positions ξ of the transformed tile is a
// matrix product over all tiles: M[ξ] (tiles, Cout) = V[ξ] (tiles, Cin) · U[ξ] (Cin, Cout).
// The backward pass is the exact adjoint of this linear map:
//   dM = A dy Aᵀ ;  dU[ξ] += V[ξ]ᵀ dM[ξ] ; dw += Gᵀ dU G
//   dV[ξ] = dM[ξ] U[ξ]ᵀ ;  dx[tile] += B dV Bᵀ   (tiles overlap by 2: scatter-add)
// Tiles are processed in blocks small enough for one thread's L2; the 16 products per
// block use microGemm. Requires Cin and Cout multiples of 8 (see winogradApplies).
#include "engine/kernels/conv2d.h"

namespace qat {

bool winogradApplies(const ConvGeometry& g);
void winogradForward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                     float* y, ConvWorkspace& ws);
void winogradBackward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                      float* dx, float* dw, float* db, ConvWorkspace& ws);

}  // namespace qat
