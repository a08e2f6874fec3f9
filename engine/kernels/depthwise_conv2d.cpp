#include "engine/kernels/depthwise_conv2d.h"

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
// Fast kernels.

void depthwiseConv2dForward(const ConvGeometry& g, const float* x, const float* w,
                            const float* bias, float* y) {
  const int M = multiplier(g), C = g.Cin, J = g.Cout;
  const long long outLines = (long long)g.N * g.OH;
  const double work = double(g.outSize()) * g.KH * g.KW;
#pragma omp parallel for schedule(static) if (work > kMinParallelWork)
  for (long long line = 0; line < outLines; ++line) {
    const int n = int(line / g.OH), oh = int(line % g.OH);
    const float* img = x + size_t(n) * g.H * g.W * C;
    const int ih0 = oh * g.strideH - g.padTop;
    const TapRange kh = validTaps(ih0, g.dilationH, g.H, g.KH);
    for (int ow = 0; ow < g.OW; ++ow) {
      float* yo = y + (size_t(line) * g.OW + ow) * J;  // (J)
      if (bias) std::copy_n(bias, J, yo);
      else std::fill_n(yo, J, 0.0f);
      const int iw0 = ow * g.strideW - g.padLeft;
      const TapRange kw = validTaps(iw0, g.dilationW, g.W, g.KW);
      for (int i = kh.lo; i < kh.hi; ++i)
        for (int k = kw.lo; k < kw.hi; ++k) {
          const float* xi = img + (size_t(ih0 + i * g.dilationH) * g.W + iw0 + k * g.dilationW) * C;
          const float* wt = w + (size_t(i) * g.KW + k) * J;  // (J)
          if (M == 1) {
            for (int c = 0; c < C; ++c) yo[c] += xi[c] * wt[c];
          } else {
            for (int c = 0; c < C; ++c)
              for (int m = 0; m < M; ++m) yo[c * M + m] += xi[c] * wt[c * M + m];
          }
        }
    }
  }
}

void depthwiseConv2dBackward(const ConvGeometry& g, const float* x, const float* w,
                             const float* dy, float* dx, float* dw, float* db, ConvWorkspace& ws) {
  const int M = multiplier(g), C = g.Cin, J = g.Cout;
  const size_t wSize = size_t(g.KH) * g.KW * J, partSize = wSize + J;
  const int T = omp_get_max_threads();
  if (dw || db)
    if (ws.part.size() < size_t(T) * partSize) ws.part.resize(size_t(T) * partSize);
  const double work = double(g.outSize()) * g.KH * g.KW;
#pragma omp parallel num_threads(T) if (work > kMinParallelWork)
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
    // Whole images per thread: the dx scatter of an image stays inside one thread.
    const int n0 = int(size_t(g.N) * tid / nt), n1 = int(size_t(g.N) * (tid + 1) / nt);
    float* pw = (dw || db) ? ws.part.data() + size_t(tid) * partSize : nullptr;  // (KH, KW, J)
    float* pb = pw ? pw + wSize : nullptr;                                        // (J)
    if (pw) std::fill_n(pw, partSize, 0.0f);
    const size_t img = size_t(g.H) * g.W * C;
    for (int n = n0; n < n1; ++n) {
      const float* xn = x + n * img;
      float* dxn = dx ? dx + n * img : nullptr;
      if (dxn) std::fill_n(dxn, img, 0.0f);
      for (int oh = 0; oh < g.OH; ++oh) {
        const int ih0 = oh * g.strideH - g.padTop;
        const TapRange kh = validTaps(ih0, g.dilationH, g.H, g.KH);
        for (int ow = 0; ow < g.OW; ++ow) {
          const float* gy = dy + ((size_t(n) * g.OH + oh) * g.OW + ow) * J;  // (J)
          if (pb)
            for (int j = 0; j < J; ++j) pb[j] += gy[j];
          const int iw0 = ow * g.strideW - g.padLeft;
          const TapRange kw = validTaps(iw0, g.dilationW, g.W, g.KW);
          for (int i = kh.lo; i < kh.hi; ++i)
            for (int k = kw.lo; k < kw.hi; ++k) {
              const size_t at = (size_t(ih0 + i * g.dilationH) * g.W + iw0 + k * g.dilationW) * C;
              const size_t tap = (size_t(i) * g.KW + k) * J;
              if (dw) {
                float* pt = pw + tap;
                const float* xi = xn + at;
                if (M == 1) {
                  for (int c = 0; c < C; ++c) pt[c] += xi[c] * gy[c];
                } else {
                  for (int c = 0; c < C; ++c)
                    for (int m = 0; m < M; ++m) pt[c * M + m] += xi[c] * gy[c * M + m];
                }
              }
              if (dxn) {
                float* di = dxn + at;
                const float* wt = w + tap;
                if (M == 1) {
                  for (int c = 0; c < C; ++c) di[c] += gy[c] * wt[c];
                } else {
                  for (int c = 0; c < C; ++c) {
                    float s = 0.0f;
                    for (int m = 0; m < M; ++m) s += gy[c * M + m] * wt[c * M + m];
                    di[c] += s;
                  }
                }
              }
            }
        }
      }
    }
    if (pw) {
#pragma omp barrier
#pragma omp for schedule(static)
      for (long long i = 0; i < (long long)partSize; ++i) {
        float s = 0.0f;
        for (int t = 0; t < nt; ++t) s += ws.part[size_t(t) * partSize + size_t(i)];
        if (size_t(i) < wSize) {
          if (dw) dw[i] += s;
        } else if (db) {
          db[size_t(i) - wSize] += s;
        }
      }
    }
  }
}

}  // namespace qat
