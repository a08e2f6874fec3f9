#include "engine/data/npy.h"

#include <bit>
#include <climits>
#include <cmath>
#include <cstring>

namespace qat {

static_assert(std::endian::native == std::endian::little,
              "the NPY reader decodes '<' data by memcpy and assumes a little-endian host");

namespace {

constexpr uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<size_t> shape;
  bool haveDescr = false, haveOrder = false, haveShape = false;
};

// Parser for the header's Python dict literal. Only what numpy writes is accepted:
// string keys; values that are strings, True/False, or tuples of non-negative ints.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& what) : s_(s), what_(what) {}

  Expected<NpyHeader> parse() {
    NpyHeader h;
    skipWs();
    if (!eat('{')) return fail("expected '{'");
    for (;;) {
      skipWs();
      if (eat('}')) break;
      auto key = parseString();
      if (!key) return key.error();
      skipWs();
      if (!eat(':')) return fail("expected ':' after '" + *key + "'");
      skipWs();
      if (*key == "descr") {
        if (peek() == '[')
          return makeError(what_ + ": structured (record) dtypes are not supported; save plain "
                                   "numeric arrays, one per field.");
        auto v = parseString();
        if (!v) return v.error();
        h.descr = *v;
        h.haveDescr = true;
      } else if (*key == "fortran_order") {
        if (s_.substr(pos_, 4) == "True") h.fortranOrder = true, pos_ += 4;
        else if (s_.substr(pos_, 5) == "False") h.fortranOrder = false, pos_ += 5;
        else return fail("fortran_order must be True or False");
        h.haveOrder = true;
      } else if (*key == "shape") {
        auto v = parseShape();
        if (!v) return v.error();
        h.shape = std::move(v).value();
        h.haveShape = true;
      } else {
        return fail("unknown key '" + *key + "'");
      }
      skipWs();
      if (eat(',')) continue;
      skipWs();
      if (eat('}')) break;
      return fail("expected ',' or '}'");
    }
    if (!h.haveDescr || !h.haveOrder || !h.haveShape)
      return makeError(what_ + ": NPY header lacks " +
                       std::string(!h.haveDescr ? "'descr'" : !h.haveOrder ? "'fortran_order'" : "'shape'") +
                       "; the file is damaged or not written by numpy.save.");
    return h;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void skipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r'))
      ++pos_;
  }
  Error fail(const std::string& msg) const {
    std::string near(s_.substr(pos_, 16));
    for (char& c : near)
      if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
    return makeError(what_ + ": malformed NPY header at character " + std::to_string(pos_) + " (near '" +
                     near + "'): " + msg + "; the file is damaged or not a numpy .npy file.");
  }
  Expected<std::string> parseString() {
    const char q = peek();
    if (q != '\'' && q != '"') return fail("expected a quoted string");
    ++pos_;
    const size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) return fail("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  Expected<std::vector<size_t>> parseShape() {
    if (!eat('(')) return fail("shape must be a tuple");
    std::vector<size_t> dims;
    for (;;) {
      skipWs();
      if (eat(')')) break;
      if (peek() < '0' || peek() > '9') return fail("shape entries must be non-negative integers");
      size_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (v > (size_t(INT_MAX) - 9) / 10) return fail("shape entry is too large");
        v = v * 10 + size_t(peek() - '0');
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix
      dims.push_back(v);
      skipWs();
      if (eat(',')) continue;
      skipWs();
      if (eat(')')) break;
      return fail("expected ',' or ')' in shape");
    }
    return dims;
  }

  std::string_view s_;
  const std::string& what_;
  size_t pos_ = 0;
};

// Converts n little-endian elements of type T at p to float (memcpy per element: the
// data offset need not be aligned).
template <class T>
void convertLE(const uint8_t* p, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

std::string shapeStr(const std::vector<size_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

}  // namespace

Expected<NpyArray> parseNpy(std::span<const uint8_t> bytes, const std::string& what) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0)
    return makeError(what + ": not a NumPy .npy file (missing the \\x93NUMPY magic); save arrays "
                            "with numpy.save.");
  const int major = bytes[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = loadLE16(bytes.data() + 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return makeError(what + ": NPY header is truncated.");
    headerLen = loadLE32(bytes.data() + 8);
    headerStart = 12;
  } else {
    return makeError(what + ": NPY format version " + std::to_string(major) + "." +
                     std::to_string(bytes[7]) + " is not supported (1.0, 2.0 and 3.0 are).");
  }
  if (headerLen > bytes.size() - headerStart)
    return makeError(what + ": NPY header claims " + std::to_string(headerLen) + " bytes but the file has only " +
                     std::to_string(bytes.size() - headerStart) + " after the preamble; the file is truncated.");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + headerStart), headerLen);
  auto header = HeaderParser(text, what).parse();
  if (!header) return header.error();
  const NpyHeader& h = *header;

  // descr: byte order, kind, item size, e.g. "<f4".
  const std::string& d = h.descr;
  if (d.size() < 2 || (d[0] != '<' && d[0] != '>' && d[0] != '|' && d[0] != '='))
    return makeError(what + ": dtype '" + d + "' is not supported; use float32, float64, uint8, int32 or int64.");
  const char kind = d[1];
  const std::string sizeStr = d.substr(2);
  const int itemSize = sizeStr == "1" ? 1 : sizeStr == "2" ? 2 : sizeStr == "4" ? 4 : sizeStr == "8" ? 8 : 0;
  const bool known = (kind == 'f' && (itemSize == 4 || itemSize == 8)) ||
                     ((kind == 'i' || kind == 'u') && itemSize != 0) || (kind == 'b' && itemSize == 1);
  if (!known) {
    std::string hint = kind == 'O' ? " (pickled Python objects)" : kind == 'f' && itemSize == 2 ? " (float16)" : "";
    return makeError(what + ": dtype '" + d + "'" + hint +
                     " is not supported; convert with a.astype('float32') before saving.");
  }
  if (d[0] == '>' && itemSize > 1)
    return makeError(what + ": data is big-endian ('" + d + "'); convert with a.astype('<" + d.substr(1) +
                     "') before saving.");
  if (h.fortranOrder && h.shape.size() > 1)
    return makeError(what + ": array is stored in Fortran (column-major) order; save "
                            "numpy.ascontiguousarray(a) instead.");

  size_t numel = 1, dataBytes = 0;
  for (size_t dim : h.shape)
    if (!mulChecked(numel, dim, numel)) return makeError(what + ": shape " + shapeStr(h.shape) + " is too large.");
  if (!mulChecked(numel, size_t(itemSize), dataBytes))
    return makeError(what + ": shape " + shapeStr(h.shape) + " is too large.");
  const size_t offset = headerStart + headerLen;
  const size_t have = bytes.size() - offset;
  if (have < dataBytes)
    return makeError(what + ": data is truncated: shape " + shapeStr(h.shape) + " of '" + d + "' needs " +
                     std::to_string(dataBytes) + " bytes but only " + std::to_string(have) +
                     " follow the header; the file was cut short, save it again.");
  if (have > dataBytes)
    return makeError(what + ": " + std::to_string(have - dataBytes) + " unexpected bytes after the " +
                     std::to_string(dataBytes) + " bytes of shape " + shapeStr(h.shape) +
                     "; the header does not describe the data, the file is damaged.");

  NpyArray a;
  a.dtype = d;
  a.isInteger = kind != 'f';
  std::vector<int> dims(h.shape.begin(), h.shape.end());
  try {
    a.values = Tensor(Shape(std::move(dims)));
  } catch (const std::bad_alloc&) {
    return makeError(what + ": not enough memory for " + formatBytes(numel * 4) + " of float data.");
  }
  const uint8_t* p = bytes.data() + offset;
  float* out = a.values.data();
  if (kind == 'f' && itemSize == 4) std::memcpy(out, p, dataBytes);
  else if (kind == 'f') convertLE<double>(p, numel, out);
  else if (kind == 'b') for (size_t i = 0; i < numel; ++i) out[i] = p[i] ? 1.0f : 0.0f;
  else if (kind == 'u' && itemSize == 1) convertLE<uint8_t>(p, numel, out);
  else if (kind == 'u' && itemSize == 2) convertLE<uint16_t>(p, numel, out);
  else if (kind == 'u' && itemSize == 4) convertLE<uint32_t>(p, numel, out);
  else if (kind == 'u') convertLE<uint64_t>(p, numel, out);
  else if (itemSize == 1) convertLE<int8_t>(p, numel, out);
  else if (itemSize == 2) convertLE<int16_t>(p, numel, out);
  else if (itemSize == 4) convertLE<int32_t>(p, numel, out);
  else convertLE<int64_t>(p, numel, out);
  return a;
}

Expected<NpyArray> readNpyArray(const std::string& path) {
  auto bytes = readFileBytes(path);
  if (!bytes) return bytes.error();
  return parseNpy(*bytes, path);
}

Expected<Tensor> readNpy(const std::string& path) {
  auto a = readNpyArray(path);
  if (!a) return a.error();
  return std::move(a->values);
}

Expected<std::vector<int>> npyToLabels(const NpyArray& a, const std::string& what) {
  Dataset probe;  // assignTargets does the shape and whole-number checks
  probe.x = Tensor(Shape{a.values.rank() == 0 ? 0 : a.values.dim(0)});
  QAT_TRY(assignTargets(probe, a.values, a.isInteger, TargetKind::ClassIndex, what));
  return std::move(probe.labels);
}

Expected<std::vector<int>> readNpyLabels(const std::string& path) {
  auto a = readNpyArray(path);
  if (!a) return a.error();
  return npyToLabels(*a, path);
}

Bytes encodeNpy(const Tensor& t) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < t.rank(); ++i) header += (i ? ", " : "") + std::to_string(t.dim(i));
  header += t.rank() == 1 ? ",), }" : "), }";
  // Pad with spaces and end with '\n' so preamble + header is a multiple of 64 bytes.
  const bool v2 = header.size() + 11 > 65535;
  const size_t preamble = v2 ? 12 : 10;
  const size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header += '\n';

  Bytes out(total + t.size() * sizeof(float));
  std::memcpy(out.data(), kMagic, 6);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  const uint32_t len = static_cast<uint32_t>(header.size());
  for (size_t i = 0; i < (v2 ? 4u : 2u); ++i) out[8 + i] = uint8_t(len >> (8 * i));
  std::memcpy(out.data() + preamble, header.data(), header.size());
  if (t.size()) std::memcpy(out.data() + total, t.data(), t.size() * sizeof(float));
  return out;
}

Status writeNpy(const std::string& path, const Tensor& t) {
  if (t.size() != t.shape().numel() || t.rank() == 0)
    return makeError(path + ": nothing to write (the tensor is empty).");
  const Bytes bytes = encodeNpy(t);
  return writeFileAtomic(path, bytes);
}

Expected<Dataset> loadNpyDataset(const std::string& xPath, const std::string& yPath,
                                 const Normalization& norm, TargetKind kind) {
  Dataset d;
  {
    auto x = readNpyArray(xPath);
    if (!x) return x.error();
    if (x->values.rank() < 1 || x->values.dim(0) == 0)
      return makeError(xPath + ": x must have a sample axis with at least one sample, got shape " +
                       x->values.shape().str() + ".");
    d.x = std::move(x->values);
  }
  QAT_TRY(applyNormalization(d.x, norm, xPath));
  auto y = readNpyArray(yPath);
  if (!y) return y.error();
  QAT_TRY(assignTargets(d, y->values, y->isInteger, kind, yPath));
  d.source = xPath + ", " + yPath;
  QAT_TRY(validateDataset(d));
  return d;
}

}  // namespace qat
