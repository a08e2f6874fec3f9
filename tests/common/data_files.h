#pragma once
// Writers for the test fixtures of the data set readers: every file a data test reads is
// made here at run time (IDX, gzip, .npy with any header, zip/.npz with stored and
// deflated members), independently of the engine's own writers. No Qt needed.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace qat::test {

using Bytes = std::vector<uint8_t>;

inline bool writeBytes(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return bool(f);
}

// resize + memcpy rather than insert(string iterators): GCC 12 reports a false
// -Wstringop-overflow for the latter.
inline void appendStr(Bytes& b, const std::string& s) {
  const size_t at = b.size();
  b.resize(at + s.size());
  if (!s.empty()) std::memcpy(b.data() + at, s.data(), s.size());
}
inline Bytes toBytes(const std::string& s) {
  Bytes b;
  appendStr(b, s);
  return b;
}

// windowBits 31 = gzip wrapper, -15 = raw deflate (zip members).
inline Bytes deflateWith(const Bytes& in, int windowBits) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&zs, uLong(in.size())) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uInt(in.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
inline Bytes gzipBytes(const Bytes& in) { return deflateWith(in, 31); }
inline Bytes rawDeflate(const Bytes& in) { return deflateWith(in, -15); }

inline void putBE32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}
inline void putLE(Bytes& b, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

// IDX file: 0, 0, type, rank, big-endian dims, payload as given.
inline Bytes idxBytes(uint8_t type, const std::vector<uint32_t>& dims, const Bytes& payload) {
  Bytes b = {0, 0, type, uint8_t(dims.size())};
  for (uint32_t d : dims) putBE32(b, d);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

// .npy with a literal header dict (padded to 64 bytes like numpy) and raw payload.
inline Bytes npyBytes(const std::string& dict, const Bytes& payload, int major = 1) {
  const size_t pre = major == 1 ? 10 : 12;
  std::string h = dict;
  while ((pre + h.size() + 1) % 64) h += ' ';
  h += '\n';
  Bytes b = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(major), 0};
  putLE(b, h.size(), major == 1 ? 2 : 4);
  appendStr(b, h);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

template <class T>
Bytes rawLE(const std::vector<T>& v) {
  Bytes b(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

struct ZipMember {
  std::string name;
  Bytes data;
  bool deflate = false;
  // Like numpy.savez (Python's zipfile with force_zip64): the local header carries
  // 0xFFFFFFFF sizes and a zip64 extra field; the central directory has the real sizes.
  bool zip64Local = false;
};

inline Bytes makeZip(const std::vector<ZipMember>& members) {
  Bytes z, cd;
  for (const ZipMember& m : members) {
    const Bytes packed = m.deflate ? rawDeflate(m.data) : m.data;
    const uint32_t crc = uint32_t(crc32(0L, m.data.data(), uInt(m.data.size())));
    const uint16_t method = m.deflate ? 8 : 0;
    const uint32_t offset = uint32_t(z.size());
    putLE(z, 0x04034b50, 4);
    putLE(z, 45, 2);  // version needed
    putLE(z, 0, 2);   // flags
    putLE(z, method, 2);
    putLE(z, 0, 4);   // time, date
    putLE(z, crc, 4);
    putLE(z, m.zip64Local ? 0xFFFFFFFFu : packed.size(), 4);
    putLE(z, m.zip64Local ? 0xFFFFFFFFu : m.data.size(), 4);
    putLE(z, m.name.size(), 2);
    putLE(z, m.zip64Local ? 20 : 0, 2);
    appendStr(z, m.name);
    if (m.zip64Local) {
      putLE(z, 1, 2);
      putLE(z, 16, 2);
      putLE(z, m.data.size(), 8);
      putLE(z, packed.size(), 8);
    }
    z.insert(z.end(), packed.begin(), packed.end());

    putLE(cd, 0x02014b50, 4);
    putLE(cd, 45, 2);
    putLE(cd, 45, 2);
    putLE(cd, 0, 2);
    putLE(cd, method, 2);
    putLE(cd, 0, 4);
    putLE(cd, crc, 4);
    putLE(cd, packed.size(), 4);
    putLE(cd, m.data.size(), 4);
    putLE(cd, m.name.size(), 2);
    putLE(cd, 0, 2);  // extra
    putLE(cd, 0, 2);  // comment
    putLE(cd, 0, 2);  // disk
    putLE(cd, 0, 2);  // internal attributes
    putLE(cd, 0, 4);  // external attributes
    putLE(cd, offset, 4);
    appendStr(cd, m.name);
  }
  const uint32_t cdOffset = uint32_t(z.size());
  z.insert(z.end(), cd.begin(), cd.end());
  putLE(z, 0x06054b50, 4);
  putLE(z, 0, 4);
  putLE(z, members.size(), 2);
  putLE(z, members.size(), 2);
  putLE(z, cd.size(), 4);
  putLE(z, cdOffset, 4);
  putLE(z, 0, 2);
  return z;
}

}  // namespace qat::test
