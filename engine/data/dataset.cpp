#include "engine/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace qat {

namespace {

// Largest class count accepted from a file; a label above this is a damaged file or a
// regression target read as labels, not a real classification problem.
constexpr int kMaxClasses = 1 << 20;

// Copies rows `indices` of src (N, rowSize) into dst (B, rowSize). Rows are independent,
// so large batches are copied in parallel; small ones stay on the calling thread where
// starting a team would cost more than the copy.
void gatherRows(const float* src, size_t rowSize, std::span<const int> indices, float* dst) {
  const long long b = static_cast<long long>(indices.size());
  const bool parallel = indices.size() * rowSize >= (size_t(1) << 16);
#pragma omp parallel for schedule(static) if (parallel)
  for (long long i = 0; i < b; ++i)
    std::memcpy(dst + size_t(i) * rowSize, src + size_t(indices[size_t(i)]) * rowSize,
                rowSize * sizeof(float));
}

// Resizes t to `like` with the first dimension replaced by n, without allocating once
// t has held that many elements: the shape goes through a per-thread scratch Shape whose
// vector keeps its capacity, and Tensor::resize keeps the buffer's capacity.
void resizeBatch(Tensor& t, const Shape& like, size_t n) {
  thread_local Shape scratch;
  scratch = like;
  scratch[0] = static_cast<int>(n);
  if (!(t.shape() == scratch)) t.resize(scratch);
}

size_t rowSizeOf(const Tensor& t) { return t.rank() == 0 || t.dim(0) == 0 ? 0 : t.size() / size_t(t.dim(0)); }

}  // namespace

Status applyNormalization(Tensor& x, const Normalization& n, const std::string& what) {
  if (n.kind == Normalization::None || x.empty()) return {};
  if (n.kind == Normalization::Scale01) {
    float* p = x.data();
    const long long size = static_cast<long long>(x.size());
#pragma omp parallel for schedule(static) if (size > (1 << 18))
    for (long long i = 0; i < size; ++i) p[i] /= 255.0f;  // a true division, bit-identical to Keras' x / 255
    return {};
  }
  const size_t channels = x.rank() >= 2 ? size_t(x.shape().back()) : 1;
  const auto sizeOk = [&](const std::vector<float>& v) { return v.size() == 1 || v.size() == channels; };
  if (!sizeOk(n.mean) || !sizeOk(n.std))
    return makeError(what + ": normalisation has " + std::to_string(n.mean.size()) + " mean and " +
                     std::to_string(n.std.size()) + " std values but the data has " +
                     std::to_string(channels) + " channels (last axis); give 1 value or one per channel.");
  for (float s : n.std)
    if (!(s > 0.0f) || !std::isfinite(s))
      return makeError(what + ": normalisation std must be positive and finite, got " + std::to_string(s) + ".");
  for (float m : n.mean)
    if (!std::isfinite(m)) return makeError(what + ": normalisation mean must be finite.");
  // Per-channel values expanded once. (x − mean) / std with a true division so results
  // match the same expression evaluated in numpy float32.
  std::vector<float> div(channels), shift(channels);
  for (size_t c = 0; c < channels; ++c) {
    div[c] = n.std[n.std.size() == 1 ? 0 : c];
    shift[c] = n.mean[n.mean.size() == 1 ? 0 : c];
  }
  float* p = x.data();
  const long long rows = static_cast<long long>(x.size() / channels);
#pragma omp parallel for schedule(static) if (x.size() > (1 << 18))
  for (long long r = 0; r < rows; ++r) {
    float* row = p + size_t(r) * channels;
    for (size_t c = 0; c < channels; ++c) row[c] = (row[c] - shift[c]) / div[c];
  }
  return {};
}

Expected<Normalization> computeMeanStd(const Tensor& x, bool perChannel) {
  if (x.empty()) return makeError("cannot compute mean/std of an empty data set.");
  const size_t channels = perChannel && x.rank() >= 2 ? size_t(x.shape().back()) : 1;
  const size_t rows = x.size() / channels;
  // Two passes in double: the mean first, then the squared deviations (numerically
  // stable for pixel data where the mean is large compared with the spread).
  std::vector<double> sum(channels, 0.0), sq(channels, 0.0);
  const float* p = x.data();
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c) sum[c] += p[r * channels + c];
  Normalization n;
  n.kind = Normalization::MeanStd;
  n.mean.assign(channels, 0.0f);
  n.std.assign(channels, 1.0f);
  for (size_t c = 0; c < channels; ++c) sum[c] /= double(rows);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < channels; ++c) {
      const double d = p[r * channels + c] - sum[c];
      sq[c] += d * d;
    }
  for (size_t c = 0; c < channels; ++c) {
    n.mean[c] = float(sum[c]);
    const double sd = std::sqrt(sq[c] / double(rows));
    n.std[c] = sd > 1e-12 && std::isfinite(sd) ? float(sd) : 1.0f;
  }
  return n;
}

Status assignTargets(Dataset& d, const Tensor& y, bool storedAsInteger, TargetKind kind,
                     const std::string& what) {
  if (y.rank() == 0) return makeError(what + ": the target array y is empty or a scalar.");
  const size_t n = d.size();
  if (size_t(y.dim(0)) != n)
    return makeError(what + ": x has " + std::to_string(n) + " samples but y has " +
                     std::to_string(y.dim(0)) + "; they must match one to one.");
  const bool columnLike = y.rank() == 1 || (y.rank() == 2 && y.dim(1) == 1);
  if (kind == TargetKind::Auto) kind = storedAsInteger && columnLike ? TargetKind::ClassIndex : TargetKind::Float;

  d.labels.clear();
  d.targets = Tensor();
  d.numClasses = 0;
  if (kind == TargetKind::ClassIndex) {
    if (!columnLike)
      return makeError(what + ": y has shape " + y.shape().str() +
                       " but class labels need one value per sample (shape (N,)); "
                       "for one-hot rows read y as float targets.");
    d.labels.resize(n);
    int maxLabel = -1;
    for (size_t i = 0; i < n; ++i) {
      const float v = y[i];
      if (!(v >= 0.0f) || v != std::floor(v) || v >= float(kMaxClasses))
        return makeError(what + ": label " + std::to_string(i) + " is " + std::to_string(v) +
                         "; class labels must be whole numbers from 0 to " +
                         std::to_string(kMaxClasses - 1) + " (use float targets for regression).");
      d.labels[i] = static_cast<int>(v);
      maxLabel = std::max(maxLabel, d.labels[i]);
    }
    d.numClasses = std::max<int>(maxLabel + 1, int(d.classNames.size()));
    return {};
  }
  for (size_t i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i]))
      return makeError(what + ": target value " + std::to_string(i) + " is not finite (NaN or inf).");
  d.targets = y;
  if (y.rank() == 1) d.targets.reshapeInPlace(Shape{y.dim(0), 1});
  else if (y.rank() > 2) d.targets.reshapeInPlace(Shape{y.dim(0), int(y.size() / n)});
  // Rows that are exactly one-hot are a classification problem with k classes.
  const size_t k = size_t(d.targets.dim(1));
  bool oneHot = k > 1;
  for (size_t i = 0; i < n && oneHot; ++i) {
    int ones = 0;
    for (size_t j = 0; j < k; ++j) {
      const float v = d.targets[i * k + j];
      if (v == 1.0f) ++ones;
      else if (v != 0.0f) oneHot = false;
    }
    oneHot = oneHot && ones == 1;
  }
  if (oneHot) d.numClasses = int(k);
  return {};
}

Status validateDataset(const Dataset& d) {
  const std::string what = d.source.empty() ? std::string("data set") : d.source;
  if (d.size() == 0) return makeError(what + ": contains no samples.");
  if (d.labels.empty() == d.targets.empty())
    return makeError(what + ": needs either class labels or float targets (has " +
                     (d.labels.empty() ? "neither" : "both") + ").");
  if (!d.labels.empty()) {
    if (d.labels.size() != d.size())
      return makeError(what + ": " + std::to_string(d.size()) + " samples but " +
                       std::to_string(d.labels.size()) + " labels.");
    for (size_t i = 0; i < d.labels.size(); ++i)
      if (d.labels[i] < 0 || d.labels[i] >= d.numClasses)
        return makeError(what + ": label " + std::to_string(i) + " is " + std::to_string(d.labels[i]) +
                         ", outside 0.." + std::to_string(d.numClasses - 1) + ".");
  } else if (d.targets.rank() < 1 || size_t(d.targets.dim(0)) != d.size()) {
    return makeError(what + ": " + std::to_string(d.size()) + " samples but targets of shape " +
                     d.targets.shape().str() + ".");
  }
  if (!d.classNames.empty() && int(d.classNames.size()) != d.numClasses)
    return makeError(what + ": " + std::to_string(d.classNames.size()) + " class names for " +
                     std::to_string(d.numClasses) + " classes.");
  return {};
}

Dataset take(const Dataset& d, std::span<const int> indices) {
  Dataset out;
  out.numClasses = d.numClasses;
  out.classNames = d.classNames;
  out.source = d.source;
  if (d.x.rank() == 0) return out;
  gatherBatch(d, indices, out.x, out.labels);
  if (!d.targets.empty()) gatherTargets(d, indices, out.targets);
  return out;
}

Dataset subset(const Dataset& d, size_t n) {
  std::vector<int> idx(std::min(n, d.size()));
  std::iota(idx.begin(), idx.end(), 0);
  return take(d, idx);
}

std::vector<int> shuffledIndices(size_t n, Rng& rng) {
  std::vector<int> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  // Fisher–Yates with our own index draw (std::shuffle's algorithm differs between
  // standard libraries). The modulo bias is below n / 2^64.
  for (size_t i = n; i > 1; --i) {
    const size_t j = size_t(rng.next() % i);
    std::swap(idx[i - 1], idx[j]);
  }
  return idx;
}

Expected<TrainValidationSplit> splitTrainValidation(const Dataset& d, double validationFraction,
                                                    uint64_t seed) {
  const std::string what = d.source.empty() ? std::string("data set") : d.source;
  if (!(validationFraction >= 0.0 && validationFraction < 1.0))
    return makeError(what + ": validation fraction must be in [0, 1), got " +
                     std::to_string(validationFraction) + ".");
  const size_t n = d.size();
  const size_t nVal = static_cast<size_t>(std::llround(double(n) * validationFraction));
  if (nVal >= n)
    return makeError(what + ": a validation fraction of " + std::to_string(validationFraction) +
                     " leaves no training samples out of " + std::to_string(n) + ".");
  Rng rng(seed);
  const std::vector<int> idx = shuffledIndices(n, rng);
  const std::span<const int> all(idx);
  TrainValidationSplit s;
  s.validation = take(d, all.first(nVal));
  s.train = take(d, all.subspan(nVal));
  return s;
}

void gatherBatch(const Dataset& d, std::span<const int> indices, Tensor& xOut, std::vector<int>& yOut) {
  const size_t n = d.size();
  for (int i : indices) QAT_ASSERT(i >= 0 && size_t(i) < n);
  resizeBatch(xOut, d.x.shape(), indices.size());
  gatherRows(d.x.data(), rowSizeOf(d.x), indices, xOut.data());
  if (d.labels.empty()) {
    yOut.clear();
    return;
  }
  yOut.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) yOut[i] = d.labels[size_t(indices[i])];
}

void gatherTargets(const Dataset& d, std::span<const int> indices, Tensor& yOut) {
  QAT_ASSERT(d.targets.rank() >= 1 && size_t(d.targets.dim(0)) == d.size());
  for (int i : indices) QAT_ASSERT(i >= 0 && size_t(i) < d.size());
  resizeBatch(yOut, d.targets.shape(), indices.size());
  gatherRows(d.targets.data(), rowSizeOf(d.targets), indices, yOut.data());
}

}  // namespace qat
