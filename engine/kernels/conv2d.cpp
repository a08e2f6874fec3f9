#include "engine/kernels/conv2d.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include "engine/kernels/gemm.h"
#include "engine/kernels/microgemm.h"
#include "engine/kernels/spatial_util.h"
#include "engine/kernels/winograd.h"

namespace qat {

void ConvGeometry::setPadding(Padding p) {
  const AxisPadding h = axisPadding(p, H, KH, strideH, dilationH);
  const AxisPadding w = axisPadding(p, W, KW, strideW, dilationW);
  padTop = h.before;
  padBottom = h.after;
  padLeft = w.before;
  padRight = w.after;
  OH = h.out;
  OW = w.out;
}

void ConvGeometry::setPadding(int top, int bottom, int left, int right) {
  padTop = top;
  padBottom = bottom;
  padLeft = left;
  padRight = right;
  const int spanH = H + top + bottom - ((KH - 1) * dilationH + 1);
  const int spanW = W + left + right - ((KW - 1) * dilationW + 1);
  OH = spanH >= 0 ? spanH / strideH + 1 : 0;
  OW = spanW >= 0 ? spanW / strideW + 1 : 0;
}

// ---------------------------------------------------------------------------------------
// Reference kernels: one output (or input, or weight) element at a time, straight from
// the formulas in the header. The input gradient is written as a gather (which output
// positions saw this input pixel?) so that it shares no code path with the fast scatter.

void conv2dForwardRef(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                      float* y) {
  for (int n = 0; n < g.N; ++n)
    for (int oh = 0; oh < g.OH; ++oh)
      for (int ow = 0; ow < g.OW; ++ow)
        for (int co = 0; co < g.Cout; ++co) {
          double acc = bias ? bias[co] : 0.0;
          for (int kh = 0; kh < g.KH; ++kh) {
            const int ih = oh * g.strideH - g.padTop + kh * g.dilationH;
            if (ih < 0 || ih >= g.H) continue;
            for (int kw = 0; kw < g.KW; ++kw) {
              const int iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
              if (iw < 0 || iw >= g.W) continue;
              for (int ci = 0; ci < g.Cin; ++ci)
                acc += double(x[((size_t(n) * g.H + ih) * g.W + iw) * g.Cin + ci]) *
                       w[((size_t(kh) * g.KW + kw) * g.Cin + ci) * g.Cout + co];
            }
          }
          y[((size_t(n) * g.OH + oh) * g.OW + ow) * g.Cout + co] = float(acc);
        }
}

void conv2dBackwardInputRef(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  for (int n = 0; n < g.N; ++n)
    for (int ih = 0; ih < g.H; ++ih)
      for (int iw = 0; iw < g.W; ++iw)
        for (int ci = 0; ci < g.Cin; ++ci) {
          double acc = 0.0;
          for (int kh = 0; kh < g.KH; ++kh) {
            // ih = oh·s − pad + kh·d  <=>  oh = (ih + pad − kh·d) / s, when divisible
            const int th = ih + g.padTop - kh * g.dilationH;
            if (th < 0 || th % g.strideH != 0 || th / g.strideH >= g.OH) continue;
            const int oh = th / g.strideH;
            for (int kw = 0; kw < g.KW; ++kw) {
              const int tw = iw + g.padLeft - kw * g.dilationW;
              if (tw < 0 || tw % g.strideW != 0 || tw / g.strideW >= g.OW) continue;
              const int ow = tw / g.strideW;
              for (int co = 0; co < g.Cout; ++co)
                acc += double(dy[((size_t(n) * g.OH + oh) * g.OW + ow) * g.Cout + co]) *
                       w[((size_t(kh) * g.KW + kw) * g.Cin + ci) * g.Cout + co];
            }
          }
          dx[((size_t(n) * g.H + ih) * g.W + iw) * g.Cin + ci] = float(acc);
        }
}

void conv2dBackwardFilterRef(const ConvGeometry& g, const float* x, const float* dy, float* dw,
                             float* db) {
  for (int kh = 0; kh < g.KH; ++kh)
    for (int kw = 0; kw < g.KW; ++kw)
      for (int ci = 0; ci < g.Cin; ++ci)
        for (int co = 0; co < g.Cout; ++co) {
          double acc = 0.0;
          for (int n = 0; n < g.N; ++n)
            for (int oh = 0; oh < g.OH; ++oh) {
              const int ih = oh * g.strideH - g.padTop + kh * g.dilationH;
              if (ih < 0 || ih >= g.H) continue;
              for (int ow = 0; ow < g.OW; ++ow) {
                const int iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
                if (iw < 0 || iw >= g.W) continue;
                acc += double(x[((size_t(n) * g.H + ih) * g.W + iw) * g.Cin + ci]) *
                       dy[((size_t(n) * g.OH + oh) * g.OW + ow) * g.Cout + co];
              }
            }
          dw[((size_t(kh) * g.KW + kw) * g.Cin + ci) * g.Cout + co] += float(acc);
        }
  if (!db) return;
  for (int co = 0; co < g.Cout; ++co) {
    double acc = 0.0;
    for (size_t r = 0; r < g.outRows(); ++r) acc += dy[r * g.Cout + co];
    db[co] += float(acc);
  }
}

// ---------------------------------------------------------------------------------------
// Fast kernels.
namespace {

// Floats per im2col tile. 64 K floats (256 KB) keeps col and dcol of one thread in L2
// while giving the GEMM a few hundred rows (M).
constexpr size_t kTileFloats = size_t(1) << 16;

size_t tileRows(const ConvGeometry& g) {
  return std::max<size_t>(32, kTileFloats / size_t(g.colK()));
}

// Output row r = (n·OH + oh)·OW + ow, walked in order.
struct RowCursor {
  int n, oh, ow;
  RowCursor(const ConvGeometry& g, size_t r)
      : n(int(r / (size_t(g.OH) * g.OW))), oh(int(r / g.OW % g.OH)), ow(int(r % g.OW)) {}
  void next(const ConvGeometry& g) {
    if (++ow == g.OW) {
      ow = 0;
      if (++oh == g.OH) {
        oh = 0;
        ++n;
      }
    }
  }
};

// Copies n floats with whole 8-float vectors: the last one is a masked load (never reads
// past s + n) but a full store, so up to 7 floats past d + n are overwritten (with zeros).
inline void copySpill(const float* s, int n, float* d) {
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
  if (i < n) {
    const __m256i mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n - i), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_storeu_ps(d + i, _mm256_maskload_ps(s + i, mask));
  }
}
// Zeroes n floats, and possibly up to 7 more after them.
inline void zeroSpill(float* d, int n) {
  for (int i = 0; i < n; i += 8) _mm256_storeu_ps(d + i, _mm256_setzero_ps());
}

// col (rows, KH·KW·Cin): row i holds the receptive field of output row r0 + i, in
// (kh, kw, ci) order (the row order of the HWIO kernel matrix); zeros where it hangs
// over the padding. With dilationW == 1 the in-image taps of one kernel row are one
// contiguous run of the input.
// Segments are written in increasing address order with spilling vector stores (a
// first-layer conv copies runs of 3 floats, where memmove calls would dominate); each
// spill is overwritten by the next segment, and the last one lands in the kColSlack
// floats the caller reserves after the tile.
constexpr size_t kColSlack = 16;
void im2colRows(const ConvGeometry& g, const float* x, size_t r0, size_t rows, float* col) {
  const int K = g.colK(), KWC = g.KW * g.Cin;
  RowCursor c(g, r0);
  for (size_t i = 0; i < rows; ++i, c.next(g)) {
    float* dst = col + i * K;
    const int ih0 = c.oh * g.strideH - g.padTop, iw0 = c.ow * g.strideW - g.padLeft;
    const TapRange kw = validTaps(iw0, g.dilationW, g.W, g.KW);
    const float* img = x + size_t(c.n) * g.H * g.W * g.Cin;
    for (int kh = 0; kh < g.KH; ++kh) {
      float* d = dst + kh * KWC;
      const int ih = ih0 + kh * g.dilationH;
      if (ih < 0 || ih >= g.H || kw.lo == kw.hi) {
        zeroSpill(d, KWC);
        continue;
      }
      const float* src = img + size_t(ih) * g.W * g.Cin;
      zeroSpill(d, kw.lo * g.Cin);
      if (g.dilationW == 1) {
        copySpill(src + size_t(iw0 + kw.lo) * g.Cin, (kw.hi - kw.lo) * g.Cin, d + kw.lo * g.Cin);
      } else {
        for (int k = kw.lo; k < kw.hi; ++k)
          copySpill(src + size_t(iw0 + k * g.dilationW) * g.Cin, g.Cin, d + k * g.Cin);
      }
      zeroSpill(d + kw.hi * g.Cin, (g.KW - kw.hi) * g.Cin);
    }
  }
}

// The adjoint of im2colRows: dx[receptive field of row r0 + i] += dcol[i]. Padding
// entries of dcol are dropped.
void col2imRows(const ConvGeometry& g, const float* dcol, size_t r0, size_t rows, float* dx) {
  const int K = g.colK(), KWC = g.KW * g.Cin;
  RowCursor c(g, r0);
  for (size_t i = 0; i < rows; ++i, c.next(g)) {
    const float* src = dcol + i * K;
    const int ih0 = c.oh * g.strideH - g.padTop, iw0 = c.ow * g.strideW - g.padLeft;
    const TapRange kw = validTaps(iw0, g.dilationW, g.W, g.KW);
    float* img = dx + size_t(c.n) * g.H * g.W * g.Cin;
    for (int kh = 0; kh < g.KH; ++kh) {
      const int ih = ih0 + kh * g.dilationH;
      if (ih < 0 || ih >= g.H) continue;
      const float* s = src + kh * KWC;
      float* row = img + size_t(ih) * g.W * g.Cin;
      if (g.dilationW == 1) {
        float* d = row + size_t(iw0 + kw.lo) * g.Cin;
        const float* sk = s + kw.lo * g.Cin;
        const int len = (kw.hi - kw.lo) * g.Cin;
        for (int j = 0; j < len; ++j) d[j] += sk[j];
      } else {
        for (int k = kw.lo; k < kw.hi; ++k) {
          float* d = row + size_t(iw0 + k * g.dilationW) * g.Cin;
          const float* sk = s + k * g.Cin;
          for (int j = 0; j < g.Cin; ++j) d[j] += sk[j];
        }
      }
    }
  }
}

void addBiasRows(float* y, size_t rows, int cols, const float* bias) {
  for (size_t r = 0; r < rows; ++r) {
    float* yr = y + r * cols;
    for (int c = 0; c < cols; ++c) yr[c] += bias[c];
  }
}

void growTo(FloatBuffer& b, size_t n) {
  if (b.size() < n) b.resize(n);
}

// Products of one tile. microGemm (register-blocked, AVX-512 when the CPU has it) needs
// no packing and wins on the tile shapes here; for very long reductions its unpacked B
// panel no longer fits L1 and Eigen's packed GEMM is the safer choice.
constexpr int kMicroMaxK = 1152;  // 3·3·128

// Y_tile (rows, Cout) = A (rows, K) · W (K, Cout)
void tileForward(int rows, int K, int Cout, const float* A, const float* w, float* y) {
  if (Cout % 8 == 0 && K <= kMicroMaxK) microGemm(rows, Cout, K, A, K, 1, w, Cout, y, Cout, false);
  else sgemm(false, false, rows, Cout, K, 1.0f, A, K, w, Cout, 0.0f, y, Cout);
}
// dW (K, Cout) += Aᵀ (K, rows) · dY_tile (rows, Cout)
void tileFilterGrad(int rows, int K, int Cout, const float* A, const float* dy, float* dw) {
  if (Cout % 8 == 0) microGemm(K, Cout, rows, A, 1, K, dy, Cout, dw, Cout, true);
  else sgemm(true, false, K, Cout, rows, 1.0f, A, K, dy, Cout, 1.0f, dw, Cout);
}
// dA (rows, K) = dY_tile (rows, Cout) · Wᵀ (Cout, K); wt is W transposed (Cout, K) or
// nullptr when microGemm does not apply (then Eigen reads w transposed).
void tileInputGrad(int rows, int K, int Cout, const float* dy, const float* w, const float* wt,
                   float* dA) {
  if (wt) microGemm(rows, K, Cout, dy, Cout, 1, wt, K, dA, K, false);
  else sgemm(false, true, rows, K, Cout, 1.0f, dy, Cout, w, Cout, 0.0f, dA, K);
}

}  // namespace

// Forward: tiles of R output rows, statically spread over the threads. A pointwise conv
// multiplies its input rows in place; otherwise each thread im2cols the tile first.
void conv2dForward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                   float* y, ConvWorkspace& ws, ConvAlgorithm algo) {
  const size_t M = g.outRows();
  const int K = g.colK(), Cout = g.Cout;
  if (M == 0) return;
  if (algo == ConvAlgorithm::Auto && winogradApplies(g)) {
    winogradForward(g, x, w, bias, y, ws);
    return;
  }
  const bool pointwise = g.isPointwise();
  const size_t R = tileRows(g);
  const long long tiles = (long long)((M + R - 1) / R);
  const int T = omp_get_max_threads();
  const size_t colStride = R * K + kColSlack;
  if (!pointwise) growTo(ws.col, size_t(T) * colStride);
  const bool parallel = tiles > 1 && double(M) * K * Cout > kMinParallelWork;
#pragma omp parallel num_threads(T) if (parallel)
  {
    float* col = pointwise ? nullptr : ws.col.data() + size_t(omp_get_thread_num()) * colStride;
#pragma omp for schedule(static)
    for (long long t = 0; t < tiles; ++t) {
      const size_t r0 = size_t(t) * R, rows = std::min(R, M - r0);
      const float* A = x + r0 * K;  // pointwise: the input rows are the col rows
      if (!pointwise) {
        im2colRows(g, x, r0, rows, col);
        A = col;
      }
      float* yt = y + r0 * Cout;
      tileForward(int(rows), K, Cout, A, w, yt);  // single-threaded inside the region
      if (bias) addBiasRows(yt, rows, Cout, bias);
    }
  }
}

// Backward: one pass over dy per thread for all three gradients.
void conv2dBackward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                    float* dx, float* dw, float* db, ConvWorkspace& ws, ConvAlgorithm algo) {
  const size_t M = g.outRows();
  const int K = g.colK(), Cout = g.Cout;
  if (dx && M == 0) std::fill_n(dx, g.inSize(), 0.0f);
  if (M == 0) return;
  if (algo == ConvAlgorithm::Auto && winogradApplies(g)) {
    winogradBackward(g, x, w, dy, dx, dw, db, ws);
    return;
  }
  const bool pointwise = g.isPointwise();
  const size_t R = tileRows(g);
  const int T = omp_get_max_threads();
  const size_t wSize = size_t(K) * Cout, partSize = wSize + Cout;
  const size_t colStride = R * K + kColSlack;
  if (dw && !pointwise) growTo(ws.col, size_t(T) * colStride);
  if (dx && !pointwise) growTo(ws.dcol, size_t(T) * R * K);
  if (dw || db) growTo(ws.part, size_t(T) * partSize);
  // Wᵀ (Cout, K) for the input gradient's microGemm.
  const float* wt = nullptr;
  if (dx && K % 8 == 0 && Cout <= kMicroMaxK) {
    growTo(ws.kernelT, wSize);
    for (int k = 0; k < K; ++k)
      for (int c = 0; c < Cout; ++c) ws.kernelT[size_t(c) * K + k] = w[size_t(k) * Cout + c];
    wt = ws.kernelT.data();
  }
  const bool parallel = double(M) * K * Cout > kMinParallelWork;
#pragma omp parallel num_threads(T) if (parallel)
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
    // This thread's rows: whole images when col2im runs (it scatters anywhere inside an
    // image, so images must not be shared), else an even split of all rows.
    size_t rBegin, rEnd;
    if (dx && !pointwise) {
      const size_t n0 = size_t(g.N) * tid / nt, n1 = size_t(g.N) * (tid + 1) / nt;
      const size_t img = size_t(g.H) * g.W * g.Cin;
      std::fill(dx + n0 * img, dx + n1 * img, 0.0f);
      rBegin = n0 * g.OH * g.OW;
      rEnd = n1 * g.OH * g.OW;
    } else {
      rBegin = M * tid / nt;
      rEnd = M * (tid + 1) / nt;
    }
    float* col = ws.col.data() + size_t(tid) * colStride;
    float* dcol = ws.dcol.data() + size_t(tid) * R * K;
    float* pw = ws.part.data() + size_t(tid) * partSize;  // (K, Cout) then (Cout)
    float* pb = pw + wSize;
    if (dw || db) std::fill_n(pw, partSize, 0.0f);
    for (size_t r0 = rBegin; r0 < rEnd; r0 += R) {
      const size_t rows = std::min(R, rEnd - r0);
      const float* dyt = dy + r0 * Cout;  // (rows, Cout)
      if (dw) {
        const float* A = x + r0 * K;
        if (!pointwise) {
          im2colRows(g, x, r0, rows, col);
          A = col;
        }
        tileFilterGrad(int(rows), K, Cout, A, dyt, pw);
      }
      if (db)
        for (size_t r = 0; r < rows; ++r)
          for (int c = 0; c < Cout; ++c) pb[c] += dyt[r * Cout + c];
      if (dx) {
        if (pointwise) {  // the col rows are the dx rows
          tileInputGrad(int(rows), K, Cout, dyt, w, wt, dx + r0 * K);
        } else {
          tileInputGrad(int(rows), K, Cout, dyt, w, wt, dcol);
          col2imRows(g, dcol, r0, rows, dx);
        }
      }
    }
    if (dw || db) {
      // Sum the per-thread partials; each thread reduces a slice of the entries.
#pragma omp barrier
      reducePartialGrads(ws.part.data(), nt, partSize, wSize, dw, db);
    }
  }
}

}  // namespace qat
