#pragma once
// Shared by the hdf5_*.cpp files only (not part of hdf5_util.h's interface).
#include <string>

namespace qat::h5 {

// Switches off HDF5's printing of its error stack for this thread (see hdf5_util.h).
void silence();
// The innermost message on this thread's HDF5 error stack (then clears the stack):
// " (HDF5: file signature not found)", or "" when the stack is empty.
std::string hdf5Detail();

}  // namespace qat::h5
