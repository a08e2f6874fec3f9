#include "engine/train/metrics.h"

namespace qat {

int argmaxRow(const float* row, int classes) {
  int best = 0;
  for (int i = 1; i < classes; ++i)
    if (row[i] > row[best]) best = i;
  return best;
}

int countTopK(const Tensor& pred, const std::vector<int>& labels, int k) {
  const int n = pred.dim(0);
  const int c = static_cast<int>(pred.size() / static_cast<size_t>(n));
  int hits = 0;
  for (int r = 0; r < n; ++r) {
    const float* row = pred.data() + static_cast<size_t>(r) * c;
    const int y = labels[static_cast<size_t>(r)];
    if (c == 1) {
      hits += ((row[0] > 0.5f) ? 1 : 0) == y;
      continue;
    }
    if (y < 0 || y >= c) continue;
    // Rank of the label: how many classes beat it (ties to the lower index win).
    int better = 0;
    for (int i = 0; i < c; ++i)
      if (row[i] > row[y] || (row[i] == row[y] && i < y)) ++better;
    hits += better < k;
  }
  return hits;
}

}  // namespace qat
