#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0), read into float tensors, and a
// float32 writer (qat-cli predict --output y.npy).
//
// Layout: "\x93NUMPY", major, minor, header length (uint16 LE in 1.0, uint32 LE in
// 2.0/3.0), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces and '\n', then the raw array bytes in C (row-major) order.
// Readable dtypes: <f4 <f8 |u1 |i1 <i2 <u2 <i4 <u4 <i8 <u8 |b1. Big-endian data and
// Fortran order (for rank > 1) are rejected with a message saying how to convert.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"
#include "engine/data/file_io.h"

namespace qat {

struct NpyArray {
  Tensor values;           // converted to float32, same shape as stored
  bool isInteger = false;  // the file held an integer or bool dtype
  std::string dtype;       // as written in the header, e.g. "<f4", "|u1"
};

// Parses a complete .npy image held in memory (a file or an .npz member). `what` names
// it in messages ("data.npz:x_train.npy").
Expected<NpyArray> parseNpy(std::span<const uint8_t> bytes, const std::string& what);

Expected<NpyArray> readNpyArray(const std::string& path);
Expected<Tensor> readNpy(const std::string& path);
// Integer class labels: integer dtypes, or floats holding whole numbers; shape (N) or (N, 1).
Expected<std::vector<int>> readNpyLabels(const std::string& path);
// Same conversion for an array already parsed (used by the .npz reader).
Expected<std::vector<int>> npyToLabels(const NpyArray& a, const std::string& what);

// The .npy bytes of a float32 tensor ('<f4', C order, version 1.0; header padded so the
// data starts on a 64-byte boundary like numpy does).
Bytes encodeNpy(const Tensor& t);
// encodeNpy + writeFileAtomic.
Status writeNpy(const std::string& path, const Tensor& t);

// x from xPath (normalised with `norm`), y from yPath turned into labels or targets.
Expected<Dataset> loadNpyDataset(const std::string& xPath, const std::string& yPath,
                                 const Normalization& norm, TargetKind kind = TargetKind::Auto);

}  // namespace qat
