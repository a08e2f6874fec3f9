#pragma once
// In-memory training data: inputs x (N, ...) and per-sample targets, plus the helpers a
// training loop needs (subsets, a seeded train/validation split, batch gathering into
// reused buffers, normalisation). Readers for the file formats live next to this file
// (idx_reader.h, npy.h, npz_reader.h, hdf5_reader.h, csv_reader.h, image_folder.h);
// every one of them returns a Dataset or an Error that names the file and the problem.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/core/tensor.h"

namespace qat {

struct Dataset {
  Tensor x;                  // (N, ...) float32, images NHWC e.g. (N, 28, 28, 1)
  std::vector<int> labels;   // (N) class index per sample; empty when `targets` is used
  Tensor targets;            // (N, k) float targets (regression, one-hot); empty with labels
  int numClasses = 0;        // labels: max label + 1 (or the class-name count); one-hot: k
  std::vector<std::string> classNames;  // index -> name when the source has names
  std::string source;        // the file(s) it came from, for messages and the UI

  size_t size() const { return x.rank() == 0 ? 0 : static_cast<size_t>(x.dim(0)); }
  bool hasLabels() const { return !labels.empty(); }
  Shape sampleShape() const { return x.rank() == 0 ? Shape{} : x.shape().withoutBatch(); }
};

// How raw input values are mapped before training. Applied by every reader on load.
//   None:    x' = x
//   Scale01: x' = x / 255           (for 8-bit sources: pixels, IDX, uint8 arrays)
//   MeanStd: x' = (x − mean[c]) / std[c], c = index along the last axis (the channel in
//            NHWC); mean/std hold one value for all channels or one per channel.
struct Normalization {
  enum Kind { None, Scale01, MeanStd };
  Kind kind = None;
  std::vector<float> mean{0.0f};
  std::vector<float> std{1.0f};

  static Normalization none() { return {}; }
  static Normalization scale01() { return {Scale01, {0.0f}, {1.0f}}; }
  static Normalization meanStd(std::vector<float> m, std::vector<float> s) {
    return {MeanStd, std::move(m), std::move(s)};
  }
};

// Applies `n` in place. Errors (naming `what`): per-channel sizes that do not match the
// last axis, a std that is not positive and finite.
Status applyNormalization(Tensor& x, const Normalization& n, const std::string& what);

// Mean and (population) standard deviation of x, per channel (last axis) or over all
// values, as a MeanStd Normalization. A constant channel gets std 1 so applying the
// result never divides by zero. Error when x is empty.
Expected<Normalization> computeMeanStd(const Tensor& x, bool perChannel = true);

// How a y array read from a file becomes labels or targets.
//   Auto:       integer dtype of shape (N) or (N, 1) -> labels; anything else -> targets
//   ClassIndex: labels; float values must be whole numbers >= 0
//   Float:      targets (N, k); a 1-D y becomes (N, 1)
enum class TargetKind { Auto, ClassIndex, Float };

// Fills d.labels or d.targets (and numClasses) from `y`, whose first axis must match
// d.x's. `storedAsInteger` says whether the file stored integers. `what` names the
// source in messages.
Status assignTargets(Dataset& d, const Tensor& y, bool storedAsInteger, TargetKind kind,
                     const std::string& what);

// Checks the invariants the trainer relies on: N > 0, one label or target row per
// sample, labels in [0, numClasses), classNames empty or numClasses long.
Status validateDataset(const Dataset& d);

// The first min(n, size) samples.
Dataset subset(const Dataset& d, size_t n);
// Samples at `indices` in that order (repeats allowed). Indices must be < d.size().
Dataset take(const Dataset& d, std::span<const int> indices);

// 0..n-1 in a random order (Fisher–Yates driven by rng, same seed -> same order on
// every platform).
std::vector<int> shuffledIndices(size_t n, Rng& rng);

struct TrainValidationSplit {
  Dataset train, validation;
};
// Shuffles with `seed`, then puts round(N · validationFraction) samples into
// validation and the rest into train. validationFraction in [0, 1); error when it is
// out of range or would leave the training set empty.
Expected<TrainValidationSplit> splitTrainValidation(const Dataset& d, double validationFraction,
                                                    uint64_t seed);

// Copies the samples at `indices` into xOut (B, ...) and their labels into yOut (B);
// yOut is left empty when the data set has float targets (use gatherTargets). Called
// every training step: once xOut and yOut have grown to the largest batch no further
// allocation happens. Indices must be < d.size().
void gatherBatch(const Dataset& d, std::span<const int> indices, Tensor& xOut, std::vector<int>& yOut);
// Same for float targets: yOut (B, k). Requires !d.targets.empty().
void gatherTargets(const Dataset& d, std::span<const int> indices, Tensor& yOut);

}  // namespace qat
