#include "engine/data/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace qat {

namespace {

// Source index pair and weight of the second one for every output coordinate.
struct Tap {
  int i0, i1;
  float f;
};

std::vector<Tap> taps(int in, int out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const double scale = double(in) / double(out);
  for (int o = 0; o < out; ++o) {
    double p = (o + 0.5) * scale - 0.5;
    p = std::clamp(p, 0.0, double(in - 1));
    const int i0 = int(std::floor(p));
    t[size_t(o)] = {i0, std::min(i0 + 1, in - 1), float(p - i0)};
  }
  return t;
}

}  // namespace

void resizeBilinear(const float* src, int inH, int inW, int channels, float* dst, int outH, int outW) {
  const size_t c = size_t(channels);
  if (inH == outH && inW == outW) {
    std::memcpy(dst, src, size_t(inH) * size_t(inW) * c * sizeof(float));
    return;
  }
  const std::vector<Tap> ty = taps(inH, outH), tx = taps(inW, outW);
  for (int i = 0; i < outH; ++i) {
    const Tap& y = ty[size_t(i)];
    const float* r0 = src + size_t(y.i0) * size_t(inW) * c;
    const float* r1 = src + size_t(y.i1) * size_t(inW) * c;
    float* o = dst + size_t(i) * size_t(outW) * c;
    for (int j = 0; j < outW; ++j) {
      const Tap& x = tx[size_t(j)];
      const float w00 = (1 - y.f) * (1 - x.f), w01 = (1 - y.f) * x.f;
      const float w10 = y.f * (1 - x.f), w11 = y.f * x.f;
      for (size_t k = 0; k < c; ++k)
        o[size_t(j) * c + k] = w00 * r0[size_t(x.i0) * c + k] + w01 * r0[size_t(x.i1) * c + k] +
                               w10 * r1[size_t(x.i0) * c + k] + w11 * r1[size_t(x.i1) * c + k];
    }
  }
}

}  // namespace qat
