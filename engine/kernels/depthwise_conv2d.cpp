#include "engine/kernels/depthwise_conv2d.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include "engine/core/error.h"
#include "engine/kernels/spatial_util.h"

namespace qat {

namespace {
int multiplier(const ConvGeometry& g) {
  QAT_ASSERT(g.Cin > 0 && g.Cout % g.Cin == 0);
  return g.Cout / g.Cin;
}
}  // namespace

// ---------------------------------------------------------------------------------------
// Reference kernels.

void depthwiseConv2dForwardRef(const ConvGeometry& g, const float* x, const float* w,
                               const float* bias, float* y) {
  const int M = multiplier(g);
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow)
        for (int j = 0; j < g.Cout; ++j) {
          double acc = bias ? bias[j] : 0.0;
          for (int kh = 0; kh < g.KH; ++kh) {
            const int ih = oh * g.strideH - g.padTop + kh * g.dilationH;
            if (ih < 0 || ih >= g.H) continue;
            for (int kw = 0; kw < g.KW; ++kw) {
              const int iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
              if (iw < 0 || iw >= g.W) continue;
              acc += double(x[((size_t(n) * g.H + ih) * g.W + iw) * g.Cin + j / M]) *
                     w[(size_t(kh) * g.KW + kw) * g.Cout + j];
            }
          }
          y[((size_t(n) * g.OH + oh) * g.OW + ow) * g.Cout + j] = float(acc);
        }
}

void depthwiseConv2dBackwardInputRef(const ConvGeometry& g, const float* dy, const float* w,
                                     float* dx) {
  const int M = multiplier(g);
  for (int n = 0; n < g.N; ++n)
    for (int ih = 0; ih < g.H; ++ih)
      for (int iw = 0; iw < g.W; ++iw)
        for (int c = 0; c < g.Cin; ++c) {
          double acc = 0.0;
          for (int kh = 0; kh < g.KH; ++kh) {
            const int th = ih + g.padTop - kh * g.dilationH;  // = oh·strideH
            if (th < 0 || th % g.strideH != 0 || th / g.strideH >= g.OH) continue;
            for (int kw = 0; kw < g.KW; ++kw) {
              const int tw = iw + g.padLeft - kw * g.dilationW;
              if (tw < 0 || tw % g.strideW != 0 || tw / g.strideW >= g.OW) continue;
              const size_t o = ((size_t(n) * g.OH + th / g.strideH) * g.OW + tw / g.strideW);
              for (int m = 0; m < M; ++m)
                acc += double(dy[o * g.Cout + c * M + m]) *
                       w[(size_t(kh) * g.KW + kw) * g.Cout + c * M + m];
            }
          }
          dx[((size_t(n) * g.H + ih) * g.W + iw) * g.Cin + c] = float(acc);
        }
}

void depthwiseConv2dBackwardFilterRef(const ConvGeometry& g, const float* x, const float* dy,
                                      float* dw, float* db) {
  const int M = multiplier(g);
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw)
      for (int j = 0; j < g.Cout; ++j) {
        double acc = 0.0;
        for (int n = 0; n < g.N; ++n)
          for (int oh = 0; oh < g.OH; ++oh) {
            const int ih = oh * g.strideH - g.padTop + kh * g.dilationH;
            if (ih < 0 || ih >= g.H) continue;
            for (int ow = 0; ow < g.OW; ++ow) {
              const int iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
              if (iw < 0 || iw >= g.W) continue;
              acc += double(x[((size_t(n) * g.H + ih) * g.W + iw) * g.Cin + j / M]) *
                     dy[((size_t(n) * g.OH + oh) * g.OW + ow) * g.Cout + j];
            }
          }
        dw[(size_t(kh) * g.KW + kw) * g.Cout + j] += float(acc);
      }
  if (!db) return;
  for (int j = 0; j < g.Cout; ++j) {
    double acc = 0.0;
    for (size_t r = 0; r < g.outRows(); ++r) acc += dy[r * g.Cout + j];
    db[j] += float(acc);
  }
}

// ---------------------------------------------------------------------------------------
// Fast kernels. Everything runs "multiplier 1" over J channels: with M > 1 the image is
// first expanded to (H, W, J) with xe[·, j] = x[·, j / M] (1/(KH·KW) of the multiply
// work), and the input gradient is gathered back by summing each group of M channels.
namespace {

// Output rows [oh0, oh1) of one image, multiplier 1 over J channels: each 8-channel
// group of an output pixel is accumulated in a register over all taps.
void forwardRows(const ConvGeometry& g, int J, const float* x, const float* w, const float* bias,
                 float* y, int oh0, int oh1) {
  for (int oh = oh0; oh < oh1; ++oh) {
    const int ih0 = oh * g.strideH - g.padTop;
    const TapRange kh = validTaps(ih0, g.dilationH, g.H, g.KH);
    for (int ow = 0; ow < g.OW; ++ow) {
      float* yo = y + (size_t(oh) * g.OW + ow) * J;  // (J)
      const int iw0 = ow * g.strideW - g.padLeft;
      const TapRange kw = validTaps(iw0, g.dilationW, g.W, g.KW);
      auto xAt = [&](int i, int k) {
        return x + (size_t(ih0 + i * g.dilationH) * g.W + iw0 + k * g.dilationW) * J;
      };
      auto wAt = [&](int i, int k) { return w + (size_t(i) * g.KW + k) * J; };
      int c = 0;
      for (; c + 8 <= J; c += 8) {
        __m256 acc = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
        for (int i = kh.lo; i < kh.hi; ++i)
          for (int k = kw.lo; k < kw.hi; ++k)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(xAt(i, k) + c), _mm256_loadu_ps(wAt(i, k) + c), acc);
        _mm256_storeu_ps(yo + c, acc);
      }
      for (; c < J; ++c) {
        float acc = bias ? bias[c] : 0.0f;
        for (int i = kh.lo; i < kh.hi; ++i)
          for (int k = kw.lo; k < kw.hi; ++k) acc += xAt(i, k)[c] * wAt(i, k)[c];
        yo[c] = acc;
      }
    }
  }
}

// xe (H·W, C·M): every input channel repeated M times.
void expand(const float* x, size_t pixels, int C, int M, float* xe) {
  for (size_t p = 0; p < pixels; ++p)
    for (int c = 0; c < C; ++c) std::fill_n(xe + (p * C + c) * M, M, x[p * C + c]);
}

// One image, multiplier 1 over J channels: dx (H, W, J) += scatter of dy·w (dx may be
// nullptr), pw (KH, KW, J) += x ⊙ dy per tap (pw may be nullptr).
void backwardImage(const ConvGeometry& g, int J, const float* x, const float* w, const float* dy,
                   float* dx, float* pw) {
  for (int oh = 0; oh < g.OH; ++oh) {
    const int ih0 = oh * g.strideH - g.padTop;
    const TapRange kh = validTaps(ih0, g.dilationH, g.H, g.KH);
    for (int ow = 0; ow < g.OW; ++ow) {
      const float* gy = dy + (size_t(oh) * g.OW + ow) * J;  // (J)
      const int iw0 = ow * g.strideW - g.padLeft;
      const TapRange kw = validTaps(iw0, g.dilationW, g.W, g.KW);
      for (int i = kh.lo; i < kh.hi; ++i)
        for (int k = kw.lo; k < kw.hi; ++k) {
          const size_t at = (size_t(ih0 + i * g.dilationH) * g.W + iw0 + k * g.dilationW) * J;
          const size_t tap = (size_t(i) * g.KW + k) * J;
          if (pw) {
            float* pt = pw + tap;
            const float* xi = x + at;
            for (int c = 0; c < J; ++c) pt[c] += xi[c] * gy[c];
          }
          if (dx) {
            float* di = dx + at;
            const float* wt = w + tap;
            for (int c = 0; c < J; ++c) di[c] += gy[c] * wt[c];
          }
        }
    }
  }
}

void growTo(FloatBuffer& b, size_t n) {
  if (b.size() < n) b.resize(n);
}

}  // namespace

void depthwiseConv2dForward(const ConvGeometry& g, const float* x, const float* w,
                            const float* bias, float* y, ConvWorkspace& ws) {
  const int M = multiplier(g), J = g.Cout;
  const size_t pixels = size_t(g.H) * g.W, imgIn = pixels * g.Cin, imgOut = size_t(g.OH) * g.OW * J;
  const bool parallel = double(g.outSize()) * g.KH * g.KW > kMinParallelWork;
  if (M == 1) {
    // Parallel over output rows of all images (also splits a single image).
    const long long lines = (long long)g.N * g.OH;
#pragma omp parallel for schedule(static) if (parallel)
    for (long long line = 0; line < lines; ++line) {
      const int n = int(line / g.OH), oh = int(line % g.OH);
      forwardRows(g, J, x + n * imgIn, w, bias, y + n * imgOut, oh, oh + 1);
    }
    return;
  }
  const int T = omp_get_max_threads();
  growTo(ws.col, size_t(T) * pixels * J);
#pragma omp parallel num_threads(T) if (parallel)
  {
    float* xe = ws.col.data() + size_t(omp_get_thread_num()) * pixels * J;  // (H, W, J)
#pragma omp for schedule(static)
    for (int n = 0; n < g.N; ++n) {
      expand(x + n * imgIn, pixels, g.Cin, M, xe);
      forwardRows(g, J, xe, w, bias, y + n * imgOut, 0, g.OH);
    }
  }
}

void depthwiseConv2dBackward(const ConvGeometry& g, const float* x, const float* w,
                             const float* dy, float* dx, float* dw, float* db, ConvWorkspace& ws) {
  const int M = multiplier(g), J = g.Cout;
  const size_t pixels = size_t(g.H) * g.W, imgIn = pixels * g.Cin, imgOut = size_t(g.OH) * g.OW * J;
  const size_t wSize = size_t(g.KH) * g.KW * J, partSize = wSize + J;
  const int T = omp_get_max_threads();
  if (dw || db) growTo(ws.part, size_t(T) * partSize);
  if (M > 1) {
    if (dw) growTo(ws.col, size_t(T) * pixels * J);
    if (dx) growTo(ws.dcol, size_t(T) * pixels * J);
  }
  const double work = double(g.outSize()) * g.KH * g.KW;
#pragma omp parallel num_threads(T) if (work > kMinParallelWork)
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
    // Whole images per thread: the dx scatter of an image stays inside one thread.
    const int n0 = int(size_t(g.N) * tid / nt), n1 = int(size_t(g.N) * (tid + 1) / nt);
    float* pw = (dw || db) ? ws.part.data() + size_t(tid) * partSize : nullptr;  // (KH, KW, J)
    float* pb = pw ? pw + wSize : nullptr;                                        // (J)
    if (pw) std::fill_n(pw, partSize, 0.0f);
    float* xe = M > 1 && dw ? ws.col.data() + size_t(tid) * pixels * J : nullptr;
    float* dxe = M > 1 && dx ? ws.dcol.data() + size_t(tid) * pixels * J : nullptr;
    for (int n = n0; n < n1; ++n) {
      const float* gy = dy + n * imgOut;
      if (pb)
        for (size_t p = 0; p < size_t(g.OH) * g.OW; ++p)
          for (int j = 0; j < J; ++j) pb[j] += gy[p * J + j];
      float* dxn = dx ? dx + n * imgIn : nullptr;
      if (M == 1) {
        if (dxn) std::fill_n(dxn, imgIn, 0.0f);
        backwardImage(g, J, x + n * imgIn, w, gy, dxn, dw ? pw : nullptr);
        continue;
      }
      if (xe) expand(x + n * imgIn, pixels, g.Cin, M, xe);
      if (dxe) std::fill_n(dxe, pixels * J, 0.0f);
      backwardImage(g, J, xe, w, gy, dxe, dw ? pw : nullptr);
      if (dxn)  // dx[·, c] = Σ_m dxe[·, c·M + m]
        for (size_t q = 0; q < imgIn; ++q) {
          float s = 0.0f;
          for (int m = 0; m < M; ++m) s += dxe[q * M + m];
          dxn[q] = s;
        }
    }
    if (pw) {
#pragma omp barrier
      reducePartialGrads(ws.part.data(), nt, partSize, wSize, dw, db);
    }
  }
}

}  // namespace qat
