#pragma once
// 2-D max and average pooling over NHWC tensors, with TensorFlow padding semantics:
// padded cells are ignored, i.e. never the max and not counted by the average
// ('same' average pooling divides by the number of real input cells in the window).
//
//   max:  y[n, oh, ow, c] = max_{(ih, iw) ∈ window ∩ image} x[n, ih, iw, c]
//         dx[argmax] += dy   (ties: the first maximum in row-major window order)
//   avg:  y = Σ_{window ∩ image} x / |window ∩ image|,  dx[each cell] += dy / |window ∩ image|
//   window(oh, ow) = rows oh·strideH − padTop + [0, KH), columns ow·strideW − padLeft + [0, KW)
//
// Fast kernels parallelise over the batch (a thread owns whole images, so the backward
// scatter never races) and run their inner loops over the contiguous channel axis.
// The training forward of max pooling records, per output element, the offset of the
// winning input element inside its image; the backward pass just scatters through it.
#include <cstddef>
#include <cstdint>

#include "engine/layers/padding.h"

namespace qat {

struct PoolGeometry {
  int N = 0, H = 0, W = 0, C = 0;  // input (N, H, W, C)
  int KH = 1, KW = 1;              // pool size
  int strideH = 1, strideW = 1;
  int padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  int OH = 0, OW = 0;  // output (N, OH, OW, C); set by setPadding()

  void setPadding(Padding p);  // TF 'valid' / 'same' (see padding.h)
  size_t inSize() const { return size_t(N) * H * W * C; }
  size_t outSize() const { return size_t(N) * OH * OW * C; }
};

// ---- reference (plain loops) ----
void maxPool2dForwardRef(const PoolGeometry& g, const float* x, float* y);
// Recomputes the argmax from x; dx (N, H, W, C) overwritten.
void maxPool2dBackwardRef(const PoolGeometry& g, const float* x, const float* dy, float* dx);
void avgPool2dForwardRef(const PoolGeometry& g, const float* x, float* y);
void avgPool2dBackwardRef(const PoolGeometry& g, const float* dy, float* dx);

// ---- fast ----
// argmax (N, OH, OW, C) may be nullptr (inference); else it receives, per output element,
// the offset (ih·W + iw)·C + c of the maximum inside its image.
void maxPool2dForward(const PoolGeometry& g, const float* x, float* y, int32_t* argmax);
// dx (N, H, W, C) overwritten, from the argmax of the training forward.
void maxPool2dBackward(const PoolGeometry& g, const float* dy, const int32_t* argmax, float* dx);
void avgPool2dForward(const PoolGeometry& g, const float* x, float* y);
void avgPool2dBackward(const PoolGeometry& g, const float* dy, float* dx);

// ---- global pooling over H·W = `pixels` positions: x (N, pixels, C) -> y (N, C) ----
void globalAvgPoolForward(int N, int pixels, int C, const float* x, float* y);
void globalAvgPoolBackward(int N, int pixels, int C, const float* dy, float* dx);
// argmax (N, C) receives the pixel index of each channel's maximum (may be nullptr).
void globalMaxPoolForward(int N, int pixels, int C, const float* x, float* y, int32_t* argmax);
void globalMaxPoolBackward(int N, int pixels, int C, const float* dy, const int32_t* argmax,
                           float* dx);

}  // namespace qat
