#include "engine/data/file_io.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <system_error>

namespace qat {

namespace fs = std::filesystem;

namespace {

// Closes a FILE* on every path.
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// zlib counts in 32-bit uInt; feed and drain it in chunks no larger than this.
constexpr size_t kZlibChunk = size_t(1) << 30;

}  // namespace

std::string formatBytes(uint64_t n) {
  char buf[64];
  if (n < 1024)
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  else if (n < (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.1f KB", double(n) / 1024.0);
  else if (n < (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.1f MB", double(n) / (1024.0 * 1024.0));
  else
    std::snprintf(buf, sizeof buf, "%.2f GB", double(n) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

Expected<Bytes> readFileBytes(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return makeError(path + ": file not found; check the path.");
  if (fs::is_directory(st)) return makeError(path + ": is a directory, expected a file.");
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return makeError(path + ": cannot determine the file size (" + ec.message() + ").");
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f)
    return makeError(path + ": cannot open for reading (" + std::strerror(errno) +
                     "); check the file permissions.");
  Bytes bytes;
  try {
    bytes.resize(static_cast<size_t>(size));
  } catch (const std::bad_alloc&) {
    return makeError(path + ": not enough memory to read " + formatBytes(size) + ".");
  }
  const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f.get());
  if (got != bytes.size())
    return makeError(path + ": read only " + std::to_string(got) + " of " +
                     std::to_string(bytes.size()) + " bytes (I/O error or file changed while reading).");
  return bytes;
}

bool isGzip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

Expected<Bytes> gunzip(std::span<const uint8_t> in, const std::string& what) {
  // The gzip trailer's last 4 bytes hold the uncompressed size mod 2^32: a good first
  // guess for the output buffer, capped because a damaged file can claim anything.
  size_t guess = in.size() * 4;
  if (in.size() >= 18) guess = std::max<size_t>(guess, loadLE32(in.data() + in.size() - 4));
  guess = std::min(guess, std::max<size_t>(in.size() * 1100, 1 << 16));
  guess = std::max<size_t>(guess, 1 << 16);

  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)  // 16+: expect a gzip header
    return makeError(what + ": zlib could not be initialised.");
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&zs};

  Bytes out;
  try {
    out.resize(guess);
  } catch (const std::bad_alloc&) {
    return makeError(what + ": not enough memory to decompress.");
  }
  size_t inPos = 0, outPos = 0;
  for (;;) {
    if (outPos == out.size()) {
      try {
        out.resize(out.size() * 2);
      } catch (const std::bad_alloc&) {
        return makeError(what + ": not enough memory to decompress (" +
                         formatBytes(outPos) + " so far).");
      }
    }
    const size_t inChunk = std::min(in.size() - inPos, kZlibChunk);
    const size_t outChunk = std::min(out.size() - outPos, kZlibChunk);
    zs.next_in = const_cast<Bytef*>(in.data() + inPos);
    zs.avail_in = static_cast<uInt>(inChunk);
    zs.next_out = out.data() + outPos;
    zs.avail_out = static_cast<uInt>(outChunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    inPos += inChunk - zs.avail_in;
    outPos += outChunk - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are one stream by the gzip spec; anything else after
      // the trailer (padding) is ignored like gzip(1) does.
      if (in.size() - inPos >= 2 && isGzip(in.subspan(inPos))) {
        inflateReset(&zs);
        continue;
      }
      break;
    }
    if (rc == Z_DATA_ERROR)
      return makeError(what + ": corrupt gzip data (" + (zs.msg ? zs.msg : "invalid deflate stream") +
                       " after " + std::to_string(outPos) + " decompressed bytes); re-download the file.");
    if (rc == Z_MEM_ERROR) return makeError(what + ": out of memory while decompressing.");
    if (rc == Z_BUF_ERROR || rc == Z_OK) {
      if (inPos == in.size() && zs.avail_out != 0)
        return makeError(what + ": gzip data is truncated (the stream ends after " +
                         std::to_string(outPos) + " decompressed bytes without its end marker); "
                         "the download or copy was incomplete, fetch the file again.");
      continue;  // output full or more input to feed
    }
    return makeError(what + ": gzip decompression failed (zlib error " + std::to_string(rc) + ").");
  }
  out.resize(outPos);
  return out;
}

Expected<Bytes> readMaybeGzip(const std::string& path) {
  auto raw = readFileBytes(path);
  if (!raw) return raw.error();
  if (!isGzip(*raw)) return std::move(raw).value();
  return gunzip(*raw, path);
}

Expected<Bytes> inflateRaw(std::span<const uint8_t> in, size_t expectedSize, const std::string& what) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return makeError(what + ": zlib could not be initialised.");
  struct Guard {
    z_stream* z;
    ~Guard() { inflateEnd(z); }
  } guard{&zs};
  Bytes out;
  try {
    out.resize(expectedSize);
  } catch (const std::bad_alloc&) {
    return makeError(what + ": not enough memory for " + formatBytes(expectedSize) + ".");
  }
  size_t inPos = 0, outPos = 0;
  // One spare byte of output room lets us notice a stream longer than promised.
  uint8_t spare = 0;
  for (;;) {
    const size_t inChunk = std::min(in.size() - inPos, kZlibChunk);
    zs.next_in = const_cast<Bytef*>(in.data() + inPos);
    zs.avail_in = static_cast<uInt>(inChunk);
    size_t outChunk;
    if (outPos < out.size()) {
      outChunk = std::min(out.size() - outPos, kZlibChunk);
      zs.next_out = out.data() + outPos;
    } else {
      outChunk = 1;
      zs.next_out = &spare;
    }
    zs.avail_out = static_cast<uInt>(outChunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    inPos += inChunk - zs.avail_in;
    outPos += outChunk - zs.avail_out;
    if (outPos > out.size())
      return makeError(what + ": decompresses to more than the " + std::to_string(expectedSize) +
                       " bytes the archive directory promises; the archive is corrupt.");
    if (rc == Z_STREAM_END) break;
    if (rc == Z_DATA_ERROR)
      return makeError(what + ": corrupt deflate data (" + (zs.msg ? zs.msg : "invalid stream") + ").");
    if (rc == Z_MEM_ERROR) return makeError(what + ": out of memory while decompressing.");
    if ((rc == Z_BUF_ERROR || rc == Z_OK) && inPos == in.size() && zs.avail_out != 0)
      return makeError(what + ": compressed data is truncated (" + std::to_string(outPos) + " of " +
                       std::to_string(expectedSize) + " bytes decompressed).");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return makeError(what + ": decompression failed (zlib error " + std::to_string(rc) + ").");
  }
  if (outPos != expectedSize)
    return makeError(what + ": decompressed to " + std::to_string(outPos) + " bytes but the archive "
                     "directory promises " + std::to_string(expectedSize) + "; the archive is corrupt.");
  return out;
}

std::string temporaryPathNextTo(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  const fs::path p(path);
  std::string name = ".";
  name.append(p.filename().string()).append(".tmp-").append(std::to_string(rd()));
  name.append("-").append(std::to_string(counter.fetch_add(1)));
  return (p.parent_path() / name).string();
}

Status writeFileAtomic(const std::string& path, std::span<const uint8_t> bytes) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return makeError(path + ": cannot write, the folder " + dir.string() + " does not exist.");
  if (fs::is_directory(target, ec))
    return makeError(path + ": cannot write, a folder with that name exists.");
  const std::string tmp = temporaryPathNextTo(path);
  {
    FilePtr f(std::fopen(tmp.c_str(), "wb"));
    if (!f)
      return makeError(path + ": cannot create " + tmp + " (" + std::strerror(errno) +
                       "); check that the folder is writable.");
    const size_t put = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f.get());
    const bool flushed = std::fflush(f.get()) == 0;
    const int err = errno;
    if (put != bytes.size() || !flushed || std::fclose(f.release()) != 0) {
      fs::remove(tmp, ec);
      return makeError(path + ": write failed (" + std::strerror(err) + "); is the disk full?");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return makeError(path + ": could not replace the file (" + ec.message() + ").");
  }
  return {};
}

}  // namespace qat
