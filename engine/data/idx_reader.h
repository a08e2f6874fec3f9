#pragma once
// IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed (detected by the
// gzip magic, not the file name).
//
// Layout, all big-endian: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16,
// 0x0C int32, 0x0D float32, 0x0E float64), a rank byte, one uint32 per dimension, then
// the values in row-major order. The file must hold exactly the bytes the header
// promises; anything else is reported with the expected and actual byte counts.
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace qat {

// Images: rank 3 (N, rows, cols) becomes (N, rows, cols, 1) NHWC; rank 4 is kept;
// rank 2 (N, features) is kept. Values are normalised with `norm`.
Expected<Tensor> readIdxImages(const std::string& path, const Normalization& norm);

// Labels: rank 1, integer type, values >= 0.
Expected<std::vector<int>> readIdxLabels(const std::string& path);

// Images + labels; the counts must match.
Expected<Dataset> loadIdx(const std::string& imagesPath, const std::string& labelsPath,
                          const Normalization& norm);

// Fashion-MNIST from `dir` (normally QAT_FASHION_MNIST_DIR, where the Debian package
// dataset-fashion-mnist installs it) with the standard file names
// {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]. Sets the ten class names.
Expected<Dataset> loadFashionMnist(const std::string& dir, bool train, const Normalization& norm);

// "T-shirt/top", "Trouser", ..., "Ankle boot" (label order).
const std::vector<std::string>& fashionMnistClassNames();

}  // namespace qat
