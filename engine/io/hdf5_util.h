#pragma once
// Small RAII layer over the HDF5 C API (libhdf5 1.10), just what the Keras reader and
// writer need. This header does not include <hdf5.h>: an HDF5 identifier is an int64_t
// (hid_t in 1.10; checked by a static_assert in the .cpp), so callers and tests can use
// it without HDF5's include path.
//
// Every call checks every HDF5 return value; a failure comes back as an Error
//   "<file>: <object path>: <what> (HDF5: <innermost library message>)"
// HDF5's automatic printing of its error stack is switched off (per thread: the
// library's error stacks are thread-local in thread-safe builds).
//
// Sizes read from a file are never trusted for allocation: callers first ask for a
// dataset's shape, check it against what they expect, then read into their own buffer.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/core/error.h"

namespace qat::h5 {

// Owns one HDF5 identifier of any kind and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(int64_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  int64_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether the library accepted the close (a file close flushes);
  // a failure leaves its message on the HDF5 error stack for the caller to report.
  bool close();
  // Closes, ignoring (and clearing) any failure: for destructors and error paths.
  void reset();

 private:
  int64_t id_ = -1;
};

// One dataset found by Group::listDatasets().
struct DatasetInfo {
  std::string path;             // relative to the group listed, "dense/dense/kernel:0"
  std::vector<uint64_t> dims;   // empty for a scalar
  bool numeric = false;         // integer or floating-point elements
  uint64_t numel() const {
    uint64_t n = 1;
    for (uint64_t d : dims) n *= d;
    return n;
  }
};

// A group (the file's root group included). `file` and `path` are kept for messages.
class Group {
 public:
  Group(Handle h, std::string file, std::string path)
      : h_(std::move(h)), file_(std::move(file)), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  // "<file>: <path>[/child]: <what>"
  Error error(const std::string& what, const std::string& child = "") const;

  // ---- reading ----
  bool hasAttr(const std::string& name) const;
  // A string attribute: scalar or one-element array, fixed- or variable-length.
  Expected<std::string> stringAttr(const std::string& name) const;
  // A list of strings (Keras `layer_names`, `weight_names`): an array of fixed- or
  // variable-length strings, a scalar string (one element), or an empty numeric array
  // (Keras writes np.array([]) for a layer without weights). Attributes too large for
  // one object header are split by Keras into name0, name1, ...; those are joined.
  Expected<std::vector<std::string>> stringListAttr(const std::string& name) const;

  // Whether every component of a relative path exists ("a/b/c").
  bool exists(const std::string& relPath) const;
  bool isGroup(const std::string& relPath) const;
  Expected<Group> group(const std::string& relPath) const;
  // Shape of a numeric dataset (empty vector for a scalar).
  Expected<std::vector<uint64_t>> datasetShape(const std::string& relPath) const;
  // Reads a numeric dataset of any integer or float type, converted to float, into
  // dst, which must hold exactly `count` values (count must equal the dataset's size).
  Status readFloats(const std::string& relPath, float* dst, uint64_t count) const;
  // Reads a dataset of 8-bit integers (e.g. a whole HDF5 file stored as bytes) into dst,
  // which must hold exactly `count` bytes (ask datasetShape first).
  Status readBytes(const std::string& relPath, uint8_t* dst, uint64_t count) const;
  // Every dataset below this group, depth first (at most `maxObjects` objects visited).
  Expected<std::vector<DatasetInfo>> listDatasets(size_t maxObjects = 1000000) const;

  // ---- writing ----
  Expected<Group> createGroup(const std::string& name) const;
  // Scalar variable-length UTF-8 string (what h5py writes for a Python str).
  Status writeStringAttr(const std::string& name, const std::string& value) const;
  // Array of fixed-length, NUL-padded strings (what h5py writes for a list of bytes),
  // split into name0, name1, ... like Keras when larger than an object header allows.
  // An empty list is written as an empty float64 array, as Keras does.
  Status writeStringListAttr(const std::string& name, const std::vector<std::string>& values) const;
  // Float32 little-endian dataset at a relative path; missing intermediate groups are
  // created ("dense/kernel:0").
  Status writeFloats(const std::string& relPath, const std::vector<uint64_t>& dims,
                     const float* data) const;
  // 1-D uint8 dataset at a relative path (missing intermediate groups are created).
  Status writeBytes(const std::string& relPath, std::span<const uint8_t> bytes) const;

  int64_t id() const { return h_.get(); }

 private:
  Handle h_;
  std::string file_;
  std::string path_;
};

class File {
 public:
  // Opens an existing file read-only. Errors name the file: missing, not HDF5, damaged.
  static Expected<File> openRead(const std::string& path);
  // Creates a new file; fails if it already exists (callers write to a fresh temp name).
  static Expected<File> create(const std::string& path);
  // Opens an existing file for adding to it (callers keep writing to a temp name).
  static Expected<File> openReadWrite(const std::string& path);
  // A new file held only in memory (HDF5's core driver without a backing file); `name`
  // stands for it in messages. image() returns its bytes.
  static Expected<File> createInMemory(const std::string& name);
  // Opens a file image (the bytes of a whole HDF5 file) read-only in memory; the disk is
  // not touched and the bytes are copied. `name` stands for it in messages.
  static Expected<File> openImage(std::span<const uint8_t> image, const std::string& name);

  const std::string& path() const { return path_; }
  Expected<Group> root() const;
  // Flushes and closes; a failure here means the file may be incomplete. Every Group
  // obtained from the file must be destroyed first (refused otherwise).
  Status close();
  // The bytes of the whole file as it stands now (flushed first), e.g. of a file made by
  // createInMemory. Like close(), refused while a group or dataset of it is open.
  Expected<std::vector<uint8_t>> image() const;

 private:
  File(Handle h, std::string path) : h_(std::move(h)), path_(std::move(path)) {}
  Handle h_;
  std::string path_;
};

// Keras' limit for one attribute's data (HDF5 object header limit, 64 KiB minus header).
inline constexpr size_t kObjectHeaderLimit = 64512;

}  // namespace qat::h5
