#pragma once
// Runs a read-only probe in a forked child process, so that a crash inside a third-party
// parser cannot take the application down.
//
// Why: libhdf5 1.10 trusts sizes stored in the file in places (e.g. variable-length
// strings resolved through the global heap: H5HG_read copies the heap object's stored
// size into a buffer sized from another field), so a damaged .h5 can make the library
// itself write out of bounds or crash, however carefully its return values are checked.
// The loader therefore first performs the complete read in a child; only if the child
// finishes cleanly does the caller repeat it in-process.
//
// The child must not use Qt (it does not survive fork() of a multi-threaded process);
// OpenMP is limited to one thread there (the parent's thread pool is not copied), and
// the child leaves with _exit(). On platforms without fork() the probe runs in-process.
#include <functional>
#include <string>

#include "engine/core/error.h"

namespace qat {

// Runs `probe` in a child process. Returns the probe's Status; a crash or a run longer
// than `timeoutSeconds` becomes an Error "<what>: ...". `what` names the file.
Status runIsolated(const std::function<Status()>& probe, const std::string& what, int timeoutSeconds = 60);

}  // namespace qat
