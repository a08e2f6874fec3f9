#pragma once
// Depthwise 2-D convolution (Keras DepthwiseConv2D), NHWC.
// Kernel (KH, KW, Cin, M) with M the depth multiplier; output channel j = c·M + m
// (Keras order) sees only input channel c = j / M:
//
//   y[n, oh, ow, j]   = b[j] + Σ_{kh, kw} x[n, ih, iw, j / M] · w[kh, kw, j]
//   dx[n, ih, iw, c]  = Σ_{oh, ow, kh, kw, m} dy[n, oh, ow, c·M + m] · w[kh, kw, c·M + m]
//   dw[kh, kw, j]    += Σ_{n, oh, ow} x[n, ih, iw, j / M] · dy[n, oh, ow, j]
//   (ih, iw as in conv2d.h; w[kh, kw, j] is the flat HWIO element ((kh·KW + kw)·Cin + c)·M + m)
//
// The geometry is a ConvGeometry with Cout = Cin·M. The fast kernels loop over the
// contiguous channel axis innermost (vectorised; the forward keeps each 8-channel group
// of an output pixel in a register across the taps), parallelise over output rows
// (forward) or whole images (backward; per-thread partial dW in ConvWorkspace::part).
// With M > 1 they first expand the image to (H, W, Cin·M) and run the M = 1 code.
#include "engine/kernels/conv2d.h"

namespace qat {

// ---- reference ----
void depthwiseConv2dForwardRef(const ConvGeometry& g, const float* x, const float* w,
                               const float* bias, float* y);
void depthwiseConv2dBackwardInputRef(const ConvGeometry& g, const float* dy, const float* w,
                                     float* dx);
void depthwiseConv2dBackwardFilterRef(const ConvGeometry& g, const float* x, const float* dy,
                                      float* dw, float* db);

// ---- fast ----
// ws holds the per-thread expanded image when the multiplier is > 1.
void depthwiseConv2dForward(const ConvGeometry& g, const float* x, const float* w,
                            const float* bias, float* y, ConvWorkspace& ws);
// dx overwritten, dw and db accumulated; each may be nullptr.
void depthwiseConv2dBackward(const ConvGeometry& g, const float* x, const float* w,
                             const float* dy, float* dx, float* dw, float* db, ConvWorkspace& ws);

}  // namespace qat
