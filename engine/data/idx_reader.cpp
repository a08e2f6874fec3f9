#include "engine/data/idx_reader.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/data/file_io.h"

namespace qat {

namespace fs = std::filesystem;

namespace {

struct IdxArray {
  std::vector<size_t> dims;
  int type = 0;
  size_t itemSize = 0;
  const uint8_t* data = nullptr;  // points into the owning byte buffer
  size_t numel = 0;
};

const char* typeName(int type) {
  switch (type) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

std::string dimsStr(const std::vector<size_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
  return s;
}

// Validates the header against the buffer and locates the data. `what` is the path.
Expected<IdxArray> parseIdx(const Bytes& b, const std::string& what, bool compressed) {
  if (b.size() < 4 || b[0] != 0 || b[1] != 0)
    return makeError(what + ": not an IDX file (the first two bytes must be zero); expected an "
                            "MNIST-style file such as train-images-idx3-ubyte.gz.");
  IdxArray a;
  a.type = b[2];
  switch (a.type) {
    case 0x08: case 0x09: a.itemSize = 1; break;
    case 0x0B: a.itemSize = 2; break;
    case 0x0C: case 0x0D: a.itemSize = 4; break;
    case 0x0E: a.itemSize = 8; break;
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", unsigned(a.type));
      return makeError(what + ": unknown IDX data type " + hex +
                       " (magic number damaged?); the file is not a valid IDX file.");
    }
  }
  const size_t rank = b[3];
  if (rank == 0) return makeError(what + ": IDX header declares zero dimensions.");
  if (b.size() < 4 + 4 * rank)
    return makeError(what + ": IDX header is truncated (" + std::to_string(rank) + " dimensions need " +
                     std::to_string(4 + 4 * rank) + " header bytes, the file has " + std::to_string(b.size()) + ").");
  a.numel = 1;
  for (size_t i = 0; i < rank; ++i) {
    const size_t d = loadBE32(b.data() + 4 + 4 * i);
    if (d > size_t(INT_MAX)) return makeError(what + ": IDX dimension " + std::to_string(d) + " is too large.");
    a.dims.push_back(d);
    if (!mulChecked(a.numel, d, a.numel)) return makeError(what + ": IDX dimensions are too large.");
  }
  size_t expected = 0;
  if (!mulChecked(a.numel, a.itemSize, expected)) return makeError(what + ": IDX dimensions are too large.");
  const size_t headerBytes = 4 + 4 * rank;
  const size_t actual = b.size() - headerBytes;
  if (actual != expected) {
    const std::string where = compressed ? " after decompression" : "";
    std::string msg = what + ": holds " + std::to_string(actual) + " bytes of data" + where +
                      " but its header promises " + dimsStr(a.dims) + " " + typeName(a.type) + " values = " +
                      std::to_string(expected) + " bytes; ";
    msg += actual < expected ? "the file is truncated, download or install it again."
                             : "the file has trailing data and is damaged.";
    return makeError(msg);
  }
  a.data = b.data() + headerBytes;
  return a;
}

// Big-endian element i as float.
float valueAt(const IdxArray& a, size_t i) {
  const uint8_t* p = a.data + i * a.itemSize;
  switch (a.type) {
    case 0x08: return float(p[0]);
    case 0x09: return float(static_cast<int8_t>(p[0]));
    case 0x0B: return float(static_cast<int16_t>(uint16_t((p[0] << 8) | p[1])));
    case 0x0C: return float(static_cast<int32_t>(loadBE32(p)));
    case 0x0D: {
      const uint32_t u = loadBE32(p);
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    default: {
      const uint64_t u = (uint64_t(loadBE32(p)) << 32) | loadBE32(p + 4);
      double d;
      std::memcpy(&d, &u, 8);
      return float(d);
    }
  }
}

}  // namespace

Expected<Tensor> readIdxImages(const std::string& path, const Normalization& norm) {
  auto raw = readFileBytes(path);
  if (!raw) return raw.error();
  const bool compressed = isGzip(*raw);
  Bytes bytes;
  if (compressed) {
    auto un = gunzip(*raw, path);
    if (!un) return un.error();
    bytes = std::move(un).value();
    raw->clear();
    raw->shrink_to_fit();
  } else {
    bytes = std::move(raw).value();
  }
  auto a = parseIdx(bytes, path, compressed);
  if (!a) return a.error();
  if (a->dims.size() < 2 || a->dims.size() > 4)
    return makeError(path + ": an image file needs 2 to 4 dimensions (N, rows, cols[, channels]), this one has " +
                     std::to_string(a->dims.size()) + "; is it a label file?");
  std::vector<int> dims(a->dims.begin(), a->dims.end());
  if (dims.size() == 3) dims.push_back(1);  // (N, rows, cols) -> NHWC with one channel
  Tensor x;
  try {
    x = Tensor(Shape(std::move(dims)));
  } catch (const std::bad_alloc&) {
    return makeError(path + ": not enough memory for " + formatBytes(a->numel * 4) + " of images.");
  }
  float* out = x.data();
  const long long n = static_cast<long long>(a->numel);
  if (a->type == 0x08) {
    for (long long i = 0; i < n; ++i) out[i] = float(a->data[i]);
  } else {
    for (long long i = 0; i < n; ++i) out[i] = valueAt(*a, size_t(i));
  }
  QAT_TRY(applyNormalization(x, norm, path));
  return x;
}

Expected<std::vector<int>> readIdxLabels(const std::string& path) {
  auto raw = readFileBytes(path);
  if (!raw) return raw.error();
  const bool compressed = isGzip(*raw);
  Bytes bytes;
  if (compressed) {
    auto un = gunzip(*raw, path);
    if (!un) return un.error();
    bytes = std::move(un).value();
  } else {
    bytes = std::move(raw).value();
  }
  auto a = parseIdx(bytes, path, compressed);
  if (!a) return a.error();
  if (a->dims.size() != 1)
    return makeError(path + ": a label file has one dimension, this one has " + std::to_string(a->dims.size()) +
                     " (" + dimsStr(a->dims) + "); is it an image file?");
  if (a->type == 0x0D || a->type == 0x0E)
    return makeError(path + ": labels must be integers, the file holds " + std::string(typeName(a->type)) + ".");
  std::vector<int> labels(a->numel);
  for (size_t i = 0; i < a->numel; ++i) {
    const float v = valueAt(*a, i);
    if (v < 0) return makeError(path + ": label " + std::to_string(i) + " is negative (" + std::to_string(int(v)) + ").");
    labels[i] = int(v);
  }
  return labels;
}

Expected<Dataset> loadIdx(const std::string& imagesPath, const std::string& labelsPath, const Normalization& norm) {
  Dataset d;
  auto x = readIdxImages(imagesPath, norm);
  if (!x) return x.error();
  d.x = std::move(x).value();
  auto y = readIdxLabels(labelsPath);
  if (!y) return y.error();
  if (y->size() != d.size())
    return makeError(labelsPath + ": has " + std::to_string(y->size()) + " labels but " + imagesPath + " has " +
                     std::to_string(d.size()) + " images; use the label file that belongs to the image file.");
  if (d.size() == 0) return makeError(imagesPath + ": contains no images.");
  d.labels = std::move(y).value();
  int maxLabel = 0;
  for (int l : d.labels) maxLabel = std::max(maxLabel, l);
  d.numClasses = maxLabel + 1;
  d.source = imagesPath + ", " + labelsPath;
  return d;
}

const std::vector<std::string>& fashionMnistClassNames() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

Expected<Dataset> loadFashionMnist(const std::string& dir, bool train, const Normalization& norm) {
  const std::string install = "install it with `sudo apt install dataset-fashion-mnist` (it goes to "
                              "/usr/share/datasets/fashion-mnist).";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return makeError("Fashion-MNIST folder " + dir + " does not exist; " + install);
  const std::string prefix = train ? "train" : "t10k";
  // Prefer the .gz files the package ships; accept uncompressed copies too.
  auto find = [&](const std::string& stem) -> Expected<std::string> {
    for (const std::string& name : {stem + ".gz", stem}) {
      const fs::path p = fs::path(dir) / name;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
    return makeError("Fashion-MNIST file " + (fs::path(dir) / (stem + ".gz")).string() + " is missing; " + install);
  };
  auto images = find(prefix + "-images-idx3-ubyte");
  if (!images) return images.error();
  auto labels = find(prefix + "-labels-idx1-ubyte");
  if (!labels) return labels.error();
  auto d = loadIdx(*images, *labels, norm);
  if (!d) return d.error();
  if (d->numClasses > 10)
    return makeError(*labels + ": Fashion-MNIST labels must be 0..9, found " + std::to_string(d->numClasses - 1) + ".");
  d->numClasses = 10;
  d->classNames = fashionMnistClassNames();
  return d;
}

}  // namespace qat
