#include "engine/data/hdf5_reader.h"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>

namespace qat {

namespace {

// Owns one HDF5 identifier and closes it with the matching H5xclose on every path.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id(hid_t id, Closer close) : id_(id), close_(close) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer close_;
};

// Silences HDF5's automatic error printing to stderr for its lifetime; the previous
// handler is restored afterwards so other users of the library are not affected.
class QuietHdf5Errors {
 public:
  QuietHdf5Errors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietHdf5Errors(const QuietHdf5Errors&) = delete;
  QuietHdf5Errors& operator=(const QuietHdf5Errors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// The innermost message on HDF5's error stack (call right after the failing call).
std::string hdf5Reason() {
  std::string reason;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        auto* s = static_cast<std::string*>(out);
        if (s->empty() && e->desc) *s = e->desc;
        return 0;
      },
      &reason);
  return reason.empty() ? std::string("unknown HDF5 error") : reason;
}

Expected<hid_t> openFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return makeError(path + ": file not found; check the path.");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    return makeError(path + ": not an HDF5 file; expected an .h5/.hdf5 file written with h5py or HDF5.");
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return makeError(path + ": cannot open the HDF5 file (" + hdf5Reason() + ").");
  return f;
}

std::vector<std::string> datasetNames(hid_t file) {
  std::vector<std::string> names;
  H5Lvisit(
      file, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t group, const char* name, const H5L_info_t* info, void* out) -> herr_t {
        if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT) return 0;
        const H5Id obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
        if (obj.valid() && H5Iget_type(obj.get()) == H5I_DATASET)
          static_cast<std::vector<std::string>*>(out)->push_back(name);
        return 0;
      },
      &names);
  std::sort(names.begin(), names.end());
  return names;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? std::string("(no data sets)") : s;
}

}  // namespace

Expected<std::vector<std::string>> listHdf5Datasets(const std::string& path) {
  QuietHdf5Errors quiet;
  auto f = openFile(path);
  if (!f) return f.error();
  const H5Id file(*f, H5Fclose);
  return datasetNames(file.get());
}

Expected<NpyArray> readHdf5Array(const std::string& path, const std::string& datasetPath) {
  QuietHdf5Errors quiet;
  auto f = openFile(path);
  if (!f) return f.error();
  const H5Id file(*f, H5Fclose);
  std::string name = datasetPath;
  while (!name.empty() && name.front() == '/') name.erase(name.begin());
  const std::vector<std::string> names = datasetNames(file.get());
  if (std::find(names.begin(), names.end(), name) == names.end())
    return makeError(path + ": no data set named '" + name + "'; the file holds: " + joinNames(names) + ".");
  const std::string what = path + ":" + name;

  const H5Id ds(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) return makeError(what + ": cannot open the data set (" + hdf5Reason() + ").");
  const H5Id type(H5Dget_type(ds.get()), H5Tclose);
  if (!type.valid()) return makeError(what + ": cannot read the element type (" + hdf5Reason() + ").");
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT)
    return makeError(what + ": elements are not numbers (HDF5 type class " + std::to_string(int(cls)) +
                     "); store x and y as integer or float arrays.");
  NpyArray a;
  a.isInteger = cls == H5T_INTEGER;
  const size_t bits = H5Tget_size(type.get()) * 8;
  a.dtype = (a.isInteger ? (H5Tget_sign(type.get()) == H5T_SGN_NONE ? "uint" : "int") : "float") + std::to_string(bits);

  const H5Id space(H5Dget_space(ds.get()), H5Sclose);
  if (!space.valid()) return makeError(what + ": cannot read the data space (" + hdf5Reason() + ").");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) return makeError(what + ": unsupported data space (" + hdf5Reason() + ").");
  std::vector<hsize_t> dims(size_t(rank), 0);
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    return makeError(what + ": cannot read the dimensions (" + hdf5Reason() + ").");
  std::vector<int> shape;
  size_t numel = 1;
  for (hsize_t d : dims) {
    if (d > hsize_t(INT32_MAX) || !mulChecked(numel, size_t(d), numel))
      return makeError(what + ": dimensions are too large.");
    shape.push_back(int(d));
  }
  try {
    a.values = Tensor(Shape(std::move(shape)));
  } catch (const std::bad_alloc&) {
    return makeError(what + ": not enough memory for " + formatBytes(uint64_t(numel) * 4) + ".");
  }
  // HDF5 converts any integer or float width to native float during the read.
  if (numel > 0 &&
      H5Dread(ds.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
    return makeError(what + ": reading the data failed (" + hdf5Reason() +
                     "); the file may be truncated or use a compression filter that is not installed.");
  return a;
}

Expected<Dataset> loadHdf5Dataset(const std::string& path, const std::string& xPath, const std::string& yPath,
                                  const Normalization& norm, TargetKind kind) {
  Dataset d;
  {
    auto x = readHdf5Array(path, xPath);
    if (!x) return x.error();
    if (x->values.rank() < 1 || x->values.dim(0) == 0)
      return makeError(path + ":" + xPath + ": x must have a sample axis with at least one sample, got shape " +
                       x->values.shape().str() + ".");
    d.x = std::move(x->values);
  }
  QAT_TRY(applyNormalization(d.x, norm, path + ":" + xPath));
  auto y = readHdf5Array(path, yPath);
  if (!y) return y.error();
  QAT_TRY(assignTargets(d, y->values, y->isInteger, kind, path + ":" + yPath));
  d.source = path + " [" + xPath + ", " + yPath + "]";
  QAT_TRY(validateDataset(d));
  return d;
}

}  // namespace qat
