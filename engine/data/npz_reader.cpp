#include "engine/data/npz_reader.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/data/file_io.h"

namespace qat {

namespace {

constexpr uint32_t kEocdSig = 0x06054b50;         // end of central directory
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kLocalSig = 0x04034b50;
constexpr size_t kEocdSize = 22, kCentralSize = 46, kLocalSize = 30;

// Reads `n` bytes at `offset`; false when the file is shorter.
bool readAt(std::ifstream& f, uint64_t offset, size_t n, Bytes& out) {
  out.resize(n);
  f.clear();
  f.seekg(static_cast<std::streamoff>(offset));
  if (!f) return false;
  f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
  return static_cast<size_t>(f.gcount()) == n;
}

std::string stripNpy(const std::string& s) {
  return s.size() > 4 && s.compare(s.size() - 4, 4, ".npy") == 0 ? s.substr(0, s.size() - 4) : s;
}

}  // namespace

Expected<NpzArchive> NpzArchive::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return makeError(path + ": file not found; check the path.");
  NpzArchive z;
  z.path_ = path;
  z.fileSize_ = std::filesystem::file_size(path, ec);
  if (ec) return makeError(path + ": cannot determine the file size (" + ec.message() + ").");
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(path + ": cannot open for reading; check the file permissions.");
  const std::string notZip = path + ": not an .npz (zip) archive";

  // The EOCD record sits at the end, followed by a comment of up to 65535 bytes.
  const size_t tailSize = size_t(std::min<uint64_t>(z.fileSize_, kEocdSize + 65535 + 20));
  Bytes tail;
  if (tailSize < kEocdSize || !readAt(f, z.fileSize_ - tailSize, tailSize, tail))
    return makeError(notZip + " (too short); save arrays with numpy.savez.");
  size_t eocd = SIZE_MAX;
  for (size_t i = tailSize - kEocdSize + 1; i-- > 0;) {
    if (loadLE32(&tail[i]) == kEocdSig && i + kEocdSize + loadLE16(&tail[i + 20]) == tailSize) {
      eocd = i;
      break;
    }
  }
  if (eocd == SIZE_MAX) return makeError(notZip + " (no zip directory found); the file is damaged or not an .npz.");
  uint64_t count = loadLE16(&tail[eocd + 10]);
  uint64_t cdSize = loadLE32(&tail[eocd + 12]);
  uint64_t cdOffset = loadLE32(&tail[eocd + 16]);
  // zip64: a locator right before the EOCD points at the 64-bit directory record.
  if (eocd >= 20 && loadLE32(&tail[eocd - 20]) == kZip64LocatorSig) {
    const uint64_t z64 = loadLE64(&tail[eocd - 20 + 8]);
    Bytes rec;
    if (z64 > z.fileSize_ || !readAt(f, z64, 56, rec) || loadLE32(rec.data()) != kZip64EocdSig)
      return makeError(path + ": damaged zip64 directory record; the archive is corrupt.");
    count = loadLE64(&rec[32]);
    cdSize = loadLE64(&rec[40]);
    cdOffset = loadLE64(&rec[48]);
  }
  if (cdOffset > z.fileSize_ || cdSize > z.fileSize_ - cdOffset || count > cdSize / kCentralSize)
    return makeError(path + ": zip directory points outside the file (" + std::to_string(count) +
                     " entries at offset " + std::to_string(cdOffset) + "); the archive is truncated or corrupt.");
  Bytes cd;
  if (!readAt(f, cdOffset, size_t(cdSize), cd)) return makeError(path + ": cannot read the zip directory.");

  size_t pos = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (pos + kCentralSize > cd.size() || loadLE32(&cd[pos]) != kCentralSig)
      return makeError(path + ": zip directory entry " + std::to_string(i) + " is damaged; the archive is corrupt.");
    const uint8_t* h = &cd[pos];
    Entry e;
    e.flags = loadLE16(h + 8);
    e.method = loadLE16(h + 10);
    e.crc = loadLE32(h + 16);
    e.compressedSize = loadLE32(h + 20);
    e.size = loadLE32(h + 24);
    const size_t nameLen = loadLE16(h + 28), extraLen = loadLE16(h + 30), commentLen = loadLE16(h + 32);
    e.localHeaderOffset = loadLE32(h + 42);
    if (pos + kCentralSize + nameLen + extraLen + commentLen > cd.size())
      return makeError(path + ": zip directory entry " + std::to_string(i) + " overruns the directory.");
    e.name.assign(reinterpret_cast<const char*>(h + kCentralSize), nameLen);
    // zip64 extra field (id 1): 64-bit values for exactly those 32-bit fields that are
    // 0xFFFFFFFF, in the order size, compressed size, local header offset.
    const uint8_t* x = h + kCentralSize + nameLen;
    for (size_t k = 0; k + 4 <= extraLen;) {
      const uint16_t id = loadLE16(x + k), len = loadLE16(x + k + 2);
      if (k + 4 + len > extraLen) break;
      if (id == 1) {
        size_t q = k + 4;
        auto take64 = [&](uint64_t& field) {
          if (field != 0xFFFFFFFFu) return;
          if (q + 8 <= k + 4 + len) field = loadLE64(x + q), q += 8;
        };
        take64(e.size);
        take64(e.compressedSize);
        take64(e.localHeaderOffset);
      }
      k += 4 + len;
    }
    pos += kCentralSize + nameLen + extraLen + commentLen;
    if (!e.name.empty() && e.name.back() != '/') z.entries_.push_back(std::move(e));
  }
  return z;
}

std::vector<std::string> NpzArchive::arrayNames() const {
  std::vector<std::string> names;
  for (const Entry& e : entries_) names.push_back(stripNpy(e.name));
  return names;
}

Expected<NpyArray> NpzArchive::read(const std::string& name) const {
  const std::string want = stripNpy(name);
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return stripNpy(e.name) == want; });
  if (it == entries_.end()) {
    std::string list;
    for (const std::string& n : arrayNames()) list += (list.empty() ? "" : ", ") + n;
    return makeError(path_ + ": no array named '" + want + "'; the archive holds: " +
                     (list.empty() ? std::string("(nothing)") : list) + ".");
  }
  const Entry& e = *it;
  const std::string what = path_ + ":" + e.name;
  if (e.flags & 1) return makeError(what + ": member is encrypted; save the archive without a password.");
  if (e.method != 0 && e.method != 8)
    return makeError(what + ": zip compression method " + std::to_string(e.method) +
                     " is not supported (stored and deflate are; numpy.savez/savez_compressed write those).");
  std::ifstream f(path_, std::ios::binary);
  if (!f) return makeError(path_ + ": cannot open for reading.");
  Bytes local;
  if (e.localHeaderOffset > fileSize_ || !readAt(f, e.localHeaderOffset, kLocalSize, local) ||
      loadLE32(local.data()) != kLocalSig)
    return makeError(what + ": damaged local zip header; the archive is corrupt.");
  // Sizes come from the directory: numpy's zip64 local headers carry 0xFFFFFFFF there.
  const uint64_t dataStart = e.localHeaderOffset + kLocalSize + loadLE16(&local[26]) + loadLE16(&local[28]);
  if (dataStart > fileSize_ || e.compressedSize > fileSize_ - dataStart)
    return makeError(what + ": member data runs past the end of the file (" + std::to_string(e.compressedSize) +
                     " bytes at offset " + std::to_string(dataStart) + ", file is " + std::to_string(fileSize_) +
                     " bytes); the archive is truncated.");
  // Deflate expands at most ~1032:1, so a larger claimed size is a damaged directory,
  // caught here before it turns into a huge allocation.
  if (e.method == 8 && e.size / 1032 > e.compressedSize + 1)
    return makeError(what + ": directory claims " + std::to_string(e.size) + " bytes from " +
                     std::to_string(e.compressedSize) + " compressed bytes, which deflate cannot produce; the "
                     "archive is corrupt.");
  if (e.method == 0 && e.compressedSize != e.size)
    return makeError(what + ": stored member has different stored and original sizes; the archive is corrupt.");
  Bytes packed;
  try {
    if (!readAt(f, dataStart, size_t(e.compressedSize), packed)) return makeError(what + ": read error.");
  } catch (const std::bad_alloc&) {
    return makeError(what + ": not enough memory for " + formatBytes(e.compressedSize) + ".");
  }
  Bytes data;
  if (e.method == 8) {
    auto un = inflateRaw(packed, size_t(e.size), what);
    if (!un) return un.error();
    data = std::move(un).value();
  } else {
    data = std::move(packed);
  }
  const uint32_t crc = static_cast<uint32_t>(crc32_z(0L, data.data(), data.size()));
  if (crc != e.crc)
    return makeError(what + ": CRC-32 mismatch (data is corrupt); save or download the archive again.");
  return parseNpy(data, what);
}

Expected<Dataset> loadNpzDataset(const std::string& path, const std::string& xName, const std::string& yName,
                                 const Normalization& norm, TargetKind kind) {
  auto z = NpzArchive::open(path);
  if (!z) return z.error();
  Dataset d;
  {
    auto x = z->read(xName);
    if (!x) return x.error();
    if (x->values.rank() < 1 || x->values.dim(0) == 0)
      return makeError(path + ": array '" + xName + "' must have a sample axis with at least one sample, got shape " +
                       x->values.shape().str() + ".");
    d.x = std::move(x->values);
  }
  QAT_TRY(applyNormalization(d.x, norm, path + ":" + xName));
  auto y = z->read(yName);
  if (!y) return y.error();
  QAT_TRY(assignTargets(d, y->values, y->isInteger, kind, path + ":" + yName));
  d.source = path + " [" + xName + ", " + yName + "]";
  QAT_TRY(validateDataset(d));
  return d;
}

}  // namespace qat
