#pragma once
// 2-D convolution, NHWC activations and HWIO kernels (kh, kw, cin, cout), as Keras.
//
//   y[n, oh, ow, co] = b[co] + Σ_{kh, kw, ci} x[n, ih, iw, ci] · w[kh, kw, ci, co]
//   with ih = oh·strideH − padTop + kh·dilationH, iw = ow·strideW − padLeft + kw·dilationW
//   and x = 0 outside the image (zero padding).
//
// Gradients (dL/dy = dy given):
//   dx[n, ih, iw, ci]  = Σ_{oh, ow, kh, kw, co} dy[n, oh, ow, co] · w[kh, kw, ci, co]
//   dw[kh, kw, ci, co] += Σ_{n, oh, ow} x[n, ih, iw, ci] · dy[n, oh, ow, co]
//   db[co]             += Σ_{n, oh, ow} dy[n, oh, ow, co]
//
// Fast path (conv2dForward / conv2dBackward): the output rows r = (n, oh, ow) are cut
// into tiles of a few hundred rows; each OpenMP thread copies its tile's receptive
// fields into a private "col" matrix (rows, KH·KW·Cin) (im2col) that stays in its L2
// cache and multiplies it with the kernel, which as stored (HWIO) already is the
// (KH·KW·Cin, Cout) matrix:  Y_tile = col · W,  dW += colᵀ · dY_tile,
// dCol = dY_tile · Wᵀ then col2im (scatter-add). For the input gradient each thread
// owns whole images, so no two threads ever add into the same dx element.
// A 1x1, stride 1, unpadded convolution needs no im2col: x itself is the col matrix.
// Why tiles rather than one big im2col matrix and one sgemm: for the 14x14x32 -> 64 conv
// at batch 64 that matrix is 14 MB, and writing then re-reading it from memory cost about
// as much as the multiply itself; a tile stays in cache between im2col and its product.
// The tile products use microGemm (register-blocked, AVX-512 when the CPU has it) when
// the output width is a multiple of 8, else Eigen's sgemm.
// 3x3 stride-1 convolutions with channel counts that are multiples of 8 use Winograd
// F(2x2, 3x3) instead (engine/kernels/winograd.h): 2.25x fewer multiplies.
//
// The *Ref functions are the plain-loop reference the fast ones are tested against.
#include <cstddef>

#include "engine/core/tensor.h"
#include "engine/layers/padding.h"

namespace qat {

struct ConvGeometry {
  int N = 0, H = 0, W = 0, Cin = 0;  // input (N, H, W, Cin)
  int KH = 1, KW = 1, Cout = 0;      // kernel (KH, KW, Cin, Cout)
  int strideH = 1, strideW = 1;
  int dilationH = 1, dilationW = 1;
  int padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  int OH = 0, OW = 0;  // output (N, OH, OW, Cout); set by setPadding()

  // TensorFlow 'valid' / 'same' padding (see padding.h); sets the pads and OH, OW.
  void setPadding(Padding p);
  // Explicit zero padding; sets OH, OW (0 when the dilated kernel does not fit).
  void setPadding(int top, int bottom, int left, int right);

  int colK() const { return KH * KW * Cin; }  // columns of the im2col matrix
  size_t outRows() const { return size_t(N) * OH * OW; }
  size_t inSize() const { return size_t(N) * H * W * Cin; }
  size_t outSize() const { return outRows() * Cout; }
  size_t kernelSize() const { return size_t(KH) * KW * Cin * Cout; }
  // 1x1, stride 1, no padding: the input is already the im2col matrix.
  bool isPointwise() const {
    return KH == 1 && KW == 1 && strideH == 1 && strideW == 1 && padTop == 0 &&
           padBottom == 0 && padLeft == 0 && padRight == 0;
  }
};

// Scratch memory of the fast kernels, owned by the caller (a layer) and reused across
// calls: buffers only grow, so a training loop allocates once.
struct ConvWorkspace {
  FloatBuffer col;      // per thread: im2col tile (rows, KH·KW·Cin) / Winograd V and M blocks
  FloatBuffer dcol;     // per thread: dCol tile (rows, KH·KW·Cin)
  FloatBuffer part;     // per thread: partial dW (KH·KW·Cin, Cout) and db (Cout)
  FloatBuffer kernelT;  // Winograd-transformed kernel (16, Cin, Cout)
};

// Auto picks the fastest applicable algorithm; Im2col forces the im2col + GEMM path
// (tests and benchmarks compare the two).
enum class ConvAlgorithm { Auto, Im2col };

// ---- reference (plain loops, double accumulation) ----
// y (N, OH, OW, Cout) = conv(x, w) + bias; bias may be nullptr.
void conv2dForwardRef(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                      float* y);
// dx (N, H, W, Cin) is overwritten.
void conv2dBackwardInputRef(const ConvGeometry& g, const float* dy, const float* w, float* dx);
// dw (KH, KW, Cin, Cout) += ...; db (Cout) += ... (db may be nullptr).
void conv2dBackwardFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                             float* db);

// ---- fast (im2col tiles + sgemm, OpenMP) ----
// Same contract as conv2dForwardRef.
void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                   float* y, ConvWorkspace& ws, ConvAlgorithm algo = ConvAlgorithm::Auto);
// One pass over dy for all gradients: dx overwritten, dw and db accumulated (+=).
// Any of dx, dw, db may be nullptr when not needed (dw == nullptr skips the im2col).
void conv2dBackward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                    float* dx, float* dw, float* db, ConvWorkspace& ws,
                    ConvAlgorithm algo = ConvAlgorithm::Auto);

}  // namespace qat
