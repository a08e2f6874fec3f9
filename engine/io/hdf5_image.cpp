// In-memory HDF5 files: HDF5's core driver without a backing store, and file images (the
// bytes of a whole HDF5 file) opened without touching the disk. Used to keep Keras
// models and QAT checkpoints inside a project file as complete HDF5 files.
#include <hdf5.h>

#include <atomic>
#include <cstring>

#include "engine/io/hdf5_internal.h"
#include "engine/io/hdf5_util.h"

namespace qat::h5 {
namespace {

// HDF5 takes two core-driver files without a backing store for the same file when their
// names match, so every in-memory file gets a name no other one has.
std::string uniqueMemoryName() {
  static std::atomic<unsigned long> counter{0};
  return "qat-memory-image-" + std::to_string(counter.fetch_add(1)) + ".h5";
}

// Core driver, no backing store, grown in 1 MiB steps; H5F_CLOSE_SEMI as File::create.
Handle memoryFapl() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  if (!fapl.valid() || H5Pset_fapl_core(fapl.get(), size_t(1) << 20, 0) < 0 ||
      H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI) < 0)
    return Handle();
  return fapl;
}

constexpr uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

}  // namespace

Expected<File> File::createInMemory(const std::string& name) {
  silence();
  Handle fapl = memoryFapl();
  if (!fapl.valid()) return makeError(name + ": cannot set up an in-memory HDF5 file" + hdf5Detail());
  Handle f(H5Fcreate(uniqueMemoryName().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  if (!f.valid()) return makeError(name + ": cannot create an in-memory HDF5 file" + hdf5Detail());
  return File(std::move(f), name);
}

Expected<File> File::openImage(std::span<const uint8_t> image, const std::string& name) {
  silence();
  // Our images always start with the signature (HDF5 also allows it after a user block,
  // which nothing here writes).
  if (image.size() < sizeof kSignature || std::memcmp(image.data(), kSignature, sizeof kSignature) != 0)
    return makeError(name + ": not an HDF5 file image (" + std::to_string(image.size()) +
                     " bytes without the HDF5 signature)");
  Handle fapl = memoryFapl();
  // H5Pset_file_image copies the buffer (it does not write through the pointer).
  if (!fapl.valid() || H5Pset_file_image(fapl.get(), const_cast<uint8_t*>(image.data()), image.size()) < 0)
    return makeError(name + ": cannot set up an in-memory HDF5 file" + hdf5Detail());
  Handle f(H5Fopen(uniqueMemoryName().c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!f.valid()) return makeError(name + ": cannot open the HDF5 file image (damaged or truncated?)" + hdf5Detail());
  return File(std::move(f), name);
}

Expected<std::vector<uint8_t>> File::image() const {
  silence();
  if (!h_.valid()) return makeError(path_ + ": the file is closed");
  const ssize_t open = H5Fget_obj_count(h_.get(), H5F_OBJ_ALL & ~unsigned(H5F_OBJ_FILE));
  if (open > 0)
    return makeError(path_ + ": cannot take the file's image: " + std::to_string(open) +
                     " group(s) or dataset(s) of it are still open (a bug in the writer)");
  unsigned intent = 0;
  if (H5Fget_intent(h_.get(), &intent) < 0) return makeError(path_ + ": cannot query the file" + hdf5Detail());
  if ((intent & H5F_ACC_RDWR) && H5Fflush(h_.get(), H5F_SCOPE_LOCAL) < 0)
    return makeError(path_ + ": cannot flush the file" + hdf5Detail());
  const ssize_t size = H5Fget_file_image(h_.get(), nullptr, 0);
  if (size < 0) return makeError(path_ + ": cannot take the file's image" + hdf5Detail());
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (H5Fget_file_image(h_.get(), bytes.data(), bytes.size()) != size)
    return makeError(path_ + ": cannot copy the file's image" + hdf5Detail());
  return bytes;
}

}  // namespace qat::h5
