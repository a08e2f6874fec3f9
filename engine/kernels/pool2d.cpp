#include "engine/kernels/pool2d.h"

#include <algorithm>

#include "engine/kernels/spatial_util.h"

namespace qat {

void PoolGeometry::setPadding(Padding p) {
  const AxisPadding h = axisPadding(p, H, KH, strideH);
  const AxisPadding w = axisPadding(p, W, KW, strideW);
  padTop = h.before;
  padBottom = h.after;
  padLeft = w.before;
  padRight = w.after;
  OH = h.out;
  OW = w.out;
}

namespace {

bool poolWork(const PoolGeometry& g) {
  return g.N > 1 && double(g.outSize()) * g.KH * g.KW > kMinParallelWork;
}

// The in-image part of the window of output (oh, ow): rows ih0 + [kh.lo, kh.hi),
// columns iw0 + [kw.lo, kw.hi).
struct Window {
  int ih0, iw0;
  TapRange kh, kw;
  Window(const PoolGeometry& g, int oh, int ow)
      : ih0(oh * g.strideH - g.padTop),
        iw0(ow * g.strideW - g.padLeft),
        kh(validTaps(ih0, 1, g.H, g.KH)),
        kw(validTaps(iw0, 1, g.W, g.KW)) {}
  int count() const { return (kh.hi - kh.lo) * (kw.hi - kw.lo); }
  // Offset of (ih0 + i, iw0 + j, c = 0) inside an image.
  int offset(const PoolGeometry& g, int i, int j) const {
    return ((ih0 + i) * g.W + iw0 + j) * g.C;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Reference kernels: one output element at a time.

void maxPool2dForwardRef(const PoolGeometry& g, const float* x, float* y) {
  const size_t img = size_t(g.H) * g.W * g.C;
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const Window win(g, oh, ow);
        for (int c = 0; c < g.C; ++c) {
          float best = 0.0f;
          bool any = false;
          for (int i = win.kh.lo; i < win.kh.hi; ++i)
            for (int j = win.kw.lo; j < win.kw.hi; ++j) {
              const float v = x[n * img + size_t(win.offset(g, i, j)) + c];
              if (!any || v > best) best = v;
              any = true;
            }
          y[((size_t(n) * g.OH + oh) * g.OW + ow) * g.C + c] = best;
        }
      }
}

void maxPool2dBackwardRef(const PoolGeometry& g, const float* x, const float* dy, float* dx) {
  const size_t img = size_t(g.H) * g.W * g.C;
  std::fill_n(dx, g.inSize(), 0.0f);
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const Window win(g, oh, ow);
        for (int c = 0; c < g.C; ++c) {
          long best = -1;
          for (int i = win.kh.lo; i < win.kh.hi; ++i)
            for (int j = win.kw.lo; j < win.kw.hi; ++j) {
              const long at = long(n * img) + win.offset(g, i, j) + c;
              if (best < 0 || x[at] > x[best]) best = at;
            }
          if (best >= 0) dx[best] += dy[((size_t(n) * g.OH + oh) * g.OW + ow) * g.C + c];
        }
      }
}

void avgPool2dForwardRef(const PoolGeometry& g, const float* x, float* y) {
  const size_t img = size_t(g.H) * g.W * g.C;
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const Window win(g, oh, ow);
        for (int c = 0; c < g.C; ++c) {
          double s = 0.0;
          for (int i = win.kh.lo; i < win.kh.hi; ++i)
            for (int j = win.kw.lo; j < win.kw.hi; ++j)
              s += x[n * img + size_t(win.offset(g, i, j)) + c];
          y[((size_t(n) * g.OH + oh) * g.OW + ow) * g.C + c] =
              win.count() > 0 ? float(s / win.count()) : 0.0f;
        }
      }
}

void avgPool2dBackwardRef(const PoolGeometry& g, const float* dy, float* dx) {
  const size_t img = size_t(g.H) * g.W * g.C;
  std::fill_n(dx, g.inSize(), 0.0f);
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const Window win(g, oh, ow);
        for (int c = 0; c < g.C; ++c) {
          const float share =
              dy[((size_t(n) * g.OH + oh) * g.OW + ow) * g.C + c] / float(std::max(win.count(), 1));
          for (int i = win.kh.lo; i < win.kh.hi; ++i)
            for (int j = win.kw.lo; j < win.kw.hi; ++j)
              dx[n * img + size_t(win.offset(g, i, j)) + c] += share;
        }
      }
}

// ---------------------------------------------------------------------------------------
// Fast kernels: batch-parallel, channel-vectorised.
namespace {

// One image. Starts from the first in-window cell (so the index is always a real cell,
// even with NaNs), then keeps strictly greater values: the first maximum wins, as in
// the reference.
template <bool kTrack>
void maxPoolImage(const PoolGeometry& g, const float* x, float* y, int32_t* arg) {
  const int C = g.C;
  for (int oh = 0; oh < g.OH; ++oh)
    for (int ow = 0; ow < g.OW; ++ow) {
      const Window win(g, oh, ow);
      const size_t o = (size_t(oh) * g.OW + ow) * C;
      float* yo = y + o;
      int32_t* ao = kTrack ? arg + o : nullptr;
      if (win.count() == 0) {  // cannot happen with TF padding; kept total
        std::fill_n(yo, C, 0.0f);
        if constexpr (kTrack) std::fill_n(ao, C, -1);
        continue;
      }
      bool first = true;
      for (int i = win.kh.lo; i < win.kh.hi; ++i)
        for (int j = win.kw.lo; j < win.kw.hi; ++j) {
          const int off = win.offset(g, i, j);
          const float* xi = x + off;
          if (first) {
            std::copy_n(xi, C, yo);
            if constexpr (kTrack)
              for (int c = 0; c < C; ++c) ao[c] = off + c;
            first = false;
            continue;
          }
          for (int c = 0; c < C; ++c) {
            const bool gt = xi[c] > yo[c];
            yo[c] = gt ? xi[c] : yo[c];
            if constexpr (kTrack) ao[c] = gt ? off + c : ao[c];
          }
        }
    }
}

}  // namespace

void maxPool2dForward(const PoolGeometry& g, const float* x, float* y, int32_t* argmax) {
  const size_t img = size_t(g.H) * g.W * g.C, oimg = size_t(g.OH) * g.OW * g.C;
#pragma omp parallel for schedule(static) if (poolWork(g))
  for (int n = 0; n < g.N; ++n) {
    if (argmax) maxPoolImage<true>(g, x + n * img, y + n * oimg, argmax + n * oimg);
    else maxPoolImage<false>(g, x + n * img, y + n * oimg, nullptr);
  }
}

void maxPool2dBackward(const PoolGeometry& g, const float* dy, const int32_t* argmax, float* dx) {
  const size_t img = size_t(g.H) * g.W * g.C, oimg = size_t(g.OH) * g.OW * g.C;
#pragma omp parallel for schedule(static) if (poolWork(g))
  for (int n = 0; n < g.N; ++n) {
    float* d = dx + n * img;
    const float* gy = dy + n * oimg;
    const int32_t* a = argmax + n * oimg;
    std::fill_n(d, img, 0.0f);
    for (size_t o = 0; o < oimg; ++o)
      if (a[o] >= 0) d[a[o]] += gy[o];
  }
}

void avgPool2dForward(const PoolGeometry& g, const float* x, float* y) {
  const int C = g.C;
  const size_t img = size_t(g.H) * g.W * C, oimg = size_t(g.OH) * g.OW * C;
#pragma omp parallel for schedule(static) if (poolWork(g))
  for (int n = 0; n < g.N; ++n) {
    const float* xn = x + n * img;
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const Window win(g, oh, ow);
        float* yo = y + n * oimg + (size_t(oh) * g.OW + ow) * C;
        std::fill_n(yo, C, 0.0f);
        for (int i = win.kh.lo; i < win.kh.hi; ++i)
          for (int j = win.kw.lo; j < win.kw.hi; ++j) {
            const float* xi = xn + win.offset(g, i, j);
            for (int c = 0; c < C; ++c) yo[c] += xi[c];
          }
        const float inv = 1.0f / float(std::max(win.count(), 1));
        for (int c = 0; c < C; ++c) yo[c] *= inv;
      }
  }
}

void avgPool2dBackward(const PoolGeometry& g, const float* dy, float* dx) {
  const int C = g.C;
  const size_t img = size_t(g.H) * g.W * C, oimg = size_t(g.OH) * g.OW * C;
#pragma omp parallel for schedule(static) if (poolWork(g))
  for (int n = 0; n < g.N; ++n) {
    float* dn = dx + n * img;
    std::fill_n(dn, img, 0.0f);
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow) {
        const Window win(g, oh, ow);
        const float* go = dy + n * oimg + (size_t(oh) * g.OW + ow) * C;
        const float inv = 1.0f / float(std::max(win.count(), 1));
        for (int i = win.kh.lo; i < win.kh.hi; ++i)
          for (int j = win.kw.lo; j < win.kw.hi; ++j) {
            float* di = dn + win.offset(g, i, j);
            for (int c = 0; c < C; ++c) di[c] += go[c] * inv;
          }
      }
  }
}

// ---------------------------------------------------------------------------------------
// Global pooling: one (pixels, C) image per sample.

void globalAvgPoolForward(int N, int pixels, int C, const float* x, float* y) {
  const float inv = 1.0f / float(std::max(pixels, 1));
#pragma omp parallel for schedule(static) if (N > 1 && double(N) * pixels * C > kMinParallelWork)
  for (int n = 0; n < N; ++n) {
    const float* xn = x + size_t(n) * pixels * C;
    float* yn = y + size_t(n) * C;
    std::fill_n(yn, C, 0.0f);
    for (int p = 0; p < pixels; ++p)
      for (int c = 0; c < C; ++c) yn[c] += xn[size_t(p) * C + c];
    for (int c = 0; c < C; ++c) yn[c] *= inv;
  }
}

void globalAvgPoolBackward(int N, int pixels, int C, const float* dy, float* dx) {
  const float inv = 1.0f / float(std::max(pixels, 1));
#pragma omp parallel for schedule(static) if (N > 1 && double(N) * pixels * C > kMinParallelWork)
  for (int n = 0; n < N; ++n) {
    const float* gn = dy + size_t(n) * C;
    float* dn = dx + size_t(n) * pixels * C;
    for (int p = 0; p < pixels; ++p)
      for (int c = 0; c < C; ++c) dn[size_t(p) * C + c] = gn[c] * inv;
  }
}

void globalMaxPoolForward(int N, int pixels, int C, const float* x, float* y, int32_t* argmax) {
#pragma omp parallel for schedule(static) if (N > 1 && double(N) * pixels * C > kMinParallelWork)
  for (int n = 0; n < N; ++n) {
    const float* xn = x + size_t(n) * pixels * C;
    float* yn = y + size_t(n) * C;
    int32_t* an = argmax ? argmax + size_t(n) * C : nullptr;
    std::copy_n(xn, C, yn);
    if (an) std::fill_n(an, C, 0);
    for (int p = 1; p < pixels; ++p) {
      const float* xp = xn + size_t(p) * C;
      if (an) {
        for (int c = 0; c < C; ++c) {
          const bool gt = xp[c] > yn[c];
          yn[c] = gt ? xp[c] : yn[c];
          an[c] = gt ? p : an[c];
        }
      } else {
        for (int c = 0; c < C; ++c) yn[c] = std::max(yn[c], xp[c]);
      }
    }
  }
}

void globalMaxPoolBackward(int N, int pixels, int C, const float* dy, const int32_t* argmax,
                           float* dx) {
#pragma omp parallel for schedule(static) if (N > 1 && double(N) * pixels * C > kMinParallelWork)
  for (int n = 0; n < N; ++n) {
    float* dn = dx + size_t(n) * pixels * C;
    std::fill_n(dn, size_t(pixels) * C, 0.0f);
    for (int c = 0; c < C; ++c)
      dn[size_t(argmax[size_t(n) * C + c]) * C + c] = dy[size_t(n) * C + c];
  }
}

}  // namespace qat
