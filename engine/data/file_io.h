#pragma once
// Byte-level helpers shared by the data set readers: whole-file reads, gzip and raw
// deflate decompression (zlib), atomic writes, and bounds-checked little/big-endian
// integer decoding. Every function that touches a file returns an Error that names it.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace qat {

using Bytes = std::vector<uint8_t>;

// Whole file into memory. Errors: missing file, directory, read failure.
Expected<Bytes> readFileBytes(const std::string& path);

// gzip magic 1f 8b.
bool isGzip(std::span<const uint8_t> bytes);

// Decompresses a gzip stream (several concatenated members allowed). A stream that ends
// before its trailer is reported as truncated; `what` names the file in messages.
Expected<Bytes> gunzip(std::span<const uint8_t> bytes, const std::string& what);

// readFileBytes, then gunzip when the content starts with the gzip magic (the file
// name does not matter: train-images-idx3-ubyte may or may not be compressed).
Expected<Bytes> readMaybeGzip(const std::string& path);

// Raw deflate (no zlib/gzip header, windowBits -15) as used in zip members; the output
// must be exactly `expectedSize` bytes.
Expected<Bytes> inflateRaw(std::span<const uint8_t> compressed, size_t expectedSize,
                           const std::string& what);

// A fresh, hidden file name in the same folder as `path` (".name.tmp-<random>-<n>"), so a
// final rename over `path` stays on one file system. Unique within the process.
std::string temporaryPathNextTo(const std::string& path);

// Writes to a temporary file next to `path`, then renames it over `path`, so readers
// never see a half-written file and a failed write leaves the old file untouched.
Status writeFileAtomic(const std::string& path, std::span<const uint8_t> bytes);

// "1.5 MB"-style size for messages.
std::string formatBytes(uint64_t n);

// Bounds are checked by the caller; these only assemble bytes.
inline uint16_t loadLE16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
inline uint32_t loadLE32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline uint64_t loadLE64(const uint8_t* p) {
  return uint64_t(loadLE32(p)) | (uint64_t(loadLE32(p + 4)) << 32);
}
inline uint32_t loadBE32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// a * b into `out`; false on size_t overflow (sizes come from untrusted headers).
inline bool mulChecked(size_t a, size_t b, size_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

}  // namespace qat
