#include "engine/kernels/winograd.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include "engine/kernels/microgemm.h"
#include "engine/kernels/spatial_util.h"

namespace qat {
namespace {

constexpr int kXi = 16;  // positions of a transformed 4x4 tile, ξ = 4a + b

// 2x2 output tiles over (N, OH, OW), numbered t = (n·tilesH + th)·tilesW + tw.
struct Tiling {
  int tilesH, tilesW;
  size_t perImage, total, block;
  explicit Tiling(const ConvGeometry& g)
      : tilesH((g.OH + 1) / 2),
        tilesW((g.OW + 1) / 2),
        perImage(size_t(tilesH) * tilesW),
        total(perImage * g.N) {
    // Tiles per block: V (16, block, Cin) and M (16, block, Cout) together ~512 KB.
    const size_t perTile = size_t(kXi) * (g.Cin + g.Cout);
    block = std::clamp<size_t>((size_t(1) << 17) / perTile, 6, 240) / 6 * 6;
  }
  int n(size_t t) const { return int(t / perImage); }
  int th(size_t t) const { return int(t % perImage / tilesW); }
  int tw(size_t t) const { return int(t % tilesW); }
};

inline __m256 load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
inline __m256 add(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
inline __m256 sub(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }

// U[ξ] (Cin, Cout) = (G g Gᵀ)[a][b] for every channel pair; with `transposed`,
// Ut[ξ] (Cout, Cin) instead (the backward pass multiplies by U[ξ]ᵀ).
void kernelTransform(const ConvGeometry& g, const float* w, float* u, bool transposed) {
  const long long CC = (long long)g.Cin * g.Cout;
#pragma omp parallel for schedule(static) if (CC > 16384)
  for (long long e = 0; e < CC; ++e) {
    float k[3][3], t[4][3], r[4][4];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) k[i][j] = w[(i * 3 + j) * CC + e];
    for (int j = 0; j < 3; ++j) {
      t[0][j] = k[0][j];
      t[1][j] = 0.5f * (k[0][j] + k[1][j] + k[2][j]);
      t[2][j] = 0.5f * (k[0][j] - k[1][j] + k[2][j]);
      t[3][j] = k[2][j];
    }
    for (int a = 0; a < 4; ++a) {
      r[a][0] = t[a][0];
      r[a][1] = 0.5f * (t[a][0] + t[a][1] + t[a][2]);
      r[a][2] = 0.5f * (t[a][0] - t[a][1] + t[a][2]);
      r[a][3] = t[a][2];
    }
    const long long at = transposed ? (e % g.Cout) * g.Cin + e / g.Cout : e;
    for (int xi = 0; xi < kXi; ++xi) u[xi * CC + at] = r[xi / 4][xi % 4];
  }
}

// dw (3, 3, Cin, Cout) += Gᵀ dU G, the adjoint of kernelTransform.
void kernelAdjoint(const ConvGeometry& g, const float* du, float* dw) {
  const long long CC = (long long)g.Cin * g.Cout;
#pragma omp parallel for schedule(static) if (CC > 16384)
  for (long long e = 0; e < CC; ++e) {
    float t[3][4], r[3][3];
    for (int b = 0; b < 4; ++b) {
      const float d0 = du[b * CC + e], d1 = du[(4 + b) * CC + e], d2 = du[(8 + b) * CC + e],
                  d3 = du[(12 + b) * CC + e];
      t[0][b] = d0 + 0.5f * (d1 + d2);
      t[1][b] = 0.5f * (d1 - d2);
      t[2][b] = 0.5f * (d1 + d2) + d3;
    }
    for (int i = 0; i < 3; ++i) {
      r[i][0] = t[i][0] + 0.5f * (t[i][1] + t[i][2]);
      r[i][1] = 0.5f * (t[i][1] - t[i][2]);
      r[i][2] = 0.5f * (t[i][1] + t[i][2]) + t[i][3];
    }
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) dw[(i * 3 + j) * CC + e] += r[i][j];
  }
}

// v[ξ·ld + c] = (Bᵀ d B)[a][b] for the 4x4 input tile at (ih0, iw0) of one image
// (H, W, Cin), zero outside the image.
void inputTransform(const ConvGeometry& g, const float* img, int ih0, int iw0, float* v, size_t ld) {
  const TapRange rows = validTaps(ih0, 1, g.H, 4), cols = validTaps(iw0, 1, g.W, 4);
  const __m256 zero = _mm256_setzero_ps();
  for (int c = 0; c < g.Cin; c += 8) {
    __m256 d[4][4], t[4][4];
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        d[i][j] = (i >= rows.lo && i < rows.hi && j >= cols.lo && j < cols.hi)
                      ? load(img + (size_t(ih0 + i) * g.W + (iw0 + j)) * g.Cin + c)
                      : zero;
    for (int j = 0; j < 4; ++j) {
      t[0][j] = sub(d[0][j], d[2][j]);
      t[1][j] = add(d[1][j], d[2][j]);
      t[2][j] = sub(d[2][j], d[1][j]);
      t[3][j] = sub(d[1][j], d[3][j]);
    }
    for (int i = 0; i < 4; ++i) {
      store(v + (i * 4 + 0) * ld + c, sub(t[i][0], t[i][2]));
      store(v + (i * 4 + 1) * ld + c, add(t[i][1], t[i][2]));
      store(v + (i * 4 + 2) * ld + c, sub(t[i][2], t[i][1]));
      store(v + (i * 4 + 3) * ld + c, sub(t[i][1], t[i][3]));
    }
  }
}

// dx[ih0 + i, iw0 + j] += (B dV Bᵀ)[i][j] for the in-image cells: adjoint of inputTransform.
void inputAdjoint(const ConvGeometry& g, const float* dv, size_t ld, float* img, int ih0, int iw0) {
  const TapRange rows = validTaps(ih0, 1, g.H, 4), cols = validTaps(iw0, 1, g.W, 4);
  for (int c = 0; c < g.Cin; c += 8) {
    __m256 v[4][4], t[4][4];
    for (int xi = 0; xi < kXi; ++xi) v[xi / 4][xi % 4] = load(dv + xi * ld + c);
    for (int b = 0; b < 4; ++b) {
      t[0][b] = v[0][b];
      t[1][b] = add(sub(v[1][b], v[2][b]), v[3][b]);
      t[2][b] = sub(add(v[1][b], v[2][b]), v[0][b]);
      t[3][b] = sub(_mm256_setzero_ps(), v[3][b]);
    }
    for (int i = rows.lo; i < rows.hi; ++i) {
      const __m256 o[4] = {t[i][0], add(sub(t[i][1], t[i][2]), t[i][3]),
                           sub(add(t[i][1], t[i][2]), t[i][0]), sub(_mm256_setzero_ps(), t[i][3])};
      for (int j = cols.lo; j < cols.hi; ++j) {
        float* p = img + (size_t(ih0 + i) * g.W + (iw0 + j)) * g.Cin + c;
        store(p, add(load(p), o[j]));
      }
    }
  }
}

// y[oh0 + i, ow0 + j] = (Aᵀ M A)[i][j] + bias for the tile's outputs inside (OH, OW).
void outputTransform(const ConvGeometry& g, const float* m, size_t ld, const float* bias,
                     float* img, int oh0, int ow0) {
  const int ni = std::min(2, g.OH - oh0), nj = std::min(2, g.OW - ow0);
  for (int c = 0; c < g.Cout; c += 8) {
    __m256 s[2][4];
    for (int j = 0; j < 4; ++j) {
      const __m256 m0 = load(m + j * ld + c), m1 = load(m + (4 + j) * ld + c),
                   m2 = load(m + (8 + j) * ld + c), m3 = load(m + (12 + j) * ld + c);
      s[0][j] = add(add(m0, m1), m2);
      s[1][j] = sub(sub(m1, m2), m3);
    }
    const __m256 b = bias ? load(bias + c) : _mm256_setzero_ps();
    for (int i = 0; i < ni; ++i) {
      float* row = img + (size_t(oh0 + i) * g.OW + ow0) * g.Cout + c;
      store(row, add(add(add(s[i][0], s[i][1]), s[i][2]), b));
      if (nj > 1) store(row + g.Cout, add(sub(sub(s[i][1], s[i][2]), s[i][3]), b));
    }
  }
}

// dm[ξ·ld + c] = (A dy Aᵀ)[a][b], dy zero outside (OH, OW): adjoint of outputTransform.
// Also adds the tile's dy into db (tiles partition the output, so each cell counts once).
void gradOutputTransform(const ConvGeometry& g, const float* img, int oh0, int ow0, float* dm,
                         size_t ld, float* db) {
  const int ni = std::min(2, g.OH - oh0), nj = std::min(2, g.OW - ow0);
  const __m256 zero = _mm256_setzero_ps();
  for (int c = 0; c < g.Cout; c += 8) {
    __m256 e[2][2], r[4][2];
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        e[i][j] = (i < ni && j < nj) ? load(img + (size_t(oh0 + i) * g.OW + ow0 + j) * g.Cout + c)
                                     : zero;
    if (db) store(db + c, add(load(db + c), add(add(e[0][0], e[0][1]), add(e[1][0], e[1][1]))));
    for (int j = 0; j < 2; ++j) {
      r[0][j] = e[0][j];
      r[1][j] = add(e[0][j], e[1][j]);
      r[2][j] = sub(e[0][j], e[1][j]);
      r[3][j] = sub(zero, e[1][j]);
    }
    for (int a = 0; a < 4; ++a) {
      store(dm + (a * 4 + 0) * ld + c, r[a][0]);
      store(dm + (a * 4 + 1) * ld + c, add(r[a][0], r[a][1]));
      store(dm + (a * 4 + 2) * ld + c, sub(r[a][0], r[a][1]));
      store(dm + (a * 4 + 3) * ld + c, sub(zero, r[a][1]));
    }
  }
}

void growTo(FloatBuffer& b, size_t n) {
  if (b.size() < n) b.resize(n);
}

}  // namespace

bool winogradApplies(const ConvGeometry& g) {
  return g.KH == 3 && g.KW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 &&
         g.dilationW == 1 && g.Cin % 8 == 0 && g.Cout % 8 == 0 && g.OH > 0 && g.OW > 0;
}

void winogradForward(const ConvGeometry& g, const float* x, const float* w, const float* bias,
                     float* y, ConvWorkspace& ws) {
  const Tiling tl(g);
  const size_t CC = size_t(g.Cin) * g.Cout, B = tl.block;
  const size_t ldV = B * g.Cin, ldM = B * g.Cout;  // stride between ξ in V / M blocks
  const size_t perThread = kXi * (ldV + ldM);
  const int T = omp_get_max_threads();
  growTo(ws.kernelT, kXi * CC);
  growTo(ws.col, size_t(T) * perThread);
  kernelTransform(g, w, ws.kernelT.data(), false);
  const float* U = ws.kernelT.data();
  const long long blocks = (long long)((tl.total + B - 1) / B);
  const size_t imgIn = size_t(g.H) * g.W * g.Cin, imgOut = size_t(g.OH) * g.OW * g.Cout;
#pragma omp parallel num_threads(T) if (blocks > 1)
  {
    float* V = ws.col.data() + size_t(omp_get_thread_num()) * perThread;  // (16, B, Cin)
    float* M = V + kXi * ldV;                                                // (16, B, Cout)
#pragma omp for schedule(static)
    for (long long blk = 0; blk < blocks; ++blk) {
      const size_t t0 = size_t(blk) * B, nb = std::min(B, tl.total - t0);
      for (size_t i = 0; i < nb; ++i) {
        const size_t t = t0 + i;
        inputTransform(g, x + tl.n(t) * imgIn, 2 * tl.th(t) - g.padTop, 2 * tl.tw(t) - g.padLeft,
                       V + i * g.Cin, ldV);
      }
      // M[ξ] (nb, Cout) = V[ξ] (nb, Cin) · U[ξ] (Cin, Cout)
      for (int xi = 0; xi < kXi; ++xi)
        microGemm(int(nb), g.Cout, g.Cin, V + xi * ldV, g.Cin, 1, U + xi * CC, g.Cout,
                  M + xi * ldM, g.Cout, false);
      for (size_t i = 0; i < nb; ++i) {
        const size_t t = t0 + i;
        outputTransform(g, M + i * g.Cout, ldM, bias, y + tl.n(t) * imgOut, 2 * tl.th(t),
                        2 * tl.tw(t));
      }
    }
  }
}

void winogradBackward(const ConvGeometry& g, const float* x, const float* w, const float* dy,
                      float* dx, float* dw, float* db, ConvWorkspace& ws) {
  const Tiling tl(g);
  const size_t CC = size_t(g.Cin) * g.Cout, B = tl.block;
  const size_t ldV = B * g.Cin, ldM = B * g.Cout;
  const size_t perThread = kXi * (ldV + ldM);
  const size_t partSize = kXi * CC + g.Cout;  // dU (16, Cin, Cout) then db (Cout)
  const int T = omp_get_max_threads();
  growTo(ws.col, size_t(T) * perThread);
  if (dw || db) growTo(ws.part, size_t(T) * partSize);
  if (dx) {
    growTo(ws.kernelT, kXi * CC);
    kernelTransform(g, w, ws.kernelT.data(), true);
  }
  const float* Ut = ws.kernelT.data();  // (16, Cout, Cin)
  const size_t imgIn = size_t(g.H) * g.W * g.Cin, imgOut = size_t(g.OH) * g.OW * g.Cout;
  const bool parallel = tl.total > B;
#pragma omp parallel num_threads(T) if (parallel)
  {
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
    // Tiles of this thread: whole images when dx is wanted (tiles overlap in the input),
    // else an even split.
    size_t tBegin, tEnd;
    if (dx) {
      const size_t n0 = size_t(g.N) * tid / nt, n1 = size_t(g.N) * (tid + 1) / nt;
      std::fill(dx + n0 * imgIn, dx + n1 * imgIn, 0.0f);
      tBegin = n0 * tl.perImage;
      tEnd = n1 * tl.perImage;
    } else {
      tBegin = tl.total * tid / nt;
      tEnd = tl.total * (tid + 1) / nt;
    }
    float* V = ws.col.data() + size_t(tid) * perThread;  // (16, B, Cin): V, later dV
    float* dM = V + kXi * ldV;                           // (16, B, Cout)
    float* dU = (dw || db) ? ws.part.data() + size_t(tid) * partSize : nullptr;
    float* pb = db ? dU + kXi * CC : nullptr;
    if (dU) std::fill_n(dU, partSize, 0.0f);
    for (size_t t0 = tBegin; t0 < tEnd; t0 += B) {
      const size_t nb = std::min(B, tEnd - t0);
      for (size_t i = 0; i < nb; ++i) {
        const size_t t = t0 + i;
        gradOutputTransform(g, dy + tl.n(t) * imgOut, 2 * tl.th(t), 2 * tl.tw(t),
                            dM + i * g.Cout, ldM, pb);
      }
      if (dw) {
        for (size_t i = 0; i < nb; ++i) {
          const size_t t = t0 + i;
          inputTransform(g, x + tl.n(t) * imgIn, 2 * tl.th(t) - g.padTop,
                         2 * tl.tw(t) - g.padLeft, V + i * g.Cin, ldV);
        }
        // dU[ξ] (Cin, Cout) += V[ξ]ᵀ (Cin, nb) · dM[ξ] (nb, Cout)
        for (int xi = 0; xi < kXi; ++xi)
          microGemm(g.Cin, g.Cout, int(nb), V + xi * ldV, 1, g.Cin, dM + xi * ldM, g.Cout,
                    dU + xi * CC, g.Cout, true);
      }
      if (dx) {
        // dV[ξ] (nb, Cin) = dM[ξ] (nb, Cout) · U[ξ]ᵀ (Cout, Cin), into V's buffer
        for (int xi = 0; xi < kXi; ++xi)
          microGemm(int(nb), g.Cin, g.Cout, dM + xi * ldM, g.Cout, 1, Ut + xi * CC, g.Cin,
                    V + xi * ldV, g.Cin, false);
        for (size_t i = 0; i < nb; ++i) {
          const size_t t = t0 + i;
          inputAdjoint(g, V + i * g.Cin, ldV, dx + tl.n(t) * imgIn, 2 * tl.th(t) - g.padTop,
                       2 * tl.tw(t) - g.padLeft);
        }
      }
    }
    if (dU) {
      // Sum the per-thread partials into thread 0's slot (each entry by one thread).
#pragma omp barrier
#pragma omp for schedule(static)
      for (long long i = 0; i < (long long)partSize; ++i) {
        float s = 0.0f;
        for (int t = 0; t < nt; ++t) s += ws.part[size_t(t) * partSize + size_t(i)];
        ws.part[size_t(i)] = s;
      }
    }
  }
  if (dw) kernelAdjoint(g, ws.part.data(), dw);
  if (db)
    for (int c = 0; c < g.Cout; ++c) db[c] += ws.part[kXi * CC + size_t(c)];
}

}  // namespace qat
