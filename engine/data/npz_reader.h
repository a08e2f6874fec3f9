#pragma once
// NumPy .npz archives: a zip file whose members are .npy files (numpy.savez writes
// stored members, numpy.savez_compressed deflated ones). The central directory is read
// first (zip64 records included, as numpy writes them for every member); a member is
// read only when asked for, its CRC-32 checked, and parsed as .npy.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/dataset.h"
#include "engine/data/npy.h"

namespace qat {

class NpzArchive {
 public:
  struct Entry {
    std::string name;  // member file name, e.g. "x_train.npy"
    uint16_t method = 0;  // 0 stored, 8 deflate
    uint16_t flags = 0;
    uint32_t crc = 0;
    uint64_t compressedSize = 0, size = 0, localHeaderOffset = 0;
  };

  // Reads the archive's directory. Errors: not a zip file, damaged directory.
  static Expected<NpzArchive> open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::vector<Entry>& entries() const { return entries_; }
  // Array names as numpy.load shows them (member names without ".npy").
  std::vector<std::string> arrayNames() const;
  // `name` with or without ".npy". A missing name is an error listing the available ones.
  Expected<NpyArray> read(const std::string& name) const;

 private:
  std::string path_;
  uint64_t fileSize_ = 0;
  std::vector<Entry> entries_;
};

// x and y arrays chosen by the caller, e.g. ("x_train", "y_train") or ("x_test", "y_test").
Expected<Dataset> loadNpzDataset(const std::string& path, const std::string& xName, const std::string& yName,
                                 const Normalization& norm, TargetKind kind = TargetKind::Auto);

}  // namespace qat
