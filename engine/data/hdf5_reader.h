#pragma once
// Data sets stored in HDF5 files (h5py: f.create_dataset("x_train", data=...)). The
// caller names the x and y data set paths ("x_train", "/data/images", ...). Integer and
// floating point element types of any width are read (HDF5 converts to float on read);
// strings, compounds and other classes are rejected. HDF5's own error printing is
// switched off while reading and every handle is closed on every path.
// Not thread-safe: the serial HDF5 library must be used from one thread at a time.
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/dataset.h"
#include "engine/data/npy.h"

namespace qat {

// Paths of every data set in the file, without the leading '/', in name order.
Expected<std::vector<std::string>> listHdf5Datasets(const std::string& path);

// One data set as float (NpyArray: values, isInteger, dtype like "int64"/"float32").
// A missing name is an error listing the available data sets.
Expected<NpyArray> readHdf5Array(const std::string& path, const std::string& datasetPath);

Expected<Dataset> loadHdf5Dataset(const std::string& path, const std::string& xPath, const std::string& yPath,
                                  const Normalization& norm, TargetKind kind = TargetKind::Auto);

}  // namespace qat
